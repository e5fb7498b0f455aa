package sched

import (
	"context"
	"sync"
)

// queue is the run's one shared queue of jobs. The feeder adds fresh jobs,
// results may put jobs back, and every node's sender takes from it. It also
// counts the jobs not yet finished, which tells senders when the run is
// over: the source is exhausted and nothing is pending or queued.
type queue struct {
	mu       sync.Mutex
	cond     sync.Cond
	fresh    []*job // from the source, in order
	retry    []*job // put back after a failure or a lost node: these go first
	pending  int    // created and not finished
	srcDone  bool
	stopping bool // halt or interrupt: hand out nothing more
	limit    int  // how many fresh jobs the feeder may read ahead
	onOver   func()
	overOnce sync.Once
}

// checkOver calls onOver once the run is over; q.mu is held.
func (q *queue) checkOver() {
	if q.onOver != nil && (q.stopping || q.srcDone && q.pending == 0) {
		q.overOnce.Do(q.onOver)
	}
}

func newQueue(limit int) *queue {
	q := &queue{limit: limit}
	q.cond.L = &q.mu
	return q
}

// push adds a fresh job, waiting while the read-ahead is full. It reports
// false when the run is stopping.
func (q *queue) push(ctx context.Context, j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.fresh) >= q.limit {
		// Once full, the feeder sleeps until half the queue is taken, and
		// then reads that half in one go: woken at every take, it would
		// cost a wake-up per job.
		for len(q.fresh) > q.limit/2 && !q.stopping && ctx.Err() == nil {
			q.cond.Wait()
		}
	}
	if q.stopping || ctx.Err() != nil {
		return false
	}
	q.fresh = append(q.fresh, j)
	q.pending++
	q.cond.Broadcast()
	return true
}

// sourceDone records that the feeder has read everything.
func (q *queue) sourceDone() {
	q.mu.Lock()
	q.srcDone = true
	q.checkOver()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// requeue puts a job back at the front.
func (q *queue) requeue(j *job) {
	q.mu.Lock()
	q.retry = append(q.retry, j)
	q.cond.Broadcast()
	q.mu.Unlock()
}

// finished records a job as done for good.
func (q *queue) finished() {
	q.mu.Lock()
	q.pending--
	q.checkOver()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// stop makes take return false from now on and unblocks the feeder.
func (q *queue) stop() {
	q.mu.Lock()
	q.stopping = true
	q.checkOver()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// over reports whether nothing remains to be run or reported.
func (q *queue) over() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stopping || (q.srcDone && q.pending == 0)
}

// take returns the next job for node, waiting for one. wait=false returns
// nil at once when none is ready. ok=false means the run is over for the
// node's sender: stopping, everything finished, or the node is gone. A retried job avoids the node
// it failed on while other nodes could take it (others reports how many
// live nodes there are). A job that was running when a node was lost is
// taken only by a node with nothing in flight (idle; nil is always idle),
// so that a further loss while it runs is its own doing.
func (q *queue) take(node string, others func() int, gone, idle func() bool, wait bool) (j *job, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.stopping || gone() {
			return nil, false
		}
		suspectWaits := false
		for i, r := range q.retry {
			if r.losses > 0 && idle != nil && !idle() {
				suspectWaits = true
				continue
			}
			if r.avoid != node || others() <= 1 {
				q.retry = append(q.retry[:i], q.retry[i+1:]...)
				return r, true
			}
		}
		// While a suspect waits for an idle node, busy nodes take no fresh
		// job, so that one of them drains soon: otherwise the suspect could
		// wait for the end of the inputs, and under -k hold all output
		// behind it. The first node to drain takes it (receive wakes the
		// queue when a node goes idle).
		if len(q.fresh) > 0 && !suspectWaits {
			j := q.fresh[0]
			q.fresh[0] = nil
			q.fresh = q.fresh[1:]
			if len(q.fresh) == 0 {
				q.fresh = q.fresh[:0:0]
			}
			if len(q.fresh) == q.limit/2 {
				// The feeder waits for this low-water mark (see push).
				q.cond.Broadcast()
			}
			return j, true
		}
		if q.srcDone && q.pending == 0 {
			return nil, false
		}
		if !wait {
			return nil, true
		}
		q.cond.Wait()
	}
}

// suspectWaiting reports whether a job that was running when a node was
// lost waits for an idle node.
func (q *queue) suspectWaiting() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range q.retry {
		if r.losses > 0 {
			return true
		}
	}
	return false
}

// wake unblocks waiters so they re-check conditions such as node counts.
func (q *queue) wake() {
	q.mu.Lock()
	q.cond.Broadcast()
	q.mu.Unlock()
}
