package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"mvdan.cc/sh/v3/shell"

	"concurr/internal/sched"
	"concurr/internal/transport"
	"concurr/parse"
	"concurr/sshx"
)

// sshOptions turns the command line into the SSH transport's options.
// The agents' own stderr goes to stderr as it is; concurr's messages about
// the nodes go through say.
func sshOptions(o *options, stderr io.Writer, say *messages) (sshx.Options, error) {
	opts := sshx.Options{
		ConfigFile: o.sshConfig,
		Stderr:     stderr,
		Warn:       say.warningf,
	}
	if o.verbose || o.verboseStderr {
		opts.Log = say.logf
	}
	if o.sshCommand != "" {
		// Split as the shell would, so that quoted arguments stay whole.
		words, err := shell.Fields(o.sshCommand, func(string) string { return "" })
		if err != nil || len(words) == 0 {
			return opts, usagef("give the command as one word, as in --ssh 'ssh -o BatchMode=yes'", "bad --ssh value %q", o.sshCommand)
		}
		opts.SSHCommand = words
	}
	return opts, nil
}

// hostSlow reports a host that is taking past its ConnectTimeout to start,
// once, and has the summary name it if it never joins.
func (p *runPlan) hostSlow(say *messages) func(string, time.Duration) {
	return func(host string, waited time.Duration) {
		say.warningf("%s: the agent has not started after %s (ConnectTimeout); still waiting", host, waited.Round(time.Second))
		if p.report != nil {
			p.report.slow(host)
		}
	}
}

// dialRemote starts the agent on a host over SSH, or over the transport
// its login names, after waiting its turn under --sshdelay.
// A host that is not up once its ConnectTimeout has passed, and a second
// more, since its last connection attempt began, is reported as slow
// through onSlow: the connection itself is bounded by that timeout, but a
// node whose shell hangs afterwards would keep the run waiting for it
// without a word.
func dialRemote(opts sshx.Options, h parse.Host, after time.Duration, onSlow func(host string, waited time.Duration)) func(context.Context) (*sched.Conn, error) {
	return func(ctx context.Context) (*sched.Conn, error) {
		if after > 0 {
			select {
			case <-time.After(after):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		// Messages name the host as the run does, without its slot count.
		h.Spec = h.String()
		waited := opts.ConnectTimeout
		if waited <= 0 {
			waited = sshx.DefaultConnectTimeout
		}
		waited += time.Second
		var warned sync.Once
		slow := time.AfterFunc(waited, func() {
			if ctx.Err() == nil {
				warned.Do(func() { onSlow(h.Spec, waited) })
			}
		})
		defer slow.Stop()
		// The clock starts again with each connection attempt: a host
		// waiting for its turn among many logins to one server (see
		// sshx's startup window), or tried again after the server
		// dropped it, is not slow.
		opts.AttemptStarted = func() { slow.Reset(waited) }
		var node *sshx.Node
		var err error
		if len(h.SSHCommand) > 0 && (!h.SSHBuiltin || len(opts.SSHCommand) > 0) {
			// A login written as an ssh command line is its own --ssh,
			// whenever the system's client is the one to run.
			opts.SSHCommand = h.SSHCommand
		}
		if h.Transport != "" {
			node, err = transport.Start(ctx, h, opts)
		} else {
			node, err = sshx.Start(ctx, h, opts)
		}
		if err != nil {
			return nil, err
		}
		conn, err := sched.HandshakeOpened(ctx, node.Stdout, node.Stdin, node)
		if err != nil {
			node.Close()
			if tail := node.Stderr(); tail != "" {
				return nil, fmt.Errorf("start agent: %w; its stderr ends with: %s", err, tail)
			}
			return nil, fmt.Errorf("start agent: %w", err)
		}
		stats.hostJoined()
		return conn, nil
	}
}
