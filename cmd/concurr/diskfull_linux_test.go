package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountSmallTmpfs mounts a tmpfs of size bytes at a new folder and
// unmounts it when the test ends. Mounting needs root (or CAP_SYS_ADMIN):
// elsewhere the test is skipped, and says so.
func mountSmallTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v): this test needs root", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestTransferDiskFull fills a disk on each side. On the node, a file
// larger than its work dir's disk fails its job with a message naming the
// host and the path, and the jobs after it run. Here, a --return that does
// not fit is a warning naming the host and the path. Nothing hangs.
func TestTransferDiskFull(t *testing.T) {
	t.Run("the node's disk", func(t *testing.T) {
		c, dir := transferCluster(t)
		wd := mountSmallTmpfs(t, "1m")
		writeFile(t, filepath.Join(dir, "big.bin"), strings.Repeat("x", 3<<20), 0o644, time.Time{})
		writeFile(t, filepath.Join(dir, "small.txt"), "small\n", 0o644, time.Time{})
		r := startConcurr(t, dir, c.clientHome, nil, nil, "-F", c.config, "-S", "h1", "-j1", "-k", "--workdir", wd, "--tf", "{}", "--cleanup",
			"cat {}", ":::", "big.bin", "small.txt")
		status := r.wait(60 * time.Second)
		stderr := r.stderr.String()
		checkNoPanic(t, stderr)
		if status != 1 {
			t.Errorf("exit status %d, want 1 (one job failed); stderr:\n%s", status, stderr)
		}
		if got := r.stdout.String(); got != "small\n" {
			t.Errorf("stdout %q, want the second job's output", got)
		}
		want := "concurr: h1: write " + filepath.Join(wd, "big.bin") + ": no space left on device"
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name the host and the path (%q) with the cause:\n%s", want, stderr)
		}
		if left, _ := os.ReadDir(wd); len(left) != 0 {
			t.Errorf("the node's work dir holds %v: the partial file was left", left)
		}
	})
	t.Run("the client's disk", func(t *testing.T) {
		c, _ := transferCluster(t)
		dir := mountSmallTmpfs(t, "1m")
		r := startConcurr(t, dir, c.clientHome, nil, nil, "-F", c.config, "-S", "h1", "-k", "--return", "{}.out", "--cleanup",
			"head -c 3000000 /dev/zero > {}.out; echo {}", ":::", "a", "b")
		status := r.wait(60 * time.Second)
		stderr := r.stderr.String()
		checkNoPanic(t, stderr)
		if got := r.stdout.String(); got != "a\nb\n" {
			t.Errorf("stdout %q, want every job's output", got)
		}
		// The first return fills the disk; the second may find it full
		// already, or fit after the first's temporary file is gone.
		want := "h1: job 1: --return a.out: write a.out: no space left on device"
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name the host, the job and the path (%q):\n%s", want, stderr)
		}
		if status != 0 {
			t.Errorf("exit status %d: a --return that cannot be written is a warning, as a missing one is", status)
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".*.concurr-*"))
		if len(left) > 0 {
			t.Errorf("temporary files left on the client: %v", left)
		}
	})
}
