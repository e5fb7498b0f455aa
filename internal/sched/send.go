package sched

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"concurr/internal/output"
	"concurr/internal/template"
	"concurr/internal/wire"
)

// send hands jobs to the node while it has credit, sending as many as are
// at hand before one flush.
func (nr *nodeRun) send(ctx context.Context) {
	r := nr.run
	for {
		select {
		case <-nr.credit:
		case <-nr.gone:
			return
		case <-ctx.Done():
			return
		}
		if !nr.gather(ctx) {
			return
		}
		if !nr.waitLimit(ctx) {
			return
		}
		j, ok := r.q.take(nr.node.Name, r.nodesInRun, nr.isDead, nr.isIdle, true)
		if !ok {
			return
		}
		if nr.start(j) != nil {
			return
		}
		if j.losses > 0 {
			// A suspect runs alone (see queue.take).
			if nr.conn.Flush() != nil || !nr.waitIdle(ctx) {
				return
			}
			continue
		}
	more:
		for {
			select {
			case <-nr.credit:
			default:
				break more
			}
			if !nr.waitLimit(ctx) {
				return
			}
			j, ok = r.q.take(nr.node.Name, r.nodesInRun, nr.isDead, nr.isIdle, false)
			if j == nil {
				nr.credit <- struct{}{}
				if !ok {
					nr.conn.Flush()
					return
				}
				break
			}
			if nr.start(j) != nil {
				return
			}
			if j.losses > 0 {
				if nr.conn.Flush() != nil || !nr.waitIdle(ctx) {
					return
				}
				break
			}
		}
		if nr.conn.Flush() != nil {
			return
		}
	}
}

// gather holds a freed credit back while the node still has more than half
// of its prefetch queued behind its busy slots, until that half has drained:
// the jobs then go in one write, and the agent reads them in one read.
// Sent one by one, as each Result frees a credit, short jobs cost the
// client a write and a wake-up, and the agent a read and a wake-up, each;
// the two processes then take turns instead of running side by side. The
// agent never runs dry for it, as half the prefetch is still queued there
// when the batch leaves. It reports false when the node or the run ended.
func (nr *nodeRun) gather(ctx context.Context) bool {
	ahead := cap(nr.credit) - nr.slots
	if ahead < 4 {
		return true
	}
	for {
		nr.mu.Lock()
		queued := len(nr.inflight) - nr.slots
		nr.mu.Unlock()
		if queued <= ahead/2 {
			return true
		}
		select {
		case <-nr.changed:
		case <-nr.gone:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// isIdle reports whether the node has no job in flight.
func (nr *nodeRun) isIdle() bool {
	nr.mu.Lock()
	defer nr.mu.Unlock()
	return len(nr.inflight) == 0
}

// waitIdle waits until the node has no job in flight, and reports false
// when the node or the run ended first.
func (nr *nodeRun) waitIdle(ctx context.Context) bool {
	for !nr.isIdle() {
		select {
		case <-nr.changed:
		case <-nr.gone:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return !nr.isDead()
}

// start sends one job to the node.
func (nr *nodeRun) start(j *job) error {
	r := nr.run
	if r.cfg.Delay > 0 {
		r.nodesMu.Lock()
		wait := time.Until(r.lastStart.Add(r.cfg.Delay))
		if wait > 0 {
			r.lastStart = r.lastStart.Add(r.cfg.Delay)
		} else {
			r.lastStart = time.Now()
		}
		r.nodesMu.Unlock()
		if wait > 0 {
			nr.conn.Flush()
			time.Sleep(wait)
		}
	}
	var tag []byte
	if r.cfg.Tag != nil {
		tag = r.cfg.Tag(j.args, j.seq, nr.node.Name)
	}
	if j.out == nil {
		dir := ""
		if r.cfg.ResultsDir != nil {
			dir = r.cfg.ResultsDir(j.args, j.seq)
		}
		j.out = r.cfg.Output.Begin(j.seq, tag, dir)
	} else {
		j.out.Tag = tag
	}
	if j.out.ResultsErr() != nil {
		// Its output would have nowhere to go: it fails without running.
		nr.credit <- struct{}{}
		r.finish(j, nr, &wire.Result{Seq: j.seq, Start: time.Now().UnixNano(), Flags: wire.ResultNotRun})
		return nil
	}
	j.node = nr
	j.stdout, j.stderr = 0, 0
	if r.cfg.Started != nil {
		slot := (j.seq-1)%uint64(nr.slots) + 1
		r.cfg.Started(r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: slot, Host: nr.node.Name, Args: j.args}))
	}
	if r.cfg.DryRun {
		slot := (j.seq-1)%uint64(nr.slots) + 1
		text := r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: slot, Slots: uint64(nr.slots), Host: nr.node.Name, Args: j.args})
		r.cfg.Output.Chunk(j.out, output.Stdout, []byte(text+"\n"))
		nr.credit <- struct{}{}
		r.finish(j, nr, &wire.Result{Seq: j.seq, Slot: slot, Start: time.Now().UnixNano()})
		return nil
	}
	in := &wire.Input{Command: 1, Seq: j.seq, Args: j.args, Timeout: r.timeoutMillis()}
	if size := in.FrameSize(); size > wire.MaxFrame {
		// No node could take it: sent, it would fail the stream and be
		// requeued for ever.
		nr.credit <- struct{}{}
		r.giveUp(j, nr, fmt.Sprintf("command line too long (%d >= %d) at job %d", size, wire.MaxFrame, j.seq))
		return nil
	}
	var send []fileToSend
	j.returns, j.files, j.returning = nil, nil, nil
	if r.cfg.Transfer != nil && !nr.node.Local {
		var err error
		if send, j.returns, err = nr.transferPlan(j); err != nil {
			nr.credit <- struct{}{}
			r.cfg.Output.Discard(j.out)
			r.giveUp(j, nr, fmt.Sprintf("job %d: %v", j.seq, err))
			return nil
		}
	}
	nr.mu.Lock()
	if nr.dead {
		nr.mu.Unlock()
		r.q.requeue(j)
		return errors.New("node lost")
	}
	j.sent = time.Now()
	j.timedOut = false
	nr.inflight[j.seq] = j
	nr.mu.Unlock()
	r.reportStarted(j, nr)
	var st *outStream
	var err error
	// files is read after the Send from this goroutine's own copy: once
	// the node has the job, it may refuse it and have it requeued, and
	// another node's sender then resets the job's fields.
	var files []*outStream
	if r.cfg.Transfer != nil && !nr.node.Local {
		files, err = nr.openTransfers(j, send)
		j.files = files
	}
	if err == nil && j.input != nil {
		if st, err = nr.openInput(j); err == nil {
			j.stream = st
		}
	}
	if err == nil {
		err = nr.conn.Send(in, false)
	}
	if err != nil {
		r.warnf("%s: %v", nr.node.Name, err)
		nr.conn.Close()
		r.nodeLost(nr)
		return err
	}
	for i, fs := range files {
		f := send[i]
		nr.streamsWG.Go(func() { nr.sendFile(j, fs, f) })
	}
	if st != nil {
		byName := j.input.block.Path != "" && nr.node.Local
		j.input.refs.Add(1) // the stream's, until it is sent
		nr.streamsWG.Go(func() { nr.sendInput(j, st, byName) })
	}
	return nil
}

// giveUp fails a job that cannot run, for the reason given, without
// retrying it: it counts as failed, and the job log gives it GNU Parallel's
// Exitval -1.
func (r *run) giveUp(j *job, nr *nodeRun, why string) {
	command := r.cfg.Template.Display(template.Job{Seq: j.seq, Host: nr.node.Name, Args: j.args})
	r.warnf("%s: %s", why, clipCommand(command))
	if j.out == nil {
		j.out = r.cfg.Output.Begin(j.seq, nil, "")
	}
	j.attempt = max(j.attempt, r.cfg.Retries)
	r.finish(j, nr, &wire.Result{Seq: j.seq, Exit: 255, Start: time.Now().UnixNano(), Flags: wire.ResultNotRun})
}

// clipCommand shortens a command for a message, as GNU Parallel does for
// one too long to run.
func clipCommand(s string) string { return clip(s, 60) }

// clip cuts s to at most most bytes, at a character boundary, marking the
// cut.
func clip(s string, most int) string {
	if len(s) <= most {
		return s
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// newNodeRun sets up a connected node with the credit it starts with: one
// job per slot, and its prefetch at once only when it is the run's sole node.
func (r *run) newNodeRun(n Node, conn *Conn, slots int) *nodeRun {
	nr := &nodeRun{run: r, node: n, conn: conn, slots: slots, streams: make(map[uint64]*outStream), inFiles: make(map[uint64]*inFile),
		inflight: make(map[uint64]*job), changed: make(chan struct{}, 1), gone: make(chan struct{}), credit: make(chan struct{}, slots+n.Prefetch)}
	if r.cfg.Delay > 0 || r.cfg.Halt.When != HaltNever || r.cfg.TimeoutPercent > 0 {
		// Jobs sent ahead would start the moment a slot frees, past the
		// delay or the halt, and before the clock of --timeout N% starts.
		nr.credit = make(chan struct{}, slots)
	}
	// Jobs are sent ahead only once the node's jobs prove short (see
	// grantPrefetch): sent ahead of long jobs, they would wait behind a busy
	// slot while other nodes sit idle.
	for range slots {
		nr.credit <- struct{}{}
	}
	if r.soleNode {
		// No other node could take the jobs sent ahead, so they are sent
		// at once, long jobs too: a slot then starts its next job without
		// waiting for a round trip to the client.
		nr.prefetchGranted = true
		for range cap(nr.credit) - slots {
			nr.credit <- struct{}{}
		}
	}
	return nr
}

// shortJob is the runtime below which jobs are worth sending ahead: the
// round trip to the node then costs more than the job.
const shortJob = 20 * time.Millisecond

// grantPrefetch adds the node's prefetch credit once its first jobs have
// been short on average. It is called by the receiver only.
func (nr *nodeRun) grantPrefetch(res *wire.Result) {
	if nr.prefetchGranted || cap(nr.credit) == nr.slots {
		return
	}
	nr.results++
	nr.runtime += time.Duration(res.Runtime)
	if nr.results < nr.slots {
		return
	}
	if nr.runtime/time.Duration(nr.results) >= shortJob {
		if nr.results >= 4*nr.slots {
			nr.prefetchGranted = true // long jobs: never send ahead
		}
		return
	}
	nr.prefetchGranted = true
	for range cap(nr.credit) - nr.slots {
		nr.credit <- struct{}{}
	}
}
