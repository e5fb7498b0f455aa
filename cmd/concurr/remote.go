package main

import (
	"context"
	"fmt"
	"io"
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

// dialRemote starts the agent on a host over SSH, or over the transport
// its login names, after waiting its turn under --sshdelay.
func dialRemote(opts sshx.Options, h parse.Host, after time.Duration) func(context.Context) (*sched.Conn, error) {
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
		var node *sshx.Node
		var err error
		if h.Transport != "" {
			node, err = transport.Start(ctx, h, opts)
		} else {
			node, err = sshx.Start(ctx, h, opts)
		}
		if err != nil {
			return nil, err
		}
		conn, err := sched.Handshake(ctx, node.Stdout, node.Stdin, node)
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
