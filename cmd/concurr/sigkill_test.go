package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"concurr/internal/proctest"
)

// TestSIGKILLedClientLeavesNoJob kills concurr with SIGKILL, which it cannot
// catch, while its local jobs run, and checks that the jobs and everything
// they started die with it, as a remote node's do when its SSH session
// ends: they used to run on under PID 1, and a --resume then ran them
// again.
func TestSIGKILLedClientLeavesNoJob(t *testing.T) {
	concurr := concurrForProcessScan(t)
	tests := []struct {
		name   string
		job    string // %[1]s is the marker
		sleeps int    // how many of the job's sleeps run at once
	}{
		{name: "job with a background child", job: `sh -c "sleep %[1]s & sleep %[1]s"`, sleeps: 2},
		{name: "job that ignores SIGTERM", job: `sh -c "trap '' TERM; sleep %[1]s & sleep %[1]s"`, sleeps: 2},
		{name: "interpreter's background statement", job: `sleep %[1]s & sleep %[1]s`, sleeps: 2},
		// The agent is writing when the client dies.
		{name: "job that prints without pause", job: `sh -c "sleep %[1]s & yes %[1]s"`, sleeps: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			marker := fmt.Sprintf("1000.%09d", rand.Uint32N(1e9))
			var stderr bytes.Buffer
			cmd := exec.Command(concurr, "-j2", fmt.Sprintf(tt.job, marker), ":::", "1", "2")
			cmd.Dir = t.TempDir()
			cmd.Stdout, cmd.Stderr = io.Discard, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				cmd.Process.Kill()
				for _, p := range proctest.Cmdline(marker).List() {
					syscall.Kill(p.PID, syscall.SIGKILL)
				}
			})
			want := 2 * tt.sleeps
			deadline := time.Now().Add(15 * time.Second)
			for countSleeps(proctest.Cmdline(marker).List()) < want {
				if time.Now().After(deadline) {
					t.Fatalf("the jobs' %d sleeps did not all start; running: %v\nstderr:\n%s",
						want, proctest.Cmdline(marker).List(), stderr.String())
				}
				select {
				case err := <-exited:
					t.Fatalf("concurr ended before its jobs started: %v\nstderr:\n%s", err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			below := proctest.Descendants(cmd.Process.Pid)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-exited
			if left := proctest.Cmdline(marker).WaitNone(3 * time.Second); len(left) != 0 {
				t.Fatalf("jobs left running after concurr was killed: %v", left)
			}
			// The local agent, too, is gone.
			deadline = time.Now().Add(3 * time.Second)
			for _, pid := range below {
				for alive(pid) {
					if time.Now().After(deadline) {
						t.Fatalf("process %d that concurr started is still running", pid)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
