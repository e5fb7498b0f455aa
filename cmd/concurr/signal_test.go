package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"concurr/internal/proctest"
)

// TestInterruptLeavesNoProcess runs concurr on jobs that start children of
// their own, interrupts it as Ctrl-C or kill would, and checks that it
// exits promptly with the shell's status for the signal and that nothing
// it started is left running.
func TestInterruptLeavesNoProcess(t *testing.T) {
	concurr := concurrForProcessScan(t)
	tests := []struct {
		name string
		// ignoreTerm makes the jobs ignore SIGTERM, so that only a second
		// signal, which kills without grace, ends them.
		ignoreTerm bool
		signals    []syscall.Signal
		gap        time.Duration // between signals, unless concurr has exited
		status     int
	}{
		{name: "SIGINT", signals: []syscall.Signal{syscall.SIGINT}, status: 130},
		{name: "SIGTERM", signals: []syscall.Signal{syscall.SIGTERM}, status: 143},
		// concurr follows SIGTERM with SIGKILL after a grace period.
		{name: "SIGINT while jobs ignore SIGTERM", ignoreTerm: true,
			signals: []syscall.Signal{syscall.SIGINT}, status: 130},
		{name: "second SIGINT while jobs ignore SIGTERM", ignoreTerm: true,
			signals: []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, gap: 50 * time.Millisecond, status: 130},
		{name: "second SIGINT while jobs end gracefully",
			signals: []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, gap: 50 * time.Millisecond, status: 130},
		{name: "SIGINT then SIGTERM", ignoreTerm: true,
			signals: []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}, gap: 50 * time.Millisecond, status: 143},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The sleeps' own command lines carry the marker, so that this
			// run's processes can be told from any other's.
			marker := fmt.Sprintf("1000.%09d", rand.Uint32N(1e9))
			trap := ""
			if tt.ignoreTerm {
				trap = "trap '' TERM; "
			}
			job := fmt.Sprintf(`sh -c "%ssleep %s & sleep %s; echo done"`, trap, marker, marker)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(concurr, "-j4", job, ":::", "1", "2", "3", "4")
			cmd.Dir = t.TempDir()
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				// Whatever happened, leave nothing behind.
				cmd.Process.Kill()
				for _, p := range processesWith(marker, cmd.Process.Pid) {
					syscall.Kill(p.PID, syscall.SIGKILL)
				}
			})

			const sleeps = 8 // two per job
			deadline := time.Now().Add(15 * time.Second)
			for countSleeps(processesWith(marker, cmd.Process.Pid)) < sleeps {
				if time.Now().After(deadline) {
					t.Fatalf("the jobs' %d sleeps did not all start; running: %v\nstderr:\n%s",
						sleeps, processesWith(marker, cmd.Process.Pid), stderr.String())
				}
				select {
				case err := <-exited:
					t.Fatalf("concurr ended before its jobs started: %v\nstderr:\n%s", err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}

			start := time.Now()
			for i, sig := range tt.signals {
				if i > 0 {
					// Let the first signal's graceful stop begin.
					select {
					case err := <-exited:
						exited <- err
					case <-time.After(tt.gap):
					}
				}
				if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
			}
			limit := 5 * time.Second
			if tt.ignoreTerm {
				limit = 3 * time.Second
			}
			var waitErr error
			select {
			case waitErr = <-exited:
			case <-time.After(limit):
				t.Fatalf("concurr still running %v after %v; its processes: %v\nstderr:\n%s",
					limit, tt.signals, processesWith(marker, cmd.Process.Pid), stderr.String())
			}
			t.Logf("concurr exited after %v", time.Since(start).Round(time.Millisecond))
			status := 0
			var exitErr *exec.ExitError
			switch {
			case errors.As(waitErr, &exitErr):
				status = exitErr.ExitCode()
				if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					t.Errorf("concurr was killed by %v instead of exiting with status %d", ws.Signal(), tt.status)
				}
			case waitErr != nil:
				t.Fatal(waitErr)
			}
			if status != tt.status {
				t.Errorf("exit status %d, want %d\nstderr:\n%s", status, tt.status, stderr.String())
			}
			if strings.Contains(stdout.String(), "done") {
				t.Errorf("a job ran to its end after the interrupt; stdout:\n%s", stdout.String())
			}
			if strings.Contains(stderr.String(), "panic") {
				t.Errorf("concurr panicked:\n%s", stderr.String())
			}

			// Killed processes may take a moment to go. concurr itself has
			// been waited for, so it is not among them.
			if left := proctest.Cmdline(marker).WaitNone(3 * time.Second); len(left) != 0 {
				t.Fatalf("processes left behind after %v: %v", tt.signals, left)
			}
		})
	}
}

// processesWith lists the live processes, other than concurr itself,
// whose command line contains marker.
func processesWith(marker string, concurrPid int) []proctest.Process {
	return slices.DeleteFunc(proctest.Cmdline(marker).List(), func(p proctest.Process) bool { return p.PID == concurrPid })
}

func countSleeps(ps []proctest.Process) int {
	n := 0
	for _, p := range ps {
		if strings.HasPrefix(p.Cmdline(), "sleep ") {
			n++
		}
	}
	return n
}

// concurrForProcessScan is the concurr binary that testscript.Main puts on
// PATH, for tests that look in /proc for what a run left behind; it skips
// them where there is no /proc.
func concurrForProcessScan(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("scans /proc for processes left behind")
	}
	concurr, err := exec.LookPath("concurr")
	if err != nil {
		t.Fatalf("concurr is not in $PATH, which testscript.Main sets up: %v", err)
	}
	return concurr
}
