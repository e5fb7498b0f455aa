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

// TestSharedHomeUploadsOnce starts nodes that share a home at once, with
// the cache empty, on nodes with gzip and without: one node uploads, and
// the others wait for it and find the agent in their cache.
func TestSharedHomeUploadsOnce(t *testing.T) {
	for _, withGzip := range []bool{true, false} {
		t.Run(map[bool]string{true: "gzip", false: "no gzip"}[withGzip], func(t *testing.T) {
			forgetFirstUploads(t)
			s := sshtest.StartServer(t)
			if !withGzip {
				s.SetEnv("PATH=" + pathWithout(t, "gzip"))
			}
			config := s.WriteConfig("node1")
			const nodes = 3
			logs := make([]logLines, nodes)
			var wg sync.WaitGroup
			for i := range nodes {
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
			uploads, cached := 0, 0
			for i := range logs {
				if logs[i].has("uploading agent") {
					uploads++
				}
				if logs[i].has("agent cached") {
					cached++
				}
			}
			if uploads != 1 || cached != nodes-1 {
				for i := range logs {
					t.Logf("node %d:\n%s", i, logs[i].String())
				}
				t.Errorf("%d uploads and %d cached starts, want 1 and %d", uploads, cached, nodes-1)
			}
		})
	}
}

// TestUnsharedHomesUploadEach starts nodes with homes of their own at once:
// each needs its upload, and once a node that waited for the first upload
// still lacks the build, no later node waits.
func TestUnsharedHomesUploadEach(t *testing.T) {
	forgetFirstUploads(t)
	const nodes = 3
	var wg sync.WaitGroup
	homes := make([]string, nodes)
	for i := range nodes {
		s := sshtest.StartServer(t)
		homes[i] = s.Home
		config := s.WriteConfig("node1")
		wg.Go(func() {
			var log logLines
			n, err := Start(context.Background(), host(t, "node1"), options(config, &log))
			if err != nil {
				t.Error(err)
				return
			}
			defer n.Close()
			hello(t, n)
			if !log.has("uploading agent") {
				t.Errorf("node %d did not upload:\n%s", i, log.String())
			}
		})
	}
	wg.Wait()
	for i, home := range homes {
		if files := cachedAgents(t, home); len(files) != 1 {
			t.Errorf("node %d: cache holds %q", i, files)
		}
	}
	af, err := identifyAgent(testAgent)
	if err != nil {
		t.Fatal(err)
	}
	f := firstUploadOf(af.sum)
	if first, wait := f.begin(); first || wait != nil {
		t.Errorf("after a node missed the build it waited for, the next would wait (first %v, wait %v)", first, wait != nil)
	}
}

// TestFirstUploadWaitIsBounded: a first upload that does not end holds the
// other nodes up for firstUploadWait, and no longer.
func TestFirstUploadWaitIsBounded(t *testing.T) {
	forgetFirstUploads(t)
	defer func(d time.Duration) { firstUploadWait = d }(firstUploadWait)
	firstUploadWait = 300 * time.Millisecond
	af, err := identifyAgent(testAgent)
	if err != nil {
		t.Fatal(err)
	}
	// A first upload, to some other node, that never ends.
	if first, _ := firstUploadOf(af.sum).begin(); !first {
		t.Fatal("not the first upload")
	}
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
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
		t.Errorf("started after %v, without waiting for the first upload", took)
	}
	if !log.has("uploading agent") {
		t.Errorf("no upload after the wait:\n%s", log.String())
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
