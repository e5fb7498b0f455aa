package sched

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"concurr/internal/wire"
)

// limitPoll is how often a node asks --limit again while it says wait, and
// while every slot of the node is busy.
const limitPoll = 100 * time.Millisecond

// Answers of a --limit command, as GNU Parallel reads them.
const (
	limitRun          = 0 // start another job
	limitWait         = 1 // start none for now
	limitKillYoungest = 2 // start none, and kill the youngest job running
)

// limitState is a node's side of --limit.
type limitState struct {
	// asking is set while send waits in waitLimit, which then asks the
	// command itself: watchLimit does not ask as well.
	asking atomic.Bool
	// killing is the job killed for the last answer 2 whose result has not
	// come back, guarded by the node's mutex: one job is killed at a time,
	// so that a slow kill is not taken for the command asking again.
	killing *job
}

// waitLimit asks Config.Limit whether the node may take another job, and
// waits while it says no, killing the youngest job on the node when it
// says 2. It reports false when the node or the run ended first.
func (nr *nodeRun) waitLimit(ctx context.Context) bool {
	r := nr.run
	if r.cfg.Limit == nil {
		return true
	}
	nr.limit.asking.Store(true)
	defer nr.limit.asking.Store(false)
	for {
		switch r.cfg.Limit(ctx, nr.node.Name) {
		case limitRun:
			return true
		case limitKillYoungest:
			nr.killYoungest()
		}
		select {
		case <-nr.gone:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(limitPoll):
		}
		if r.q.over() {
			return false
		}
	}
}

// watchLimit asks Config.Limit about the node while all its slots are busy,
// and send is not asking itself, so that an answer of 2 kills the youngest
// job even when no slot is free, as GNU Parallel checks its limit on every
// turn of its loop.
func (nr *nodeRun) watchLimit(ctx context.Context) {
	r := nr.run
	tick := time.NewTicker(limitPoll)
	defer tick.Stop()
	for {
		select {
		case <-nr.gone:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if r.q.over() {
			return
		}
		if nr.limit.asking.Load() || nr.isIdle() {
			continue
		}
		if r.cfg.Limit(ctx, nr.node.Name) == limitKillYoungest {
			nr.killYoungest()
		}
	}
}

// killYoungest kills the job that started last on the node, unless an
// earlier kill has not ended yet. The job goes back to the queue when its
// result comes (see limitRequeue). A job whose input was streamed to it as
// it was read cannot run again, and is left alone.
func (nr *nodeRun) killYoungest() {
	nr.mu.Lock()
	if nr.limit.killing != nil {
		nr.mu.Unlock()
		return
	}
	var youngest *job
	for _, j := range nr.inflight {
		if j.input != nil && j.input.feed != nil {
			continue
		}
		if youngest == nil || j.sent.After(youngest.sent) || j.sent.Equal(youngest.sent) && j.seq > youngest.seq {
			youngest = j
		}
	}
	if youngest == nil {
		nr.mu.Unlock()
		return
	}
	nr.limit.killing = youngest
	nr.mu.Unlock()
	nr.run.cfg.Warn(fmt.Errorf("%s: --limit exited 2: killed job %d, the youngest there, to run again later", hostLabel(nr.node.Name), youngest.seq))
	nr.conn.Send(&wire.Cancel{Seq: youngest.seq, Signal: uint64(syscall.SIGTERM)}, true)
}

// limitRequeue puts a job that --limit had killed back in the queue, and
// reports whether it did. Its output so far is dropped, it is not logged,
// and the attempt does not count against --retries: the job did not fail,
// it was made way for. A job that ended before the kill reached it keeps
// its result.
func (r *run) limitRequeue(j *job, nr *nodeRun, res *wire.Result) bool {
	nr.mu.Lock()
	killed := nr.limit.killing == j
	if killed {
		nr.limit.killing = nil
	}
	nr.mu.Unlock()
	if !killed || res.Flags&wire.ResultCancelled == 0 || r.q.over() {
		return false
	}
	r.reportEnded(j, nr, res, false, true, "")
	r.cfg.Output.Discard(j.out)
	j.node = nil
	r.q.requeue(j)
	return true
}
