package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"concurr/bench"
)

// Workload names, as -only matches them.
const (
	workloadStream    = "memory: seq N | concurr true"
	workloadBigOutput = "memory: 1 GiB from one job, --group"
)

// The targets, as the "Performance" issue sets them, in bytes (MB = 10⁶).
const (
	streamRSSLimit    = 50e6
	bigOutputRSSLimit = 64e6
	bigOutputBytes    = 1 << 30
)

// streamBudget bounds the streaming run: at a slow job rate the full ten
// million jobs would take most of make bench's ten minutes.
const streamBudget = 60 * time.Second

func (r *runner) runMemory(ctx context.Context) {
	if r.selected(workloadStream) {
		r.streamWorkload(ctx)
	}
	if r.selected(workloadBigOutput) {
		r.bigOutputWorkload(ctx)
	}
}

func (r *runner) streamWorkload(ctx context.Context) {
	full := r.cfg.streamJobs
	if r.cfg.quick {
		full = min(full, 200_000)
	}
	c := contender{tool: "concurr", role: subject, jobs: full, scale: true, probe: min(full, 100_000), check: noOutput,
		command: func(n int) (bench.Command, error) {
			return bench.Command{Argv: []string{r.concurr, "true"}, StdinFrom: []string{"seq", strconv.Itoa(n)}, Timeout: 2 * streamBudget}, nil
		},
		target: fmt.Sprintf("peak RSS ≤ %.0f MB", streamRSSLimit/1e6),
		note:   "`seq N | concurr true`: `true` is the embedded shell's builtin, so this measures the client, the queue and the agent, not fork/exec. One run."}
	if r.concurr == "" {
		c.notRun = r.missing["concurr"]
	}
	budget := r.cfg.budget
	r.cfg.budget = streamBudget
	ms := r.measure(ctx, workloadStream, []contender{c}, 1)
	r.cfg.budget = budget
	r.addRows(workloadStream, ms, func(m measured, row *bench.Row) {
		row.Result = verdict(float64(m.peakRSS) <= streamRSSLimit)
		if m.jobs < full {
			row.Note = joinNotes(c.note, fmt.Sprintf("It ran %d of %d jobs, what fits in %v at the rate a probe of %d jobs showed.", m.jobs, full, streamBudget, c.probe))
		}
	})
}

func (r *runner) bigOutputWorkload(ctx context.Context) {
	c := contender{tool: "concurr", role: subject, jobs: 1,
		command: func(int) (bench.Command, error) {
			job := fmt.Sprintf("head -c %d /dev/zero; : {}", bigOutputBytes)
			return bench.Command{Argv: []string{r.concurr, "--group", job, ":::", "1"}, Timeout: 3 * time.Minute}, nil
		},
		check: func(_ int, out bench.Output) error {
			if out.Bytes != bigOutputBytes || out.NonZero {
				return fmt.Errorf("%d bytes (non-zero bytes among them: %v), want %d zero bytes", out.Bytes, out.NonZero, bigOutputBytes)
			}
			return nil
		},
		target: fmt.Sprintf("peak RSS ≤ %.0f MB, all %d bytes delivered", bigOutputRSSLimit/1e6, bigOutputBytes),
		note:   "`concurr --group 'head -c 1073741824 /dev/zero; : {}' ::: 1`, stdout counted and checked by the reader. One run."}
	if r.concurr == "" {
		c.notRun = r.missing["concurr"]
	}
	ms := r.measure(ctx, workloadBigOutput, []contender{c}, 1)
	r.addRows(workloadBigOutput, ms, func(m measured, row *bench.Row) {
		row.Result = verdict(float64(m.peakRSS) <= bigOutputRSSLimit)
	})
}
