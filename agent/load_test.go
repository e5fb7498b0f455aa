package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

// fakeRoot lays out files under a temporary root, as /proc and /sys.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const meminfo8G = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\nBuffers:          100000 kB\nCached:          2000000 kB\n"

func TestMemAvailable(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  uint64
	}{
		{"meminfo", map[string]string{"proc/meminfo": meminfo8G}, 8000000 * 1024},
		{"no MemAvailable adds free, buffers and cache",
			map[string]string{"proc/meminfo": "MemFree: 100 kB\nBuffers: 10 kB\nCached: 1 kB\n"}, 111 * 1024},
		{"cgroup v2 limit is tighter", map[string]string{
			"proc/meminfo":                    meminfo8G,
			"proc/self/cgroup":                "0::/jobs/a\n",
			"sys/fs/cgroup/jobs/a/memory.max": "max\n", "sys/fs/cgroup/jobs/a/memory.current": "5000\n",
			"sys/fs/cgroup/jobs/memory.max": "1000000\n", "sys/fs/cgroup/jobs/memory.current": "400000\n",
		}, 600000},
		{"cgroup v1 limit is tighter", map[string]string{
			"proc/meminfo":     meminfo8G,
			"proc/self/cgroup": "4:memory:/c\n3:cpu:/\n",
			"sys/fs/cgroup/memory/c/memory.limit_in_bytes": "3000\n", "sys/fs/cgroup/memory/c/memory.usage_in_bytes": "1000\n",
		}, 2000},
		{"cgroup v1 without a limit", map[string]string{
			"proc/meminfo":     meminfo8G,
			"proc/self/cgroup": "4:memory:/c\n",
			"sys/fs/cgroup/memory/c/memory.limit_in_bytes": "9223372036854771712\n", "sys/fs/cgroup/memory/c/memory.usage_in_bytes": "1000\n",
		}, 8000000 * 1024},
		{"cgroup over its limit has no room", map[string]string{
			"proc/meminfo":                 meminfo8G,
			"proc/self/cgroup":             "0::/\n",
			"sys/fs/cgroup/memory.max":     "1000\n",
			"sys/fs/cgroup/memory.current": "2000\n",
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := memAvailable(fakeRoot(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("memAvailable = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("no meminfo", func(t *testing.T) {
		if _, err := memAvailable(t.TempDir()); err == nil {
			t.Error("memAvailable without /proc/meminfo succeeded")
		}
	})
}

func TestRunningProcesses(t *testing.T) {
	tests := []struct {
		loadavg string
		want    int
		wantErr bool
	}{
		{"0.50 0.40 0.30 3/400 1234\n", 2, false},
		{"0.00 0.00 0.00 1/90 1\n", 0, false},
		{"garbage\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.loadavg), func(t *testing.T) {
			got, err := runningProcesses(fakeRoot(t, map[string]string{"proc/loadavg": tt.loadavg}))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("runningProcesses = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestLimitsTooBusy(t *testing.T) {
	tests := []struct {
		name    string
		memFree uint64
		maxLoad float64
		m       measurement
		busy    bool
	}{
		{"enough memory", 100, 0, measurement{available: 100}, false},
		{"too little memory", 100, 0, measurement{available: 99}, true},
		{"load below", 0, 2, measurement{running: 1}, false},
		{"load at the limit", 0, 2, measurement{running: 2}, true},
		{"both, memory short", 10, 4, measurement{available: 5, running: 0}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &limits{memFree: tt.memFree, maxLoad: tt.maxLoad}
			if got := l.tooBusy(tt.m) != ""; got != tt.busy {
				t.Errorf("tooBusy = %v, want %v", got, tt.busy)
			}
		})
	}
}

// TestLimitsWaitForMemory holds a start back until the node's memory, read
// from an injected /proc, is enough.
func TestLimitsWaitForMemory(t *testing.T) {
	root := fakeRoot(t, map[string]string{"proc/meminfo": "MemAvailable: 1000 kB\n", "proc/loadavg": "0 0 0 1/1 1\n"})
	l, err := newLimits(2000*1024, "", root)
	if err != nil {
		t.Fatal(err)
	}
	l.poll = 10 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- l.wait(context.Background(), func() bool { return false }, t.Logf) }()
	select {
	case err := <-done:
		t.Fatalf("wait returned %v with too little memory", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Replaced at once, as the kernel's file reads: a rewrite in place
	// could be read empty between its truncation and its write.
	next := filepath.Join(root, "proc/meminfo.next")
	if err := os.WriteFile(next, []byte("MemAvailable: 3000 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, filepath.Join(root, "proc/meminfo")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return once memory was free")
	}

	t.Run("a killed job stops waiting", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(root, "proc/meminfo"), []byte("MemAvailable: 1 kB\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.wait(context.Background(), func() bool { return true }, t.Logf); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the session's end stops waiting", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := l.wait(ctx, func() bool { return false }, t.Logf); err == nil {
			t.Fatal("wait returned nil after its context ended")
		}
	})
}

func TestNewLimits(t *testing.T) {
	root := fakeRoot(t, map[string]string{"proc/meminfo": meminfo8G, "proc/loadavg": "0 0 0 1/1 1\n"})
	tests := []struct {
		name    string
		memFree uint64
		load    string
		root    string
		none    bool
		wantErr string
	}{
		{name: "no limits", root: root, none: true},
		{name: "memfree", memFree: 1, root: root},
		{name: "load percent", load: "100%", root: root},
		{name: "bad load", load: "x", root: root, wantErr: "--load"},
		{name: "cannot measure", memFree: 1, root: t.TempDir(), wantErr: "--memfree"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := newLimits(tt.memFree, tt.load, tt.root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (l == nil) != tt.none {
				t.Errorf("limits %+v, want none: %v", l, tt.none)
			}
		})
	}
}

// memoryCgroup makes a memory cgroup below this process's own, with limit
// bytes, and returns the files to write its members and its limit to. It
// skips the test where cgroups cannot be made (not root, no controller).
func memoryCgroup(t *testing.T, limit int64) (procs, limitFile string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skipf("no /proc/self/cgroup: %v", err)
	}
	var dir string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case hasMemoryController(f[1]):
			dir, limitFile = filepath.Join("/sys/fs/cgroup/memory", f[2]), "memory.limit_in_bytes"
		case f[0] == "0" && f[1] == "" && limitFile == "":
			dir, limitFile = filepath.Join("/sys/fs/cgroup", f[2]), "memory.max"
		}
	}
	if dir == "" {
		t.Skip("no memory cgroup")
	}
	child := filepath.Join(dir, fmt.Sprintf("concurr-memfree-test-%d", os.Getpid()))
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Skipf("cannot make a memory cgroup: %v", err)
	}
	t.Cleanup(func() {
		// The agent has exited by now; its cgroup is removed once empty.
		for range 50 {
			if os.Remove(child) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove %s", child)
	})
	limitFile = filepath.Join(child, limitFile)
	if err := os.WriteFile(limitFile, []byte(fmt.Sprint(limit)), 0o644); err != nil {
		t.Skipf("cannot limit the memory cgroup: %v", err)
	}
	return filepath.Join(child, "cgroup.procs"), limitFile
}

// TestMemFreeInCgroup runs an agent in a memory cgroup whose limit the
// test sets: --memfree holds its job back while the cgroup leaves too
// little room, and the job runs once the limit is raised.
func TestMemFreeInCgroup(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a cgroup and waits for the agent")
	}
	procs, limitFile := memoryCgroup(t, 64<<20)
	cmd := exec.Command("sh", "-c", `echo $$ > "$1" && exec "$0" -test.run=^$`, os.Args[0], procs)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = testWriter{t}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, toAgent: in, cmd: cmd}
	c.handshake(out, in)
	t.Cleanup(func() { c.close() })

	c.send(&wire.Command{ID: 1, Template: script(`echo ran "$A1"`), Slots: 1, MemFree: 256 << 20},
		&wire.Input{Command: 1, Seq: 1, Args: []string{"x"}})
	select {
	case m := <-c.msgs:
		t.Fatalf("with 64 MiB in its cgroup and --memfree 256M, the agent sent %s %+v", m.Type(), m)
	case <-time.After(1500 * time.Millisecond):
	}
	if err := os.WriteFile(limitFile, []byte(fmt.Sprint(int64(4)<<30)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.collect(20*time.Second, 1)[1]
	if r.result.Exit != 0 || r.stdout.String() != "ran x\n" {
		t.Errorf("job after the limit was raised: exit %d, stdout %q, stderr %q", r.result.Exit, r.stdout.String(), r.stderr.String())
	}
}
