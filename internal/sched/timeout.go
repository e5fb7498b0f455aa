package sched

import (
	"context"
	"slices"
	"syscall"
	"time"

	"concurr/internal/wire"
)

// timeoutMillis is the timeout sent with each job. --timeout N% is not sent:
// its limit moves as jobs finish, so the client watches it (watchTimeouts).
func (r *run) timeoutMillis() uint64 {
	return uint64(r.cfg.Timeout.Milliseconds())
}

// watchTimeouts kills jobs running longer than --timeout N% of the median
// runtime of the jobs that succeeded so far, as GNU Parallel does: the
// limit is recomputed as jobs finish and applies to running jobs.
func (r *run) watchTimeouts(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !r.q.over() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.mu.Lock()
		var limit time.Duration
		if len(r.runtimes) > 0 {
			s := slices.Clone(r.runtimes)
			slices.Sort(s)
			limit = time.Duration(float64(s[len(s)/2]) * r.cfg.TimeoutPercent / 100)
		}
		r.mu.Unlock()
		if limit == 0 {
			continue
		}
		r.nodesMu.Lock()
		nodes := slices.Clone(r.nodes)
		r.nodesMu.Unlock()
		for _, nr := range nodes {
			var late []uint64
			nr.mu.Lock()
			for seq, j := range nr.inflight {
				if !j.timedOut && time.Since(j.sent) > limit {
					j.timedOut = true
					late = append(late, seq)
				}
			}
			nr.mu.Unlock()
			for _, seq := range late {
				nr.conn.Send(&wire.Cancel{Seq: seq, Signal: uint64(syscall.SIGTERM)}, true)
			}
		}
	}
}
