// Package wire owns the framed protocol spoken between the concurr client and
// its agents, locally over an in-process pipe and remotely over an SSH
// session's stdio.
//
// Each side opens its stream with the magic bytes, then sends frames. A frame
// is a 4-byte big-endian length, then that many bytes: one type byte and the
// message payload. Payload fields are unsigned varints and length-prefixed
// byte strings, so any byte value, including NUL and bytes that are not UTF-8,
// passes through unchanged. Frames larger than MaxFrame are refused before
// anything is allocated, and unknown frame types are returned to the caller,
// which skips them, so that a newer peer can add messages.
//
// Bytes that flow into a job or out of one (a --pipe block on a job's stdin,
// a file sent to a node or returned from it) travel as data streams, on the
// same connection as everything else: Open, Data chunks of at most
// StreamChunk bytes, End. They are flow-controlled by credit: a sender has at
// most StreamWindow bytes of a stream unacknowledged, and the receiver sends
// Credit for what it has passed on, so that memory stays within a window per
// stream on both sides and a slow reader is never flooded. Chunks of all
// streams are interleaved with one another and with other jobs' frames, so
// that no transfer stalls the rest. Details in stream.go.
package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"concurr/internal/varbin"
)

// Magic opens every stream, in both directions. The NUL first byte keeps it
// from being mistaken for text a login shell prints.
const Magic = "\x00concurr\x01"

// Version is the protocol version. The agent announces it in Hello and the
// client refuses an agent whose version differs. Version 2 added
// Command.Shell: an agent that ignored it would run jobs in the wrong shell.
const Version = 2

// MaxFrame is the largest frame either side accepts, type byte included.
const MaxFrame = 64 << 20

// MaxSlots is the most jobs one node may run at once, in Hello and in
// Command. Each slot costs both sides memory and a goroutine, so a count
// from the peer beyond it is refused rather than trusted.
const MaxSlots = 1 << 16

// MaxNoise is how much output a login shell may print before the agent's
// magic bytes appear (MOTD, rc files) before the client gives up.
const MaxNoise = 1 << 20

// ErrFrameTooLarge is returned for a frame whose length exceeds MaxFrame.
var ErrFrameTooLarge = errors.New("frame exceeds the size limit")

// Type identifies a message.
type Type byte

// The message types. The numbers are part of the protocol.
const (
	TypeHello   Type = 1  // agent → client: who the agent is and its slot count
	TypeCommand Type = 2  // client → agent: create a command with a compiled template
	TypeInput   Type = 3  // client → agent: one job for a command
	TypeOutput  Type = 4  // agent → client: a chunk of a job's stdout or stderr
	TypeResult  Type = 5  // agent → client: a job has ended
	TypeDelete  Type = 6  // client → agent: retire a command
	TypeCancel  Type = 7  // client → agent: kill one job or all jobs
	TypeError   Type = 8  // agent → client: a command or input was refused
	TypePing    Type = 9  // either way: liveness; the agent answers with a ping
	TypeOpen    Type = 10 // the sender of a data stream: a new stream (stream.go)
	TypeData    Type = 11 // the sender of a data stream: a chunk of it
	TypeEnd     Type = 12 // the sender of a data stream: its end, or its abort
	TypeCredit  Type = 13 // the receiver of a data stream: room for more of it
)

func (t Type) String() string {
	switch t {
	case TypeHello:
		return "hello"
	case TypeCommand:
		return "command"
	case TypeInput:
		return "input"
	case TypeOutput:
		return "output"
	case TypeResult:
		return "result"
	case TypeDelete:
		return "delete"
	case TypeCancel:
		return "cancel"
	case TypeError:
		return "error"
	case TypePing:
		return "ping"
	case TypeOpen:
		return "open"
	case TypeData:
		return "data"
	case TypeEnd:
		return "end"
	case TypeCredit:
		return "credit"
	}
	return fmt.Sprintf("type(%d)", byte(t))
}

// WriteMagic writes the stream opening.
func WriteMagic(w io.Writer) error {
	_, err := io.WriteString(w, Magic)
	return err
}

// ReadMagic consumes the stream opening. Up to maxNoise bytes of other output
// before it are skipped and returned, so that the caller can show what a
// login shell printed; pass 0 to demand the magic bytes first.
func ReadMagic(r *bufio.Reader, maxNoise int) (noise []byte, err error) {
	var skipped bytes.Buffer
	for {
		b, err := r.Peek(len(Magic))
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				skipped.Write(b)
				return skipped.Bytes(), fmt.Errorf("stream ended before the protocol began: %w", io.ErrUnexpectedEOF)
			}
			return skipped.Bytes(), err
		}
		if string(b) == Magic {
			r.Discard(len(Magic))
			return skipped.Bytes(), nil
		}
		if skipped.Len() >= maxNoise {
			return skipped.Bytes(), errors.New("no protocol opening in the stream: the peer is not a concurr agent")
		}
		c, _ := r.ReadByte()
		skipped.WriteByte(c)
	}
}

// Frame is one undecoded message. Its Payload is only valid until the next
// call to ReadFrame on the same reader.
type Frame struct {
	Type    Type
	Payload []byte
}

// Reader reads frames from a stream. The handshake (ClientHandshake,
// ReadClientOpening) reads the stream's opening through it first.
type Reader struct {
	r   *bufio.Reader
	buf []byte
}

// NewReader returns a frame reader on r.
func NewReader(r *bufio.Reader) *Reader { return &Reader{r: r} }

// Buffered reports how many received bytes wait to be read.
func (fr *Reader) Buffered() int { return fr.r.Buffered() }

// ReadFrame reads the next frame. It returns io.EOF at a clean end of stream
// and io.ErrUnexpectedEOF when the stream ends inside a frame.
func (fr *Reader) ReadFrame() (Frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return Frame{}, errors.New("empty frame")
	}
	if n > MaxFrame {
		return Frame{}, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	if cap(fr.buf) < int(n) {
		// Grow in steps so that a peer that lies about a length costs at most
		// what it actually sends.
		if n > 1<<20 {
			return fr.readLarge(int(n))
		}
		fr.buf = make([]byte, n)
	}
	b := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return Frame{Type: Type(b[0]), Payload: b[1:]}, nil
}

func (fr *Reader) readLarge(n int) (Frame, error) {
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, fr.r, int64(n)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	b := buf.Bytes()
	return Frame{Type: Type(b[0]), Payload: b[1:]}, nil
}

// BeginFrame appends the header of a frame of type t to b; the message's
// payload follows, and EndFrame, given the len(b) from before this call,
// completes the frame. AppendFrame does all three; the agent's output path
// calls the steps itself with a concrete message, which then stays off the
// heap, as it would not if it went through the Message interface.
func BeginFrame(b []byte, t Type) []byte { return append(b, 0, 0, 0, 0, byte(t)) }

// EndFrame completes the frame that starts at b[start:] by writing its
// length. A frame larger than MaxFrame is an error, and b is returned
// without it.
func EndFrame(b []byte, start int) ([]byte, error) {
	n := len(b) - start - 4
	if n > MaxFrame {
		return b[:start], fmt.Errorf("%w: %s of %d bytes", ErrFrameTooLarge, Type(b[start+4]), n)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// AppendFrame appends m to b as one frame.
func AppendFrame(b []byte, m Message) ([]byte, error) {
	start := len(b)
	b = BeginFrame(b, m.Type())
	return EndFrame(m.AppendTo(b), start)
}

// Writer writes frames to a buffered stream. It is not safe for concurrent
// use; callers serialise and decide when to Flush, so that many small frames
// go out in one write.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter returns a frame writer on w.
func NewWriter(w *bufio.Writer) *Writer { return &Writer{w: w} }

// Write encodes and buffers one message.
func (fw *Writer) Write(m Message) error {
	if d, ok := m.(*Data); ok && len(d.Data) >= directData {
		return fw.writeData(d)
	}
	var err error
	fw.buf, err = AppendFrame(fw.buf[:0], m)
	if err != nil {
		return err
	}
	_, err = fw.w.Write(fw.buf)
	if cap(fw.buf) > 1<<20 {
		fw.buf = nil
	}
	return err
}

// directData is the size from which a Data frame's payload goes to the
// buffered stream as it is, after the frame's header, rather than copied
// into the frame first: a stream's chunks are most of the bytes a
// connection carries.
const directData = 4 << 10

// writeData writes a Data frame as AppendFrame would encode it.
func (fw *Writer) writeData(d *Data) error {
	b := BeginFrame(fw.buf[:0], d.Type())
	b = varbin.AppendUvarint(b, d.Stream)
	b = varbin.AppendUvarint(b, uint64(len(d.Data)))
	n := len(b) - 4 + len(d.Data)
	if n > MaxFrame {
		return fmt.Errorf("%w: %s of %d bytes", ErrFrameTooLarge, d.Type(), n)
	}
	binary.BigEndian.PutUint32(b, uint32(n))
	fw.buf = b
	if _, err := fw.w.Write(b); err != nil {
		return err
	}
	_, err := fw.w.Write(d.Data)
	return err
}

// Flush writes buffered frames to the stream.
func (fw *Writer) Flush() error { return fw.w.Flush() }

// Buffered reports how many bytes wait for Flush.
func (fw *Writer) Buffered() int { return fw.w.Buffered() }
