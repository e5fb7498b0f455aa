package sched

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/wire"
)

// TestLimitKillsYoungest drives --limit's answer 2 on a scripted agent: the
// youngest job on the node is cancelled, once however often the command
// answers 2, and goes back to the queue, unless it ended first; every job
// is then printed and logged once.
func TestLimitKillsYoungest(t *testing.T) {
	tests := []struct {
		name       string
		endedFirst bool // the killed job's own result arrives before the kill
	}{
		{"the killed job runs again", false},
		{"a job that ended before the kill keeps its result", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const jobs = 4
			var answer atomic.Int32
			agents := make(chan *fakeAgent, 1)
			var stdout strings.Builder
			logPath := filepath.Join(t.TempDir(), "jobs.log")
			log, err := joblog.Create(logPath, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			var warnings atomic.Int32
			cfg := Config{
				Template: compile(t, "echo", "{}"),
				Output:   output.New(&stdout, io.Discard, output.Options{KeepOrder: true}),
				JobLog:   log,
				Limit:    func(context.Context, string) int { return int(answer.Load()) },
				Warn: func(err error) {
					if strings.Contains(err.Error(), "--limit exited 2") {
						warnings.Add(1)
					}
				},
			}
			nodes := []Node{{Name: "n", Dial: fakeDial(t, 2, agents), Slots: fixedSlots(2)}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ended := make(chan struct{})
			var sum Summary
			var runErr error
			go func() {
				defer close(ended)
				sum, runErr = Run(ctx, cfg, nodes, &numbers{n: jobs})
			}()
			fa := <-agents
			first := fa.expectInputs(t, 2)
			youngest := first[1]
			fa.print(youngest, "partial")

			answer.Store(2)
			var c *wire.Cancel
			select {
			case c = <-fa.cancels:
			case <-time.After(2 * time.Second):
				t.Fatal("no job was cancelled")
			}
			if c.Seq != youngest {
				t.Fatalf("cancelled job %d, want the youngest, %d", c.Seq, youngest)
			}
			// The command still says 2: no other job is killed meanwhile.
			select {
			case c := <-fa.cancels:
				t.Fatalf("job %d cancelled too, before the first kill ended", c.Seq)
			case <-time.After(5 * limitPoll):
			}
			answer.Store(0)
			if tt.endedFirst {
				fa.print(youngest, "whole")
				fa.answer(youngest, time.Millisecond)
			} else {
				fa.answerCancelled(youngest)
				again := fa.expectInputs(t, 1)
				if again[0] != youngest {
					t.Fatalf("sent job %d next, want the killed %d again", again[0], youngest)
				}
				fa.print(youngest, "whole")
				fa.answer(youngest, time.Millisecond)
			}
			fa.answer(first[0], time.Millisecond)
			fa.answerAll(ended)
			<-ended
			if runErr != nil || sum.Jobs != jobs || sum.Failed != 0 {
				t.Fatalf("Run: %+v, %v", sum, runErr)
			}
			if err := log.Close(); err != nil {
				t.Fatal(err)
			}
			cfg.Output.Flush()
			if strings.Contains(stdout.String(), "partial") && !tt.endedFirst {
				t.Errorf("the killed attempt's output was printed: %q", stdout.String())
			}
			if n := strings.Count(stdout.String(), "whole"); n != 1 {
				t.Errorf("the job's output was printed %d times: %q", n, stdout.String())
			}
			data, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")[1:]
			if len(lines) != jobs {
				t.Fatalf("job log has %d lines, want %d:\n%s", len(lines), jobs, data)
			}
			for _, l := range lines {
				if f := strings.Split(l, "\t"); f[6] != "0" || f[7] != "0" {
					t.Errorf("job log line %q: want exit 0, no signal", l)
				}
			}
			if warnings.Load() != 1 {
				t.Errorf("%d warnings of the kill, want 1", warnings.Load())
			}
		})
	}
}
