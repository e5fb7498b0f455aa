package sshx

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"concurr/internal/proctest"
	"concurr/internal/sshtest"
	"concurr/internal/wire"
	"concurr/parse"
)

// testAgent is the executable uploaded in these tests: a stand-in for
// `concurr --agent=v1` that says hello and exits at EOF.
var testAgent string

func TestMain(m *testing.M) {
	if log, ok := os.LookupEnv(proxyHelperEnv); ok {
		os.Exit(runProxyHelper(log, os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "sshx-test")
	if err != nil {
		panic(err)
	}
	// No test may read the developer's ~/.ssh: default identity and
	// known_hosts files resolve under this HOME instead.
	os.Setenv("HOME", filepath.Join(dir, "home"))
	// Nor write its cache: sums of agent files go under this HOME too.
	os.Unsetenv("XDG_CACHE_HOME")
	os.Unsetenv("SSH_AUTH_SOCK")
	testAgent = filepath.Join(dir, "bin", "concurr")
	out, err := exec.Command("go", "build", "-o", testAgent, "./testdata/testagent").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build the test agent: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logLines collects Log and Warn lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logLines) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func options(config string, log *logLines) Options {
	return Options{ConfigFile: config, AgentPath: testAgent, Log: log.add, Warn: log.add}
}

func host(t testing.TB, spec string) parse.Host {
	t.Helper()
	hs, err := parse.ParseSSHLogins([]string{spec})
	if err != nil || len(hs) != 1 {
		t.Fatalf("parse %q: %v", spec, err)
	}
	return hs[0]
}

func start(t testing.TB, spec string, opts Options) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, host(t, spec), opts)
	if err != nil {
		t.Fatalf("start %s: %v", spec, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// hello reads the agent's opening and checks that stdin reaches it with a
// ping round trip. It returns what was printed before the protocol.
func hello(t testing.TB, n *Node) (*wire.Hello, string) {
	t.Helper()
	r := bufio.NewReader(n.Stdout)
	noise, err := wire.ReadMagic(r, wire.MaxNoise)
	if err != nil {
		t.Fatalf("%s: %v (noise %q, stderr %q)", n.Name, err, noise, n.Stderr())
	}
	fr := wire.NewReader(r)
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	m, err := wire.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := m.(*wire.Hello)
	if !ok {
		t.Fatalf("first message is %T", m)
	}
	// The client's opening went out as the agent started (Node.Stdin).
	bw := bufio.NewWriter(n.Stdin)
	w := wire.NewWriter(bw)
	w.Write(&wire.Ping{Nonce: 42})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f, err = fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := wire.Decode(f); m == nil || m.(*wire.Ping).Nonce != 42 {
		t.Fatalf("ping answered with %v", m)
	}
	return h, string(noise)
}

func writeConfig(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func cachedAgents(t testing.TB, home string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(home, ".cache", "concurr", "*", "concurr"))
	return files
}

func TestUploadThenCache(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")

	var log1 logLines
	n := start(t, "node1", options(config, &log1))
	h, _ := hello(t, n)
	if h.Slots != 2 || n.Cached || !log1.has("node1: uploading agent (") {
		t.Errorf("first start: slots %d, cached %v, log:\n%s", h.Slots, n.Cached, log1.String())
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	files := cachedAgents(t, s.Home)
	if len(files) != 1 {
		t.Fatalf("cache holds %q", files)
	}
	st, _ := os.Stat(filepath.Dir(files[0]))
	if st.Mode().Perm() != 0o700 {
		t.Errorf("cache folder mode %v, want 0700", st.Mode().Perm())
	}

	var log2 logLines
	n = start(t, "node1", options(config, &log2))
	hello(t, n)
	if !n.Cached || !log2.has("node1: agent cached") || log2.has("uploading") {
		t.Errorf("second start: cached %v, log:\n%s", n.Cached, log2.String())
	}
	if n.Platform != "linux/amd64" && !strings.HasPrefix(n.Platform, "linux/") {
		t.Errorf("platform %q", n.Platform)
	}
}

func TestNoiseBeforeTheAgent(t *testing.T) {
	tests := []struct {
		name, banner string
	}{
		{name: "motd", banner: "Welcome to node1\nLast login: yesterday\n"},
		{name: "no final newline", banner: "rc output without newline"},
		{name: "marker lookalike", banner: "@@concurr:0000:exec cached\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshtest.StartServer(t)
			s.SetBanner(tt.banner)
			config := s.WriteConfig("node1")
			for range 2 { // upload, then cached
				var log logLines
				n := start(t, "node1", options(config, &log))
				if h, _ := hello(t, n); h.Slots != 2 {
					t.Errorf("slots %d", h.Slots)
				}
				n.Close()
			}
		})
	}
}

func TestHostKeys(t *testing.T) {
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(otherPriv)
	changedKey := func(s *sshtest.Server) string {
		return "[127.0.0.1]:" + fmt.Sprint(s.Port) + " " + string(ssh.MarshalAuthorizedKey(otherSigner.PublicKey()))
	}
	tests := []struct {
		name   string
		strict string
		known  func(s *sshtest.Server) string // known_hosts content, "" for none
		err    string
		warn   string
		record bool
		extra  string // more lines for the Host block
	}{
		{name: "known", strict: "yes", known: func(s *sshtest.Server) string { return s.KnownHostsLine() }},
		{name: "changed key refused", strict: "accept-new", err: "REMOTE HOST IDENTIFICATION HAS CHANGED",
			known: func(s *sshtest.Server) string {
				return "[127.0.0.1]:" + fmt.Sprint(s.Port) + " " + string(ssh.MarshalAuthorizedKey(otherSigner.PublicKey()))
			}},
		{name: "unknown refused", strict: "yes", err: "no host key is known", known: func(*sshtest.Server) string { return "" }},
		{name: "unknown with ask refused", strict: "ask", err: "no host key is known", known: func(*sshtest.Server) string { return "" }},
		{name: "accept-new records", strict: "accept-new", record: true, known: func(*sshtest.Server) string { return "" }},
		{name: "no warns", strict: "no", warn: "StrictHostKeyChecking is off", known: func(*sshtest.Server) string { return "" }},
		{name: "changed key refused with yes", strict: "yes", err: "REMOTE HOST IDENTIFICATION HAS CHANGED", known: changedKey},
		{name: "changed key refused with ask", strict: "ask", err: "REMOTE HOST IDENTIFICATION HAS CHANGED", known: changedKey},
		// As OpenSSH does: the loud warning even when checking is off, and
		// then the connection, with public key authentication only.
		// As OpenSSH does: the key is looked up under HostKeyAlias, and
		// the address's entry does not count.
		{name: "HostKeyAlias known", strict: "yes", extra: "  HostKeyAlias nodekey\n",
			known: func(s *sshtest.Server) string { return "nodekey " + string(ssh.MarshalAuthorizedKey(s.HostKey)) }},
		{name: "HostKeyAlias changed", strict: "yes", extra: "  HostKeyAlias nodekey\n", err: "REMOTE HOST IDENTIFICATION HAS CHANGED for node1 (nodekey)",
			known: func(s *sshtest.Server) string {
				return s.KnownHostsLine() + "nodekey " + string(ssh.MarshalAuthorizedKey(otherSigner.PublicKey()))
			}},
		{name: "changed key with no warns loudly", strict: "no", warn: "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @", known: changedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshtest.StartServer(t)
			knownPath := filepath.Join(t.TempDir(), "sub", "known_hosts")
			if k := tt.known(s); k != "" {
				os.MkdirAll(filepath.Dir(knownPath), 0o700)
				os.WriteFile(knownPath, []byte(k), 0o600)
			}
			config := writeConfig(t, fmt.Sprintf(`Host node1
  HostName 127.0.0.1
  Port %d
  IdentityFile %s
  UserKnownHostsFile %s
  StrictHostKeyChecking %s
%s`, s.Port, s.Keys.KeyFile, knownPath, tt.strict, tt.extra))
			var log logLines
			// Several at once, as a run with many hosts would.
			const parallel = 4
			errs := make([]error, parallel)
			var wg sync.WaitGroup
			for i := range parallel {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := Start(context.Background(), host(t, "node1"), options(config, &log))
					errs[i] = err
					if err == nil {
						n.Close()
					}
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if tt.err == "" && err != nil {
					t.Fatal(err)
				}
				if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
			}
			if tt.err != "" {
				var e *Error
				if !errors.As(errs[0], &e) || e.Hint() == "" {
					t.Errorf("no hint with %v", errs[0])
				}
			}
			if tt.warn != "" && !log.has(tt.warn) {
				t.Errorf("no warning %q in:\n%s", tt.warn, log.String())
			}
			if tt.known(s) == changedKey(s) && tt.err == "" {
				for _, want := range []string{"IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY", knownPath + ":1", "ssh-keygen -f"} {
					if !log.has(want) {
						t.Errorf("no warning %q in:\n%s", want, log.String())
					}
				}
				if log.has("accepting the") {
					t.Errorf("the changed key got the mild warning of an unknown one:\n%s", log.String())
				}
			}
			if tt.record {
				b, _ := os.ReadFile(knownPath)
				if string(b) != s.KnownHostsLine() {
					t.Errorf("known_hosts holds %q, want %q", b, s.KnownHostsLine())
				}
			}
		})
	}
}

func TestProxyJump(t *testing.T) {
	keys := sshtest.NewKeys(t)
	jump := sshtest.StartServerWithKeys(t, keys)
	target := sshtest.StartServerWithKeys(t, keys)
	config := writeConfig(t, jump.ConfigBlock("bastion")+target.ConfigBlock("inner")+"  ProxyJump bastion\n")
	var log logLines
	n := start(t, "inner", options(config, &log))
	hello(t, n)
	if len(jump.Execs()) != 0 || len(target.Execs()) != 1 {
		t.Errorf("bastion ran %q, inner ran %d commands", jump.Execs(), len(target.Execs()))
	}
}

func TestUnreachable(t *testing.T) {
	keys := sshtest.NewKeys(t)
	port := sshtest.ClosedPort(t)
	config := writeConfig(t, fmt.Sprintf("Host dead\n  HostName 127.0.0.1\n  Port %d\n  IdentityFile %s\n", port, keys.KeyFile))
	begin := time.Now()
	var log logLines
	_, err := Start(context.Background(), host(t, "dead"), options(config, &log))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.HasPrefix(err.Error(), "dead: ") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestEncryptedKeyWithoutAgent(t *testing.T) {
	s := sshtest.StartServer(t)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_locked")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	config := writeConfig(t, fmt.Sprintf("Host node1\n  HostName 127.0.0.1\n  Port %d\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n",
		s.Port, keyFile, s.KnownHosts))
	var log logLines
	_, err = Start(context.Background(), host(t, "node1"), options(config, &log))
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(e.Hint(), "ssh-agent") {
		t.Errorf("err = %v, hint %q", err, e.Hint())
	}
}

func TestConcurrentUploads(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	const parallel = 4
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var log logLines
			n, err := Start(context.Background(), host(t, "node1"), options(config, &log))
			if err != nil {
				errs[i] = err
				return
			}
			defer n.Close()
			if h, _ := hello(t, n); h.Slots != 2 {
				errs[i] = fmt.Errorf("slots %d", h.Slots)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	files := cachedAgents(t, s.Home)
	if len(files) != 1 {
		t.Fatalf("cache holds %q", files)
	}
	got, _, _ := hashFile(files[0])
	want, _, _ := hashFile(testAgent)
	if got != want {
		t.Errorf("cached agent is corrupt")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(files[0]), ".concurr.*"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left: %q", leftovers)
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	var log logLines
	n := start(t, "node1", options(config, &log))
	hello(t, n)
	if c := len(proctest.Cmdline(s.Home).List()); c != 1 {
		t.Errorf("%d agent processes while running, want 1", c)
	}
	n.Close()
	if c := len(proctest.Cmdline(s.Home).WaitNone(3 * time.Second)); c != 0 {
		t.Errorf("%d processes left after Close", c)
	}
}

func TestOtherPlatform(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	// The client pretends to be built for another platform, so that this
	// node, whose platform the script reads from /proc or uname, is the
	// foreign one.
	pretend := [2]string{"darwin", "arm64"}
	if runtime.GOOS == "darwin" {
		pretend = [2]string{"linux", "amd64"}
	}
	node := runtime.GOOS + "/" + runtime.GOARCH
	base := "concurr-" + runtime.GOOS + "-" + runtime.GOARCH

	var log logLines
	opts := options(config, &log)
	opts.goos, opts.goarch = pretend[0], pretend[1]
	_, err := Start(context.Background(), host(t, "node1"), opts)
	want := "node1: no concurr build for " + node + ": put " + base + " beside the client (make dist)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}

	// With the build present it is uploaded.
	dir := t.TempDir()
	self := filepath.Join(dir, "concurr")
	copyFile(t, "/bin/true", self) // the pretended build: never sent
	copyFile(t, testAgent, filepath.Join(dir, base))
	opts.AgentPath = self
	n := start(t, "node1", opts)
	hello(t, n)
	if n.Platform != node {
		t.Errorf("platform %q", n.Platform)
	}
}

// TestPlatformFromUname hides kernel.arch from /proc, as older kernels
// and other systems lack it, and checks that the script asks uname: a
// stand-in on PATH that says Darwin makes the node foreign.
func TestPlatformFromUname(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("hiding a /proc file needs root")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	if _, err := os.Stat("/proc/sys/kernel/arch"); err != nil {
		t.Skip("this kernel has no kernel.arch: TestOtherPlatform covers uname")
	}
	fakeBin := t.TempDir()
	os.WriteFile(filepath.Join(fakeBin, "uname"), []byte("#!/bin/sh\necho Darwin arm64\n"), 0o755)
	t.Setenv("PATH", fakeBin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", "")
	own, err := (&Options{AgentPath: testAgent}).buildFor("local", runtime.GOOS, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	var log logLines
	opts := options("", &log)
	opts.SSHCommand = []string{"unshare"}
	launch := func(command string) (*attempt, error) {
		script := strings.TrimSuffix(strings.TrimPrefix(command, "/bin/sh -c '"), "'")
		hide := `mount --bind /dev/null /proc/sys/kernel/arch && exec sh -c "$1"`
		return runSSH(context.Background(), &opts, []string{"-m", "--", "sh", "-c", hide, "sh", script})
	}
	_, _, err = runBootstrap(context.Background(), "local", own, &opts, launch)
	want := "local: no concurr build for darwin/arm64: put concurr-darwin-arm64 beside the client (make dist)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestContextCancelsStart(t *testing.T) {
	s := sshtest.StartServer(t)
	fakeBin := t.TempDir()
	// The first contact's script runs id before anything else that forks.
	os.WriteFile(filepath.Join(fakeBin, "id"), []byte("#!/bin/sh\nsleep 30\n"), 0o755)
	s.SetEnv("PATH=" + fakeBin + ":" + os.Getenv("PATH"))
	config := s.WriteConfig("slow")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	var log logLines
	_, err := Start(ctx, host(t, "slow"), options(config, &log))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestAgentAuthentication(t *testing.T) {
	s := sshtest.StartServer(t)
	keyring := agent.NewKeyring()
	priv, err := ssh.ParseRawPrivateKey(mustRead(t, s.Keys.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer l.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			agent.ServeAgent(keyring, c)
			c.Close()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	// No IdentityFile: the defaults under HOME do not exist, so only the
	// agent holds the key.
	config := writeConfig(t, fmt.Sprintf("Host node1\n  HostName 127.0.0.1\n  Port %d\n  UserKnownHostsFile %s\n", s.Port, s.KnownHosts))
	var log logLines
	n := start(t, "node1", options(config, &log))
	hello(t, n)
	n.Close()
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The agent's executable is hashed while the login goes on (see
// pendingBuild); one that cannot be read still fails the start with its
// path, closes the login it made, and starts nothing on the node.
func TestStartUnreadableAgent(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	var log logLines
	opts := options(config, &log)
	opts.AgentPath = filepath.Join(t.TempDir(), "no-such-concurr")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, host(t, "node1"), opts)
	if err == nil {
		n.Close()
		t.Fatal("Start succeeded with no agent executable")
	}
	var e *Error
	if !errors.As(err, &e) || e.Node != "node1" {
		t.Fatalf("err = %#v, want an *Error for node1", err)
	}
	for _, want := range []string{"agent executable " + opts.AgentPath, "no such file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if execs := s.Execs(); len(execs) != 0 {
		t.Errorf("the node ran %q", execs)
	}
}
