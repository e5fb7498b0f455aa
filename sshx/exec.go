package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// StartExec starts the agent on a node that a local command reaches, such
// as `srun -w node1 /bin/sh` or `docker exec -i box /bin/sh`: argv's stdin
// and stdout must be a shell on the node, reading commands from stdin. The
// bootstrap is the one SSH hosts get (the cache, the upload of a build for
// the node's platform, the noexec fallback); it is written to the shell as
// one line that execs /bin/sh, so that any shell that can exec will do.
// transport names the way in for messages ("srun", "docker"). ctx bounds
// the start only; the node then runs until Close, which closes the agent's
// stdin and then signals the command's process group, SIGTERM before
// SIGKILL, so that a command that forwards signals (srun, kubectl) can end
// what it started on the node.
func StartExec(ctx context.Context, name, transport string, argv []string, opts Options) (*Node, error) {
	if len(argv) == 0 {
		return nil, &Error{Node: name, Err: errors.New("no command to reach the node with")}
	}
	self, err := opts.agentPath()
	if err != nil {
		return nil, &Error{Node: name, Err: err}
	}
	goos, goarch := opts.platform()
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, &Error{Node: name, Err: fmt.Errorf("%s is not installed or not on PATH", argv[0]),
			hint: "install " + argv[0] + " on this machine, or put it on PATH"}
	}
	// The agent's build is identified (its executable hashed, about 10 ms)
	// while the command starts (srun's step takes longer): the shell on the
	// node waits for its first line, which names the build.
	pending := opts.identifySoon(name, self, goos, goarch)
	process := func() (*attempt, error) {
		a, err := runProcess(ctx, &opts, argv, true)
		if err != nil {
			return nil, err
		}
		// Once a stopped start has no use for the process, ending it by
		// SIGKILL would leave srun's step behind: SIGTERM first.
		a.end = gentleEnd(a, a.end)
		return a, nil
	}
	first, err := process()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		return nil, &Error{Node: name, Err: execFailure(argv[0], err)}
	}
	own, err := pending.wait()
	if err != nil {
		first.end()
		return nil, err
	}
	launch := func(command string) (*attempt, error) {
		a := first
		first = nil
		if a == nil {
			// The bootstrap's second try (the noexec fallback).
			var err error
			if a, err = process(); err != nil {
				return nil, err
			}
		}
		if _, err := io.WriteString(a.stdin, "exec "+command+"\n"); err != nil {
			// The command exited at once; its stderr says why.
			waitFor(a.exited, time.Second)
		}
		return a, nil
	}
	a, st, err := runBootstrap(ctx, name, own, &opts, launch)
	if err != nil {
		return nil, &Error{Node: name, Err: execFailure(argv[0], err)}
	}
	a.stderr.release()
	n := a.execNode(name, transport, st)
	if !a.started() {
		n.Close()
		return nil, fmt.Errorf("%s: %w", name, ctx.Err())
	}
	return n, nil
}

// execFailure words a failed start for a local command rather than a
// connection: its message already names the node and what it printed.
func execFailure(command string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	msg := strings.Replace(err.Error(), "the connection ended before the agent started", command+" ended before the agent started", 1)
	msg = strings.Replace(msg, "; the node printed: ", ": "+command+" printed: ", 1)
	if head, said, ok := strings.Cut(msg, "; the node said: "); ok {
		// A command's last line is its verdict; the lines before it are
		// usually the retries and warnings that led to it.
		if i := strings.LastIndex(said, " / "); i >= 0 {
			said = said[i+3:]
		}
		msg = head + ": " + command + " said: " + said
	}
	return rewordedError{msg: msg, err: err}
}

// rewordedError rewords an error and keeps its chain, and so its hint.
type rewordedError struct {
	msg string
	err error
}

func (e rewordedError) Error() string { return e.msg }
func (e rewordedError) Unwrap() error { return e.err }

// gentleEnd makes an attempt's end send SIGTERM to the command's process
// group before the SIGKILL that end sends, if the command still runs.
func gentleEnd(a *attempt, end func()) func() {
	return func() {
		if !a.ended() {
			a.stdin.Close()
			if !waitFor(a.exited, 500*time.Millisecond) {
				a.signal(ssh.SIGTERM)
				waitFor(a.exited, 2*time.Second)
			}
		}
		end()
	}
}

// execNode wraps an attempt of StartExec whose agent runs. The command
// ending with a status the agent does not exit with means the way to the
// node was lost.
func (a *attempt) execNode(name, transport string, st *started) *Node {
	n := a.node(name, st)
	n.Stdout.(*streamReader).end = func() error {
		waitFor(a.exited, time.Second)
		status, ok := a.status()
		switch {
		case !ok:
			if a.ended() {
				return fmt.Errorf("%w: %s was killed", ErrConnectionLost, transport)
			}
			return io.EOF
		case status == 0:
			return io.EOF
		}
		why := lastLines(strings.TrimSpace(a.stderr.String()), 1)
		if why == "" {
			return fmt.Errorf("%w: %s: %v", ErrConnectionLost, transport, agentExit(status))
		}
		return fmt.Errorf("%w: %s exited with status %d: %s", ErrConnectionLost, transport, status, why)
	}
	return n
}
