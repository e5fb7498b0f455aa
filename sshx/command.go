package sshx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"concurr/parse"
)

// startCommand reaches the node with the system's ssh client: the given
// command, then -T, the login and the bootstrap script. ssh runs in its own
// process group, which Close kills. A connection the server drops before
// login, as sshd does past MaxStartups, is tried again as dialHop does.
func startCommand(ctx context.Context, name string, h parse.Host, own *build, opts *Options) (*Node, error) {
	var login []string // -F, -l, -p and the host, as ssh and ssh -G take them
	// The system ssh reads the same ssh_config file as the built-in
	// client would, unless the user's own --ssh command names one.
	if opts.ConfigFile != "" && !namesConfigFile(opts.SSHCommand[1:]) {
		login = append(login, "-F", opts.ConfigFile)
	}
	if h.User != "" {
		login = append(login, "-l", h.User)
	}
	if h.Port != 0 {
		login = append(login, "-p", strconv.Itoa(h.Port))
	}
	login = append(login, "--", h.Name)
	args := append(append([]string(nil), opts.SSHCommand[1:]...), "-T")
	timeout := DefaultConnectTimeout
	if opts.ConnectTimeout > 0 {
		timeout = opts.ConnectTimeout
		args = append(args, "-o", "ConnectTimeout="+strconv.Itoa(int((opts.ConnectTimeout+time.Second-1)/time.Second)))
	}
	args = append(args, login...)

	var last *attempt
	launch := func(command string) (*attempt, error) {
		a, err := runSSH(ctx, opts, append(args, command))
		last = a
		return a, err
	}
	proxied := sync.OnceValue(func() bool { return sshProxied(ctx, opts, login) })
	budget := time.Now().Add(retryBudget * timeout)
	backoff := retryFirst
	for {
		a, st, err := runBootstrap(ctx, name, own, opts, launch)
		if err == nil {
			a.stderr.release()
			n := a.node(name, st)
			if !a.started() {
				// ctx ended as the agent started, and killed ssh.
				n.Close()
				return nil, fmt.Errorf("%s: %w", name, ctx.Err())
			}
			return n, nil
		}
		if last == nil || !sshDropped(last, proxied) || ctx.Err() != nil {
			return nil, err
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		if time.Now().Add(sleep).After(budget) {
			return nil, err
		}
		opts.log("%s: the server dropped the connection (%s): trying again in %v", name, lastLines(strings.TrimSpace(last.stderr.String()), 1), sleep.Round(time.Millisecond))
		last = nil
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, retryMax)
	}
}

// sshDropped says whether ssh ended because the server closed or reset the
// connection before the login, as sshd does to connections past
// MaxStartups.
func sshDropped(a *attempt, proxied func() bool) bool {
	status, ok := a.status()
	return ok && sshDroppedLogin(status, a.stderr.String(), proxied)
}

// droppedByPeer matches ssh's last word on a connection that a server
// closed or reset: "Connection closed by 10.0.0.7 port 22" (at LogLevel
// INFO and above).
//
// It is compiled at its first use: every agent links this package, and a
// compile at start is a cost to each of them.
var droppedByPeer = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`Connection (?:closed|reset) by (\S+) port \d+`)
})

// sshDroppedLogin says whether ssh, ending with status and stderr, was
// dropped by a server before the login, which is worth another try. ssh
// says so only in words. A server that drops the connection is named by
// its address, or resets it; a ProxyCommand that exits is "UNKNOWN port
// 65535", and is as final as one that says why: its command failed, and
// will again. When ssh says only "Connection closed by remote host" (its
// LogLevel hides the rest), proxied says whether a proxy stands between,
// and a proxied connection is not tried again. (A bastion that drops the
// login speaks for itself on the same stderr, by address or by a reset.)
func sshDroppedLogin(status int, stderr string, proxied func() bool) bool {
	if status != 255 {
		return false
	}
	for _, final := range []string{
		"Permission denied", "Host key verification failed", "Could not resolve",
		"Connection refused", "No route to host", "timed out",
	} {
		// A hop or the host itself is down, or refuses us: final, however
		// the last connection in the chain ended.
		if strings.Contains(stderr, final) {
			return false
		}
	}
	for _, m := range droppedByPeer().FindAllStringSubmatch(stderr, -1) {
		if m[1] != "UNKNOWN" {
			return true
		}
	}
	switch {
	case strings.Contains(stderr, "UNKNOWN port"):
		return false
	case strings.Contains(stderr, "Connection reset by peer"):
		return true // only a socket is reset, never a proxy's pipe
	case strings.Contains(stderr, "Connection closed by remote host"):
		return !proxied()
	}
	return false
}

// sshProxied asks ssh (ssh -G) whether it reaches h through a
// ProxyCommand or ProxyJump. An ssh that cannot say is taken to connect
// directly.
func sshProxied(ctx context.Context, opts *Options, login []string) bool {
	args := append(append(append([]string(nil), opts.SSHCommand[1:]...), "-G"), login...)
	out, err := exec.CommandContext(ctx, opts.SSHCommand[0], args...).Output()
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(out), "\n") {
		key, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		if (key == "proxycommand" || key == "proxyjump") && value != "" && value != "none" {
			return true
		}
	}
	return false
}

// namesConfigFile says whether ssh arguments already choose a config file.
func namesConfigFile(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if strings.HasPrefix(a, "-F") {
			return true
		}
	}
	return false
}

// runSSH starts ssh with args in a process group of its own.
func runSSH(ctx context.Context, opts *Options, args []string) (*attempt, error) {
	return runProcess(ctx, opts, append([]string{opts.SSHCommand[0]}, args...), false)
}

// runProcess starts argv in a process group of its own, with its stdin
// and stdout for the bootstrap. When ctx ends before the agent runs, the
// group is killed; gently means SIGTERM first, and SIGKILL only after
// killGrace, for a command such as srun that must tell others to clean up
// (srun killed outright can leave a step it was creating behind).
func runProcess(ctx context.Context, opts *Options, argv []string, gently bool) (*attempt, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = opts.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	a := &attempt{stderr: newTailBuffer(8<<10, opts.Stderr), exited: make(chan struct{})}
	cmd.Stderr = a.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// A pipe of our own rather than StdoutPipe: Wait closes that one as
	// soon as ssh exits, losing what the agent wrote last.
	stdoutPipe, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		stdoutPipe.Close()
		return nil, fmt.Errorf("run %s: %w", argv[0], err)
	}
	a.stdin = stdin
	a.stdout = bufio.NewReaderSize(stdoutPipe, 64<<10)
	kill := func(sig syscall.Signal) { syscall.Kill(-cmd.Process.Pid, sig) }
	stop := context.AfterFunc(ctx, func() {
		if !gently {
			kill(syscall.SIGKILL)
			return
		}
		kill(syscall.SIGTERM)
		if !waitFor(a.exited, killGrace) {
			kill(syscall.SIGKILL)
		}
	})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.waitErr = cmd.Wait()
		close(a.exited)
	}()
	a.status = func() (int, bool) {
		if !a.ended() {
			return 0, false
		}
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() < 0 {
			return 0, false
		}
		return cmd.ProcessState.ExitCode(), true
	}
	a.signal = func(sig ssh.Signal) {
		if sig == ssh.SIGKILL {
			kill(syscall.SIGKILL)
		} else {
			kill(syscall.SIGTERM)
		}
	}
	a.end = func() {
		stop()
		stdin.Close()
		if !waitFor(a.exited, 500*time.Millisecond) {
			kill(syscall.SIGKILL)
		}
		a.wg.Wait()
		stdoutPipe.Close()
	}
	// Once the agent runs, ctx no longer bounds it.
	a.started = stop
	return a, nil
}

// killGrace is how long a gently ended command has between SIGTERM and
// SIGKILL: srun waits up to KillWait (often 30 s, 2 s in the tests) for
// the step's tasks, but a step that has no tasks yet ends at once.
const killGrace = 5 * time.Second

// node wraps an attempt of the ssh transport whose agent runs.
func (a *attempt) node(name string, st *started) *Node {
	n := &Node{Name: name, Stdin: a.stdin, Platform: st.build.goos + "/" + st.build.goarch, Cached: st.cached, stderr: a.stderr}
	n.Stdout = &streamReader{r: a.stdout, end: func() error {
		waitFor(a.exited, time.Second)
		status, ok := a.status()
		switch {
		case !ok:
			return io.EOF
		case status == 255:
			return fmt.Errorf("%w: ssh exited with status 255: %s", ErrConnectionLost, lastLines(strings.TrimSpace(a.stderr.String()), 1))
		case status != 0:
			return agentExit(status)
		}
		return io.EOF
	}}
	n.close = func() error {
		a.stdin.Close()
		if !waitFor(a.exited, 2*time.Second) {
			a.signal(ssh.SIGTERM)
			if !waitFor(a.exited, time.Second) {
				a.signal(ssh.SIGKILL)
			}
		}
		a.end()
		return nil
	}
	return n
}
