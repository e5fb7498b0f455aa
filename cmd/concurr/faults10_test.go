package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFaultJobKillsItsAgent runs a job that kills the agent that runs it,
// on whichever host: it is failed after its second lost host, with
// Exitval -1 in the job log, and the other jobs finish.
func TestFaultJobKillsItsAgent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hosts   string
		retries []string
		losses  int
	}{
		{"two hosts", "h1,h2", nil, 2},
		{"one host", "h1", nil, 2},
		{"two hosts, --retries 3", "h1,h2", []string{"--retries", "3"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newFaultCluster(t)
			c.addServer("h1", false)
			c.addServer("h2", false)
			dir := t.TempDir()
			log := filepath.Join(dir, "log.tsv")
			args := []string{"-F", c.config, "-S", tt.hosts, "-k", "--joblog", log}
			args = append(args, tt.retries...)
			args = append(args, `if [ {} = poison ]; then sh -c 'kill -9 $PPID'; fi; echo {}`, ":::", "ok1", "poison", "ok2")
			r := startConcurr(t, dir, c.clientHome, nil, nil, args...)
			status := r.wait(60 * time.Second)
			stderr := r.stderr.String()
			checkNoPanic(t, stderr)
			if status != 1 {
				t.Errorf("exit status %d, want 1; stderr:\n%s", status, stderr)
			}
			if got := r.stdout.String(); got != "ok1\nok2\n" {
				t.Errorf("stdout %q, want ok1 and ok2", got)
			}
			want := fmt.Sprintf("job 2 was running each time its host was lost (%d times", tt.losses)
			if !strings.Contains(stderr, "concurr: warning: "+want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
			bySeq := checkOncePerSeq(t, readJobLog(t, log), 3)
			for seq, e := range bySeq {
				if wantExit := map[int]int{2: -1}[seq]; e.exit != wantExit {
					t.Errorf("job %d's Exitval is %d, want %d", seq, e.exit, wantExit)
				}
			}
		})
	}
}

// TestFaultHostRefusesCommand runs with a --workdir that a host cannot
// create: that host is reported at once and dropped, and its jobs run on
// the other, or the run ends with the refusal when no host is left.
func TestFaultHostRefusesCommand(t *testing.T) {
	t.Parallel()
	const jobs = 12
	tests := []struct {
		name       string
		refusing   []string // hosts whose workdir is a file
		wantStatus int
		wantStderr string
	}{
		{"one host of two", []string{"h1"}, 0, "concurr: warning: h1: the agent refused the command: workdir: mkdir "},
		{"every host", []string{"h1", "h2"}, 255, "concurr: error: h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newFaultCluster(t)
			homes := map[string]string{}
			for _, alias := range []string{"h1", "h2"} {
				_, s := c.addServer(alias, false)
				homes[alias] = s.Home
			}
			for _, alias := range tt.refusing {
				if err := os.WriteFile(filepath.Join(homes[alias], "wd"), []byte("a file\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			// The jobs last long enough for both hosts to be up before
			// they are done.
			args := append([]string{"-F", c.config, "-S", "1/h1,1/h2", "-k", "--workdir", "wd", "sleep 0.25; echo {} on {host}", ":::"}, seqArgs(jobs)...)
			r := startConcurr(t, dir, c.clientHome, nil, nil, args...)
			status := r.wait(30 * time.Second)
			stderr := r.stderr.String()
			checkNoPanic(t, stderr)
			if status != tt.wantStatus || !strings.Contains(stderr, tt.wantStderr) {
				t.Fatalf("exit status %d, want %d, and stderr with %q:\n%s", status, tt.wantStatus, tt.wantStderr, stderr)
			}
			if strings.Count(stderr, "refused the command") != len(tt.refusing) {
				t.Errorf("want one line per refusing host:\n%s", stderr)
			}
			if tt.wantStatus != 0 {
				if r.stdout.String() != "" {
					t.Errorf("stdout %q, want none", r.stdout.String())
				}
				return
			}
			var want strings.Builder
			for i := 1; i <= jobs; i++ {
				fmt.Fprintf(&want, "%d on h2\n", i)
			}
			if got := r.stdout.String(); got != want.String() {
				t.Errorf("stdout:\n%s\nwant:\n%s", got, want.String())
			}
		})
	}
}
