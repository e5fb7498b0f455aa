package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"concurr/internal/wire"
)

// inStream is a data stream the client sends (see package wire): its chunks
// wait here, within the stream's window, until the consumer (a job's stdin,
// a file being written) takes them, and each chunk taken is credited back.
// The frame reader pushes and never blocks; the consumer pulls.
type inStream struct {
	s    *session
	open wire.Open

	mu       sync.Mutex
	more     sync.Cond
	chunks   [][]byte
	buffered int
	ended    bool  // the client sent End
	err      error // the stream was aborted, by the client or by its consumer
	dropped  bool  // the consumer is gone: what comes is discarded
	unacked  int   // bytes consumed and not yet credited
}

// chunkPool holds the buffers that streams' chunks are copied into, so
// that a run that streams gigabytes does not allocate them anew.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, wire.StreamChunk); return &b }}

// copyChunk copies a Data frame's bytes into a pooled buffer.
func copyChunk(data []byte) []byte {
	if len(data) > wire.StreamChunk {
		return append([]byte(nil), data...)
	}
	b := *chunkPool.Get().(*[]byte)
	return b[:copy(b[:cap(b)], data)]
}

// recycleChunk gives a chunk that has been consumed back to the pool.
func recycleChunk(c []byte) {
	if cap(c) == wire.StreamChunk {
		c = c[:cap(c)]
		chunkPool.Put(&c)
	}
}

// creditStep is how many consumed bytes are gathered into one Credit.
const creditStep = wire.StreamWindow / 4

// errStreamDropped ends a read of a stream whose consumer has gone.
var errStreamDropped = errors.New("the stream's job has ended")

func newInStream(s *session, m *wire.Open) *inStream {
	st := &inStream{s: s, open: *m}
	st.more.L = &st.mu
	return st
}

// push takes a Data frame's bytes, which are the stream's own (Decode
// copies them). A client that sends beyond the window breaks the protocol:
// the stream is aborted rather than grow without bound.
func (st *inStream) push(data []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.dropped || st.err != nil || st.ended || len(data) == 0 {
		return
	}
	if st.buffered+len(data) > wire.StreamWindow+wire.StreamChunk {
		st.err = fmt.Errorf("stream %d: the client sent beyond its credit", st.open.Stream)
		st.s.logf("%v", st.err)
		st.chunks, st.buffered = nil, 0
		st.more.Broadcast()
		return
	}
	st.chunks = append(st.chunks, data)
	st.buffered += len(data)
	st.more.Broadcast()
}

// end records the client's End.
func (st *inStream) end(msg string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if msg != "" && st.err == nil {
		st.err = fmt.Errorf("the client gave up on the input: %s", msg)
	}
	st.ended = true
	st.more.Broadcast()
}

// drop says that the consumer is gone: a blocked next returns, and what
// is buffered or still comes is discarded without credit, so that the
// client's sender waits until it learns that the job is over.
func (st *inStream) drop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.dropped = true
	for _, c := range st.chunks {
		recycleChunk(c)
	}
	st.chunks, st.buffered = nil, 0
	st.more.Broadcast()
}

// next waits for the stream's next chunk. It returns io.EOF at the
// stream's clean end.
func (st *inStream) next() ([]byte, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.chunks) == 0 && !st.ended && st.err == nil && !st.dropped {
		st.more.Wait()
	}
	switch {
	case st.dropped:
		return nil, errStreamDropped
	case st.err != nil:
		return nil, st.err
	case len(st.chunks) == 0:
		return nil, io.EOF
	}
	c := st.chunks[0]
	st.chunks[0] = nil
	st.chunks = st.chunks[1:]
	st.buffered -= len(c)
	return c, nil
}

// consumed credits n bytes back to the client, in steps of creditStep.
func (st *inStream) consumed(n int) {
	st.mu.Lock()
	st.unacked += n
	send := st.unacked >= creditStep && !st.ended && !st.dropped
	credit := st.unacked
	if send {
		st.unacked = 0
	}
	st.mu.Unlock()
	if send {
		st.s.out.send(&wire.Credit{Stream: st.open.Stream, Bytes: uint64(credit)})
	}
}

// WriteTo copies the whole stream to w: its data, then the range of the
// agent's own file that Open named, if any. It stops at the first error,
// and drops the stream on a write error, as its consumer is gone.
func (st *inStream) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		c, err := st.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return total, err
		}
		n, err := w.Write(c)
		total += int64(n)
		st.consumed(len(c))
		recycleChunk(c)
		if err != nil {
			st.drop()
			return total, err
		}
	}
	if st.open.Path == "" || st.open.Length == 0 {
		return total, nil
	}
	n, err := copyRange(w, st.open.Path, int64(st.open.Offset), int64(st.open.Length))
	total += n
	if err != nil {
		st.drop()
	}
	return total, err
}

// copyRange copies length bytes of the file path from offset to w, in
// large reads: a pipe to a job takes as much as it holds per write.
func copyRange(w io.Writer, path string, offset, length int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	if out, ok := w.(*os.File); ok {
		var err error
		if total, err = sendRange(out, f, offset, length); err != nil || total == length {
			return total, err
		}
	}
	buf := make([]byte, min(length-total, 1<<20))
	for total < length {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), length-total)], offset+total)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, fmt.Errorf("%s: the file ended at %d bytes, before the block's end at %d", path, offset+total, offset+length)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// openStream registers a stream the client opens. A job's input waits for
// the job's Input, which follows.
func (s *session) openStream(m *wire.Open) {
	switch m.Kind {
	case wire.StreamStdin, wire.StreamCat, wire.StreamFifo, wire.StreamFile:
	case wire.StreamBase:
		s.openBase(m)
		return
	case wire.StreamReturn:
		s.mu.Lock()
		if !s.closing {
			s.jobReturns[m.Seq] = append(s.jobReturns[m.Seq], *m)
		}
		s.mu.Unlock()
		return
	default:
		s.out.send(&wire.Error{Seq: m.Seq, Message: fmt.Sprintf("stream %d has an unknown kind %d", m.Stream, m.Kind)})
		return
	}
	st := newInStream(s, m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	if old := s.streams[m.Stream]; old != nil {
		old.drop()
	}
	s.streams[m.Stream] = st
	if m.Kind == wire.StreamFile {
		s.jobFiles[m.Seq] = append(s.jobFiles[m.Seq], st)
		return
	}
	s.jobInputs[m.Seq] = st
}

func (s *session) streamData(m *wire.Data) {
	s.mu.Lock()
	st := s.streams[m.Stream]
	s.mu.Unlock()
	if st != nil {
		st.push(m.Data)
	}
}

func (s *session) streamEnd(m *wire.End) {
	s.mu.Lock()
	st := s.streams[m.Stream]
	// No more Data comes for it: the consumer holds it from now on.
	delete(s.streams, m.Stream)
	s.mu.Unlock()
	if st != nil {
		st.end(m.Error)
	}
}

// takeJobInput hands the job of seq its input stream, if it has one.
// Called with s.mu held.
func (s *session) takeJobInputLocked(seq uint64) *inStream {
	st := s.jobInputs[seq]
	delete(s.jobInputs, seq)
	return st
}

// forgetStream drops a stream whose consumer is done with it.
func (s *session) forgetStream(st *inStream) {
	st.drop()
	s.mu.Lock()
	if s.streams[st.open.Stream] == st {
		delete(s.streams, st.open.Stream)
	}
	if s.jobInputs[st.open.Seq] == st {
		delete(s.jobInputs, st.open.Seq)
	}
	s.mu.Unlock()
}

// dropStreams wakes every stream's consumer at shutdown.
func (s *session) dropStreams() {
	s.mu.Lock()
	all := make([]*inStream, 0, len(s.streams)+len(s.jobInputs))
	for _, st := range s.streams {
		all = append(all, st)
	}
	for _, st := range s.jobInputs {
		all = append(all, st)
	}
	for _, sts := range s.jobFiles {
		all = append(all, sts...)
	}
	clear(s.streams)
	clear(s.jobInputs)
	clear(s.jobFiles)
	s.mu.Unlock()
	for _, st := range all {
		st.drop()
	}
}
