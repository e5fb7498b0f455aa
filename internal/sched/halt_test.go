package sched

import (
	"context"
	"io"
	"strings"
	"testing"

	"concurr/internal/output"
	"concurr/internal/wire"
)

func TestShouldHalt(t *testing.T) {
	tests := []struct {
		name                string
		halt                Halt
		done, failed, total int
		jobFailed           bool
		want                bool
	}{
		{"never", Halt{}, 5, 5, 5, true, false},
		{"on a failure", Halt{When: HaltOnFail, Count: 1}, 1, 1, 0, true, true},
		{"not on a success when halting on failures", Halt{When: HaltOnFail, Count: 1}, 2, 1, 0, false, false},
		{"not before the count of failures", Halt{When: HaltOnFail, Count: 3}, 4, 2, 0, true, false},
		{"at the count of failures", Halt{When: HaltOnFail, Count: 3}, 4, 3, 0, true, true},
		{"a count of 0 means 1", Halt{When: HaltOnFail}, 1, 1, 0, true, true},
		{"on a success", Halt{When: HaltOnSuccess, Count: 1}, 2, 1, 0, false, true},
		{"not on a failure when halting on successes", Halt{When: HaltOnSuccess, Count: 1}, 2, 1, 0, true, false},
		{"on done, either way", Halt{When: HaltOnDone, Count: 2}, 2, 1, 0, true, true},
		{"a share waits for the total", Halt{When: HaltOnFail, Percent: 10}, 5, 5, 0, true, false},
		{"a share waits for 3 jobs", Halt{When: HaltOnFail, Percent: 10}, 2, 2, 10, true, false},
		{"below the share", Halt{When: HaltOnFail, Percent: 20}, 3, 1, 10, true, false},
		{"at the share", Halt{When: HaltOnFail, Percent: 20}, 3, 2, 10, true, true},
		{"a share of successes", Halt{When: HaltOnSuccess, Percent: 20}, 4, 2, 10, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{cfg: Config{Halt: tt.halt}, done: uint64(tt.done), failed: tt.failed, total: uint64(tt.total)}
			if got := r.shouldHalt(tt.jobFailed); got != tt.want {
				t.Fatalf("shouldHalt = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHaltStatus(t *testing.T) {
	tests := []struct {
		name          string
		halt          Halt
		failed, total int
		res           wire.Result
		want          int
	}{
		{"the job's exit status", Halt{When: HaltOnFail, Count: 1}, 1, 9, wire.Result{Exit: 3}, 3},
		{"killed by a signal", Halt{When: HaltOnFail, Count: 1}, 1, 9, wire.Result{Exit: 143, Signal: 15}, 143},
		{"timed out without a status", Halt{When: HaltOnFail, Count: 1}, 1, 9, wire.Result{Flags: wire.ResultTimedOut}, 1},
		{"never started", Halt{When: HaltOnFail, Count: 1}, 1, 9, wire.Result{Flags: wire.ResultNotRun}, 1},
		{"the count of failures", Halt{When: HaltOnFail, Count: 5}, 5, 9, wire.Result{Exit: 3}, 5},
		{"the count of failures, capped", Halt{When: HaltOnDone, Count: 500}, 250, 900, wire.Result{Exit: 3}, 101},
		{"the failed share in percent, rounded up", Halt{When: HaltOnFail, Percent: 20}, 3, 7, wire.Result{Exit: 3}, 43},
		{"on success", Halt{When: HaltOnSuccess, Count: 1}, 4, 9, wire.Result{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{cfg: Config{Halt: tt.halt}, failed: tt.failed, total: uint64(tt.total)}
			if got := r.haltStatus(&tt.res); got != tt.want {
				t.Fatalf("haltStatus = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestFinish covers what a job's Result does to the run: retry, count,
// halt, or nothing when the run is being torn down.
func TestFinish(t *testing.T) {
	type result struct {
		seq      uint64
		res      wire.Result
		timedOut bool // the client killed it for --timeout N%
	}
	tests := []struct {
		name        string
		cfg         Config
		interrupted bool // the run was stopped before the results came
		results     []result
		wantDone    uint64
		wantFailed  int
		wantHalt    int // -1: not halted
		wantRetry   []uint64
		wantWarn    string
	}{
		{"a success counts", Config{}, false, []result{{seq: 1}}, 1, 0, -1, nil, ""},
		{"a failure counts", Config{}, false, []result{{seq: 1, res: wire.Result{Exit: 1}}}, 1, 1, -1, nil, ""},
		{"a failure is retried while runs remain", Config{Retries: 2}, false,
			[]result{{seq: 1, res: wire.Result{Exit: 1}}}, 0, 0, -1, []uint64{1}, ""},
		{"a kill by the halt or an interrupt is no result", Config{}, true,
			[]result{{seq: 1, res: wire.Result{Exit: 143, Signal: 15, Flags: wire.ResultCancelled}}}, 0, 0, -1, nil, ""},
		{"a client timeout is a timeout, not a cancel", Config{}, false,
			[]result{{seq: 1, res: wire.Result{Exit: 143, Signal: 15, Flags: wire.ResultCancelled}, timedOut: true}}, 1, 1, -1, nil, "timed out"},
		{"halt soon lets the others finish", Config{Halt: Halt{When: HaltOnFail, Count: 1}}, false,
			[]result{{seq: 1, res: wire.Result{Exit: 3}}, {seq: 2}}, 2, 1, 3, nil, "this job failed"},
		{"halt now discards what ends after", Config{Halt: Halt{When: HaltOnFail, Now: true, Count: 1}}, false,
			[]result{{seq: 1, res: wire.Result{Exit: 3}}, {seq: 2}}, 1, 1, 3, nil, "this job failed"},
		{"halt on success", Config{Halt: Halt{When: HaltOnSuccess, Count: 1}}, false,
			[]result{{seq: 1, res: wire.Result{Exit: 1}}, {seq: 2}}, 2, 1, 0, nil, "this job succeeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			cfg := tt.cfg
			cfg.Template = compile(t, "echo", "{}")
			cfg.Output = output.New(io.Discard, io.Discard, output.Options{})
			cfg.Warn = func(err error) { warnings = append(warnings, err.Error()) }
			r := &run{cfg: cfg, q: newQueue(16)}
			nr := &nodeRun{run: r, node: Node{Name: "n1"}}
			jobs := make(map[uint64]*job)
			for _, res := range tt.results {
				j := &job{seq: res.seq, args: []string{"x"}, out: cfg.Output.Begin(res.seq, nil, "")}
				jobs[res.seq] = j
				r.q.push(context.Background(), j)
				takeSeq(r.q, "n1", 1)
			}
			r.q.sourceDone()
			if tt.interrupted {
				r.q.stop()
			}
			within(t, "finish", func() {
				for _, res := range tt.results {
					j := jobs[res.seq]
					j.timedOut = res.timedOut
					m := res.res
					m.Seq = res.seq
					r.finish(j, nr, &m)
				}
			})
			if r.done != tt.wantDone || r.failed != tt.wantFailed {
				t.Errorf("done %d failed %d, want %d and %d", r.done, r.failed, tt.wantDone, tt.wantFailed)
			}
			if halted := tt.wantHalt >= 0; r.halted != halted || halted && r.haltExit != tt.wantHalt {
				t.Errorf("halted %v with %d, want %v with %d", r.halted, r.haltExit, halted, tt.wantHalt)
			}
			if r.halted && !r.q.over() {
				t.Error("a halt did not stop the queue")
			}
			var retried []uint64
			r.q.mu.Lock()
			for _, j := range r.q.retry {
				retried = append(retried, j.seq)
				if j.avoid != "n1" {
					t.Errorf("job %d retried avoiding %q, want n1", j.seq, j.avoid)
				}
			}
			r.q.mu.Unlock()
			if len(retried) != len(tt.wantRetry) || len(retried) > 0 && retried[0] != tt.wantRetry[0] {
				t.Errorf("retried %v, want %v", retried, tt.wantRetry)
			}
			if w := strings.Join(warnings, "\n"); !strings.Contains(w, tt.wantWarn) || tt.wantWarn == "" && w != "" {
				t.Errorf("warnings %q, want one containing %q", w, tt.wantWarn)
			}
		})
	}
}
