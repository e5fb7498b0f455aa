package sched

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"concurr/internal/output"
	"concurr/internal/transfer"
)

// runWithBase runs `cat ref/base.txt` for two inputs on one remote node
// (an in-process agent that counts as remote, so that files move) whose
// workdir is wd, with the basefile base.
func runWithBase(t *testing.T, wd string, base *BaseFile, cleanup bool) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var warnings []string
	cfg := Config{
		Template: compile(t, "cat ref/base.txt; : {}"),
		Output:   output.New(&stdout, &stderr, output.Options{KeepOrder: true}),
		Workdir:  wd,
		Transfer: &Transfer{Base: []*BaseFile{base}, Cleanup: cleanup},
		Warn:     func(err error) { warnings = append(warnings, err.Error()) },
	}
	node := Node{Name: "node1", Dial: localDial(t, 2, 0), Slots: fixedSlots(2)}
	sum, err := Run(context.Background(), cfg, []Node{node}, &numbers{n: 2})
	cfg.Output.Flush()
	if err != nil || sum.Failed != 0 {
		t.Fatalf("Run: %v, summary %+v, stderr %q, warnings %q", err, sum, stderr.String(), warnings)
	}
	return stdout.String()
}

// TestBasefileCachedByContent sends a basefile to a node whose cache lacks
// it, then runs again: the second run sends nothing and the job still sees
// the file at its place in the workdir, with its mode and mtime. --cleanup
// removes the cache entry only of the run that made it.
func TestBasefileCachedByContent(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	src := t.TempDir()
	content := "reference data\n"
	local := filepath.Join(src, "ref", "base.txt")
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(local, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.Chtimes(local, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	sum, _, err := transfer.SumFile(local)
	if err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(transfer.CacheDir(""), sum)
	newBase := func() *BaseFile {
		b, err := NewBaseFile(src + "/./ref/base.txt")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := strings.Repeat(content, 2)

	t.Run("a cache without it is sent the file", func(t *testing.T) {
		wd := t.TempDir()
		b := newBase()
		if got := runWithBase(t, wd, b, false); got != want {
			t.Errorf("stdout %q, want %q", got, want)
		}
		if n := b.Sent.Load(); n != 1 {
			t.Errorf("sent to %d nodes, want 1", n)
		}
		if _, err := os.Stat(entry); err != nil {
			t.Errorf("no cache entry: %v", err)
		}
		fi, err := os.Stat(filepath.Join(wd, "ref", "base.txt"))
		if err != nil {
			t.Fatalf("the basefile is not in the workdir: %v", err)
		}
		if fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mtime) {
			t.Errorf("mode %v mtime %v, want 0640 and %v", fi.Mode().Perm(), fi.ModTime(), mtime)
		}
	})
	t.Run("a later run with the same content sends nothing", func(t *testing.T) {
		wd := t.TempDir()
		b := newBase()
		if got := runWithBase(t, wd, b, true); got != want {
			t.Errorf("stdout %q, want %q", got, want)
		}
		if n := b.Sent.Load(); n != 0 {
			t.Errorf("sent to %d nodes, want 0: the cache had it", n)
		}
		if _, err := os.Stat(entry); err != nil {
			t.Errorf("--cleanup removed the cache entry another run made: %v", err)
		}
		if left, _ := os.ReadDir(wd); len(left) != 0 {
			t.Errorf("--cleanup left %v in the workdir", left)
		}
	})
	t.Run("a damaged cache entry is sent again", func(t *testing.T) {
		if err := os.WriteFile(entry, []byte("tampered\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		b := newBase()
		if got := runWithBase(t, t.TempDir(), b, false); got != want {
			t.Errorf("stdout %q, want %q", got, want)
		}
		if n := b.Sent.Load(); n != 1 {
			t.Errorf("sent to %d nodes, want 1", n)
		}
	})
	t.Run("cleanup removes the entry its run made", func(t *testing.T) {
		os.Remove(entry)
		b := newBase()
		if got := runWithBase(t, t.TempDir(), b, true); got != want {
			t.Errorf("stdout %q, want %q", got, want)
		}
		if _, err := os.Stat(entry); !os.IsNotExist(err) {
			t.Errorf("the run's own cache entry is still there (%v)", err)
		}
	})
}
