package agent

import (
	"context"
	"fmt"
	"os"
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
