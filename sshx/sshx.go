// Package sshx owns concurr's SSH transport: resolving a host through
// ssh_config, authenticating with ssh-agent and identity files, verifying
// known_hosts, connecting (through ProxyJump hops), and bootstrapping the
// agent on the node: probe the platform and the cache, upload the client's
// build if it is absent, and start `concurr --agent` on the session, whose
// stdin and stdout then carry the wire protocol.
//
// Everything from the probe to the agent's start happens in one session
// running a small POSIX sh script, so that a cached start costs one round
// trip more than `ssh host true` at most. The transport is x/crypto/ssh, or
// the system's ssh client when Options.SSHCommand is set.
package sshx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"concurr/parse"
)

// Options control how nodes are reached.
type Options struct {
	// ConfigFile is --ssh-config. Empty means $HOME/.ssh/config (from $HOME,
	// not the user database) and then /etc/ssh/ssh_config.
	ConfigFile string
	// SSHCommand is --ssh, such as {"ssh", "-o", "..."}: run the system's
	// ssh client instead of x/crypto/ssh, with these arguments kept intact.
	SSHCommand []string
	// ConnectTimeout, when set, overrides ssh_config's ConnectTimeout
	// (default 10s) for the TCP connection and the SSH handshake.
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
	var h interface{ Hint() string }
	if errors.As(e.Err, &h) && h != e {
		return h.Hint()
	}
	return ""
}

// Node is a running agent on a remote host. Stdin and Stdout carry the wire
// protocol; Stdout may start with output a login shell printed, which
// wire.ReadMagic skips.
type Node struct {
	Name     string // the host as the user named it
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

// Start connects to h, starts the agent on it and returns it. ctx bounds the
// start only; the node then runs until Close.
func Start(ctx context.Context, h parse.Host, opts Options) (*Node, error) {
	name := h.Spec
	if name == "" {
		name = h.String()
	}
	if h.Local {
		return nil, &Error{Node: name, Err: errors.New("the local host is not reached over SSH")}
	}
	self, err := opts.agentPath()
	if err != nil {
		return nil, &Error{Node: name, Err: err}
	}
	own, err := opts.buildFor(name, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return nil, &Error{Node: name, Err: fmt.Errorf("agent executable %s: %w", self, err)}
	}
	var n *Node
	if len(opts.SSHCommand) > 0 {
		n, err = startCommand(ctx, name, h, own, &opts)
	} else {
		n, err = startNative(ctx, name, h, own, &opts)
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, &Error{Node: name, Err: err}
	}
	return n, nil
}

// startNative reaches the node with x/crypto/ssh.
func startNative(ctx context.Context, name string, h parse.Host, own *build, opts *Options) (*Node, error) {
	cfg, err := loadSSHConfig(opts.ConfigFile, os.Getenv("HOME"))
	if err != nil {
		return nil, err
	}
	target, err := cfg.resolve(h.Name, h.User, h.Port, true)
	if err != nil {
		return nil, err
	}
	if opts.ConnectTimeout > 0 {
		target.connectTimeout = opts.ConnectTimeout
		for _, j := range target.jumps {
			j.connectTimeout = opts.ConnectTimeout
		}
	}
	clients, err := dialChain(ctx, name, target, opts)
	if err != nil {
		return nil, err
	}
	client := clients[len(clients)-1]
	closeAll := func() {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()

	sess, err := client.NewSession()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("open a session: %w", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	stdoutPipe, err := sess.StdoutPipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	stderr := newTailBuffer(8<<10, opts.Stderr)
	sess.Stderr = stderr
	nonce := newNonce()
	if err := sess.Start(remoteCommand(bootstrapScript(nonce, own))); err != nil {
		closeAll()
		return nil, fmt.Errorf("start the bootstrap: %w", err)
	}
	stdout := bufio.NewReaderSize(stdoutPipe, 64<<10)
	exited := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sess.Wait()
		close(exited)
	}()
	b, cached, err := bootstrap(ctx, name, nonce, own, stdin, stdout, opts)
	if err != nil {
		var sf *startFailure
		if errors.As(err, &sf) {
			// The session's stderr is complete once it has ended.
			waitFor(exited, time.Second)
			err = sf.explain(stderr)
		}
		closeAll()
		wg.Wait()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		return nil, err
	}

	n := &Node{Name: name, Stdin: stdin, Stdout: stdout, Platform: b.goos + "/" + b.goarch, Cached: cached, stderr: stderr}
	alive := newKeepalive(client, target.aliveInterval, target.aliveCountMax, func() {
		opts.warn("%s: no answer to %d keepalives in %v: closing the connection", name, target.aliveCountMax,
			time.Duration(target.aliveCountMax)*target.aliveInterval)
		closeAll()
	})
	n.close = func() error {
		stdin.Close()
		if !waitFor(exited, 2*time.Second) {
			sess.Signal(ssh.SIGTERM)
			if !waitFor(exited, time.Second) {
				sess.Signal(ssh.SIGKILL)
				waitFor(exited, 500*time.Millisecond)
			}
		}
		alive.stop()
		closeAll()
		alive.wg.Wait()
		wg.Wait()
		return nil
	}
	return n, nil
}

func waitFor(c <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c:
		return true
	case <-t.C:
		return false
	}
}

// dialChain connects to each ProxyJump hop in turn and then to the target,
// each through the previous one. The last client is the target's.
func dialChain(ctx context.Context, name string, target *endpoint, opts *Options) ([]*ssh.Client, error) {
	hops := append(append([]*endpoint(nil), target.jumps...), target)
	var clients []*ssh.Client
	for i, e := range hops {
		var conn net.Conn
		var err error
		dctx, cancel := context.WithTimeout(ctx, e.connectTimeout)
		if i == 0 {
			var d net.Dialer
			conn, err = d.DialContext(dctx, "tcp", e.addr())
		} else {
			conn, err = clients[i-1].DialContext(dctx, "tcp", e.addr())
		}
		cancel()
		if err != nil {
			for _, c := range clients {
				c.Close()
			}
			via := ""
			if i > 0 {
				via = " via " + hops[i-1].alias
			}
			return nil, fmt.Errorf("%s: connect to %s (%s)%s: %w", name, e.alias, e.addr(), via, err)
		}
		c, err := handshake(ctx, conn, e, opts)
		if err != nil {
			conn.Close()
			for _, c := range clients {
				c.Close()
			}
			return nil, err
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// handshake runs the SSH handshake and authentication on conn, bounded by
// the endpoint's connect timeout and by ctx.
func handshake(ctx context.Context, conn net.Conn, e *endpoint, opts *Options) (*ssh.Client, error) {
	checker, err := newHostKeyChecker(e, opts)
	if err != nil {
		return nil, &Error{Node: e.alias, Err: err}
	}
	creds := loadCredentials(e)
	defer creds.close()
	config := &ssh.ClientConfig{
		User:              e.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(creds.signers...)},
		HostKeyCallback:   checker.check,
		HostKeyAlgorithms: checker.known,
		Timeout:           e.connectTimeout,
	}
	conn.SetDeadline(time.Now().Add(e.connectTimeout))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	c, chans, reqs, err := ssh.NewClientConn(conn, e.addr(), config)
	stop()
	if err != nil {
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, &Error{Node: e.alias, Err: hk}
		}
		if ctx.Err() != nil {
			return nil, &Error{Node: e.alias, Err: ctx.Err()}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, &Error{Node: e.alias, Err: fmt.Errorf("ssh handshake with %s timed out after %v", e.addr(), e.connectTimeout)}
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &Error{Node: e.alias, Err: fmt.Errorf("permission denied (publickey) for %s@%s", e.user, e.addr()), hint: creds.authHint()}
		}
		return nil, &Error{Node: e.alias, Err: fmt.Errorf("ssh handshake with %s: %w", e.addr(), err)}
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// keepalive sends keepalive@openssh.com requests, as OpenSSH's
// ServerAliveInterval does, and calls lost when count of them in a row go
// unanswered, so that a hung host is noticed.
type keepalive struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func newKeepalive(c *ssh.Client, interval time.Duration, count int, lost func()) *keepalive {
	k := &keepalive{done: make(chan struct{})}
	if interval <= 0 {
		return k
	}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		replies := make(chan error, 1)
		pending, missed := false, 0
		for {
			select {
			case <-k.done:
				return
			case err := <-replies:
				pending = false
				if err != nil {
					return
				}
				missed = 0
			case <-t.C:
				if pending {
					missed++
					if missed >= count {
						lost()
						return
					}
					continue
				}
				pending = true
				k.wg.Add(1)
				go func() {
					// Returns when answered or when the connection closes,
					// which the owner of c does before waiting on k.
					defer k.wg.Done()
					_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
					replies <- err
				}()
			}
		}
	}()
	return k
}

// stop ends the keepalive loop; the caller closes the connection before
// waiting, so that a request in flight returns.
func (k *keepalive) stop() { close(k.done) }
