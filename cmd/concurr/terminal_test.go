package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestE2ETerminal runs concurr with --bar and --progress under tmux, a real
// terminal, and reads the screen back: the jobs' output lines stand above
// the progress line, none of them lands on it, and the progress shows what
// GNU Parallel's does. It runs with CONCURR_E2E=1 (make e2e), which needs
// tmux installed.
func TestE2ETerminal(t *testing.T) {
	if os.Getenv("CONCURR_E2E") != "1" {
		t.Skip("set CONCURR_E2E=1 to run the tests that need tmux (make e2e)")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux is not installed: the terminal tests need it")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary runs concurr's main when it is called concurr (see
	// TestMain).
	bin := filepath.Join(t.TempDir(), "concurr")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args string
		// screen holds the lines the screen must show, in order, as
		// regular expressions; the last is the progress line.
		screen []string
	}{
		{"--bar ends below the output", `--bar -j2 'sleep 0.3; echo out{}' ::: 1 2 3 4`,
			[]string{`^out[12]$`, `^out[12]$`, `^out[34]$`, `^out[34]$`, `^100% 4:0=0s running:0 failed:0 [34]\s*$`}},
		{"--progress lists the host, the header, then the line", `--progress -j2 'sleep 0.3; echo out{}; exit $(({}%3==0))' ::: 1 2 3 4 5 6`,
			[]string{`^Computers / CPU cores / Max jobs to run$`, `^1:local / [0-9]+ / 2$`, `^$`,
				`^Computer:jobs running/jobs completed/%of started jobs/Average seconds to complete$`,
				`^out[0-9]$`, `^out[0-9]$`, `^out[0-9]$`, `^out[0-9]$`, `^out[0-9]$`, `^out[0-9]$`,
				`^local:0/6/100%/[0-9.]+s failed:2$`, `^concurr: summary: 2 of 6 jobs failed$`}},
		{"--eta with a warning in the middle", `--eta -j1 --timeout 0.5 'sleep {}; echo out{}' ::: 0.1 5 0.2`,
			[]string{`^Computers / CPU cores / Max jobs to run$`, `^1:local / [0-9]+ / 1$`, `^$`,
				`^Computer:jobs running/jobs completed/%of started jobs/Average seconds to complete$`,
				`^out0.1$`, `^concurr: warning: this job was killed because it timed out: sleep 5; echo out5$`, `^out0.2$`,
				`^ETA: 0s Left: 0 AVG: [0-9.]+s  local:0/3/100%/[0-9.]+s failed:1$`,
				`^concurr: summary: 1 of 3 jobs failed$`, `^concurr: summary:   job 2 \(timed out\): sleep 5; echo out5$`}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			session := fmt.Sprintf("concurr-test-%d-%d", os.Getpid(), i)
			done := filepath.Join(t.TempDir(), "done")
			command := fmt.Sprintf("%s %s; touch %s; sleep 30", bin, tt.args, done)
			start := exec.Command(tmux, "-L", session, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
			start.Env = append(os.Environ(), "TERM=xterm")
			if out, err := start.CombinedOutput(); err != nil {
				t.Fatalf("tmux: %v: %s", err, out)
			}
			defer exec.Command(tmux, "-L", session, "kill-server").Run()
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(done); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("concurr did not end")
				}
				time.Sleep(50 * time.Millisecond)
			}
			out, err := exec.Command(tmux, "-L", session, "capture-pane", "-p", "-t", session).Output()
			if err != nil {
				t.Fatalf("capture-pane: %v", err)
			}
			screen := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
			for len(screen) > 0 && screen[0] == "" {
				screen = screen[1:]
			}
			checkScreen(t, screen, tt.screen)
		})
	}
}

// checkScreen matches the screen's first lines against want.
func checkScreen(t *testing.T, screen, want []string) {
	t.Helper()
	if len(screen) < len(want) {
		t.Fatalf("the screen has %d lines, want %d:\n%s", len(screen), len(want), strings.Join(screen, "\n"))
	}
	for i, w := range want {
		if !regexp.MustCompile(w).MatchString(screen[i]) {
			t.Errorf("line %d is %q, want %s; the screen:\n%s", i+1, screen[i], w, strings.Join(screen, "\n"))
		}
	}
}
