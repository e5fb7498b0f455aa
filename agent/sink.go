package agent

import (
	"errors"
	"io"
	"sync"

	"concurr/internal/wire"
)

// sinkLimit bounds the frames buffered for the client. Writers block beyond
// it, so that a slow client slows the jobs down instead of growing memory.
const sinkLimit = 128 << 10

// maxChunk is the largest Output frame's data.
const maxChunk = 64 << 10

var (
	errSinkClosed = errors.New("the client connection is closed")
	errJobEnded   = errors.New("the job has ended")
)

// sink serialises the frames that many goroutines send to the client. Frames
// are encoded into a buffer under a mutex; one flusher goroutine takes the
// whole buffer and writes it while the next frames accumulate in a second
// one, so that a burst of small frames costs one write.
type sink struct {
	w     io.Writer
	trace func(dir string, m wire.Message) // nil unless debugging
	onErr func()                           // the client cannot be written to

	mu      sync.Mutex
	filled  sync.Cond // the flusher waits for frames
	drained sync.Cond // writers wait for room
	buf     []byte
	spare   []byte
	closed  bool
	err     error
	done    chan struct{}
}

func newSink(w io.Writer, trace func(string, wire.Message), onErr func()) *sink {
	s := &sink{w: w, trace: trace, onErr: onErr, done: make(chan struct{})}
	s.filled.L = &s.mu
	s.drained.L = &s.mu
	return s
}

// run writes buffered frames until the sink is closed and drained, or a
// write fails. Its owner waits on s.done.
func (s *sink) run() {
	defer close(s.done)
	s.mu.Lock()
	for {
		for len(s.buf) == 0 && !s.closed {
			s.filled.Wait()
		}
		if len(s.buf) == 0 {
			s.mu.Unlock()
			return
		}
		b := s.buf
		s.buf, s.spare = s.spare[:0], nil
		s.drained.Broadcast()
		s.mu.Unlock()
		_, err := s.w.Write(b)
		s.mu.Lock()
		if err != nil {
			s.err = err
			s.buf = nil
			s.drained.Broadcast()
			s.mu.Unlock()
			if s.onErr != nil {
				s.onErr()
			}
			return
		}
		if cap(b) <= 4*sinkLimit {
			s.spare = b[:0]
		}
	}
}

// close stops accepting frames; the flusher writes what is buffered and
// exits. With drop set, buffered frames are discarded: the client is gone.
func (s *sink) close(drop bool) {
	s.mu.Lock()
	s.closed = true
	if drop {
		s.buf = s.buf[:0]
	}
	s.filled.Signal()
	s.drained.Broadcast()
	s.mu.Unlock()
}

// reserve waits for room and reports whether a frame may be appended. It is
// called with s.mu held.
func (s *sink) reserve() error { return s.reserveUpTo(sinkLimit) }

// reserveUpTo is reserve with another limit.
func (s *sink) reserveUpTo(limit int) error {
	for len(s.buf) >= limit && !s.closed && s.err == nil {
		s.drained.Wait()
	}
	if s.closed || s.err != nil {
		return errSinkClosed
	}
	return nil
}

// sendOpening buffers the agent's side of the handshake, which comes
// before anything else on the stream.
func (s *sink) sendOpening(hello *wire.Hello) error {
	if s.trace != nil {
		s.trace("->", hello)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reserve(); err != nil {
		return err
	}
	start := len(s.buf)
	b, err := wire.AppendAgentOpening(s.buf, hello)
	return s.commit(start, b, err)
}

// send buffers one message. It is for the frame reader's answers (Ping,
// Error), which may go beyond sinkLimit up to a larger bound, so that a
// client that is slow to read its jobs' output does not also stop the
// reader from seeing its Cancel frames and its EOF.
func (s *sink) send(m wire.Message) error {
	if s.trace != nil {
		s.trace("->", m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reserveUpTo(4 * sinkLimit); err != nil {
		return err
	}
	start := len(s.buf)
	b, err := wire.AppendFrame(s.buf, m)
	return s.commit(start, b, err)
}

// sendOutput buffers a chunk of j's output, at most maxChunk bytes. It
// refuses output of a job whose Result has been sent.
func (s *sink) sendOutput(j *job, stream uint8, data []byte) error {
	m := wire.Output{Seq: j.seq, Stream: stream, Data: data}
	if s.trace != nil {
		// A copy, so that m itself does not escape to the heap for every
		// chunk when not tracing.
		traced := m
		s.trace("->", &traced)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reserve(); err != nil {
		return err
	}
	if j.ended {
		return errJobEnded
	}
	// The frame is built in steps rather than by wire.AppendFrame, through
	// which m would escape.
	start := len(s.buf)
	b, err := wire.EndFrame(m.AppendTo(wire.BeginFrame(s.buf, wire.TypeOutput)), start)
	return s.commit(start, b, err)
}

// sendResult buffers j's Result; no Output of j follows it.
func (s *sink) sendResult(j *job, m *wire.Result) error {
	if s.trace != nil {
		traced := *m
		s.trace("->", &traced)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j.ended = true
	if err := s.reserve(); err != nil {
		return err
	}
	start := len(s.buf)
	b, err := wire.EndFrame(m.AppendTo(wire.BeginFrame(s.buf, wire.TypeResult)), start)
	return s.commit(start, b, err)
}

// commit keeps the buffer that now ends with the frames appended at start,
// and wakes the flusher if they are the first to wait. s.mu is held.
func (s *sink) commit(start int, b []byte, err error) error {
	s.buf = b
	if err != nil {
		return err
	}
	if start == 0 {
		s.filled.Signal()
	}
	return nil
}
