package sched

import (
	"context"
	"errors"
	"time"
)

// limitPoll is how often a node asks --limit again while it says wait.
const limitPoll = 100 * time.Millisecond

// errLimitKillYoungest is reported, once, when a --limit command asks for
// the youngest job to be killed, which concurr does not do.
var errLimitKillYoungest = errors.New("--limit exited 2 (kill the youngest job), which concurr does not do: it holds back new jobs instead, as for 1")

// waitLimit asks Config.Limit whether the node may take another job, and
// waits while it says no. It reports false when the node or the run ended
// first.
func (nr *nodeRun) waitLimit(ctx context.Context) bool {
	r := nr.run
	if r.cfg.Limit == nil {
		return true
	}
	for {
		switch r.cfg.Limit(ctx, nr.node.Name) {
		case 0:
			return true
		case 2:
			r.limitWarnOnce.Do(func() { r.cfg.Warn(errLimitKillYoungest) })
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
