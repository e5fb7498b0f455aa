// Package bench owns the measuring side of `make bench`: running one tool's
// command line with its input, timing it from start to exit, reading its peak
// RSS from wait4, counting and checking what it prints, taking medians, and
// choosing how many jobs a slow peer may run within a time budget.
// Workloads and tools are the business of cmd/benchrun; this package knows
// nothing about concurr.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Command is one invocation of a tool to time.
type Command struct {
	Argv []string
	// Env is added to the runner's environment; later entries win.
	Env []string
	// StdinFile is read as standard input; with StdinFrom it must be empty.
	StdinFile string
	// StdinFrom is a producer command, such as seq, whose output is piped
	// into standard input. It is not timed on its own, but the tool cannot
	// finish before it does.
	StdinFrom []string
	// Timeout bounds the run; the whole process group is killed after it.
	Timeout time.Duration
}

func (c Command) String() string { return strings.Join(c.Argv, " ") }

// Output is what a run printed on stdout, counted on the reader side.
type Output struct {
	Bytes int64
	Lines int64
	// NonZero reports whether any byte was not NUL, for checking that
	// `head -c N /dev/zero` came through intact.
	NonZero bool
}

// Sample is what one run measured.
type Sample struct {
	Elapsed time.Duration
	// MaxRSS is the peak resident set of the process, or of the largest of
	// the children it waited for, in bytes.
	MaxRSS int64
	// CPU is the user and system time of the process and of the children
	// it waited for.
	CPU    time.Duration
	Output Output
	// Stderr is the end of what the tool printed on stderr.
	Stderr string
}

// maxStderr is how much of a failing tool's stderr an error quotes.
const maxStderr = 2 << 10

// Measure runs c and reports how long it took from start to exit. A run that
// exits non-zero, is killed, or times out is an error, never a sample.
func Measure(ctx context.Context, c Command) (Sample, error) {
	if len(c.Argv) == 0 {
		return Sample{}, errors.New("empty command line")
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	out := &outputCounter{}
	stderr := &tailBuffer{max: maxStderr}
	cmd := newGroupCommand(ctx, c.Argv, c.Env)
	cmd.Stdout = out
	cmd.Stderr = stderr

	var producer *exec.Cmd
	switch {
	case c.StdinFile != "" && len(c.StdinFrom) > 0:
		return Sample{}, errors.New("both a stdin file and a stdin producer")
	case c.StdinFile != "":
		f, err := os.Open(c.StdinFile)
		if err != nil {
			return Sample{}, fmt.Errorf("open stdin: %w", err)
		}
		defer f.Close()
		cmd.Stdin = f
	case len(c.StdinFrom) > 0:
		r, w, err := os.Pipe()
		if err != nil {
			return Sample{}, fmt.Errorf("stdin pipe: %w", err)
		}
		producer = newGroupCommand(ctx, c.StdinFrom, c.Env)
		producer.Stdout = w
		producer.Stderr = stderr
		if err := producer.Start(); err != nil {
			r.Close()
			w.Close()
			return Sample{}, fmt.Errorf("start %s: %w", c.StdinFrom[0], err)
		}
		w.Close()
		defer r.Close()
		cmd.Stdin = r
	}

	start := time.Now()
	err := cmd.Start()
	if err != nil {
		if producer != nil {
			producer.Cancel()
			producer.Wait()
		}
		return Sample{}, fmt.Errorf("start %s: %w", c.Argv[0], err)
	}
	err = cmd.Wait()
	elapsed := time.Since(start)
	if producer != nil {
		// The tool has exited; a producer still writing would only block.
		producer.Cancel()
		if perr := producer.Wait(); perr != nil && err == nil && !isSIGPIPE(perr) {
			err = fmt.Errorf("stdin producer %s: %w", c.StdinFrom[0], perr)
		}
	}
	if ctx.Err() != nil {
		return Sample{}, fmt.Errorf("%s: timed out after %v", c.Argv[0], c.Timeout)
	}
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w%s", c.Argv[0], err, stderr.quote())
	}
	s := Sample{Elapsed: elapsed, Output: out.Output, Stderr: string(stderr.buf)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss << 10 // Linux reports kilobytes
	}
	s.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return s, nil
}

// newGroupCommand runs argv in a process group of its own, so that a
// timeout ends the tool and every job it started.
func newGroupCommand(ctx context.Context, argv, env []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func isSIGPIPE(err error) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && (ws.Signal() == syscall.SIGPIPE || ws.Signal() == syscall.SIGKILL)
}

// outputCounter counts what a tool prints without keeping it.
type outputCounter struct{ Output }

var zeros = make([]byte, 64<<10)

func (o *outputCounter) Write(p []byte) (int, error) {
	o.Bytes += int64(len(p))
	o.Lines += int64(bytes.Count(p, []byte{'\n'}))
	for rest := p; len(rest) > 0 && !o.NonZero; {
		n := min(len(rest), len(zeros))
		o.NonZero = !bytes.Equal(rest[:n], zeros[:n])
		rest = rest[n:]
	}
	return len(p), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = slices.Delete(t.buf, 0, over)
	}
	return len(p), nil
}

func (t *tailBuffer) quote() string {
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return ""
	}
	return ": " + strings.Join(strings.Fields(s), " ")
}

var _ io.Writer = (*tailBuffer)(nil)

// Median returns the median of xs, the mean of the middle two for an even
// count, and 0 for none.
func Median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// JobsWithin returns how many jobs fit in budget at the rate a probe of
// probeJobs jobs in probeTime showed, between probeJobs and full, rounded
// down to two significant digits so that tables read easily.
func JobsWithin(budget time.Duration, probeJobs int, probeTime time.Duration, full int) int {
	if probeJobs >= full || probeTime <= 0 {
		return full
	}
	n := int(float64(probeJobs) * budget.Seconds() / probeTime.Seconds())
	if n >= full {
		return full
	}
	if n <= probeJobs {
		return probeJobs
	}
	scale := int(math.Pow10(max(0, int(math.Log10(float64(n)))-1)))
	return max(probeJobs, n/scale*scale)
}
