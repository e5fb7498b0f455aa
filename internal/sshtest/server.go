// Package sshtest owns SSH servers for tests: an in-process server built on
// golang.org/x/crypto/ssh that runs exec requests with /bin/sh, and a harness
// around the system's OpenSSH sshd. Both come with a fresh client key, a
// known_hosts file and an ssh_config in a temporary HOME, so that tests never
// read or write the developer's own ~/.ssh.
package sshtest

import (
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Keys is a client key pair written to files, and a home folder for the
// client side of a test.
type Keys struct {
	Dir        string // the test's client HOME
	KeyFile    string // private key, OpenSSH format, unencrypted
	PublicFile string // KeyFile + ".pub"
	Signer     ssh.Signer
}

// NewPublicKey makes a fresh ed25519 public key, for a known_hosts line
// that no server holds.
func NewPublicKey(t testing.TB) ssh.PublicKey {
	t.Helper()
	return newSigner(t).PublicKey()
}

// newSigner makes a fresh ed25519 key.
func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// NewKeys makes a fresh ed25519 client key in a new temporary HOME.
func NewKeys(t testing.TB) *Keys {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "concurr-test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	k := &Keys{Dir: home, KeyFile: filepath.Join(dir, "id_test"), Signer: signer}
	k.PublicFile = k.KeyFile + ".pub"
	if err := os.WriteFile(k.KeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.PublicFile, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// Server is an in-process SSH server on 127.0.0.1. It accepts public-key
// authentication for its client key only, runs "exec" requests with
// /bin/sh -c in their own process group with HOME set to Home, forwards
// "signal" requests, answers keepalive@openssh.com, and opens direct-tcpip
// channels to loopback addresses only (for ProxyJump).
type Server struct {
	Addr    string // 127.0.0.1:port
	Port    int
	Home    string // HOME of the commands the server runs
	Keys    *Keys  // the client side: key files and the client's HOME
	HostKey ssh.PublicKey

	// KnownHosts is a known_hosts file in Keys.Dir that holds this server's
	// key.
	KnownHosts string

	t        testing.TB
	loopback *loopback
	config   *ssh.ServerConfig

	mu     sync.Mutex
	banner string
	env    []string
	hung   bool
	drop   int // connections still to drop before their handshake
	execs  []string

	execHandler      ExecHandler   // nil: exec requests run with /bin/sh
	handshakeTimeout time.Duration // 0: defaultHandshakeTimeout
}

// defaultHandshakeTimeout bounds a connection's handshake and login, so
// that a test's client that stalls does not hold the server.
const defaultHandshakeTimeout = 10 * time.Second

// StartServer starts a server with a fresh host key and a fresh client key in
// a new temporary HOME, and stops it at the test's cleanup.
func StartServer(t testing.TB) *Server {
	return StartServerWithKeys(t, NewKeys(t))
}

// StartServerWithKeys starts a server that accepts the given client keys,
// so that several servers can share one client HOME.
func StartServerWithKeys(t testing.TB, keys *Keys) *Server {
	t.Helper()
	hostSigner := newSigner(t)
	s := &Server{
		Home:    t.TempDir(),
		Keys:    keys,
		HostKey: hostSigner.PublicKey(),
		t:       t,
	}
	want := keys.Signer.PublicKey().Marshal()
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(want) {
				return nil, nil
			}
			return nil, errors.New("unknown public key")
		},
	}
	s.config.AddHostKey(hostSigner)
	s.loopback = listenLoopback(t)
	s.Port = s.loopback.port
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
	s.KnownHosts = filepath.Join(keys.Dir, ".ssh", "known_hosts_"+strconv.Itoa(s.Port))
	if err := os.WriteFile(s.KnownHosts, []byte(s.KnownHostsLine()), 0o600); err != nil {
		t.Fatal(err)
	}
	s.loopback.serve(s.serveConn)
	t.Cleanup(s.Close)
	return s
}

// OfferOnly makes the server offer only these key exchanges and ciphers
// (nil for its defaults) to the connections that follow, as an sshd with
// KexAlgorithms and Ciphers set would. A connection already in its
// handshake keeps the config it began with: the new one is a copy.
func (s *Server) OfferOnly(kex, ciphers []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	config := *s.config
	config.KeyExchanges, config.Ciphers = kex, ciphers
	s.config = &config
}

// KnownHostsLine returns a known_hosts line for this server's key.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey) + "\n"
}

// SetBanner sets text that every exec request prints on stdout before its
// command runs, as a login shell's rc files or MOTD would.
func (s *Server) SetBanner(text string) {
	s.mu.Lock()
	s.banner = text
	s.mu.Unlock()
}

// SetHung makes the server stop answering global requests such as
// keepalives, as a host that hangs would.
func (s *Server) SetHung(hung bool) {
	s.mu.Lock()
	s.hung = hung
	s.mu.Unlock()
}

// DropConnections makes the server close the next n connections as soon
// as it accepts them, before the SSH handshake, as sshd does to connections
// past MaxStartups. Every other one is reset rather than closed.
func (s *Server) DropConnections(n int) {
	s.mu.Lock()
	s.drop = n
	s.mu.Unlock()
}

// SetEnv sets NAME=value pairs added to the environment of the commands the
// server runs, such as a PATH that puts a fake uname first.
func (s *Server) SetEnv(env ...string) {
	s.mu.Lock()
	s.env = append([]string(nil), env...)
	s.mu.Unlock()
}

// Execs returns the commands the server has run.
func (s *Server) Execs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.execs...)
}

// ConfigBlock returns an ssh_config Host block that reaches this server as
// alias with the test's key and known_hosts file, for combining servers in
// one config file.
func (s *Server) ConfigBlock(alias string) string {
	return fmt.Sprintf(`Host %s
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  StrictHostKeyChecking yes
  ConnectTimeout 5
`, alias, s.Port, currentUser(), s.Keys.KeyFile, s.KnownHosts)
}

// WriteConfig writes an ssh_config in the client HOME with one Host block
// per alias, all reaching this server, and returns its path.
func (s *Server) WriteConfig(aliases ...string) string {
	var b strings.Builder
	for _, a := range aliases {
		b.WriteString(s.ConfigBlock(a))
	}
	path := filepath.Join(s.Keys.Dir, ".ssh", "config_"+strconv.Itoa(s.Port))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return path
}

// Close stops the server, drops its connections and waits for its
// goroutines and the processes they started.
func (s *Server) Close() { s.loopback.close() }

// serveConn serves one accepted connection, unless it is one that
// DropConnections asked to drop.
func (s *Server) serveConn(c net.Conn) {
	defer s.loopback.untrack(c)
	s.mu.Lock()
	drop := s.drop > 0
	if drop {
		if s.drop%2 == 0 {
			c.(*net.TCPConn).SetLinger(0) // a reset rather than a FIN
		}
		s.drop--
	}
	s.mu.Unlock()
	if drop {
		c.Close()
		return
	}
	s.handleConn(c)
}

func (s *Server) handleConn(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	timeout := cmp.Or(s.handshakeTimeout, defaultHandshakeTimeout)
	config := s.config
	s.mu.Unlock()
	c.SetDeadline(time.Now().Add(timeout))
	conn, chans, reqs, err := ssh.NewServerConn(c, config)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	defer conn.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for req := range reqs {
			s.mu.Lock()
			hung := s.hung
			s.mu.Unlock()
			if req.WantReply && !hung {
				req.Reply(req.Type == "keepalive@openssh.com", nil)
			}
		}
	}()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.handleSession(ch, creqs)
			}()
		case "direct-tcpip":
			wg.Add(1)
			go func() {
				defer wg.Done()
				handleDirectTCPIP(nc)
			}()
		default:
			nc.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
}

func handleDirectTCPIP(nc ssh.NewChannel) {
	var msg struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &msg); err != nil {
		nc.Reject(ssh.ConnectionFailed, "bad direct-tcpip request")
		return
	}
	ip := net.ParseIP(msg.Host)
	if msg.Host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil || !ip.IsLoopback() {
		nc.Reject(ssh.Prohibited, "the test server forwards to loopback only")
		return
	}
	target, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(int(msg.Port))), 5*time.Second)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		target.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.Copy(target, ch)
		target.(*net.TCPConn).CloseWrite()
	}()
	go func() {
		defer wg.Done()
		io.Copy(ch, target)
		ch.CloseWrite()
	}()
	wg.Wait()
	ch.Close()
	target.Close()
}

// signals maps SSH signal names to Unix signals.
var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE, "HUP": syscall.SIGHUP,
	"ILL": syscall.SIGILL, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE,
	"QUIT": syscall.SIGQUIT, "SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

func (s *Server) handleSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	var stdinCopied sync.WaitGroup
	defer stdinCopied.Wait()
	defer ch.Close()
	var env []string
	var cmd *exec.Cmd
	exited := make(chan struct{})
	var cancelInProcess func() // set once an ExecHandler serves the session
	for {
		var req *ssh.Request
		var ok bool
		select {
		case req, ok = <-reqs:
		case <-exited:
			return
		}
		if !ok {
			break
		}
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil {
				env = append(env, kv.Name+"="+kv.Value)
			}
			req.Reply(true, nil)
		case "exec":
			var payload struct{ Command string }
			if cmd != nil || cancelInProcess != nil || ssh.Unmarshal(req.Payload, &payload) != nil {
				req.Reply(false, nil)
				continue
			}
			s.mu.Lock()
			h := s.execHandler
			s.mu.Unlock()
			if h != nil {
				cancelInProcess, exited = s.startInProcess(h, payload.Command, ch)
				req.Reply(true, nil)
				continue
			}
			cmd = s.command(payload.Command, env, ch)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				req.Reply(false, nil)
				return
			}
			if err := cmd.Start(); err != nil {
				req.Reply(false, nil)
				return
			}
			stdinCopied.Add(1)
			go func() {
				// Ends at the client's EOF or when the channel closes; a
				// command that never reads its stdin must not hold up its
				// exit status, which exec.Cmd's own copying would.
				defer stdinCopied.Done()
				io.Copy(stdin, ch)
				stdin.Close()
			}()
			req.Reply(true, nil)
			go func() {
				// Owned by this loop: it waits on exited or kills the group.
				sendExit(ch, cmd.Wait())
				close(exited)
			}()
		case "signal":
			var sig struct{ Name string }
			if cancelInProcess != nil {
				cancelInProcess()
			} else if cmd != nil && ssh.Unmarshal(req.Payload, &sig) == nil {
				if n, ok := signals[sig.Name]; ok {
					syscall.Kill(-cmd.Process.Pid, n)
				}
			}
			if req.WantReply {
				req.Reply(true, nil)
			}
		default:
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}
	// The client closed the channel: end what it started.
	if cancelInProcess != nil {
		cancelInProcess()
		<-exited
	}
	if cmd != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

func (s *Server) command(command string, env []string, ch ssh.Channel) *exec.Cmd {
	s.mu.Lock()
	banner := s.banner
	extra := s.env
	s.execs = append(s.execs, command)
	s.mu.Unlock()
	if banner != "" {
		io.WriteString(ch, banner)
	}
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Dir = s.Home
	cmd.Env = append([]string{"HOME=" + s.Home, "PATH=" + os.Getenv("PATH"), "USER=" + currentUser()}, env...)
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A job that keeps the pipes open must not hold the session forever.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

func sendExit(ch ssh.Channel, err error) {
	status := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			for name, sig := range signals {
				if sig == ws.Signal() {
					var msg []byte
					msg = appendString(msg, name)
					msg = append(msg, 0)
					msg = appendString(msg, "")
					msg = appendString(msg, "")
					ch.SendRequest("exit-signal", false, msg)
					ch.CloseWrite()
					return
				}
			}
		}
		status = exitErr.ExitCode()
	} else if err != nil {
		status = 255
	}
	ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(status)))
	ch.CloseWrite()
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}
