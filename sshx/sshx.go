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
// run, and a cache folder that others could change is refused (see
// bootstrapScript); a cache on a noexec file system falls back to
// $HOME/.concurr; handshakes that sshd drops under MaxStartups are tried
// again; an unreachable host costs ConnectTimeout; a host that stops
// answering is found by keepalives and ends Node.Stdout with
// ErrConnectionLost.
package sshx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// (default 10s), which bounds the TCP connection and the SSH handshake
	// together. A connection the server drops before authentication is
	// tried again, for at most three times this in all.
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
	var h interface{ Hint() string }
	if errors.As(e.Err, &h) && h != e {
		return h.Hint()
	}
	return ""
}

// Node is a running agent on a remote host. Stdin and Stdout carry the wire
// protocol; Stdout may start with output a login shell printed, which
// wire.ReadMagic skips. Stdout ends with io.EOF when the agent exits
// cleanly, with an error wrapping ErrConnectionLost when the connection
// ends under it (a host that stops answering keepalives included), and
// with an error naming the status or signal when it exits otherwise.
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
	goos, goarch := opts.platform()
	own, err := opts.buildFor(name, goos, goarch)
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
	cfg, err := cachedSSHConfig(opts.ConfigFile, os.Getenv("HOME"))
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

	launch := func(command string) (*attempt, error) {
		sess, err := client.NewSession()
		if err != nil {
			return nil, fmt.Errorf("open a session: %w", err)
		}
		stdin, err := sess.StdinPipe()
		if err != nil {
			sess.Close()
			return nil, err
		}
		stdout, err := sess.StdoutPipe()
		if err != nil {
			sess.Close()
			return nil, err
		}
		a := &attempt{
			stdin:  &serialWriteCloser{w: stdin},
			stdout: bufio.NewReaderSize(stdout, 64<<10),
			stderr: newTailBuffer(8<<10, opts.Stderr),
			exited: make(chan struct{}),
		}
		sess.Stderr = a.stderr
		if err := sess.Start(command); err != nil {
			sess.Close()
			return nil, fmt.Errorf("start the bootstrap: %w", err)
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.waitErr = sess.Wait()
			close(a.exited)
		}()
		a.status = func() (int, bool) {
			if !a.ended() {
				return 0, false
			}
			var exit *ssh.ExitError
			if errors.As(a.waitErr, &exit) {
				return exit.ExitStatus(), true
			}
			return 0, a.waitErr == nil
		}
		a.signal = func(sig ssh.Signal) { sess.Signal(sig) }
		a.end = func() {
			sess.Close()
			if !waitFor(a.exited, time.Second) {
				closeAll()
			}
			a.wg.Wait()
		}
		return a, nil
	}
	a, st, err := runBootstrap(ctx, name, own, opts, launch)
	if err != nil {
		closeAll()
		return nil, err
	}
	a.stderr.release()

	n := &Node{Name: name, Stdin: a.stdin, Platform: st.build.goos + "/" + st.build.goarch, Cached: st.cached, stderr: a.stderr}
	var lost atomic.Pointer[error]
	alive := newKeepalive(client, target.aliveInterval, target.aliveCountMax, func() {
		wait := time.Duration(target.aliveCountMax) * target.aliveInterval
		err := fmt.Errorf("%w: no answer to %d keepalives in %v (ServerAliveInterval %v, ServerAliveCountMax %d)",
			ErrConnectionLost, target.aliveCountMax, wait, target.aliveInterval, target.aliveCountMax)
		lost.Store(&err)
		// The reader of Stdout reports the loss; this is for -v.
		opts.log("%s: no answer to %d keepalives in %v: closing the connection", name, target.aliveCountMax, wait)
		closeAll()
	})
	n.Stdout = &streamReader{r: a.stdout, end: func() error {
		waitFor(a.exited, time.Second)
		if err := lost.Load(); err != nil {
			return *err
		}
		select {
		case <-a.exited:
		default:
			return io.EOF // the agent closed its stdout and runs on
		}
		return sessionEnd(a.waitErr)
	}}
	n.close = func() error {
		// The polite way first: at EOF on its stdin the agent ends its jobs
		// and exits. A hung host may block even the writes that ask it to,
		// so closing the connection ends this after closeGrace regardless.
		polite := make(chan struct{})
		go func() {
			defer close(polite)
			a.stdin.Close()
			if !waitFor(a.exited, 2*time.Second) {
				a.signal(ssh.SIGTERM)
				if !waitFor(a.exited, time.Second) {
					a.signal(ssh.SIGKILL)
					waitFor(a.exited, 500*time.Millisecond)
				}
			}
		}()
		waitFor(polite, closeGrace)
		alive.stop()
		closeAll()
		<-polite
		alive.wg.Wait()
		a.wg.Wait()
		return nil
	}
	if !stop() {
		// ctx ended as the agent started, and took the connection with it.
		n.Close()
		return nil, fmt.Errorf("%s: %w", name, ctx.Err())
	}
	return n, nil
}

// closeGrace bounds how long Close waits for the agent to exit before it
// closes the connection under it.
const closeGrace = 4 * time.Second

// ErrConnectionLost is the error at the end of a Node's Stdout when the
// connection ended under the agent: the host stopped answering keepalives,
// or the connection dropped before the agent exited.
var ErrConnectionLost = errors.New("connection lost")

// sessionEnd turns how the agent's session ended into the error that ends
// its stream: io.EOF for an agent that exited cleanly.
func sessionEnd(err error) error {
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return io.EOF
	case errors.As(err, &exit) && exit.Signal() != "":
		return fmt.Errorf("the agent was killed by SIG%s", exit.Signal())
	case errors.As(err, &exit):
		return agentExit(exit.ExitStatus())
	case errors.As(err, &missing):
		return fmt.Errorf("%w: the connection closed before the agent exited", ErrConnectionLost)
	default:
		return fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
}

// agentExit describes an agent's exit status. The login shell reports an
// agent killed by a signal as 128+n.
func agentExit(status int) error {
	if name, ok := signalNames[syscall.Signal(status-128)]; ok && status > 128 {
		return fmt.Errorf("the agent was killed by %s (exit status %d)", name, status)
	}
	return fmt.Errorf("the agent exited with status %d", status)
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
	syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
	syscall.SIGSEGV: "SIGSEGV", syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2", syscall.SIGXCPU: "SIGXCPU",
}

// streamReader is a Node's Stdout: at the end of the stream it returns end's
// error, so that a reader learns whether the agent exited or the
// connection was lost, rather than a bare io.EOF either way.
type streamReader struct {
	r    *bufio.Reader
	end  func() error
	once sync.Once
	err  error
}

func (s *streamReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.once.Do(func() { s.err = s.end() })
		err = s.err
	}
	return n, err
}

// attempt is one run of the bootstrap script, on an SSH session or in an
// ssh process.
type attempt struct {
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *tailBuffer
	exited chan struct{} // closed when the session or process has ended
	// waitErr is how it ended, set before exited closes.
	waitErr error
	// status is the exit status once exited is closed; false when it ended
	// without one.
	status func() (int, bool)
	signal func(ssh.Signal)
	// end stops the attempt if it still runs and waits for its goroutines.
	end func()
	// started, when set, is called once the agent runs; false means ctx
	// ended the attempt first.
	started func() bool
	wg      sync.WaitGroup
}

// ended says whether the session or process has ended, after which
// waitErr may be read.
func (a *attempt) ended() bool {
	select {
	case <-a.exited:
		return true
	default:
		return false
	}
}

// execRefused is the exit status of sh when exec finds the file but may not
// run it, as on a file system mounted noexec.
const execRefused = 126

// runBootstrap runs the bootstrap script through launch until the agent
// starts. When exec from the cache folder is refused, it runs it once more
// with the fallback folder. On failure every attempt has ended.
func runBootstrap(ctx context.Context, name string, own *build, opts *Options, launch func(command string) (*attempt, error)) (*attempt, *started, error) {
	var refused []string
	for _, fallback := range []bool{false, true} {
		nonce := newNonce()
		a, err := launch(remoteCommand(bootstrapScript(nonce, own, fallback)))
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("%s: %w", name, ctx.Err())
			}
			return nil, nil, err
		}
		st, err := bootstrap(ctx, name, nonce, own, a.stdin, a.stdout, opts)
		if err != nil {
			var sf *startFailure
			if errors.As(err, &sf) {
				// The session's stderr is complete once it has ended.
				waitFor(a.exited, time.Second)
				err = sf.explain(a.stderr)
			}
			a.end()
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("%s: %w", name, ctx.Err())
			}
			return nil, nil, err
		}
		// The agent speaks first: a script that ends instead could not
		// exec it.
		if _, err := a.stdout.Peek(1); err == nil {
			return a, st, nil
		}
		waitFor(a.exited, 2*time.Second)
		status, ok := a.status()
		a.end()
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		why := lastLines(strings.TrimSpace(a.stderr.String()), 1)
		if why == "" {
			why = "exit status " + strconv.Itoa(status)
			if !ok {
				why = "the session ended without an exit status"
			}
		}
		refused = append(refused, st.path+": "+why)
		if ok && status == execRefused && !fallback {
			opts.log("%s: cannot run the agent from %s (%s): trying %s", name, st.path, why, "$HOME/.concurr")
			continue
		}
		e := &Error{Node: name, Err: fmt.Errorf("the agent did not start: %s", strings.Join(refused, "; then "))}
		switch {
		case ok && status == execRefused:
			e.hint = "the node refuses to run programs from these folders (mounted noexec?): set XDG_CACHE_HOME on the node, in its shell's startup file, to a folder where programs may run"
		case st.build.dynamic:
			e.hint = "this concurr was built with cgo and needs the node's C library to be at least as new as this machine's: build it static with CGO_ENABLED=0 (make build does)"
		}
		return nil, nil, e
	}
	panic("unreachable")
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

// Retries of a handshake the server dropped: exponential from
// retryFirst up to retryMax, jittered, for at most retryBudget times the
// connect timeout in all.
const (
	retryFirst  = 50 * time.Millisecond
	retryMax    = 2 * time.Second
	retryBudget = 3
)

// dialChain connects to each ProxyJump hop in turn and then to the target,
// each through the previous one. The last client is the target's.
func dialChain(ctx context.Context, name string, target *endpoint, opts *Options) ([]*ssh.Client, error) {
	hops := append(append([]*endpoint(nil), target.jumps...), target)
	var clients []*ssh.Client
	closeAll := func() {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
	}
	for i, e := range hops {
		var via *ssh.Client
		viaName := ""
		if i > 0 {
			via, viaName = clients[i-1], hops[i-1].alias
		}
		c, err := dialHop(ctx, name, e, via, viaName, opts)
		if err != nil {
			closeAll()
			return nil, err
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// dialHop connects to one server, directly or through via, and
// authenticates. A server that drops the connection before authentication,
// as sshd does past MaxStartups, is tried again after a jittered
// exponential backoff; refusals, timeouts, authentication and host key
// errors are final. Each try is bounded by the connect timeout.
func dialHop(ctx context.Context, name string, e *endpoint, via *ssh.Client, viaName string, opts *Options) (*ssh.Client, error) {
	budget := time.Now().Add(retryBudget * e.connectTimeout)
	backoff := retryFirst
	connected := false
	for try := 1; ; try++ {
		c, err := dialOnce(ctx, name, e, via, viaName, opts)
		if err == nil {
			return c, nil
		}
		var dropped *droppedError
		retry := errors.As(err, &dropped)
		if retry && !dropped.connected && !connected {
			retry = false // refused from the start: nothing listens there
		}
		if retry && dropped.connected {
			connected = true
		}
		if !retry || ctx.Err() != nil {
			if dropped != nil {
				return nil, dropped.err
			}
			return nil, err
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		if time.Now().Add(sleep).After(budget) {
			return nil, fmt.Errorf("%w (gave up after %d tries)", dropped.err, try)
		}
		opts.log("%s: %s dropped the connection (%v): trying again in %v", name, e.alias, dropped.cause, sleep.Round(time.Millisecond))
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, &Error{Node: name, Err: ctx.Err()}
		case <-t.C:
		}
		backoff = min(2*backoff, retryMax)
	}
}

// droppedError is a connection the server refused or closed before
// authentication, which may succeed when tried again.
type droppedError struct {
	err       error // for the user
	cause     error
	connected bool // the TCP connection was made
}

func (d *droppedError) Error() string { return d.err.Error() }

// dialOnce makes one connection to e and runs the SSH handshake on it, all
// within e's connect timeout.
func dialOnce(ctx context.Context, name string, e *endpoint, via *ssh.Client, viaName string, opts *Options) (*ssh.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, e.connectTimeout)
	defer cancel()
	var conn net.Conn
	var err error
	if via == nil {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", e.addr())
	} else {
		conn, err = via.DialContext(dctx, "tcp", e.addr())
	}
	if err != nil {
		how := ""
		if viaName != "" {
			how = " via " + viaName
		}
		var ne net.Error
		if ctx.Err() == nil && (dctx.Err() != nil || errors.As(err, &ne) && ne.Timeout()) {
			return nil, fmt.Errorf("%s: connect to %s (%s)%s: timed out after %v", name, e.alias, e.addr(), how, e.connectTimeout)
		}
		wrapped := fmt.Errorf("%s: connect to %s (%s)%s: %w", name, e.alias, e.addr(), how, err)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil, &droppedError{err: wrapped, cause: err}
		case errors.Is(err, syscall.ECONNRESET):
			// Accepted and reset before connect returned.
			return nil, &droppedError{err: wrapped, cause: err, connected: true}
		}
		return nil, wrapped
	}
	deadline, _ := dctx.Deadline()
	c, err := handshake(ctx, conn, e, deadline, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// handshake runs the SSH handshake and authentication on conn, bounded by
// deadline and by ctx.
func handshake(ctx context.Context, conn net.Conn, e *endpoint, deadline time.Time, opts *Options) (*ssh.Client, error) {
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
	conn.SetDeadline(deadline)
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
		wrapped := &Error{Node: e.alias, Err: fmt.Errorf("ssh handshake with %s: %w", e.addr(), err)}
		if droppedInHandshake(err) {
			return nil, &droppedError{err: wrapped, cause: err, connected: true}
		}
		return nil, wrapped
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// droppedInHandshake says whether the server closed or reset the
// connection during the handshake, as sshd does to connections past
// MaxStartups, rather than refusing the client.
func droppedInHandshake(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	// x/crypto/ssh flattens some errors into text.
	msg := err.Error()
	return strings.HasSuffix(msg, ": EOF") || strings.Contains(msg, "connection reset by peer")
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

// serialWriteCloser makes Close wait for a Write in progress: an SSH
// channel's CloseWrite is not safe against a concurrent Write, and the
// client closes a node's stdin while a ping may be writing to it. A Write
// stuck on a hung host is ended by closing the connection, which Close
// then follows.
type serialWriteCloser struct {
	mu sync.Mutex
	w  io.WriteCloser
}

func (s *serialWriteCloser) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *serialWriteCloser) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Close()
}
