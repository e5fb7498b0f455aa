// Package transport starts the agent on a host of a transport other than
// SSH: it turns the host into the local command whose stdin and stdout are
// a shell on the node (internal/srun, internal/container, or the user's own
// command for exec://), and hands that command to sshx.StartExec, which
// runs the same bootstrap as for SSH hosts over it.
package transport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"mvdan.cc/sh/v3/shell"

	"concurr/internal/container"
	"concurr/internal/srun"
	"concurr/parse"
	"concurr/sshx"
)

// Command returns the local command that reaches h, and its environment
// (nil for this process's own), from environ (os.Environ()).
func Command(h parse.Host, environ []string) (argv, env []string, err error) {
	switch h.Transport {
	case "srun":
		return srun.Command(h.Name, environ)
	case "docker", "podman", "kubectl":
		argv, err := container.Command(h.Transport, h.Namespace, h.Name, h.Container)
		return argv, nil, err
	case "exec":
		// Split as the shell would, so that quoted arguments stay whole
		// and $VARIABLES expand from the environment.
		words, err := shell.Fields(h.Command, func(name string) string { return lookup(environ, name) })
		if err != nil || len(words) == 0 {
			return nil, nil, fmt.Errorf("bad exec:// command %q: write it as words for sh, such as exec://docker exec -i box sh", h.Command)
		}
		return words, nil, nil
	}
	return nil, nil, fmt.Errorf("no transport %q", h.Transport)
}

// lookup returns the value of name in environ, or "".
func lookup(environ []string, name string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(environ[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// Start starts the agent on h, whose Transport is set. Its errors are
// *sshx.Error, named after the host.
func Start(ctx context.Context, h parse.Host, opts sshx.Options) (*sshx.Node, error) {
	name := h.Spec
	if name == "" {
		name = h.String()
	}
	argv, env, err := Command(h, os.Environ())
	if err != nil {
		var e *sshx.Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, &sshx.Error{Node: name, Err: fmt.Errorf("%s: %w", h.Transport, err)}
	}
	opts.Env = env
	if h.Transport == "srun" {
		opts.Stderr = srun.Stderr(opts.Stderr)
	}
	return sshx.StartExec(ctx, name, h.Transport, argv, opts)
}
