package sched

import (
	"math"

	"concurr/internal/wire"
)

// HaltWhen says which jobs count towards --halt.
type HaltWhen int

// The halt conditions.
const (
	HaltNever HaltWhen = iota
	HaltOnFail
	HaltOnSuccess
	HaltOnDone
)

// Halt is a --halt policy.
type Halt struct {
	When    HaltWhen
	Now     bool    // kill running jobs; otherwise let them finish (soon)
	Count   int     // halt after this many; 0 when Percent is used
	Percent float64 // halt after this share of all jobs, 0–100
}

// haltStatus is the exit status of a halted run, as GNU Parallel gives it:
// the triggering job's status when one job was enough, the failure count
// (capped at 101) for a larger count, the failed share in percent for a
// percentage, and 0 when halting on success. r.mu is held.
func (r *run) haltStatus(res *wire.Result) int {
	h := r.cfg.Halt
	switch {
	case h.When == HaltOnSuccess:
		return 0
	case h.Percent > 0:
		return int(math.Ceil(float64(r.failed) * 100 / float64(max(r.total, 1))))
	case h.Count > 1:
		return min(r.failed, 101)
	}
	if res.Exit == 0 && (res.Signal != 0 || res.Flags != 0) {
		return 1 // timed out or never started: failed without a status of its own
	}
	return int(res.Exit)
}

// shouldHalt applies the --halt policy; r.mu is held.
func (r *run) shouldHalt(failed bool) bool {
	h := r.cfg.Halt
	var count int
	switch h.When {
	case HaltNever:
		return false
	case HaltOnFail:
		if !failed {
			return false
		}
		count = r.failed
	case HaltOnSuccess:
		if failed {
			return false
		}
		count = int(r.done) - r.failed
	case HaltOnDone:
		count = int(r.done)
	}
	if h.Percent > 0 {
		// GNU Parallel judges a share only once the total is known, and
		// after at least 3 jobs.
		if r.total == 0 || r.done < 3 {
			return false
		}
		return float64(count)*100/float64(r.total) >= h.Percent
	}
	return count >= max(h.Count, 1)
}
