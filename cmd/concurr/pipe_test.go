package main

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"concurr/internal/proctest"
)

// TestClosedStdoutEndsTheRun closes concurr's stdout after one line, as
// `concurr ... | head -1` does: like GNU Parallel, concurr exits 141 and
// leaves none of its jobs running.
func TestClosedStdoutEndsTheRun(t *testing.T) {
	concurr := concurrForProcessScan(t)
	tests := []struct {
		name    string
		options []string
	}{
		{"grouped", nil},
		{"in order", []string{"-k"}},
		{"line by line", []string{"--line-buffer"}},
		{"ungrouped", []string{"-u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			marker := fmt.Sprintf("1000.%09d", rand.Uint32N(1e9))
			// Job 1 prints more than a pipe holds; the others wait in a
			// process of their own (the shell's sleep is a builtin).
			job := fmt.Sprintf(`if [ {} = 1 ]; then seq 300000; else sh -c 'sleep %s'; fi`, marker)
			args := append(append([]string{"-j4"}, tt.options...), job, ":::", "1", "2", "3", "4")
			cmd := exec.Command(concurr, args...)
			cmd.Dir = t.TempDir()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout = w
			stderr := &timedBuffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				cmd.Process.Kill()
				for _, p := range jobProcesses(marker, cmd.Process.Pid) {
					syscall.Kill(p.PID, syscall.SIGKILL)
				}
			})
			if !waitFor(15*time.Second, func() bool { return len(jobProcesses(marker, cmd.Process.Pid)) >= 3 }) {
				t.Fatalf("the jobs' sleeps did not start: %v\nstderr:\n%s", jobProcesses(marker, cmd.Process.Pid), stderr.String())
			}
			line, err := bufio.NewReader(r).ReadString('\n')
			if err != nil || line != "1\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			r.Close()

			var waitErr error
			select {
			case waitErr = <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("concurr still running 10s after its stdout closed; stderr:\n%s", stderr.String())
			}
			var exitErr *exec.ExitError
			if !errors.As(waitErr, &exitErr) {
				t.Fatalf("concurr exited with %v, want status 141", waitErr)
			}
			if ws := exitErr.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() != 141 {
				t.Fatalf("concurr ended with %v, want exit status 141; stderr:\n%s", ws, stderr.String())
			}
			checkNoPanic(t, stderr.String())
			if s := stderr.String(); s != "" {
				t.Errorf("stderr %q, want nothing, as GNU Parallel", s)
			}
			if !waitFor(5*time.Second, func() bool { return len(jobProcesses(marker, cmd.Process.Pid)) == 0 }) {
				t.Fatalf("left running: %v", jobProcesses(marker, cmd.Process.Pid))
			}
		})
	}
}

// jobProcesses lists the running processes other than concurr whose
// command line holds marker.
func jobProcesses(marker string, concurrPid int) []proctest.Process {
	var out []proctest.Process
	for _, p := range proctest.Cmdline(marker).List() {
		if p.PID != concurrPid {
			out = append(out, p)
		}
	}
	return out
}
