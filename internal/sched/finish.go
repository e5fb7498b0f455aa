package sched

import (
	"slices"
	"syscall"
	"time"

	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/template"
	"concurr/internal/wire"
)

// finish handles a job's result: retry it, or report it and count it.
func (r *run) finish(j *job, nr *nodeRun, res *wire.Result) {
	if r.limitRequeue(j, nr, res) {
		return
	}
	if j.timedOut {
		res.Flags |= wire.ResultTimedOut
		res.Flags &^= wire.ResultCancelled
	}
	failed := res.Exit != 0 || res.Signal != 0 || res.Flags&(wire.ResultTimedOut|wire.ResultNotRun) != 0
	r.mu.Lock()
	halted := r.halted && r.cfg.Halt.Now
	r.mu.Unlock()
	if halted || res.Flags&wire.ResultCancelled != 0 && r.q.over() {
		// Killed by the halt or an interrupt: not a result of its own.
		r.cfg.Output.Discard(j.out)
		r.releaseInput(j)
		r.q.finished()
		return
	}
	j.attempt++
	if err := j.out.ResultsErr(); err != nil {
		// A retry would meet the same folder.
		r.warnf("job %d: %v", j.seq, err)
	} else if failed && j.attempt < r.cfg.Retries && !r.q.over() {
		r.reportEnded(j, nr, res, true, true, "")
		r.cfg.Output.Discard(j.out)
		j.avoid = nr.node.Name
		r.q.requeue(j)
		return
	}
	display := ""
	records := r.cfg.Output.WantsRecords()
	if r.cfg.Verbose || r.cfg.JobLog != nil || records {
		display = r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: res.Slot, Host: nr.node.Name, Args: j.args})
	}
	if r.cfg.Verbose && !r.cfg.DryRun {
		// GNU Parallel tags the command line as it tags the output.
		r.cfg.Output.SetHeader(j.out, append(slices.Clip(j.out.Tag), display+"\n"...))
	}
	e := joblog.Entry{Seq: j.seq, Host: nr.node.Name, Start: time.Unix(0, res.Start),
		Runtime: time.Duration(res.Runtime), Receive: j.stdout, Exit: int(res.Exit),
		Signal: int(res.Signal), Command: display}
	switch {
	case res.Flags&(wire.ResultTimedOut|wire.ResultNotRun) != 0:
		e.Exit = -1
	case res.Signal != 0:
		// GNU Parallel splits the wait status: a signal death exits 0.
		e.Exit = 0
	}
	if records {
		j.out.Record = &output.Record{Host: e.Host, Start: e.Start, Runtime: e.Runtime, Send: e.Send,
			Receive: e.Receive, Exit: e.Exit, Signal: e.Signal, Command: e.Command, Args: j.args}
	}
	if r.cfg.SlotTag != nil {
		j.out.Tag = r.cfg.SlotTag(j.args, j.seq, res.Slot, uint64(nr.slots), nr.node.Name)
	}
	r.cfg.Output.Finish(j.out)
	if r.cfg.JobLog != nil {
		if err := r.cfg.JobLog.Write(e); err != nil {
			r.fail(err)
		}
	}
	r.reportEnded(j, nr, res, failed, false, display)
	if res.Flags&wire.ResultTimedOut != 0 {
		r.warnf("this job was killed because it timed out: %s",
			r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: res.Slot, Host: nr.node.Name, Args: j.args}))
	}

	r.mu.Lock()
	r.done++
	if failed {
		r.failed++
	} else if r.cfg.TimeoutPercent > 0 {
		r.runtimes = append(r.runtimes, time.Duration(res.Runtime))
	}
	halt := r.shouldHalt(failed)
	if halt && !r.halted {
		r.halted = true
		r.haltExit = r.haltStatus(res)
	}
	r.mu.Unlock()
	r.releaseInput(j)
	r.q.finished()
	if halt {
		what := "failed"
		if !failed {
			what = "succeeded"
		}
		r.warnf("this job %s: %s", what,
			r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: res.Slot, Host: nr.node.Name, Args: j.args}))
		r.q.stop()
		if r.cfg.Halt.Now {
			r.cancelAll(syscall.SIGTERM)
		}
	}
}
