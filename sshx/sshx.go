// Package sshx owns concurr's SSH transport: resolving a host through
// ssh_config, authenticating with ssh-agent and identity files, verifying
// known_hosts, connecting (through ProxyJump hops), and bootstrapping the
// agent on the node: probe the platform and the cache, upload the client's
// build if it is absent, and start `concurr --agent=v1` (AgentArg) on the
// session, whose stdin and stdout then carry the wire protocol.
//
// Everything from the probe to the agent's start happens in one session
// running a small POSIX sh script, so that a cached start costs one round
// trip more than `ssh host true` at most. The transport is x/crypto/ssh, or
// the system's ssh client when Options.SSHCommand is set.
//
// Faults it survives: a cached agent that does not verify is replaced, never
// run, and a cache that others could change, or a folder above it, is
// refused (see bootstrapScript); an ssh_config the built-in client cannot
// follow is refused for the hosts it applies to (see sshConfig); a cache on a noexec file system falls back to
// $HOME/.concurr; handshakes that sshd drops under MaxStartups are tried
// again; an unreachable host costs ConnectTimeout; a host that stops
// answering is found by keepalives and ends Node.Stdout with
// ErrConnectionLost.
package sshx

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"concurr/internal/hint"
)

// Options control how nodes are reached.
type Options struct {
	// ConfigFile is --ssh-config. Empty means $HOME/.ssh/config (from $HOME,
	// not the user database) and then /etc/ssh/ssh_config.
	ConfigFile string
	// SSHCommand is --ssh, such as {"ssh", "-o", "..."}: run the system's
	// ssh client instead of x/crypto/ssh, with these arguments kept intact.
	SSHCommand []string
	// Env, when set, is the environment of the local command that reaches
	// the node (the system's ssh, or StartExec's command); nil means this
	// process's own.
	Env []string
	// ConnectTimeout, when set, overrides ssh_config's ConnectTimeout
	// (default 10s), which bounds the TCP connection and the SSH handshake
	// together. A connection the server drops before authentication is
	// tried again, for at most three times this in all, not counting the
	// time spent waiting for a turn among the logins in flight.
	ConnectTimeout time.Duration
	// AgentPath is the local executable uploaded to nodes of the client's
	// platform. Empty means the running executable; builds for other
	// platforms are found beside it as concurr-GOOS-GOARCH.
	AgentPath string
	// Stderr receives the agent's stderr once it runs. May be nil; the
	// last few KiB are kept for Node.Stderr either way.
	Stderr io.Writer
	// Log receives -v progress lines ("node1: uploading agent (9.1 MB)",
	// "node1: agent cached"). May be nil.
	Log func(format string, args ...any)
	// Warn receives warnings the user must see, such as a host key accepted
	// without verification. May be nil.
	Warn func(format string, args ...any)
	// AttemptStarted, when set, is called as each connection to the host
	// (or to a ProxyJump hop) begins, once its turn among the logins in
	// flight to that server has come (see startupGate): time spent
	// waiting for that turn is not the host's.
	AttemptStarted func()

	// goos and goarch are the platform AgentPath is built for; empty means
	// the client's own. Tests set them to make the real node look foreign.
	goos, goarch string
}

// platform returns the platform AgentPath is built for.
func (o *Options) platform() (goos, goarch string) {
	if o.goos != "" {
		return o.goos, o.goarch
	}
	return runtime.GOOS, runtime.GOARCH
}

func (o *Options) log(format string, args ...any) {
	if o.Log != nil {
		o.Log(format, args...)
	}
}

func (o *Options) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(format, args...)
	}
}

// Error is a failure to reach a node, with a hint for the user when one
// helps. Its message starts with the node's name.
type Error struct {
	Node string
	Err  error
	hint string
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if strings.HasPrefix(msg, e.Node+": ") {
		return msg
	}
	return e.Node + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// Hint says what the user can do, or "".
func (e *Error) Hint() string {
	if e.hint != "" {
		return e.hint
	}
	return hint.Of(e.Err)
}

// Node is a running agent on a remote host. Stdin and Stdout carry the wire
// protocol; Stdout may start with output a login shell printed, which
// wire.ReadMagic skips. Stdout ends with io.EOF when the agent exits
// cleanly, with an error wrapping ErrConnectionLost when the connection
// ends under it (a host that stops answering keepalives included), and
// with an error naming the status or signal when it exits otherwise.
type Node struct {
	Name string // the host as the user named it
	// Stdin is the agent's stdin. The client's protocol opening
	// (wire.Magic) has been written to it as the agent started (see
	// bootstrap): the handshake reads the agent's and sends nothing
	// (sched.HandshakeOpened).
	Stdin    io.WriteCloser
	Stdout   io.Reader
	Platform string // GOOS/GOARCH of the node
	Cached   bool   // the agent was already on the node: nothing was uploaded

	stderr *tailBuffer
	close  func() error
	once   sync.Once
	err    error
}

// Stderr returns the last few KiB the node wrote to stderr, for messages
// about why it failed.
func (n *Node) Stderr() string { return n.stderr.String() }

// Close ends the agent and the connection. The agent exits when its stdin
// closes, which ends its jobs; a node that does not exit promptly is sent
// SIGTERM and then SIGKILL, and the connection is closed regardless.
func (n *Node) Close() error {
	n.once.Do(func() { n.err = n.close() })
	return n.err
}

// ErrConnectionLost is the error at the end of a Node's Stdout when the
// connection ended under the agent: the host stopped answering keepalives,
// or the connection dropped before the agent exited.
var ErrConnectionLost = errors.New("connection lost")
