package sshx

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// proxyKill is how long a ProxyCommand has, after SIGHUP, to exit before
// it is killed.
const proxyKill = time.Second

// proxyStderrMax bounds the ProxyCommand's stderr kept for messages.
const proxyStderrMax = 4096

// expandProxyCommand replaces the % tokens of a ProxyCommand as OpenSSH
// does. An unknown token is an error, as it is to ssh, rather than passed
// to the shell where it would mean something else.
func (c *sshConfig) expandProxyCommand(s string, e *endpoint) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("a lone % at the end")
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'h':
			b.WriteString(e.hostName)
		case 'n':
			b.WriteString(e.alias)
		case 'p':
			b.WriteString(strconv.Itoa(e.port))
		case 'r':
			b.WriteString(e.user)
		case 'u':
			b.WriteString(localUser())
		case 'd':
			b.WriteString(c.home)
		case 'l':
			b.WriteString(localHostName())
		case 'L':
			short, _, _ := strings.Cut(localHostName(), ".")
			b.WriteString(short)
		case 'i':
			b.WriteString(strconv.Itoa(os.Getuid()))
		case 'C':
			b.WriteString(connectionHash(e))
		default:
			return "", fmt.Errorf("unknown token %%%c", s[i])
		}
	}
	return b.String(), nil
}

// connectionHash is OpenSSH's %C: the SHA-1 of the local host name, the
// remote host name, port and user, and the ProxyJump (none here, as a
// ProxyCommand and a ProxyJump exclude each other).
func connectionHash(e *endpoint) string {
	sum := sha1.Sum([]byte(localHostName() + e.hostName + strconv.Itoa(e.port) + e.user))
	return hex.EncodeToString(sum[:])
}

func localHostName() string {
	name, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return name
}

// proxyConn is a connection over a ProxyCommand's stdin and stdout.
type proxyConn struct {
	command string
	remote  string // the server's address as known_hosts names it
	cmd     *exec.Cmd
	in      *os.File // our end of its stdin
	out     *os.File // our end of its stdout
	stderr  *tailBuffer
	exited  chan struct{}
	waitErr error       // set before exited is closed
	hungUp  atomic.Bool // Close signalled the command

	closeOnce sync.Once
}

// startProxyCommand runs command with $SHELL, as OpenSSH does, in a
// process group of its own so that Close ends whatever it started. The
// connection's remote address is remote: the host key is checked against
// the server's name, as ssh does, the command hiding its address.
func startProxyCommand(command, remote string) (*proxyConn, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	// As ssh does: the user's shell, or sh, and "exec" so that no shell
	// stays between us and the command.
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	cmd := exec.Command(shell, "-c", "exec "+command)
	cmd.Stdin, cmd.Stdout = inR, outW
	stderr := newTailBuffer(proxyStderrMax, nil)
	cmd.Stderr = stderr
	// A command that leaves a child holding stderr must not hold up Wait.
	cmd.WaitDelay = proxyKill
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	p := &proxyConn{command: command, remote: remote, cmd: cmd, in: inW, out: outR, stderr: stderr, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proxyConn) Read(b []byte) (int, error)  { return p.out.Read(b) }
func (p *proxyConn) Write(b []byte) (int, error) { return p.in.Write(b) }

// Close closes the pipes, hangs the command's process group up, as ssh
// does, kills it if it lingers, and waits for the command.
func (p *proxyConn) Close() error {
	p.closeOnce.Do(func() {
		p.in.Close()
		p.out.Close()
		pgid := -p.cmd.Process.Pid
		p.hungUp.Store(true)
		syscall.Kill(pgid, syscall.SIGHUP)
		t := time.NewTimer(proxyKill)
		defer t.Stop()
		select {
		case <-p.exited:
		case <-t.C:
			syscall.Kill(pgid, syscall.SIGKILL)
			<-p.exited
		}
		// What the command started in its group and left running goes too.
		syscall.Kill(pgid, syscall.SIGKILL)
	})
	return nil
}

// failure describes why the command ended, for a handshake that failed:
// its status and the last lines of its stderr. ok is false when it
// printed nothing and ran on, or ended well or by Close's signal: then the
// server may simply have closed the connection.
func (p *proxyConn) failure(wait time.Duration) (reason string, ok bool) {
	t := time.NewTimer(wait)
	defer t.Stop()
	exited := false
	select {
	case <-p.exited:
		exited = true
	case <-t.C:
	}
	text := oneLine(p.stderr.String())
	var status *exec.ExitError
	if exited && p.hungUp.Load() && errors.As(p.waitErr, &status) && !status.Exited() {
		// Ended by Close, once the handshake had failed: no news.
		exited = false
	}
	switch {
	case exited && p.waitErr != nil && text != "":
		return fmt.Sprintf("%v: %s", p.waitErr, text), true
	case exited && p.waitErr != nil:
		return p.waitErr.Error(), true
	case text != "":
		return text, true
	}
	return "", false
}

func (p *proxyConn) LocalAddr() net.Addr  { return proxyAddr("ProxyCommand") }
func (p *proxyConn) RemoteAddr() net.Addr { return proxyAddr(p.remote) }

func (p *proxyConn) SetDeadline(t time.Time) error {
	return errors.Join(p.in.SetDeadline(t), p.out.SetDeadline(t))
}
func (p *proxyConn) SetReadDeadline(t time.Time) error  { return p.out.SetReadDeadline(t) }
func (p *proxyConn) SetWriteDeadline(t time.Time) error { return p.in.SetWriteDeadline(t) }

// proxyAddr is an end of a proxyConn.
type proxyAddr string

func (a proxyAddr) Network() string { return "proxycommand" }
func (a proxyAddr) String() string  { return string(a) }

// oneLine joins the lines of a command's stderr with "; ".
func oneLine(text string) string {
	var parts []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

var _ net.Conn = (*proxyConn)(nil)
