// Command concurr runs a command template over many inputs, concurrently, on
// this machine and on hosts reached over SSH, with GNU Parallel's options,
// replacement strings, quoting and exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		// The client holds little: output beyond a few MiB spills to files.
		// A soft limit keeps the garbage collector from letting the heap
		// double past that while a job prints gigabytes.
		debug.SetMemoryLimit(48 << 20)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-signals
		cancel(interrupted{sig.(syscall.Signal)})
		// A second signal does not wait for jobs to end gracefully.
		sig = <-signals
		killNow()
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(int(exitStatus(err, os.Stderr)))
}

// ExitStatus is concurr's exit status, as GNU Parallel defines it.
type ExitStatus int

func (s ExitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// The statuses that are not a count of failed jobs.
const (
	statusMaxFailed ExitStatus = 101 // more than 100 jobs failed
	statusError     ExitStatus = 255 // a usage or setup error: no job ran or the run could not go on
)

// interrupted is the cause of a context ended by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// exitStatus prints err as concurr's messages and maps it to the status.
func exitStatus(err error, stderr io.Writer) ExitStatus {
	if err == nil {
		return 0
	}
	var status ExitStatus
	if errors.As(err, &status) {
		return status
	}
	var sig interrupted
	if errors.As(err, &sig) {
		return ExitStatus(128 + int(sig.sig))
	}
	newMessages(stderr).error(err)
	return statusError
}
