package sshx

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"concurr/internal/proctest"
	"concurr/internal/sshtest"
	"concurr/internal/wire"
)

// TestCacheIsVerified damages the cached agent in each way and checks that
// the next start replaces it rather than running it.
func TestCacheIsVerified(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, file string)
	}{
		{name: "same size garbage", damage: func(t *testing.T, file string) {
			st, _ := os.Stat(file)
			os.WriteFile(file, make([]byte, st.Size()), 0o700)
		}},
		{name: "truncated", damage: func(t *testing.T, file string) {
			st, _ := os.Stat(file)
			os.Truncate(file, st.Size()/2)
		}},
		{name: "empty", damage: func(t *testing.T, file string) { os.Truncate(file, 0) }},
		{name: "not executable", damage: func(t *testing.T, file string) { os.Chmod(file, 0o600) }},
		{name: "writable by others", damage: func(t *testing.T, file string) { os.Chmod(file, 0o777) }},
		{name: "symlink to a good copy", damage: func(t *testing.T, file string) {
			other := filepath.Join(t.TempDir(), "concurr")
			copyFile(t, file, other)
			os.Remove(file)
			os.Symlink(other, file)
		}},
		{name: "another user's", damage: func(t *testing.T, file string) {
			if os.Getuid() != 0 {
				t.Skip("chown needs root")
			}
			os.Chown(file, 65534, 65534)
		}},
	}
	// One node for all: each start puts the good agent back for the next.
	_, config, files := nodeWithCachedAgent(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.damage(t, files[0])

			var log2 logLines
			n := start(t, "node1", options(config, &log2))
			hello(t, n)
			n.Close()
			if n.Cached || !log2.has("uploading agent") {
				t.Errorf("damaged cache reused; log:\n%s", log2.String())
			}
			st, err := os.Lstat(files[0])
			if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o700 {
				t.Errorf("cache file after the start: %v %v", st.Mode(), err)
			}
			if got, _, _ := hashFile(files[0]); got != mustHash(t, testAgent) {
				t.Error("the cache does not hold the agent")
			}
		})
	}
}

func mustHash(t testing.TB, path string) string {
	t.Helper()
	sum, _, err := hashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestUnsafeCacheRefused checks that a cache folder that someone else could
// change is refused, with the folder named and a hint, and that nothing in
// it runs.
func TestUnsafeCacheRefused(t *testing.T) {
	tests := []struct {
		name   string
		folder func(cache string) string // which folder to make unsafe
		unsafe func(t *testing.T, dir string)
		err    string
	}{
		{name: "concurr folder world-writable", folder: filepath.Dir,
			unsafe: func(t *testing.T, dir string) { os.Chmod(dir, 0o777) }, err: "is writable by others: refusing to run from it"},
		{name: "version folder world-writable", folder: func(c string) string { return c },
			unsafe: func(t *testing.T, dir string) { os.Chmod(dir, 0o777) }, err: "is writable by others: refusing to run from it"},
		{name: "version folder group-writable", folder: func(c string) string { return c },
			unsafe: func(t *testing.T, dir string) { os.Chmod(dir, 0o770) }, err: "is writable by others: refusing to run from it"},
		{name: "concurr folder another user's", folder: filepath.Dir, unsafe: chownNobody, err: "is owned by another user (uid 65534): refusing to run from it"},
		{name: "version folder another user's", folder: func(c string) string { return c }, unsafe: chownNobody, err: "is owned by another user (uid 65534): refusing to run from it"},
	}
	// One node for all: each case makes its folder safe again at the end.
	s, config, files := nodeWithCachedAgent(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.folder(filepath.Dir(files[0]))
			st, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(dir, st.Mode().Perm())
			defer os.Chown(dir, os.Getuid(), os.Getgid())
			tt.unsafe(t, dir)

			var log logLines
			_, err = Start(context.Background(), host(t, "node1"), options(config, &log))
			want := "node1: the agent cache " + dir + " " + tt.err
			var e *Error
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v\nwant %s", err, want)
			}
			if !errors.As(err, &e) || !strings.Contains(e.Hint(), dir) {
				t.Errorf("hint %q does not name %s", e.Hint(), dir)
			}
			if c := len(proctest.InHome(s.Home).WaitNone(2 * time.Second)); c != 0 {
				t.Errorf("%d processes left", c)
			}
		})
	}
}

func chownNobody(t *testing.T, dir string) {
	if os.Getuid() != 0 {
		t.Skip("chown needs root")
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Skip(err)
	}
}

// mountNoexec mounts an empty tmpfs with noexec on dir, or skips the test
// when it cannot (not root, no mount namespace rights).
func mountNoexec(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "noexec,mode=0700,size=64m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a noexec tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
			exec.Command("umount", "-l", dir).Run()
		}
	})
}

// TestNoexecCacheFallsBack mounts the node's cache folder noexec: the agent
// must start from $HOME/.concurr instead, and from there directly on the
// next run; with both noexec the error names both paths and why.
func TestNoexecCacheFallsBack(t *testing.T) {
	t.Run("fallback", func(t *testing.T) {
		s := sshtest.StartServer(t)
		mountNoexec(t, filepath.Join(s.Home, ".cache"))
		config := s.WriteConfig("node1")
		var log logLines
		n := start(t, "node1", options(config, &log))
		hello(t, n)
		n.Close()
		if !log.has("cannot run the agent from " + filepath.Join(s.Home, ".cache", "concurr")) {
			t.Errorf("log:\n%s", log.String())
		}
		fallback, _ := filepath.Glob(filepath.Join(s.Home, ".concurr", "*", "concurr"))
		if len(fallback) != 1 || mustHash(t, fallback[0]) != mustHash(t, testAgent) {
			t.Fatalf("fallback holds %q", fallback)
		}
		for _, dir := range []string{filepath.Dir(filepath.Dir(fallback[0])), filepath.Dir(fallback[0])} {
			if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
				t.Errorf("%s has mode %v, want 0700", dir, st.Mode().Perm())
			}
		}
		if left := cachedAgents(t, s.Home); len(left) != 0 {
			t.Errorf("the unusable copy is still there: %q", left)
		}

		execs := len(s.Execs())
		var log2 logLines
		n = start(t, "node1", options(config, &log2))
		hello(t, n)
		if !n.Cached || len(s.Execs()) != execs+1 {
			t.Errorf("second start: cached %v, %d sessions; log:\n%s", n.Cached, len(s.Execs())-execs, log2.String())
		}
	})
	t.Run("both noexec", func(t *testing.T) {
		s := sshtest.StartServer(t)
		mountNoexec(t, filepath.Join(s.Home, ".cache"))
		mountNoexec(t, filepath.Join(s.Home, ".concurr"))
		config := s.WriteConfig("node1")
		var log logLines
		_, err := Start(context.Background(), host(t, "node1"), options(config, &log))
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("err = %v", err)
		}
		msg := err.Error()
		for _, want := range []string{"node1: the agent did not start: ", filepath.Join(s.Home, ".cache", "concurr"), filepath.Join(s.Home, ".concurr"), "Permission denied"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q: %s", want, msg)
			}
		}
		if !strings.Contains(e.Hint(), "noexec") {
			t.Errorf("hint %q", e.Hint())
		}
		if c := len(proctest.InHome(s.Home).WaitNone(2 * time.Second)); c != 0 {
			t.Errorf("%d processes left", c)
		}
	})
}

// TestDroppedHandshakes checks that connections the server drops before the
// handshake are tried again, within a budget, and that final errors are not.
func TestDroppedHandshakes(t *testing.T) {
	tests := []struct {
		name    string
		drop    int
		config  string // appended to the Host block
		err     string // "" for success
		retried bool
		within  time.Duration
	}{
		{name: "a few dropped", drop: 5, retried: true, within: 5 * time.Second},
		{name: "always dropped", drop: 1 << 20, config: "  ConnectTimeout 1\n", err: "gave up after", retried: true, within: 4 * time.Second},
		{name: "wrong key is final", config: "  IdentityFile /nonexistent\n", err: "permission denied", within: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshtest.StartServer(t)
			s.DropConnections(tt.drop)
			block := s.ConfigBlock("node1")
			if strings.Contains(tt.config, "IdentityFile") {
				block = strings.Replace(block, "IdentityFile "+s.Keys.KeyFile+"\n", "", 1)
			}
			config := writeConfig(t, tt.config+block)
			var log logLines
			begin := time.Now()
			n, err := Start(context.Background(), host(t, "node1"), options(config, &log))
			elapsed := time.Since(begin)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("err = %v; log:\n%s", err, log.String())
				}
				hello(t, n)
				n.Close()
			} else if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if log.has("dropped the connection") != tt.retried {
				t.Errorf("retried %v, want %v; log:\n%s", !tt.retried, tt.retried, log.String())
			}
			if elapsed > tt.within {
				t.Errorf("took %v, want at most %v", elapsed, tt.within)
			}
		})
	}
}

// TestHungServerAtStart checks that a host that takes the connection and
// says nothing, or never completes it, costs ConnectTimeout and no more.
func TestHungServerAtStart(t *testing.T) {
	tests := []struct {
		name    string
		port    func(t *testing.T) int
		config  string
		timeout time.Duration // Options.ConnectTimeout
		want    time.Duration
		err     string
	}{
		{name: "silent server", port: func(t *testing.T) int { return sshtest.StartSilentListener(t) },
			config: "  ConnectTimeout 1\n", want: time.Second, err: "ssh handshake with 127.0.0.1:%d timed out after 1s"},
		{name: "connect never completes", port: func(t *testing.T) int { return sshtest.StartFullListener(t) },
			config: "  ConnectTimeout 1\n", want: time.Second, err: "connect to node1 (127.0.0.1:%d): timed out after 1s"},
		{name: "option overrides config", port: func(t *testing.T) int { return sshtest.StartSilentListener(t) },
			config: "  ConnectTimeout 30\n", timeout: 700 * time.Millisecond, want: 700 * time.Millisecond, err: "timed out after 700ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := sshtest.NewKeys(t)
			port := tt.port(t)
			config := writeConfig(t, fmt.Sprintf("Host node1\n  HostName 127.0.0.1\n  Port %d\n  IdentityFile %s\n  StrictHostKeyChecking yes\n%s",
				port, keys.KeyFile, tt.config))
			var log logLines
			opts := options(config, &log)
			opts.ConnectTimeout = tt.timeout
			begin := time.Now()
			_, err := Start(context.Background(), host(t, "node1"), opts)
			elapsed := time.Since(begin)
			want := tt.err
			if strings.Contains(want, "%d") {
				want = fmt.Sprintf(want, port)
			}
			if err == nil || !strings.HasPrefix(err.Error(), "node1: ") || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
			if elapsed < tt.want || elapsed > tt.want+time.Second {
				t.Errorf("took %v, want %v", elapsed, tt.want)
			}
		})
	}
}

// TestStreamEnd checks what a read of Stdout returns when the node goes:
// io.EOF when the agent exits cleanly, an error otherwise.
func TestStreamEnd(t *testing.T) {
	tests := []struct {
		name   string
		config string
		end    func(t *testing.T, s *sshtest.Server, n *Node, h *wire.Hello)
		err    string // "" for io.EOF
		is     error
	}{
		{name: "agent exits", end: func(t *testing.T, s *sshtest.Server, n *Node, h *wire.Hello) { n.Stdin.Close() }},
		{name: "agent killed", end: func(t *testing.T, s *sshtest.Server, n *Node, h *wire.Hello) {
			syscall.Kill(int(h.PID), syscall.SIGKILL)
		}, err: "the agent was killed by SIGKILL"},
		{name: "connection dropped", end: func(t *testing.T, s *sshtest.Server, n *Node, h *wire.Hello) { s.Close() },
			err: "connection lost", is: ErrConnectionLost},
		{name: "host hung", config: "  ServerAliveInterval 1\n  ServerAliveCountMax 2\n",
			end: func(t *testing.T, s *sshtest.Server, n *Node, h *wire.Hello) { s.SetHung(true) },
			err: "connection lost: no answer to 2 keepalives in 2s", is: ErrConnectionLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshtest.StartServer(t)
			config := writeConfig(t, s.ConfigBlock("node1")+tt.config)
			var log logLines
			n := start(t, "node1", options(config, &log))
			h, _ := hello(t, n)
			begin := time.Now()
			tt.end(t, s, n, h)
			_, err := io.Copy(io.Discard, n.Stdout)
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("the read took %v to end", d)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("err = %v, want io.EOF", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("err = %v, want %q", err, tt.err)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("err = %v is not %v", err, tt.is)
			}
			begin = time.Now()
			n.Close()
			// Well under the 2s Close gives a live agent to exit.
			if d := time.Since(begin); d > 1500*time.Millisecond {
				t.Errorf("Close after the node went took %v", d)
			}
		})
	}
}

// TestCancelledStartLeavesNothing cancels starts at many points, from the
// dial to the agent's first words, and checks that nothing is left running.
func TestCancelledStartLeavesNothing(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	for _, after := range []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			os.RemoveAll(filepath.Join(s.Home, ".cache")) // so that some cancel the upload
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(after, cancel)
			var log logLines
			n, err := Start(ctx, host(t, "node1"), options(config, &log))
			if err == nil {
				n.Close()
			} else if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v", err)
			}
			cancel()
			if c := len(proctest.InHome(s.Home).WaitNone(3 * time.Second)); c != 0 {
				t.Errorf("%d processes left", c)
			}
		})
	}
}

// readHello reads the agent's opening from a node.
func readHello(n *Node) (*wire.Hello, error) {
	r := bufio.NewReader(n.Stdout)
	if _, err := wire.ReadMagic(r, wire.MaxNoise); err != nil {
		return nil, err
	}
	f, err := wire.NewReader(r).ReadFrame()
	if err != nil {
		return nil, err
	}
	m, err := wire.Decode(f)
	if err != nil {
		return nil, err
	}
	h, ok := m.(*wire.Hello)
	if !ok {
		return nil, fmt.Errorf("first message is %T", m)
	}
	return h, nil
}

// TestScriptUnderShells runs the bootstrap script locally under each POSIX
// shell at hand (macOS's /bin/sh is bash in POSIX mode, Debian's is dash):
// upload, then cached, then a cache folder others can write.
func TestScriptUnderShells(t *testing.T) {
	shells := [][]string{{"dash"}, {"bash", "--posix"}, {"busybox", "sh"}}
	own, err := (&Options{AgentPath: testAgent}).buildFor("local", runtime.GOOS, runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	for _, shell := range shells {
		t.Run(strings.Join(shell, " "), func(t *testing.T) {
			if _, err := exec.LookPath(shell[0]); err != nil {
				t.Skipf("no %s", shell[0])
			}
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("XDG_CACHE_HOME", "")
			hashes := countHashes(t)
			var log logLines
			opts := options("", &log)
			opts.SSHCommand = shell
			launch := func(command string) (*attempt, error) {
				script := strings.TrimSuffix(strings.TrimPrefix(command, "/bin/sh -c '"), "'")
				return runSSH(context.Background(), &opts, append(shell[1:len(shell):len(shell)], "-c", script))
			}
			// Upload (hashed once, to verify it), then two cached starts
			// that trust the stamp; a write to the file, even of the same
			// bytes, makes the next start hash it again and re-stamp it.
			steps := []struct {
				name       string
				before     func(file string)
				wantCached bool
				wantHashes int
			}{
				{name: "upload", wantHashes: 1},
				{name: "cached", wantCached: true},
				{name: "cached again", wantCached: true},
				{name: "rewritten", wantCached: true, wantHashes: 1, before: func(file string) {
					b, _ := os.ReadFile(file)
					os.WriteFile(file, b, 0o700)
				}},
				{name: "re-stamped", wantCached: true},
			}
			var file string
			for _, step := range steps {
				if step.before != nil {
					step.before(file)
				}
				before := hashes()
				a, st, err := runBootstrap(context.Background(), "local", own, &opts, launch)
				if err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				file = st.path
				n := a.node("local", st)
				if st.cached != step.wantCached || !strings.HasPrefix(st.path, home+"/.cache/concurr/") {
					t.Errorf("%s: cached %v at %s, want cached %v", step.name, st.cached, st.path, step.wantCached)
				}
				if h, err := readHello(n); err != nil || h.Slots != 2 {
					t.Errorf("%s: hello %v: %v", step.name, h, err)
				}
				n.Close()
				if got := hashes() - before; got != step.wantHashes {
					t.Errorf("%s: the agent was hashed %d times, want %d", step.name, got, step.wantHashes)
				}
			}
			os.Chmod(filepath.Join(home, ".cache", "concurr"), 0o777)
			_, _, err := runBootstrap(context.Background(), "local", own, &opts, launch)
			if err == nil || !strings.Contains(err.Error(), "is writable by others") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// countHashes puts logging stand-ins for openssl, sha256sum and shasum
// first on PATH, each running the real tool, and returns a function that
// counts the hashes computed so far.
func countHashes(t *testing.T) func() int {
	t.Helper()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "hashes.log")
	for _, tool := range []string{"openssl", "sha256sum", "shasum"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		wrapper := fmt.Sprintf("#!/bin/sh\necho %s >> '%s'\nexec '%s' \"$@\"\n", tool, logFile, real)
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(wrapper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() int {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "\n")
	}
}

// TestCgoAgentHint starts a dynamically linked executable as the agent, one
// that exits at once as a cgo build does on a node with an older C
// library, and checks that the error says how to build one that runs.
func TestCgoAgentHint(t *testing.T) {
	if !needsLoader("/bin/false") {
		t.Skip("/bin/false is not a dynamically linked ELF file here")
	}
	if needsLoader(testAgent) {
		t.Errorf("the static test agent is reported as needing a loader")
	}
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	dir := t.TempDir()
	cgoBuild := filepath.Join(dir, "concurr")
	copyFile(t, "/bin/false", cgoBuild)
	var log logLines
	opts := options(config, &log)
	opts.AgentPath = cgoBuild
	_, err := Start(context.Background(), host(t, "node1"), opts)
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), "the agent did not start") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(e.Hint(), "CGO_ENABLED=0") {
		t.Errorf("hint %q", e.Hint())
	}
}

// TestNodesStartingTogetherHashOnce starts identifying the agent for many
// nodes at once, as a run with many hosts does, and checks that the 10 MB
// file is read once, not once per node.
func TestNodesStartingTogetherHashOnce(t *testing.T) {
	self := filepath.Join(t.TempDir(), "concurr")
	copyFile(t, testAgent, self)
	opts := Options{AgentPath: self}
	before := hashRuns.Load()
	const nodes = 64
	var wg sync.WaitGroup
	sums := make([]string, nodes)
	for i := range nodes {
		wg.Go(func() {
			b, err := opts.buildFor(fmt.Sprint("node", i), runtime.GOOS, runtime.GOARCH)
			if err != nil {
				t.Error(err)
				return
			}
			sums[i] = b.sum
		})
	}
	wg.Wait()
	if runs := hashRuns.Load() - before; runs != 1 {
		t.Errorf("the agent was hashed %d times for %d nodes, want once", runs, nodes)
	}
	for i, sum := range sums {
		if sum != mustHash(t, testAgent) {
			t.Fatalf("node %d got sum %q", i, sum)
		}
	}
	// A changed file is hashed again.
	os.WriteFile(self, []byte("another build"), 0o755)
	os.Chtimes(self, time.Now(), time.Now().Add(time.Hour))
	if b, err := opts.buildFor("node", runtime.GOOS, runtime.GOARCH); err != nil || b.size != int64(len("another build")) {
		t.Errorf("after a change: %+v, %v", b, err)
	}
}

// nodeWithCachedAgent starts an in-process node and runs the agent on it
// once, so that its cache holds the agent; files lists the cached copy.
func nodeWithCachedAgent(t *testing.T) (s *sshtest.Server, config string, files []string) {
	t.Helper()
	s = sshtest.StartServer(t)
	config = s.WriteConfig("node1")
	var log logLines
	start(t, "node1", options(config, &log)).Close()
	files = cachedAgents(t, s.Home)
	if len(files) != 1 {
		t.Fatalf("cache holds %q", files)
	}
	return s, config, files
}

// hashFile returns the SHA-256 and size of path as the client computes it.
func hashFile(path string) (sum string, size int64, err error) {
	af, err := identifyAgent(path)
	return af.sum, af.size, err
}

// TestUnsafeCacheParentsRefused makes a folder above the cache changeable
// by someone else, as a shared HOME or a group project folder used as
// XDG_CACHE_HOME is: whoever can write there can swap the cache for their
// own between the check and the exec. The start must be refused, naming
// that folder, before anything in the cache runs, and a sticky folder such
// as /tmp is fine when the next folder down is the user's.
func TestUnsafeCacheParentsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to give folders to another user")
	}
	const nobody = 65534
	tests := []struct {
		name string
		// setup makes the node's layout unsafe (or safe) and returns the
		// XDG_CACHE_HOME to use ("" for none) and the folder to be named.
		setup func(t *testing.T, home string) (xdg, folder string)
		err   string // "" when the start must succeed
	}{
		{name: "HOME group-writable", setup: func(t *testing.T, home string) (string, string) {
			chmod(t, home, 0o775)
			return "", home
		}, err: "is writable by others"},
		{name: "HOME world-writable", setup: func(t *testing.T, home string) (string, string) {
			chmod(t, home, 0o777)
			return "", home
		}, err: "is writable by others"},
		{name: "HOME another user's", setup: func(t *testing.T, home string) (string, string) {
			chown(t, home, nobody)
			return "", home
		}, err: "is owned by another user (uid 65534)"},
		{name: "~/.cache world-writable", setup: func(t *testing.T, home string) (string, string) {
			chmod(t, filepath.Join(home, ".cache"), 0o777)
			return "", filepath.Join(home, ".cache")
		}, err: "is writable by others"},
		{name: "group-writable project folder as XDG_CACHE_HOME", setup: func(t *testing.T, home string) (string, string) {
			project := mkdir(t, filepath.Join(t.TempDir(), "project"), 0o2775)
			return filepath.Join(project, "cache"), project
		}, err: "is writable by others"},
		{name: "XDG_CACHE_HOME below a folder of another user", setup: func(t *testing.T, home string) (string, string) {
			theirs := mkdir(t, filepath.Join(t.TempDir(), "theirs"), 0o755)
			chown(t, theirs, nobody)
			mkdir(t, filepath.Join(theirs, "cache"), 0o700)
			return filepath.Join(theirs, "cache"), theirs
		}, err: "is owned by another user (uid 65534)"},
		{name: "~/.cache a symlink into a world-writable folder", setup: func(t *testing.T, home string) (string, string) {
			shared := mkdir(t, filepath.Join(t.TempDir(), "shared"), 0o777)
			cache := filepath.Join(home, ".cache")
			if err := os.Rename(cache, filepath.Join(shared, "cache")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(shared, "cache"), cache); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(cache); os.Rename(filepath.Join(shared, "cache"), cache) })
			return "", shared
		}, err: "is writable by others"},
		{name: "sticky folder with the user's folder below", setup: func(t *testing.T, home string) (string, string) {
			sticky := mkdir(t, filepath.Join(t.TempDir(), "sticky"), 0o1777)
			return filepath.Join(mkdir(t, filepath.Join(sticky, "mine"), 0o700), "cache"), ""
		}},
		{name: "sticky folder with another user's folder below", setup: func(t *testing.T, home string) (string, string) {
			sticky := mkdir(t, filepath.Join(t.TempDir(), "sticky"), 0o1777)
			theirs := mkdir(t, filepath.Join(sticky, "theirs"), 0o777)
			chown(t, theirs, nobody)
			return filepath.Join(theirs, "cache"), theirs
		}, err: "is owned by another user (uid 65534)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A node whose cache holds the agent, so that the fast path of
			// a cached start is the one tested, not only the upload.
			s, config, files := nodeWithCachedAgent(t)
			xdg, folder := tt.setup(t, s.Home)
			if xdg != "" {
				s.SetEnv("XDG_CACHE_HOME=" + xdg)
				if os.MkdirAll(xdg, 0o700) == nil {
					cached := filepath.Join(xdg, "concurr", filepath.Base(filepath.Dir(files[0])))
					os.MkdirAll(cached, 0o700)
					copyFile(t, files[0], filepath.Join(cached, "concurr"))
				}
			}
			var log logLines
			n, err := Start(context.Background(), host(t, "node1"), options(config, &log))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				hello(t, n)
				n.Close()
				return
			}
			if err == nil {
				n.Close()
				t.Fatalf("started from a cache below %s; log:\n%s", folder, log.String())
			}
			want := "node1: the folder " + folder + ", above the agent cache, " + tt.err
			if !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("err = %v\nwant %s...", err, want)
			}
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Hint(), folder) || !strings.Contains(e.Hint(), "XDG_CACHE_HOME") {
				t.Errorf("hint %q does not name %s and XDG_CACHE_HOME", e.Hint(), folder)
			}
			if c := len(proctest.InHome(s.Home).WaitNone(2 * time.Second)); c != 0 {
				t.Errorf("%d processes left", c)
			}
		})
	}
}

func chmod(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, st.Mode().Perm()) })
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, dir string, uid int) {
	t.Helper()
	t.Cleanup(func() { os.Chown(dir, os.Getuid(), os.Getgid()) })
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// mkdir makes dir with exactly mode (umask aside, sticky and setgid bits
// included) and returns it.
func mkdir(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	perm := mode.Perm()
	if mode&0o1000 != 0 {
		perm |= os.ModeSticky
	}
	if mode&0o2000 != 0 {
		perm |= os.ModeSetgid
	}
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestScriptAsAnotherUser runs the bootstrap script locally as nobody,
// whose cache lies below folders of root's: a cached start must take the
// fast path (one find: no id, ls or hash), and a writable folder above must
// be refused.
func TestScriptAsAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to run as another user")
	}
	const nobody = 65534
	base := t.TempDir()
	chmod(t, filepath.Dir(base), 0o755) // the test's own folder is 0700
	chmod(t, base, 0o755)
	agent := filepath.Join(base, "agent")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\necho agent ran: \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	af, err := identifyAgent(agent)
	if err != nil {
		t.Fatal(err)
	}
	own := &build{goos: runtime.GOOS, goarch: runtime.GOARCH, path: agent, sum: af.sum, size: af.size}
	home := mkdir(t, filepath.Join(base, "home"), 0o700)
	chown(t, home, nobody)
	// Stand-ins that log the tools only the slow path runs.
	bin := mkdir(t, filepath.Join(base, "bin"), 0o755)
	logFile := filepath.Join(bin, "log")
	os.WriteFile(logFile, nil, 0o666)
	os.Chmod(logFile, 0o666)
	for _, tool := range []string{"id", "ls", "openssl", "sha256sum", "shasum"} {
		real, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		wrapper := fmt.Sprintf("#!/bin/sh\necho %s >> '%s'\nexec '%s' \"$@\"\n", tool, logFile, real)
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(wrapper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(t *testing.T, shell []string) (out, slowTools string) {
		t.Helper()
		os.Truncate(logFile, 0)
		nonce := newNonce()
		script := bootstrapScript(nonce, own, false)
		cmd := exec.Command(shell[0], append(shell[1:len(shell):len(shell)], "-c", script)...)
		cmd.Dir = home
		cmd.Env = []string{"HOME=" + home, "PATH=" + bin + ":" + os.Getenv("PATH")}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		// What the client sends on "upload gzip": the compressed size on
		// a line, then the compressed agent.
		packed, err := compressedAgent(own)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = io.MultiReader(strings.NewReader(strconv.Itoa(len(packed))+"\n"), bytes.NewReader(packed))
		b, err := cmd.CombinedOutput()
		if err != nil && !strings.Contains(string(b), "refuse") {
			t.Fatalf("%v: %s", err, b)
		}
		logged, _ := os.ReadFile(logFile)
		return strings.ReplaceAll(string(b), markerPrefix+nonce+":", "@"), strings.Join(strings.Fields(string(logged)), " ")
	}
	for _, shell := range [][]string{{"dash"}, {"bash", "--posix"}} {
		t.Run(strings.Join(shell, " "), func(t *testing.T) {
			if _, err := exec.LookPath(shell[0]); err != nil {
				t.Skipf("no %s", shell[0])
			}
			os.RemoveAll(filepath.Join(home, ".cache"))
			if out, _ := run(t, shell); !strings.Contains(out, "@exec uploaded ") || !strings.Contains(out, "agent ran: --agent=v1") {
				t.Fatalf("first start:\n%s", out)
			}
			out, slow := run(t, shell)
			if !strings.Contains(out, "@exec cached ") || !strings.Contains(out, "agent ran: --agent=v1") || slow != "" {
				t.Errorf("cached start ran %q:\n%s", slow, out)
			}
			chmod(t, base, 0o777)
			defer os.Chmod(base, 0o755)
			if out, _ := run(t, shell); !strings.Contains(out, "@refuse parent-writable "+base+"\n") {
				t.Errorf("writable %s:\n%s", base, out)
			}
		})
	}
}

// TestSSHFailureRetried checks which ends of the system's ssh are taken for
// a server that dropped the login (sshd past MaxStartups), to be tried
// again, and which say the failure is permanent.
func TestSSHFailureRetried(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		stderr  string
		proxied bool // ssh -G names a ProxyCommand or ProxyJump
		retry   bool
	}{
		{name: "server closed before its banner", status: 255, retry: true,
			stderr: "kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 127.0.0.1 port 2222\r\n"},
		{name: "server reset before its banner", status: 255, retry: true,
			stderr: "kex_exchange_identification: read: Connection reset by peer\r\nConnection reset by 10.0.0.7 port 22\r\n"},
		{name: "the bastion dropped the login", status: 255, retry: true,
			stderr: "kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 10.0.0.1 port 22\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n"},
		{name: "ProxyCommand failed", status: 255,
			stderr: "kex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n"},
		{name: "ProxyCommand printed why", status: 255,
			stderr: "oops\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n"},
		{name: "ProxyCommand not found", status: 255,
			stderr: "/bin/bash: line 1: exec: nc: not found\r\nbanner exchange: Connection to UNKNOWN port 65535: Broken pipe\r\n"},
		{name: "bastion not resolved", status: 255,
			stderr: "ssh: Could not resolve hostname bastion.invalid: Name or service not known\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n"},
		{name: "permission denied", status: 255, stderr: "root@127.0.0.1: Permission denied (publickey).\r\n"},
		{name: "closed after permission denied", status: 255,
			stderr: "Permission denied (publickey).\r\nConnection closed by 127.0.0.1 port 22\r\n"},
		{name: "host key verification failed", status: 255,
			stderr: "Host key verification failed.\r\nConnection closed by 127.0.0.1 port 22\r\n"},
		{name: "connection refused", status: 255, stderr: "ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n"},
		{name: "exit 255 and nothing said", status: 255},
		// At LogLevel ERROR ssh does not name the peer.
		{name: "quiet: server reset", status: 255, retry: true,
			stderr: "kex_exchange_identification: read: Connection reset by peer\r\n"},
		{name: "quiet: server closed", status: 255, retry: true,
			stderr: "kex_exchange_identification: Connection closed by remote host\r\n"},
		{name: "quiet: proxy closed", status: 255, proxied: true,
			stderr: "kex_exchange_identification: Connection closed by remote host\r\n"},
		{name: "quiet: the bastion reset the login", status: 255, proxied: true, retry: true,
			stderr: "kex_exchange_identification: read: Connection reset by peer\r\nkex_exchange_identification: Connection closed by remote host\r\n"},
		{name: "the remote command failed", status: 1, stderr: "Connection closed by 127.0.0.1 port 22\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sshDroppedLogin(tt.status, tt.stderr, func() bool { return tt.proxied }); got != tt.retry {
				t.Errorf("retry = %v, want %v", got, tt.retry)
			}
		})
	}
}

// TestFailingProxyCommandNotRetried runs the system's ssh with a
// ProxyCommand that fails at once: the start must fail as fast, not be
// tried again for three times the connect timeout.
func TestFailingProxyCommandNotRetried(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh")
	}
	for _, level := range []string{"INFO", "ERROR"} {
		t.Run("LogLevel "+level, func(t *testing.T) {
			config := writeConfig(t, "Host node1\n  ProxyCommand false\n  BatchMode yes\n  LogLevel "+level+"\n")
			var log logLines
			opts := options("", &log)
			opts.SSHCommand = []string{"ssh", "-F", config}
			opts.ConnectTimeout = 2 * time.Second
			begin := time.Now()
			_, err := Start(context.Background(), host(t, "node1"), opts)
			if err == nil {
				t.Fatal("started through a ProxyCommand that fails")
			}
			if took := time.Since(begin); took > time.Second {
				t.Errorf("took %v: %v; log:\n%s", took, err, log.String())
			}
		})
	}
}
