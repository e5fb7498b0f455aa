package sshx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"concurr/parse"
)

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
	pending := opts.identifySoon(name, self, goos, goarch)
	var n *Node
	if len(opts.SSHCommand) > 0 {
		var own *build
		if own, err = pending.wait(); err != nil {
			return nil, err
		}
		n, err = startCommand(ctx, name, h, own, &opts)
	} else {
		n, err = startNative(ctx, name, h, pending, &opts)
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

// pendingBuild is the agent's build being identified while the login goes
// on: the first login of a run hashes the executable (about 10 ms for 8 MB,
// see identifyAgent), which then no longer delays its dial.
type pendingBuild struct {
	done  chan struct{}
	build *build
	err   error
}

// identifySoon starts buildFor in the background.
func (o *Options) identifySoon(name, self, goos, goarch string) *pendingBuild {
	p := &pendingBuild{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.build, p.err = o.buildFor(name, goos, goarch)
		if p.err != nil {
			p.err = &Error{Node: name, Err: fmt.Errorf("agent executable %s: %w", self, p.err)}
		}
	}()
	return p
}

// wait returns the build, or why there is none, as an *Error.
func (p *pendingBuild) wait() (*build, error) {
	<-p.done
	return p.build, p.err
}

// loginOptions are the options of a login written as an ssh command line,
// as a config block for its host that comes before the config files: as on
// ssh's command line, they win over the files, and do not apply to the
// host's ProxyJump hops.
func loginOptions(h parse.Host) string {
	if len(h.SSHOptions) == 0 {
		return ""
	}
	return "Host " + h.Name + "\n" + strings.Join(h.SSHOptions, "\n") + "\n"
}

// startNative reaches the node with x/crypto/ssh.
func startNative(ctx context.Context, name string, h parse.Host, pending *pendingBuild, opts *Options) (*Node, error) {
	configFile := opts.ConfigFile
	if h.SSHConfigFile != "" {
		configFile = h.SSHConfigFile
	}
	cfg, err := cachedSSHConfig(configFile, os.Getenv("HOME"), loginOptions(h))
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
	own, err := pending.wait()
	if err != nil {
		closeAll()
		return nil, err
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
