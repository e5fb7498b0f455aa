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
	"strings"
	"syscall"

	"concurr/agent"
	"concurr/sshx"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan error, 1)
	go func() { done <- start(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr) }()
	var err error
	select {
	case err = <-done:
	case sig := <-signals:
		cancel(interrupted{sig.(syscall.Signal)})
		select {
		case err = <-done:
		case sig = <-signals:
			// A second signal does not wait for jobs to end gracefully.
			killNow()
			os.Exit(128 + int(sig.(syscall.Signal)))
		}
	}
	os.Exit(int(exitStatus(err, os.Stderr)))
}

// start runs concurr as the hidden agent when its first argument asks for
// that, and otherwise runs the command line. Agent mode is read from the raw
// argv before any flag parsing, so that neither the environment
// (CONCURR_AGENT) nor a --config file can turn a run into an agent that
// answers with protocol bytes.
func start(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	isAgent, err := agentMode(args)
	if err != nil {
		return err
	}
	if isAgent {
		// A client that dies while the agent writes must not kill the agent
		// by SIGPIPE before it has killed its jobs: with the signal caught,
		// the write fails with EPIPE and the session ends as at EOF. Jobs
		// start with the default disposition all the same.
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
		defer startDebugTrace("agent", stderr)()
		return agent.Serve(ctx, stdin, stdout, agent.Options{Stderr: stderr,
			Debug: os.Getenv("CONCURR_DEBUG") == "protocol"})
	}
	// Raised with the number of hosts once they are known (memlimit.go).
	setClientMemoryLimit(0)
	defer startDebugStats(stderr)()
	defer startDebugTrace("client", stderr)()
	return run(ctx, args, stdin, stdout, stderr)
}

// agentMode reports whether args ask for agent mode: exactly sshx.AgentArg
// (--agent=v1), alone. Another version, a bare --agent or more arguments
// are errors, so that a client and an agent that do not match say so.
func agentMode(args []string) (bool, error) {
	if len(args) == 0 || (args[0] != "--agent" && !strings.HasPrefix(args[0], "--agent=")) {
		return false, nil
	}
	if version, ok := strings.CutPrefix(args[0], "--agent="); !ok {
		return false, fmt.Errorf("agent mode needs a version: this concurr speaks %s", sshx.AgentArg)
	} else if args[0] != sshx.AgentArg {
		return false, fmt.Errorf("agent mode: unknown version %q: this concurr speaks %s", version, sshx.AgentArg)
	}
	if len(args) > 1 {
		return false, fmt.Errorf("agent mode takes no other arguments, got %q", args[1:])
	}
	return true, nil
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
	status := statusOf(err)
	if status == statusError && !errors.As(err, new(ExitStatus)) {
		newMessages(stderr).error(err)
	}
	return status
}

// statusOf maps the outcome of a run to concurr's exit status.
func statusOf(err error) ExitStatus {
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
	return statusError
}
