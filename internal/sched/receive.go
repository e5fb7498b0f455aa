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
	for {
		m, err := nr.conn.Receive()
		nr.heard.Store(time.Now().UnixNano())
		if err != nil {
			nr.mu.Lock()
			expected := nr.closing && len(nr.inflight) == 0
			nr.mu.Unlock()
			if !expected {
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
				}
				r.cfg.Output.Chunk(j.out, int(m.Stream), m.Data)
			}
		case *wire.Result:
			nr.mu.Lock()
			j := nr.inflight[m.Seq]
			delete(nr.inflight, m.Seq)
			nr.mu.Unlock()
			if j != nil {
				// Finish first: a halt must be known before the slot is
				// offered another job.
				r.finish(j, nr, m)
				nr.credit <- struct{}{}
				nr.grantPrefetch(m)
				nr.signal()
			}
		case *wire.Error:
			r.fail(fmt.Errorf("%s: agent refused the command: %s", nr.node.Name, m.Message))
		}
		if nr.conn.Idle() {
			if err := r.cfg.Output.Flush(); err != nil {
				r.fail(fmt.Errorf("write output: %w", err))
			}
		}
	}
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
