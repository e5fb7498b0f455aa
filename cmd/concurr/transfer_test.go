package main

import (
	"bytes"
	"compress/gzip"
	"concurr/internal/sshtest"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// transferCluster starts two in-process SSH hosts whose HOMEs (their work
// dirs) are not the client's directory, so that a file can only be there
// because it was sent.
func transferCluster(t *testing.T) (*faultCluster, string) {
	c := newFaultCluster(t)
	c.addServer("h1", false)
	c.addServer("h2", false)
	return c, t.TempDir()
}

func writeFile(t *testing.T, path, content string, mode os.FileMode, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// leftovers lists the files below a host's HOME, but for the agent's cache.
func leftovers(t *testing.T, home string) []string {
	var found []string
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(home, p)
		if d.IsDir() && (rel == ".cache" || rel == ".ssh" || strings.HasPrefix(rel, ".concurr")) {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			found = append(found, rel)
		}
		return nil
	})
	return found
}

// TestTransferTrc is the README's remote example with --trc: each input
// goes to its host, is compressed there, comes back, and nothing is left
// on the hosts.
func TestTransferTrc(t *testing.T) {
	t.Parallel()
	c, dir := transferCluster(t)
	readmeTrc(t, c, dir)
}

// TestTransferTrcE2E is the README's example with --trc on a real sshd,
// whose HOME is not the client's directory.
func TestTransferTrcE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	t.Parallel()
	c := newFaultCluster(t)
	c.addSSHD(sshtest.StartSSHD(t, 2), false, "node1", "node2")
	readmeTrc(t, c, t.TempDir())
}

func readmeTrc(t *testing.T, c *faultCluster, dir string) {
	var names []string
	for _, n := range []string{"f1.txt", "f2.txt", "f3.txt", "f4.txt"} {
		writeFile(t, filepath.Join(dir, "gz", n), strings.Repeat(n+" ", 1000), 0o644, time.Time{})
		names = append(names, "gz/"+n)
	}
	writeFile(t, filepath.Join(dir, "files.txt"), strings.Join(names, "\n")+"\n", 0o644, time.Time{})
	r := startConcurr(t, dir, c.clientHome, nil, nil, "-F", c.config, "-S", strings.Join(slices.Sorted(maps.Keys(c.hosts)), ","), "-k", "--trc", "{}.gz",
		"gzip -9 {} && echo {} done", "::::", "files.txt")
	status := r.wait(60 * time.Second)
	checkNoPanic(t, r.stderr.String())
	if status != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", status, r.stderr.String())
	}
	want := "gz/f1.txt done\ngz/f2.txt done\ngz/f3.txt done\ngz/f4.txt done\n"
	if got := r.stdout.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n+".gz"))
		if err != nil {
			t.Errorf("not returned: %v", err)
			continue
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		f.Close()
		if want := strings.Repeat(filepath.Base(n)+" ", 1000); string(got) != want {
			t.Errorf("%s.gz holds %d bytes, want the %d of %s", n, len(got), len(want), n)
		}
	}
	for alias, h := range c.hosts {
		if left := leftovers(t, h.home); len(left) > 0 {
			t.Errorf("--cleanup left %v on %s", left, alias)
		}
	}
}

// TestTransferKeepsModeAndMtime sends files without --cleanup and checks
// what landed on the host, and what came back: mode bits and mtime kept,
// the /./ marker honoured.
func TestTransferKeepsModeAndMtime(t *testing.T) {
	t.Parallel()
	c := newFaultCluster(t)
	h, _ := c.addServer("h1", false)
	dir := t.TempDir()
	old := time.Date(2020, 5, 17, 10, 30, 0, 0, time.UTC)
	writeFile(t, filepath.Join(dir, "in", "a.sh"), "echo hi\n", 0o750, old)
	writeFile(t, filepath.Join(dir, "base", "sub", "b.txt"), "bee\n", 0o604, old)
	r := startConcurr(t, dir, c.clientHome, nil, nil, "-F", c.config, "-S", "h1", "--tf", "{}", "--tf", "base/./sub/b.txt",
		"--return", "out/{/}.res", "mkdir -p out && cat sub/b.txt > out/{/}.res && chmod 751 out/{/}.res && sh {}", ":::", "in/a.sh")
	if status := r.wait(60 * time.Second); status != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", status, r.stderr.String())
	}
	if got := r.stdout.String(); got != "hi\n" {
		t.Errorf("stdout %q", got)
	}
	for _, f := range []struct {
		rel  string
		mode os.FileMode
	}{{"in/a.sh", 0o750}, {"sub/b.txt", 0o604}} {
		info, err := os.Stat(filepath.Join(h.home, f.rel))
		if err != nil {
			t.Errorf("not on the host: %v", err)
			continue
		}
		if info.Mode().Perm() != f.mode || !info.ModTime().Equal(old) {
			t.Errorf("%s on the host: mode %v mtime %v, want %v %v", f.rel, info.Mode().Perm(), info.ModTime(), f.mode, old)
		}
	}
	info, err := os.Stat(filepath.Join(dir, "out", "a.sh.res"))
	if err != nil {
		t.Fatalf("not returned: %v", err)
	}
	if info.Mode().Perm() != 0o751 {
		t.Errorf("returned mode %v, want 0751", info.Mode().Perm())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out", "a.sh.res")); string(b) != "bee\n" {
		t.Errorf("returned %q", b)
	}
}

// TestTransferFailures: a missing input fails its job alone, a name that
// would leave the work dir is refused, a missing --return is a warning that
// leaves the exit status alone; a returned directory comes back whole.
func TestTransferFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		status     int
		stdout     string
		stderr     []string
		notOnHosts string // a file that must not be written anywhere near the host
	}{
		{"missing input file", []string{"--tf", "{}", "-k", "cat {}", ":::", "a.txt", "missing.txt", "b.txt"}, 1, "A\nB\n",
			[]string{"job 2: --transferfile missing.txt: no such file or directory"}, ""},
		{"dotdot name", []string{"--tf", "{}", "cat {}", ":::", "../evil.txt"}, 1, "",
			[]string{"job 1: --transferfile ../evil.txt: a path with .. would leave the work dir"}, "evil.txt"},
		{"absolute name", []string{"--tf", "{}", "cat {}", ":::", "/etc/hostname"}, 1, "",
			[]string{"/etc/hostname is absolute: mark the part to keep below the work dir with /./"}, ""},
		{"hostile return", []string{"--return", "../../stolen", "true", ":::", "x"}, 1, "",
			[]string{"--return ../../stolen: a path with .. would leave the work dir"}, ""},
		{"missing return", []string{"--trc", "{}.out", "cat {}", ":::", "a.txt"}, 0, "A\n",
			[]string{"--return a.txt.out: no such file or directory"}, ""},
		{"returned directory", []string{"--return", "d{#}", "mkdir -p d{#}/e && echo x > d{#}/e/f && echo y > d{#}/g", ":::", "a"}, 0, "",
			nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, parent := transferCluster(t)
			// The client's directory has a parent of its own, so that
			// ../evil.txt is no host's neighbour.
			dir := filepath.Join(parent, "client")
			writeFile(t, filepath.Join(dir, "a.txt"), "A\n", 0o644, time.Time{})
			writeFile(t, filepath.Join(dir, "b.txt"), "B\n", 0o644, time.Time{})
			writeFile(t, filepath.Join(filepath.Dir(dir), "evil.txt"), "E\n", 0o644, time.Time{})
			args := append([]string{"-F", c.config, "-S", "h1,h2"}, tt.args...)
			r := startConcurr(t, dir, c.clientHome, nil, nil, args...)
			status := r.wait(60 * time.Second)
			stderr := r.stderr.String()
			checkNoPanic(t, stderr)
			if status != tt.status {
				t.Errorf("exit status %d, want %d; stderr:\n%s", status, tt.status, stderr)
			}
			if got := r.stdout.String(); got != tt.stdout {
				t.Errorf("stdout %q, want %q", got, tt.stdout)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, h := range c.hosts {
				if tt.notOnHosts != "" {
					if _, err := os.Stat(filepath.Join(filepath.Dir(h.home), tt.notOnHosts)); err == nil {
						t.Errorf("%s was written outside the host's work dir", tt.notOnHosts)
					}
				}
			}
			if tt.name == "returned directory" {
				for f, want := range map[string]string{"d1/e/f": "x\n", "d1/g": "y\n"} {
					if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(b) != want {
						t.Errorf("%s: %q, %v", f, b, err)
					}
				}
			}
		})
	}
}

// TestTransferLocalMovesNothing: with : as the host the job runs in place
// and --cleanup removes nothing, as in GNU Parallel.
func TestTransferLocalMovesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), "A\n", 0o644, time.Time{})
	r := startConcurr(t, dir, t.TempDir(), nil, nil, "-S", ":", "--trc", "{}.out", "cat {} > {}.out", ":::", "a.txt")
	if status := r.wait(30 * time.Second); status != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", status, r.stderr.String())
	}
	for _, f := range []string{"a.txt", "a.txt.out"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !bytes.Equal(nil, r.stderr.Bytes()) {
		t.Errorf("stderr: %s", r.stderr.String())
	}
}

// TestFaultHostKilledMidTransfer kills a host's agent while a file is on
// its way to it: the job runs again on the other host with its file sent
// again, every job's output comes once and whole, and no half-written file
// is left as if it were whole.
func TestFaultHostKilledMidTransfer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds agents in /proc")
	}
	t.Parallel()
	c := newFaultCluster(t)
	victim, _ := c.addServer("victim", true)
	c.addServer("other", false)
	dir := t.TempDir()
	var want strings.Builder
	var args []string
	for i := range 6 {
		name := fmt.Sprintf("big%d.bin", i)
		size := 24<<20 + i
		writeFile(t, filepath.Join(dir, name), strings.Repeat("x", size), 0o644, time.Time{})
		fmt.Fprintf(&want, "%s %d\n", name, size)
		args = append(args, name)
	}
	r := startConcurr(t, dir, c.clientHome, nil, nil, append([]string{"-F", c.config, "-S", "1/victim,1/other", "-k", "--trc", "{}.n",
		"wc -c < {} > {}.n; echo {} $(cat {}.n)", ":::"}, args...)...)
	partial := func() bool {
		matches, _ := filepath.Glob(filepath.Join(victim.home, ".big*.concurr-*"))
		return len(matches) > 0
	}
	if !waitFor(30*time.Second, partial) {
		t.Fatalf("no transfer to the victim seen; stderr:\n%s", r.stderr.String())
	}
	signalAll(agents(victim.home), syscall.SIGKILL)
	status := r.wait(120 * time.Second)
	stderr := r.stderr.String()
	checkNoPanic(t, stderr)
	if status != 0 {
		t.Errorf("exit status %d; stderr:\n%s", status, stderr)
	}
	if got := r.stdout.String(); got != want.String() {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want.String())
	}
	if !strings.Contains(stderr, "victim") {
		t.Errorf("the lost host is not named:\n%s", stderr)
	}
	for i := range 6 {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("big%d.bin.n", i)))
		if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(24<<20+i) {
			t.Errorf("big%d.bin.n: %q, %v", i, b, err)
		}
	}
}
