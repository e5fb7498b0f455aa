package sshx

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"concurr/internal/sshtest"
)

// pathWithout returns a PATH of one folder that links every command of
// this process's PATH except those named, as on a node where they are not
// installed.
func pathWithout(t *testing.T, missing ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			name := e.Name()
			if strings.Contains(strings.Join(missing, "\x00")+"\x00", name+"\x00") {
				continue
			}
			// The first folder on PATH wins, as in a lookup.
			os.Symlink(filepath.Join(d, name), filepath.Join(dir, name))
		}
	}
	return dir
}

func TestUploadCompression(t *testing.T) {
	corruptGzip := t.TempDir()
	// A gzip that swallows its input and writes something else: the hash
	// of what it wrote must stop the install.
	os.WriteFile(filepath.Join(corruptGzip, "gzip"), []byte("#!/bin/sh\ncat >/dev/null\necho not the agent\n"), 0o755)
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		log     string // in the -v log of the start
		failure string // in Start's error; "" means the agent starts
	}{
		{name: "gzip on the node", path: func(*testing.T) string { return os.Getenv("PATH") },
			log: "compressed)"},
		{name: "no gzip on the node", path: func(t *testing.T) string { return pathWithout(t, "gzip") },
			log: "uncompressed: no gzip on the node)"},
		{name: "gzip that corrupts the agent", path: func(*testing.T) string { return corruptGzip + ":" + os.Getenv("PATH") },
			log: "compressed)", failure: "the uploaded agent did not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sshtest.StartServer(t)
			s.SetEnv("PATH=" + tt.path(t))
			config := s.WriteConfig("node1")
			var log logLines
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			n, err := Start(ctx, host(t, "node1"), options(config, &log))
			if !log.has(tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, log.String())
			}
			files := cachedAgents(t, s.Home)
			if tt.failure != "" {
				if err == nil {
					n.Close()
					t.Fatalf("started; want an error with %q", tt.failure)
				}
				if !strings.Contains(err.Error(), tt.failure) {
					t.Errorf("err = %v, want %q", err, tt.failure)
				}
				if len(files) != 0 {
					t.Errorf("installed %q", files)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				// The agent reads its protocol from the same stdin: the
				// upload must have taken exactly its own bytes.
				hello(t, n)
				if len(files) != 1 {
					t.Fatalf("cache holds %q", files)
				}
				got, _, _ := hashFile(files[0])
				want, _, _ := hashFile(testAgent)
				if got != want {
					t.Errorf("cached agent differs from the uploaded one")
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(s.Home, ".cache", "concurr", "*", ".concurr.*"))
			if len(leftovers) != 0 {
				t.Errorf("temp files left: %q", leftovers)
			}
		})
	}
}

// Every node of a run that needs the upload shares one compression.
func TestUploadCompressesOncePerBuild(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	before := compressRuns.Load()
	for range 3 {
		var log logLines
		n := start(t, "node1", options(config, &log))
		hello(t, n)
		n.Close()
		os.RemoveAll(filepath.Join(s.Home, ".cache", "concurr"))
	}
	// Another test may have compressed the same build already.
	if runs := compressRuns.Load() - before; runs > 1 {
		t.Errorf("compressed %d times for 3 uploads of one build", runs)
	}
	b := &build{path: testAgent}
	af, err := identifyAgent(testAgent)
	if err != nil {
		t.Fatal(err)
	}
	b.sum, b.size = af.sum, af.size
	data, err := compressedAgent(b)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(testAgent)
	if !bytes.Equal(plain, want) {
		t.Error("the compressed agent does not decompress to the agent")
	}
}

// A build that changed after it was identified is caught when it is
// compressed, not by every node's hash check.
func TestCompressCatchesAChangedBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "concurr")
	os.WriteFile(path, []byte("one build"), 0o755)
	af, err := identifyAgent(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("another!!"), 0o755)
	_, err = compressedAgent(&build{path: path, sum: af.sum, size: af.size})
	if err == nil || !strings.Contains(err.Error(), "changed while it was being uploaded") {
		t.Errorf("err = %v", err)
	}
}

// recordUploadEvents counts the coordination's events for the test; with
// holdFirst, the first upload waits until want nodes have been told of it,
// so that they all ask while it is under way.
func recordUploadEvents(t *testing.T, holdFirst bool, want int) map[string]int {
	var mu sync.Mutex
	counts := map[string]int{}
	told := make(chan struct{}, 64)
	uploadEvent = func(event string) {
		mu.Lock()
		counts[event]++
		first := event == "upload" && counts[event] == 1
		mu.Unlock()
		switch {
		case event == "peer":
			told <- struct{}{}
		case first && holdFirst:
			timeout := time.After(10 * time.Second)
			for range want {
				select {
				case <-told:
				case <-timeout:
					return
				}
			}
		}
	}
	t.Cleanup(func() { uploadEvent = func(string) {} })
	return counts
}

// startEachOnce starts a node on each config at once and says hello to it.
func startEachOnce(t *testing.T, configs []string) []logLines {
	logs := make([]logLines, len(configs))
	var wg sync.WaitGroup
	for i, config := range configs {
		wg.Go(func() {
			n, err := Start(context.Background(), host(t, "node1"), options(config, &logs[i]))
			if err != nil {
				t.Error(err)
				return
			}
			defer n.Close()
			hello(t, n)
		})
	}
	wg.Wait()
	return logs
}

func countLogs(logs []logLines, s string) int {
	n := 0
	for i := range logs {
		if logs[i].has(s) {
			n++
		}
	}
	return n
}

// TestSharedHomeUploadsOnce starts nodes that share a home at once, with
// the cache empty, on nodes with gzip and without: one node uploads, and
// the others, told of that upload, find its temp file in their cache, wait
// for it and run the agent from the cache.
func TestSharedHomeUploadsOnce(t *testing.T) {
	for _, withGzip := range []bool{true, false} {
		t.Run(map[bool]string{true: "gzip", false: "no gzip"}[withGzip], func(t *testing.T) {
			forgetFirstUploads(t)
			const nodes = 3
			events := recordUploadEvents(t, true, nodes-1)
			s := sshtest.StartServer(t)
			if !withGzip {
				s.SetEnv("PATH=" + pathWithout(t, "gzip"))
			}
			config := s.WriteConfig("node1")
			logs := startEachOnce(t, []string{config, config, config})
			if uploads, cached := countLogs(logs, "uploading agent"), countLogs(logs, "agent cached"); uploads != 1 || cached != nodes-1 {
				for i := range logs {
					t.Logf("node %d:\n%s", i, logs[i].String())
				}
				t.Errorf("%d uploads and %d cached starts, want 1 and %d (events %v)", uploads, cached, nodes-1, events)
			}
			if events["shares"] != nodes-1 {
				t.Errorf("events %v, want %d nodes sharing the first's cache", events, nodes-1)
			}
			if files := cachedAgents(t, s.Home); len(files) != 1 {
				t.Errorf("cache holds %q", files)
			}
			leftovers, _ := filepath.Glob(filepath.Join(s.Home, ".cache", "concurr", "*", ".concurr.*"))
			if len(leftovers) != 0 {
				t.Errorf("temp files left: %q", leftovers)
			}
		})
	}
}

// TestUnsharedHomesUploadEach starts nodes with homes of their own at once,
// while the first upload is under way: each is told of it, finds no temp
// file of it in its own cache, and uploads at once, without waiting.
func TestUnsharedHomesUploadEach(t *testing.T) {
	forgetFirstUploads(t)
	const nodes = 3
	events := recordUploadEvents(t, true, nodes-1)
	var configs, homes []string
	for range nodes {
		s := sshtest.StartServer(t)
		homes = append(homes, s.Home)
		configs = append(configs, s.WriteConfig("node1"))
	}
	logs := startEachOnce(t, configs)
	if uploads := countLogs(logs, "uploading agent"); uploads != nodes {
		t.Errorf("%d uploads, want %d", uploads, nodes)
	}
	if events["peer"] != nodes-1 || events["shares"] != 0 {
		t.Errorf("events %v: want %d nodes told of the first upload, none sharing its cache", events, nodes-1)
	}
	for i, home := range homes {
		if files := cachedAgents(t, home); len(files) != 1 {
			t.Errorf("node %d: cache holds %q", i, files)
		}
	}
}

// TestFirstUploadWaitIsBounded: an upload into a shared cache that does
// not end holds the other nodes up for firstUploadWait, and no longer.
func TestFirstUploadWaitIsBounded(t *testing.T) {
	forgetFirstUploads(t)
	defer func(d time.Duration) { firstUploadWait = d }(firstUploadWait)
	firstUploadWait = 300 * time.Millisecond
	af, err := identifyAgent(testAgent)
	if err != nil {
		t.Fatal(err)
	}
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	// Another node's upload into this cache, which never ends: its temp
	// file is there, and the client counts it as under way.
	b := &build{sum: af.sum}
	dir := filepath.Join(s.Home, ".cache", "concurr", b.dir())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(s.Home, ".cache"), 0o700)
	os.Chmod(filepath.Join(s.Home, ".cache", "concurr"), 0o700)
	if err := os.WriteFile(filepath.Join(dir, ".concurr.stuck.tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := firstUploadOf(af.sum).begin("stuck"); !first {
		t.Fatal("not the first upload")
	}
	events := recordUploadEvents(t, false, 0)
	var log logLines
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, host(t, "node1"), options(config, &log))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	hello(t, n)
	if took := time.Since(start); took < firstUploadWait {
		t.Errorf("started after %v, without waiting for the other upload", took)
	}
	if !log.has("uploading agent") || events["shares"] != 1 {
		t.Errorf("events %v; want the node to share, wait, and upload:\n%s", events, log.String())
	}
}

// forgetFirstUploads makes the next upload of every build the first of
// the run again, as in a new process.
func forgetFirstUploads(t testing.TB) {
	reset := func() {
		firstUploadsMu.Lock()
		clear(firstUploads)
		firstUploadsMu.Unlock()
	}
	reset()
	t.Cleanup(reset)
}
