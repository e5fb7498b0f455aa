package sched

import (
	"fmt"
	"io"
	"os"
	"sync"

	"concurr/internal/wire"
)

// Data streams to agents (see package wire): a job's input goes to its node
// as a stream that the job's node sends in chunks, each within the credit
// its agent has granted. Every stream has a goroutine of its own, owned by
// its nodeRun; the connection's write lock interleaves their chunks with one
// another and with every other frame, one chunk at a time, so that no
// stream stalls the jobs beside it, and no stream has more than
// wire.StreamWindow bytes in the agent's memory.

// outStream is one stream this client sends to a node.
type outStream struct {
	id   uint64
	nr   *nodeRun
	more chan struct{} // credit arrived, or the job ended
	done chan struct{} // closed when the job has ended: stop sending

	mu       sync.Mutex
	credit   int
	doneOnce sync.Once
	answer   chan uint64 // a --basefile stream's, until the agent answers (see firstCredit)
}

func (st *outStream) addCredit(n uint64) {
	st.mu.Lock()
	st.credit = int(min(uint64(st.credit)+n, 1<<40))
	st.mu.Unlock()
	select {
	case st.more <- struct{}{}:
	default:
	}
}

// finish stops the stream: its job has a result, or will not run.
func (st *outStream) finish() { st.doneOnce.Do(func() { close(st.done) }) }

// take waits for credit and returns how much of want may be sent now, or
// 0 once the job has ended or the node is gone.
func (st *outStream) take(want int) int {
	for {
		st.mu.Lock()
		n := min(want, st.credit)
		st.credit -= n
		st.mu.Unlock()
		if n > 0 {
			return n
		}
		select {
		case <-st.more:
		case <-st.done:
			return 0
		case <-st.nr.gone:
			return 0
		}
	}
}

// write sends p as Data frames within the stream's credit. It reports
// false when the stream is to stop.
func (st *outStream) write(p []byte) bool {
	for len(p) > 0 {
		n := st.take(min(len(p), wire.StreamChunk))
		if n == 0 {
			return false
		}
		if err := st.nr.conn.Send(&wire.Data{Stream: st.id, Data: p[:n]}, true); err != nil {
			return false
		}
		p = p[n:]
	}
	return true
}

// openInput sends the Open of j's input stream, which precedes its Input,
// and returns the stream. A --pipepart range goes by name to a node that
// shares this machine's files; to any other it is read and sent.
func (nr *nodeRun) openInput(j *job) (*outStream, error) {
	nr.mu.Lock()
	nr.lastStream++
	st := &outStream{id: nr.lastStream, nr: nr, credit: wire.StreamWindow,
		more: make(chan struct{}, 1), done: make(chan struct{})}
	nr.streams[st.id] = st
	nr.mu.Unlock()
	open := &wire.Open{Stream: st.id, Kind: nr.run.inputKind(), Seq: j.seq}
	if b := j.input.block; b.Path != "" && nr.node.Local {
		open.Path, open.Offset, open.Length = b.Path, uint64(b.Offset), uint64(b.Length)
	}
	if err := nr.conn.Send(open, false); err != nil {
		return nil, err
	}
	return st, nil
}

// sendInput sends j's input on st and ends the stream. It is the
// stream's goroutine.
func (nr *nodeRun) sendInput(j *job, st *outStream, open bool) {
	defer func() {
		nr.mu.Lock()
		delete(nr.streams, st.id)
		nr.mu.Unlock()
		nr.run.unref(j.input)
	}()
	in := j.input
	var err error
	ok := true
	if in.feed != nil {
		ok, err = in.feed.sendTo(st)
	} else {
		ok = st.write(in.block.Data)
		if ok && in.block.Path != "" && !open {
			ok, err = sendRange(st, in.block)
		}
	}
	if !ok && err == nil {
		return // the job ended or the node is gone: nothing more to say
	}
	end := &wire.End{Stream: st.id}
	if err != nil {
		end.Error = err.Error()
		nr.run.warnf("job %d: %v", j.seq, err)
	}
	nr.conn.Send(end, true)
}

// sendRange reads a --pipepart block's range of its file and sends it.
func sendRange(st *outStream, b Block) (bool, error) {
	f, err := os.Open(b.Path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, min(b.Length, wire.StreamChunk))
	for off := int64(0); off < b.Length; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), b.Length-off)], b.Offset+off)
		if n > 0 {
			if !st.write(buf[:n]) {
				return false, nil
			}
			off += int64(n)
		}
		if err == io.EOF && off < b.Length {
			return false, fmt.Errorf("%s: the file ended at %d bytes, before the block's end at %d", b.Path, b.Offset+off, b.Offset+b.Length)
		}
		if err != nil && err != io.EOF {
			return false, err
		}
	}
	return true, nil
}

// streamCredit handles an agent's Credit for a stream.
func (nr *nodeRun) streamCredit(m *wire.Credit) {
	nr.mu.Lock()
	st := nr.streams[m.Stream]
	nr.mu.Unlock()
	if st != nil && !st.firstCredit(m.Bytes) {
		st.addCredit(m.Bytes)
	}
}
