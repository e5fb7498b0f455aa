package sched

import (
	"errors"
	"fmt"
	"io"
	"time"

	"concurr/internal/wire"
)

// receive handles what the node's agent sends until its stream ends.
func (nr *nodeRun) receive() {
	r := nr.run
	for n := 0; ; n++ {
		m, err := nr.conn.Receive()
		if err != nil || n%64 == 0 || nr.conn.Idle() {
			// Once a read's worth of frames, or every 64 in a longer
			// burst: the clock is most of what a short job's Result
			// costs here, and the pinger needs no finer a mark.
			nr.heard.Store(time.Now().UnixNano())
		}
		if err != nil {
			nr.mu.Lock()
			expected := nr.closing && len(nr.inflight) == 0
			nr.mu.Unlock()
			if !expected {
				nr.setCause(describeEOF(err))
				r.warnf("%s: lost the agent: %v", nr.node.Name, describeEOF(err))
			}
			nr.conn.Close()
			r.nodeLost(nr)
			return
		}
		switch m := m.(type) {
		case *wire.Output:
			if j := nr.lookup(m.Seq); j != nil {
				if m.Stream == wire.Stdout {
					j.stdout += int64(len(m.Data))
				} else {
					j.stderr += int64(len(m.Data))
				}
				r.cfg.Output.Chunk(j.out, int(m.Stream), m.Data)
			}
		case *wire.Result:
			boundResult(m)
			nr.mu.Lock()
			j := nr.inflight[m.Seq]
			delete(nr.inflight, m.Seq)
			nr.mu.Unlock()
			if j != nil && j.stream != nil {
				j.stream.finish()
			}
			if j != nil {
				finishFiles(j)
				nr.awaitReturns(j)
			}
			if j != nil {
				// Finish first: a halt must be known before the slot is
				// offered another job.
				r.finish(j, nr, m)
				nr.credit <- struct{}{}
				nr.grantPrefetch(m)
				nr.signal()
				if nr.isIdle() && r.q.suspectWaiting() {
					r.q.wake()
				}
			}
		case *wire.Credit:
			nr.streamCredit(m)
		case *wire.Open:
			nr.returnOpened(m)
		case *wire.Data:
			nr.returnData(m)
		case *wire.End:
			nr.returnEnd(m)
		case *wire.Error:
			m.Message = clipMessage(m.Message)
			if m.Seq == 0 {
				// The node cannot run the command at all (a --workdir it
				// cannot create, say): it answers every job with an error
				// too. It is dropped, and its jobs go to the others.
				r.refused(nr, m.Message)
				return
			}
			// The agent refused this one job: it finishes, failed, rather
			// than hold its slot's credit for ever.
			nr.mu.Lock()
			j := nr.inflight[m.Seq]
			delete(nr.inflight, m.Seq)
			nr.mu.Unlock()
			if j != nil && j.stream != nil {
				j.stream.finish()
			}
			if j != nil {
				finishFiles(j)
				r.cfg.Output.Discard(j.out)
				nr.credit <- struct{}{}
				r.giveUp(j, nr, fmt.Sprintf("%s: the agent refused job %d: %s", hostLabel(nr.node.Name), j.seq, m.Message))
				nr.signal()
			}
		}
		if nr.conn.Idle() {
			if err := r.cfg.Output.Flush(); err != nil {
				r.fail(fmt.Errorf("write output: %w", err))
			}
		}
	}
}

// boundResult keeps what an agent reports within the protocol's ranges, so
// that a broken one cannot give the run an exit status past 255 or a
// negative runtime (which --timeout N% would take for the median).
func boundResult(m *wire.Result) {
	m.Exit = min(m.Exit, 255)
	m.Signal = min(m.Signal, 255)
	m.Runtime = max(m.Runtime, 0)
}

// clipMessage bounds an agent's error message for a line on stderr.
func clipMessage(s string) string { return clip(s, 500) }

// refused drops a node whose agent refused the command. That is reported
// at once, unless the node is the last one left, whose refusal then ends
// the run.
func (r *run) refused(nr *nodeRun, message string) {
	err := fmt.Errorf("%s: the agent refused the command: %s", hostLabel(nr.node.Name), message)
	nr.setCause(err)
	nr.mu.Lock()
	nr.refused = true
	nr.mu.Unlock()
	r.nodesMu.Lock()
	// Nodes that refused are still live until their runNode returns.
	last := r.live-r.refusing <= 1
	r.refusing++
	r.refusal = err
	r.nodesMu.Unlock()
	if !last {
		r.cfg.Warn(err)
	}
	nr.conn.Close()
	r.nodeLost(nr)
}

// hostLabel names a node in a message.
func hostLabel(name string) string {
	if name == ":" {
		return "local"
	}
	return name
}

func describeEOF(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("connection closed")
	}
	return err
}

func (nr *nodeRun) lookup(seq uint64) *job {
	nr.mu.Lock()
	defer nr.mu.Unlock()
	return nr.inflight[seq]
}
