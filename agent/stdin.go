package agent

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"concurr/internal/wire"
)

// jobInput is a running job's input stream, as the job sees it: a pipe on
// its stdin (--pipe), a temporary file named by {} (--cat), or a named pipe
// named by {} (--fifo). Jobs without one read /dev/null, as GNU Parallel's
// do: a job that reads its stdin gets EOF at once and never hangs.
type jobInput struct {
	st     *inStream
	stdin  *os.File // the pipe's read end, the job's stdin, for StreamStdin
	path   string   // the temporary file or fifo, for StreamCat and StreamFifo
	dir    string   // removed when the job is done
	feeder sync.WaitGroup

	mu     sync.Mutex
	fifo   *os.File // the feeder's end of the fifo, once open
	closed bool     // finish has begun: the feeder must stop
}

// jobPipeSize is what a job's stdin pipe is asked to hold, so that a job
// reads in large gulps and the feeder's writes are few.
const jobPipeSize = 1 << 20

// startInput sets up j's input before its script runs. For --cat it waits
// until the whole stream is in the file, or until ctx (the job's) ends.
func startInput(ctx context.Context, j *job, st *inStream) (*jobInput, error) {
	in := &jobInput{st: st}
	switch st.open.Kind {
	case wire.StreamStdin:
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("job input: %w", err)
		}
		setPipeSize(w, jobPipeSize)
		in.stdin = r
		in.feeder.Go(func() {
			defer w.Close()
			st.WriteTo(w)
		})
	case wire.StreamCat:
		f, err := os.CreateTemp("", "concurr-cat-")
		if err != nil {
			return nil, fmt.Errorf("job input: %w", err)
		}
		in.path = f.Name()
		// A kill while the block arrives stops the wait.
		stop := context.AfterFunc(ctx, st.drop)
		_, err = st.WriteTo(f)
		stop()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(in.path)
			return nil, fmt.Errorf("job input: write %s: %w", in.path, err)
		}
		j.setInputName(in.path)
	case wire.StreamFifo:
		dir, err := os.MkdirTemp("", "concurr-fifo-")
		if err != nil {
			return nil, fmt.Errorf("job input: %w", err)
		}
		in.dir, in.path = dir, filepath.Join(dir, "fifo")
		if err := unix.Mkfifo(in.path, 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("job input: mkfifo %s: %w", in.path, err)
		}
		in.feeder.Go(func() {
			// Opening blocks until the job opens the fifo for reading.
			w, err := os.OpenFile(in.path, os.O_WRONLY, 0)
			if err != nil {
				st.drop()
				return
			}
			defer w.Close()
			in.mu.Lock()
			in.fifo = w
			closed := in.closed
			in.mu.Unlock()
			if !closed {
				st.WriteTo(w)
			}
		})
		j.setInputName(in.path)
	}
	return in, nil
}

// finish releases the input once the job's commands have all returned:
// what the job did not read is discarded, and its files are removed.
func (in *jobInput) finish() {
	if in.stdin != nil {
		// The feeder's next write fails with EPIPE.
		in.stdin.Close()
	}
	in.st.drop()
	if in.dir != "" {
		// A feeder blocked writing to a fifo that no one reads any more is
		// let go by closing its end (the fifo is in the runtime's poller);
		// one still waiting for the job to open the fifo is let go by a
		// reader of our own, held until the feeder has seen that it must
		// stop.
		in.mu.Lock()
		in.closed = true
		if in.fifo != nil {
			in.fifo.Close()
		}
		in.mu.Unlock()
		if f, err := os.OpenFile(in.path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			defer f.Close()
		}
	}
	in.feeder.Wait()
	if in.dir != "" {
		os.RemoveAll(in.dir)
	} else if in.path != "" {
		os.Remove(in.path)
	}
}

// setInputName makes the job's first argument ({}) the name of its input
// file, which the client could not know.
func (j *job) setInputName(path string) {
	if len(j.args) == 0 {
		j.args = []string{path}
		return
	}
	j.args = append([]string{path}, j.args[1:]...)
}

// openJobStdin opens what a slot's jobs read without an input stream:
// /dev/null, or with --tty the controlling terminal. Without a terminal to
// open, --tty jobs read /dev/null, as GNU Parallel's do.
func openJobStdin(terminal bool) (*os.File, error) {
	if terminal {
		if f, err := os.Open("/dev/tty"); err == nil {
			return f, nil
		}
	}
	return os.Open(os.DevNull)
}

// onTerminal keeps a --tty job's process in the agent's process group, the
// terminal's foreground group: in a group of its own it would be stopped
// (SIGTTIN) as soon as it read the terminal.
func (j *job) onTerminal(attr *syscall.SysProcAttr) {
	if j.cmd.terminal {
		attr.Setpgid = false
	}
}

// addStarted records a process the job started. Most lead a process group
// of their own; a --tty job's share the agent's, which the job must not
// signal, so the process alone is recorded: addGroup's kill(-g) of its
// negated PID signals that one process, as GNU Parallel can signal only
// its --tty jobs' own processes too.
func (j *job) addStarted(pid int) {
	if j.cmd.terminal {
		j.addGroup(-pid)
		return
	}
	j.addGroup(pid)
}

// keepInterruptsForJobs makes the agent outlive a Ctrl-C at the terminal,
// whose foreground group it shares with --tty jobs: the jobs get the
// SIGINT, and the client, which gets it too, ends the run through the
// protocol. The signal is caught, not ignored, so that the jobs' commands
// are born with its default action.
func keepInterruptsForJobs() {
	interruptsOnce.Do(func() {
		signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	})
}

var interruptsOnce sync.Once
