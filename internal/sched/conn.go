package sched

import (
	"bufio"
	"context"
	"io"
	"sync"

	"concurr/internal/wire"
)

// Conn is the client's end of one agent's protocol stream.
type Conn struct {
	Hello  wire.Hello
	Noise  []byte // what the stream carried before the agent's opening
	r      *wire.Reader
	wmu    sync.Mutex
	w      *wire.Writer
	stdin  io.Closer
	closer io.Closer
}

// Handshake opens the protocol on a stream to a freshly started agent
// (wire.ClientHandshake); when ctx ends first, it closes the stream and
// returns ctx's error. Closing w tells the agent to finish; closer releases
// everything (and kills the agent if it is still running).
func Handshake(ctx context.Context, r io.Reader, w io.WriteCloser, closer io.Closer) (*Conn, error) {
	return startHandshake(ctx, r, w, closer, false)
}

// HandshakeOpened is Handshake on a stream on which the client's opening
// went out already, as the agent started (sshx.Node.Stdin): it reads the
// agent's opening and sends nothing.
func HandshakeOpened(ctx context.Context, r io.Reader, w io.WriteCloser, closer io.Closer) (*Conn, error) {
	return startHandshake(ctx, r, w, closer, true)
}

func startHandshake(ctx context.Context, r io.Reader, w io.WriteCloser, closer io.Closer, opened bool) (*Conn, error) {
	stop := context.AfterFunc(ctx, func() { closer.Close() })
	defer stop()
	c := &Conn{
		r:      wire.NewReader(bufio.NewReaderSize(r, 64<<10)),
		w:      wire.NewWriter(bufio.NewWriterSize(w, 64<<10)),
		stdin:  w,
		closer: closer,
	}
	var hello *wire.Hello
	var noise []byte
	var err error
	if opened {
		hello, noise, err = wire.ReadAgentOpening(c.r)
	} else {
		hello, noise, err = wire.ClientHandshake(c.r, c.w)
	}
	c.Noise = noise
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	c.Hello = *hello
	if !stop() {
		// ctx ended as the handshake finished, and the stream is closed.
		return nil, ctx.Err()
	}
	return c, nil
}

// Send buffers a message; flush sends it and everything buffered before.
func (c *Conn) Send(m wire.Message, flush bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.w.Write(m); err != nil {
		return err
	}
	if flush || c.w.Buffered() >= 32<<10 {
		return c.w.Flush()
	}
	return nil
}

// Flush sends buffered messages.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.w.Flush()
}

// Receive reads the next message. It returns io.EOF when the agent ends its
// stream cleanly.
func (c *Conn) Receive() (wire.Message, error) {
	f, err := c.r.ReadFrame()
	if err != nil {
		return nil, err
	}
	return wire.Decode(f)
}

// Idle reports whether no received bytes wait to be decoded, the moment to
// flush output downstream.
func (c *Conn) Idle() bool { return c.r.Buffered() == 0 }

// CloseWrite ends the stream to the agent, which then exits after killing
// whatever still runs.
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.Flush()
	return c.stdin.Close()
}

// Close releases the connection at once; the agent exits and kills its jobs.
func (c *Conn) Close() error { return c.closer.Close() }
