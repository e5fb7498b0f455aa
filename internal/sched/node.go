package sched

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"concurr/internal/wire"
)

// nodeRun is one connected agent's part in a run: its jobs in flight, and
// the credit that says how many more it may be sent.
type nodeRun struct {
	run   *run
	node  Node
	conn  *Conn
	slots int

	mu       sync.Mutex
	inflight map[uint64]*job
	credit   chan struct{}
	changed  chan struct{} // a result arrived or the node was lost
	gone     chan struct{} // closed when the node is lost
	dead     bool
	closing  bool  // the client ended the stream on purpose
	lost     bool  // the stream ended while jobs were in flight or to come
	refused  bool  // the agent refused the command: the node is out of the run
	cause    error // why the stream ended, when the client knows

	streams    map[uint64]*outStream // input streams being sent, by number
	lastStream uint64
	inFiles    map[uint64]*inFile // returned files being received, by the agent's stream number
	streamsWG  sync.WaitGroup     // the streams' goroutines

	heard atomic.Int64 // when the agent last sent anything, Unix nanoseconds

	limit limitState // --limit

	// Prefetch accounting, owned by the receiver.
	results         int
	runtime         time.Duration
	prefetchGranted bool
}

// nodesInRun counts the nodes that are up or on their way (connecting or
// rejoining): a retried job waits for another of them rather than run again
// where it failed.
func (r *run) nodesInRun() int {
	r.nodesMu.Lock()
	defer r.nodesMu.Unlock()
	return r.live
}

// Rejoin policy for a node that was up and was lost: it is dialled again
// after RejoinDelay, doubling up to RejoinMaxDelay, at most RejoinTries
// times in a row before it is given up.
var (
	RejoinDelay    = time.Second
	RejoinMaxDelay = 30 * time.Second
	RejoinTries    = 6
)

// runNode runs one node for the whole run: it starts the node's agent and
// feeds it; when a node that was up is lost, its jobs go back to the queue
// and it is dialled again with backoff, so that a host that comes back
// rejoins. A node that cannot be reached at the start is not retried (the
// transport already retries what is worth retrying).
func (r *run) runNode(ctx, dialCtx context.Context, n Node) {
	defer r.nodeGone()
	delay := RejoinDelay
	wasUp := false
	tries := 0
	for {
		conn, err := n.Dial(dialCtx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if dialCtx.Err() != nil {
				return // the jobs were done before the host was up
			}
			if !wasUp {
				r.warnNode(n.Name, err)
				r.reportDown(NodeDown{Name: n.Name, Err: err, Final: true})
				return
			}
			r.warnNode(n.Name, fmt.Errorf("rejoin failed: %w", err))
			r.reportDown(NodeDown{Name: n.Name, Err: err, Joined: true, Final: tries >= RejoinTries})
		} else {
			rejoin := wasUp
			wasUp, tries, delay = true, 0, RejoinDelay
			if !r.serveNode(ctx, n, conn, rejoin) {
				return
			}
		}
		tries++
		if tries > RejoinTries || ctx.Err() != nil || r.q.over() {
			return
		}
		r.warnf("%s: trying to rejoin in %s", n.Name, delay)
		if !r.sleepUnlessOver(ctx, delay) {
			return
		}
		delay = min(delay*2, RejoinMaxDelay)
	}
}

// sleepUnlessOver waits d, and reports false if the run ended meanwhile.
func (r *run) sleepUnlessOver(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil || r.q.over() {
			return false
		}
		time.Sleep(min(50*time.Millisecond, time.Until(deadline)))
	}
	return ctx.Err() == nil && !r.q.over()
}

// serveNode feeds one connected agent until the run is over for it. It
// reports whether the node was lost with the run unfinished.
func (r *run) serveNode(ctx context.Context, n Node, conn *Conn, rejoin bool) (lost bool) {
	nr := r.newNodeRun(n, conn, nodeSlots(n, conn.Hello))
	r.nodesMu.Lock()
	r.nodes = append(r.nodes, nr)
	r.connected++
	r.nodesMu.Unlock()
	r.blocks.wake() // more slots: room for more blocks
	r.mu.Lock()
	r.everUp = true
	r.mu.Unlock()
	defer func() {
		r.nodesMu.Lock()
		r.nodes = slices.DeleteFunc(r.nodes, func(x *nodeRun) bool { return x == nr })
		r.nodesMu.Unlock()
	}()

	// The command goes out with the first jobs, in one write: see
	// wire.ClientHandshake for what a second small write can cost.
	err := conn.Send(&wire.Command{ID: 1, Template: r.template, Env: r.cfg.Env,
		Workdir: r.cfg.Workdir, Host: n.Name, Slots: uint64(nr.slots),
		MemFree: r.cfg.MemFree, MaxLoad: r.cfg.MaxLoad, Nice: int64(r.cfg.Nice), Shell: r.cfg.Shell,
		Terminal: r.cfg.Terminal}, false)
	if errors.Is(err, wire.ErrFrameTooLarge) {
		// Nothing was sent, and no node could take it: the run cannot go on.
		r.fail(fmt.Errorf("the command with its environment is too large to send to any host: %w", err))
		conn.Close()
		r.nodeLost(nr)
		return false
	}
	if err != nil {
		if !r.q.over() {
			r.warnNode(n.Name, err)
		}
		nr.setCause(err)
		conn.Close()
		r.nodeLost(nr)
		return true
	}
	if !nr.sendBases() {
		conn.Close()
		r.nodeLost(nr)
		return false
	}
	r.reportUp(NodeUp{Name: n.Name, Cores: int(conn.Hello.Slots), Slots: nr.slots, Rejoin: rejoin})
	var wg sync.WaitGroup
	nr.heard.Store(time.Now().UnixNano())
	stopPing := make(chan struct{})
	wg.Go(func() { nr.receive() })
	if n.PingEvery > 0 {
		wg.Go(func() { nr.ping(stopPing) })
	}
	if r.cfg.Limit != nil {
		wg.Go(func() { nr.watchLimit(ctx) })
	}
	defer close(stopPing)
	nr.send(ctx)
	if !nr.isIdle() {
		// Jobs still run: the agent retires the command as they end. With
		// none left, the end of the stream says as much, and a Delete
		// just before it would be a second small write (see
		// wire.ClientHandshake).
		nr.conn.Send(&wire.Delete{Command: 1}, true)
	}
	nr.drain(ctx)
	nr.mu.Lock()
	nr.closing = true
	nr.mu.Unlock()
	nr.conn.CloseWrite()
	wg.Wait()
	nr.streamsWG.Wait()
	nr.conn.Close()
	nr.mu.Lock()
	defer nr.mu.Unlock()
	return nr.lost && !nr.refused && !r.q.over()
}

// nodeSlots is how many jobs the node runs at once. The handshake bounds
// what the agent announced; -j's count (say -j 1000000, or a percentage of
// a large count) is bounded here, as the credit and the agent's slots are
// sized by it.
func nodeSlots(n Node, hello wire.Hello) int {
	return min(max(n.Slots(hello), 1), wire.MaxSlots)
}

// warnNode reports a node's failure, named after the node, keeping the
// error's hint.
func (r *run) warnNode(name string, err error) {
	if !strings.HasPrefix(err.Error(), name+": ") {
		err = fmt.Errorf("%s: %w", name, err)
	}
	r.cfg.Warn(err)
}

// warnf reports a problem the run survives.
func (r *run) warnf(format string, args ...any) {
	r.cfg.Warn(fmt.Errorf(format, args...))
}

// nodeLost takes a connected node out of the run and puts its unfinished
// jobs back in the queue, keeping their sequence numbers.
func (r *run) nodeLost(nr *nodeRun) {
	nr.mu.Lock()
	if nr.dead {
		nr.mu.Unlock()
		return
	}
	nr.dead = true
	close(nr.gone)
	nr.lost = !nr.closing || len(nr.inflight) > 0
	refused := nr.refused
	lost, cause := nr.lost, nr.cause
	orphans := make([]*job, 0, len(nr.inflight))
	for _, j := range nr.inflight {
		orphans = append(orphans, j)
	}
	clear(nr.inflight)
	for _, st := range nr.streams {
		st.finish()
	}
	nr.abortReturnsLocked()
	nr.mu.Unlock()
	if lost || refused {
		down := NodeDown{Name: nr.node.Name, Err: cause, Joined: true, Final: refused}
		for _, j := range orphans {
			down.Requeued = append(down.Requeued, j.seq)
		}
		slices.Sort(down.Requeued)
		r.reportDown(down)
	}
	nr.signal()
	r.nodesMu.Lock()
	r.connected--
	r.nodesMu.Unlock()
	sort.Slice(orphans, func(a, b int) bool { return orphans[a].seq < orphans[b].seq })
	over := r.q.over()
	for _, j := range orphans {
		r.cfg.Output.Discard(j.out)
		j.node = nil
		j.avoid = nr.node.Name
		if refused {
			// It never ran: the node refused it with the command.
			r.q.requeue(j)
			continue
		}
		if j.input != nil && j.input.feed != nil && !over {
			// Its input was streamed to it as it was read, and is gone.
			r.giveUp(j, nr, fmt.Sprintf("job %d lost its host %s, and its input, streamed as it was read (--tee, --round-robin), cannot be sent again", j.seq, nr.node.Name))
			continue
		}
		j.losses++
		if most := r.maxLosses(); j.losses >= most && !over {
			// A job that was running each time may be what kills the
			// agent (the OOM killer, a kill of its parent): requeued, it
			// would take down every host in turn, for ever.
			r.giveUp(j, nr, fmt.Sprintf("job %d was running each time its host was lost (%d times, last on %s)", j.seq, j.losses, nr.node.Name))
			continue
		}
		r.q.requeue(j)
	}
	r.q.wake()
}

// maxLosses is how many times a job may be running on a node that is lost
// before it is failed: twice, or --retries times when that is more.
func (r *run) maxLosses() int { return max(2, r.cfg.Retries) }

// nodeGone records that a node is out of the run for good. When the last
// one goes with jobs unfinished, the run cannot go on.
func (r *run) nodeGone() {
	r.nodesMu.Lock()
	r.live--
	live := r.live
	r.nodesMu.Unlock()
	r.q.wake()
	if live > 0 {
		return
	}
	r.q.mu.Lock()
	unfinished := !(r.q.srcDone && r.q.pending == 0) && !r.q.stopping
	r.q.mu.Unlock()
	if unfinished {
		r.mu.Lock()
		r.nodesMu.Lock()
		refusal := r.refusal
		r.nodesMu.Unlock()
		if r.fatal == nil {
			switch {
			case refusal != nil:
				// The last node left refused the command; any before it
				// were reported as they went.
				r.fatal = refusal
			case r.everUp:
				r.fatal = errors.New("every host was lost before the jobs finished")
			default:
				r.fatal = ErrNoNodes
			}
		}
		r.mu.Unlock()
	}
	r.q.stop()
}

// drain waits until the node has no job left in flight, so that closing its
// stream kills nothing that should finish. After ctx ends it waits only
// briefly: the jobs were cancelled and should report at once.
func (nr *nodeRun) drain(ctx context.Context) {
	var grace <-chan time.Time
	for {
		nr.mu.Lock()
		idle := len(nr.inflight) == 0 || nr.dead
		nr.mu.Unlock()
		if idle {
			return
		}
		if grace == nil && ctx.Err() != nil {
			grace = time.After(5 * time.Second)
		}
		select {
		case <-nr.changed:
		case <-ctx.Done():
		case <-grace:
			return
		}
	}
}

// ping asks a quiet agent for a sign of life, and ends the node's stream
// when none comes, which hands its jobs to the others.
func (nr *nodeRun) ping(stop <-chan struct{}) {
	every := nr.node.PingEvery
	misses := max(nr.node.PingMisses, 1)
	tick := time.NewTicker(every / 4)
	defer tick.Stop()
	var nonce uint64
	var lastPing time.Time
	for {
		select {
		case <-stop:
			return
		case <-nr.gone:
			return
		case <-tick.C:
		}
		quiet := time.Since(time.Unix(0, nr.heard.Load()))
		if quiet > every*time.Duration(misses) {
			err := timeoutError{fmt.Errorf("the agent answered nothing for %s", quiet.Round(time.Second))}
			nr.setCause(err)
			nr.run.warnf("%s: %v", nr.node.Name, err)
			nr.conn.Close()
			return
		}
		if quiet >= every && time.Since(lastPing) >= every {
			lastPing = time.Now()
			nonce++
			// A stopped agent stops reading too: once its stream is full,
			// the send blocks, and the deadline must still end it.
			deadline := time.AfterFunc(every*time.Duration(misses), func() { nr.conn.Close() })
			nr.conn.Send(&wire.Ping{Nonce: nonce}, true)
			deadline.Stop()
		}
	}
}

func (nr *nodeRun) isDead() bool {
	nr.mu.Lock()
	defer nr.mu.Unlock()
	return nr.dead
}

func (nr *nodeRun) signal() {
	select {
	case nr.changed <- struct{}{}:
	default:
	}
}
