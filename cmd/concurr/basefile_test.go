package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"concurr/internal/transfer"
)

// baseEntries lists the basefile cache entries below a host's HOME.
func baseEntries(home string) []string {
	entries, _ := os.ReadDir(transferCacheOf(home))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func transferCacheOf(home string) string { return filepath.Join(home, ".cache", "concurr", "base") }

// TestBasefile sends a basefile to two hosts, whose work dirs are not the
// client's: the jobs see it at its GNU place (the part after /./), it lands
// in each host's cache by content, and --cleanup removes what its own run
// made and nothing another run made.
func TestBasefile(t *testing.T) {
	t.Parallel()
	c, dir := transferCluster(t)
	writeFile(t, filepath.Join(dir, "data", "ref", "db.txt"), "reference\n", 0o640, time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC))
	writeFile(t, filepath.Join(dir, "other.txt"), "other run\n", 0o644, time.Time{})
	sum, _, err := transfer.SumFile(filepath.Join(dir, "data", "ref", "db.txt"))
	if err != nil {
		t.Fatal(err)
	}
	otherSum, _, _ := transfer.SumFile(filepath.Join(dir, "other.txt"))
	run := func(args ...string) string {
		t.Helper()
		r := startConcurr(t, dir, c.clientHome, nil, nil, append([]string{"-F", c.config, "-S", "h1,h2", "-k"}, args...)...)
		status := r.wait(60 * time.Second)
		checkNoPanic(t, r.stderr.String())
		if status != 0 {
			t.Fatalf("exit status %d; stderr:\n%s", status, r.stderr.String())
		}
		return r.stdout.String()
	}

	// The first run leaves its basefile and its cache entries on the hosts
	// that joined it (under load, one host may run every job before the
	// other has logged in).
	out := run("--bf", "data/./ref/db.txt", "cat ref/db.txt; echo {} {host}", ":::", "a", "b", "c", "d")
	joined := map[string]bool{}
	var jobs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			joined[f[1]] = true
			jobs = append(jobs, f[0])
		} else if line != "reference" {
			t.Errorf("unexpected line %q in stdout:\n%s", line, out)
		}
	}
	if strings.Join(jobs, " ") != "a b c d" || strings.Count(out, "reference\n") != 4 {
		t.Errorf("stdout:\n%s\nwant each job's basefile line and its own", out)
	}
	// A host that logged in gets the basefile at once, jobs or not.
	cached := map[string]bool{}
	for alias, h := range c.hosts {
		cached[alias] = slices.Equal(baseEntries(h.home), []string{sum})
		if !joined[alias] {
			continue
		}
		if got := baseEntries(h.home); !slices.Equal(got, []string{sum}) {
			t.Errorf("%s: cache holds %v, want [%s]", alias, got, sum)
		}
		if info, err := os.Stat(filepath.Join(h.home, "ref", "db.txt")); err != nil || info.Mode().Perm() != 0o640 {
			t.Errorf("%s: the basefile is not in the work dir with its mode: %v", alias, err)
		}
	}

	// A run with --cleanup that found the entries leaves them, and takes
	// away its own copies in the work dir and the entry it made itself.
	if got := run("--bf", "data/./ref/db.txt", "--bf", "other.txt", "--cleanup", "cat ref/db.txt other.txt >/dev/null && echo {}", ":::", "x", "y"); got != "x\ny\n" {
		t.Errorf("stdout %q", got)
	}
	for alias, h := range c.hosts {
		want := []string(nil) // a host new to this run: its own entries go
		if cached[alias] {
			want = []string{sum}
		}
		if got := baseEntries(h.home); !slices.Equal(got, want) {
			t.Errorf("%s: after --cleanup the cache holds %v, want %v: the first run's [%s] stays, this run's (%s) goes", alias, got, want, sum, otherSum)
		}
		if _, err := os.Stat(filepath.Join(h.home, "other.txt")); err == nil {
			t.Errorf("%s: --cleanup left other.txt in the work dir", alias)
		}
		os.Remove(filepath.Join(h.home, "ref", "db.txt"))
		os.Remove(filepath.Join(h.home, "ref"))
		if left := leftovers(t, h.home); len(left) > 0 {
			t.Errorf("%s: left %v", alias, left)
		}
	}
}

// TestBasefileFailures: a missing basefile is refused before anything
// runs, naming it; a name that would leave the work dir too.
func TestBasefileFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, stderr string
	}{
		{"missing", "missing.txt", "bad --basefile missing.txt: no such file or directory"},
		{"dotdot", "../x.txt", "a path with .. would leave the work dir"},
		{"absolute", "/etc/hostname", "/etc/hostname is absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := startConcurr(t, dir, t.TempDir(), nil, nil, "--bf", tt.file, "echo", ":::", "a")
			status := r.wait(30 * time.Second)
			if status == 0 || !strings.Contains(r.stderr.String(), tt.stderr) {
				t.Errorf("exit status %d, stderr %q, want an error with %q", status, r.stderr.String(), tt.stderr)
			}
		})
	}
}

// TestBasefileLocalMovesNothing: with : as the host, the job uses the file
// in place and no cache is made.
func TestBasefileLocalMovesNothing(t *testing.T) {
	t.Parallel()
	dir, home := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(dir, "b.txt"), "B\n", 0o644, time.Time{})
	r := startConcurr(t, dir, home, nil, nil, "-S", ":", "--bf", "b.txt", "--cleanup", "cat b.txt; : {}", ":::", "a")
	if status := r.wait(30 * time.Second); status != 0 || r.stdout.String() != "B\n" {
		t.Fatalf("exit status %d, stdout %q; stderr:\n%s", status, r.stdout.String(), r.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "b.txt")); err != nil {
		t.Errorf("--cleanup removed the local file: %v", err)
	}
	if _, err := os.Stat(transferCacheOf(home)); err == nil {
		t.Errorf("a local run made a basefile cache")
	}
}
