package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultPipeHostLost kills a host's agent while --pipe blocks stream to
// it: the blocks it held run again on the other host, and every record is
// in the output exactly once, in order under -k. Stdin is a pipe, whose
// blocks the client holds, or a regular file, whose blocks it sends as
// ranges of the file.
func TestFaultPipeHostLost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds agents in /proc")
	}
	for _, fromFile := range []bool{false, true} {
		name := "stdin a pipe"
		if fromFile {
			name = "stdin a regular file"
		}
		t.Run(name, func(t *testing.T) { testFaultPipeHostLost(t, fromFile) })
	}
}

func testFaultPipeHostLost(t *testing.T, fromFile bool) {
	c := newFaultCluster(t)
	victim, _ := c.addServer("victim", false)
	c.addServer("other", false)
	dir := t.TempDir()
	startsFile := filepath.Join(dir, "starts")
	var input strings.Builder
	for i := 1; i <= 6000; i++ {
		fmt.Fprintf(&input, "record %d %s\n", i, strings.Repeat("x", i%50))
	}
	template := fmt.Sprintf(`printf '%%s\n' "{#} {host}" >> %s; sleep 0.3; cat`, startsFile)
	var stdin io.Reader = strings.NewReader(input.String())
	if fromFile {
		path := filepath.Join(dir, "input")
		if err := os.WriteFile(path, []byte(input.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		stdin = f
	}
	r := startConcurr(t, dir, c.clientHome, nil, stdin,
		"-F", c.config, "-S", "2/victim,2/other", "-k", "--pipe", "-N", "150", template)
	onVictim := func() int {
		n := 0
		for _, hosts := range starts(t, startsFile) {
			if slices.Contains(hosts, "victim") {
				n++
			}
		}
		return n
	}
	if !waitFor(20*time.Second, func() bool { return onVictim() >= 2 || r.exited() }) || r.exited() {
		r.wait(time.Second)
		t.Fatalf("the victim never ran jobs; stderr:\n%s", r.stderr.String())
	}
	ps := agents(victim.home)
	if len(ps) == 0 {
		t.Fatal("no agent to kill")
	}
	signalAll(ps, syscall.SIGKILL)
	status := r.wait(60 * time.Second)
	stderr := r.stderr.String()
	checkNoPanic(t, stderr)
	if status != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, stderr)
	}
	if got := r.stdout.String(); got != input.String() {
		t.Errorf("the output is not every record exactly once, in order: %d bytes, want %d; stderr:\n%s", len(got), input.Len(), stderr)
	}
	rerun := 0
	for _, hosts := range starts(t, startsFile) {
		if len(hosts) > 1 && hosts[0] == "victim" {
			rerun++
		}
	}
	if rerun == 0 {
		t.Errorf("no block of the victim ran again; starts: %v", starts(t, startsFile))
	}
	t.Logf("%d blocks of the lost host ran again elsewhere", rerun)
}
