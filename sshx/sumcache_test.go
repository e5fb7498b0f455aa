package sshx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// forgetInMemory drops what this process remembers of path, as a new run
// starts without it.
func forgetInMemory(path string) {
	agentFilesMu.Lock()
	delete(agentFiles, path)
	agentFilesMu.Unlock()
}

// identifyCounting identifies path as a new run would, and says whether it
// read the file to do so.
func identifyCounting(t *testing.T, path string) (agentFile, bool) {
	t.Helper()
	forgetInMemory(path)
	before := hashRuns.Load()
	af, err := identifyAgent(path)
	if err != nil {
		t.Fatal(err)
	}
	return af, hashRuns.Load() != before
}

// TestAgentSumRememberedAcrossRuns checks that a run that finds its agent
// file's sum in the cache does not hash the file again, and that a file
// changed in any way is hashed again.
func TestAgentSumRememberedAcrossRuns(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	self := filepath.Join(t.TempDir(), "concurr")
	copyFile(t, testAgent, self)

	first, hashed := identifyCounting(t, self)
	if !hashed || first.sum != mustHash(t, self) {
		t.Fatalf("first run: hashed %v, sum %s", hashed, first.sum)
	}
	file := filepath.Join(cache, "concurr", sumCacheName)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the sums' file: %v, %v; want mode 0600", fi, err)
	}
	again, hashed := identifyCounting(t, self)
	if hashed || again.sum != first.sum || again.size != first.size || again.dynamic != first.dynamic {
		t.Fatalf("second run: hashed %v, got %+v, want %+v", hashed, again, first)
	}

	// The same size and modification time, other bytes: the change time
	// tells.
	st, err := os.Stat(self)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(self, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(self, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	changed, hashed := identifyCounting(t, self)
	if !hashed || changed.sum != mustHash(t, self) || changed.sum == first.sum {
		t.Errorf("after a change in place: hashed %v, sum %s (first %s)", hashed, changed.sum, first.sum)
	}
	if _, hashed := identifyCounting(t, self); hashed {
		t.Error("the changed file was hashed again on the next run")
	}

	// A file put in its place by rename.
	replacement := self + ".new"
	copyFile(t, testAgent, replacement)
	if err := os.Rename(replacement, self); err != nil {
		t.Fatal(err)
	}
	if replaced, hashed := identifyCounting(t, self); !hashed || replaced.sum != first.sum {
		t.Errorf("after a replacement: hashed %v, sum %s, want %s", hashed, replaced.sum, first.sum)
	}
}

// TestAgentSumCacheBadOrForeign checks that a cache file that is not ours
// to trust as it stands (garbage, another machine's entry) costs a hash and
// nothing else, and that other files' entries are kept, up to the bound.
func TestAgentSumCacheBadOrForeign(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	self := filepath.Join(t.TempDir(), "concurr")
	copyFile(t, testAgent, self)
	file := filepath.Join(cache, "concurr", sumCacheName)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	key, ok := keyOf(self)
	if !ok {
		t.Fatal("no key for the agent file")
	}
	wrongSum := strings.Repeat("ab", 32)
	other := key
	other.host = "another-machine"
	var lines []string
	lines = append(lines, "garbage", "v1 too few fields", "v9"+other.line(agentFile{sum: wrongSum})[2:], other.line(agentFile{sum: wrongSum}))
	for i := range sumCacheEntries + 4 {
		k := key
		k.path = fmt.Sprintf("/elsewhere/concurr-%d", i)
		lines = append(lines, k.line(agentFile{sum: wrongSum}))
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	af, hashed := identifyCounting(t, self)
	if !hashed || af.sum != mustHash(t, self) {
		t.Fatalf("hashed %v, sum %s: another machine's entry or garbage was used", hashed, af.sum)
	}
	if _, hashed := identifyCounting(t, self); hashed {
		t.Error("not remembered after the bad file")
	}
	kept := readSumCache(file)
	if len(kept) != sumCacheEntries {
		t.Errorf("%d entries kept, want %d", len(kept), sumCacheEntries)
	}
	if k, got, ok := parseSumLine(kept[0]); !ok || k != key || got.sum != af.sum {
		t.Errorf("first entry %q, want this file's", kept[0])
	}
	for _, line := range kept[1:] {
		if k, _, ok := parseSumLine(line); !ok || !strings.HasPrefix(k.path, "/elsewhere/") {
			t.Errorf("kept %q", line)
		}
	}
}

// TestSumKeyChangesWithWrites checks that a write to the file changes its
// key, which identifyAgent compares before and after it hashes, so that a
// file written while it is hashed is not remembered under its old key.
func TestSumKeyChangesWithWrites(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	self := filepath.Join(t.TempDir(), "concurr")
	copyFile(t, testAgent, self)
	key, _ := keyOf(self)
	time.Sleep(10 * time.Millisecond) // a change time the file's system can tell apart
	f, err := os.OpenFile(self, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("more"))
	f.Close()
	if after, _ := keyOf(self); after == key {
		t.Fatal("the key did not change with the file")
	}
	if _, ok := cachedSum(key); ok {
		t.Error("an entry for the old key")
	}
}
