package wire

import (
	"fmt"

	"concurr/internal/varbin"
)

// Data streams. Bytes that flow into a job (a --pipe block on its stdin, a
// file sent ahead of it) or out of one (a file it returns) travel as a
// stream: one Open, then Data chunks, then one End, all on the connection the
// jobs already use. Chunks of every stream are interleaved with each other
// and with all other frames, so that no stream holds the connection.
//
// The side that opens a stream numbers it and sends its data; the other side
// receives it and grants credit. The numbers of the two directions are
// separate spaces: a Data or End names a stream its sender opened, a Credit
// one its sender receives. The sender may have at most StreamWindow bytes of
// a stream's data unacknowledged; the receiver sends a Credit for the bytes it
// has passed on, so that a slow reader is never flooded and memory on both
// sides stays within a window per stream. A receiver that no longer wants a
// stream (its job has ended) stops granting credit and drops what comes; the
// sender ends the stream when it learns that the job is over.

// StreamWindow is the credit every stream starts with, in bytes of Data.
const StreamWindow = 2 << 20

// StreamChunk is the most data one Data frame carries. Smaller than
// StreamWindow so that a stream keeps moving while its credit comes back, and
// small enough that other frames wait little behind one chunk.
const StreamChunk = 128 << 10

// Stream kinds, in Open. The numbers are part of the protocol.
const (
	// StreamStdin is a job's standard input: the job named by Open.Seq
	// reads the stream on its stdin, through a pipe.
	StreamStdin = 1
	// StreamCat is a job's input as a temporary file: the job starts once
	// the whole stream is in the file, and its first argument ({}) is the
	// file's name (GNU Parallel's --cat).
	StreamCat = 2
	// StreamFifo is a job's input through a named pipe, whose name is the
	// job's first argument ({}) (GNU Parallel's --fifo).
	StreamFifo = 3
	// StreamFile is a file sent ahead of the job Open.Seq (--transferfile):
	// the receiver writes it at Path, relative to the job's workdir, with
	// Mode and Mtime, and the job starts once it is complete. The file is
	// written beside its final name and renamed into place.
	StreamFile = 4
	// StreamReturn, sent by the client, asks for the file or directory
	// Path (relative to the job's workdir) once the job Open.Seq has run
	// (--return); it has no Data and no End. Sent by the agent, it is one
	// returned file, or with ModeDir in Mode a directory, which the client
	// writes at the Path it asked for. Returns precede the job's Result.
	StreamReturn = 5
	// StreamBase is a --basefile, sent once per node after the Command
	// Open.Seq and before its first Input: the receiver writes it at Path,
	// relative to the command's workdir, with Mode and Mtime, and every
	// job of the command starts once it is in place. Sum is the SHA-256 of
	// its Length bytes, in hex, and names it in the node's content-addressed
	// cache. Unlike the other kinds, the stream starts with no credit: the
	// receiver answers with a Credit of 0 bytes when its cache holds the
	// content (the sender then sends End and no Data), or with a window.
	StreamBase = 6
)

// Open flags.
const (
	// OpenCleanup asks the agent to remove the file (StreamFile) or the
	// returned file or directory (StreamReturn) once the job is done
	// (--cleanup); for StreamBase, the file and what the session added to
	// the cache, once the command's jobs are done.
	OpenCleanup = 1 << 0
)

// ModeDir marks a directory in Open.Mode; the permission bits are the low
// nine, as in a Unix mode.
const ModeDir = 1 << 31

// Open starts a stream. For the job input kinds (StreamStdin, StreamCat,
// StreamFifo), Seq is the job, and Open precedes the job's Input. When Path
// is set, the stream's content is its Data followed by Length bytes of the
// receiver's own file Path from Offset: a client whose agent shares its file
// system (a local node) names a range of a file instead of sending it.
type Open struct {
	Stream uint64
	Kind   uint64
	Seq    uint64
	Path   string
	Offset uint64
	Length uint64
	Mode   uint64 // permission bits of a file, for kinds that write one
	Mtime  int64  // Unix nanoseconds, for kinds that write a file
	Flags  uint64 // OpenCleanup
	Sum    string // StreamBase: the content's SHA-256, in hex
}

// Data is a chunk of a stream, at most StreamChunk bytes.
type Data struct {
	Stream uint64
	Data   []byte
}

// End ends a stream. An empty Error is the stream's clean end; otherwise the
// sender gave up on it and the receiver discards what it holds of it.
type End struct {
	Stream uint64
	Error  string
}

// Credit lets the sender of a stream send Bytes more.
type Credit struct {
	Stream uint64
	Bytes  uint64
}

func (*Open) Type() Type   { return TypeOpen }
func (*Data) Type() Type   { return TypeData }
func (*End) Type() Type    { return TypeEnd }
func (*Credit) Type() Type { return TypeCredit }

func (m *Open) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Stream)
	b = varbin.AppendUvarint(b, m.Kind)
	b = varbin.AppendUvarint(b, m.Seq)
	b = varbin.AppendString(b, m.Path)
	b = varbin.AppendUvarint(b, m.Offset)
	b = varbin.AppendUvarint(b, m.Length)
	b = varbin.AppendUvarint(b, m.Mode)
	b = varbin.AppendVarint(b, m.Mtime)
	b = varbin.AppendUvarint(b, m.Flags)
	return varbin.AppendString(b, m.Sum)
}

func (m *Data) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Stream)
	return varbin.AppendBytes(b, m.Data)
}

func (m *End) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Stream)
	return varbin.AppendString(b, m.Error)
}

func (m *Credit) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Stream)
	return varbin.AppendUvarint(b, m.Bytes)
}

// DecodeData decodes a Data frame without copying its bytes: data is valid
// only until the next ReadFrame, for a receiver that copies it into a
// buffer of its own anyway.
func DecodeData(f Frame) (stream uint64, data []byte, err error) {
	d := varbin.NewDecoder(f.Payload)
	stream = d.Uvarint()
	n := d.Count()
	if err := d.Err(); err != nil {
		return 0, nil, fmt.Errorf("malformed %s frame: %w", f.Type, err)
	}
	rest := d.Rest()
	if n > len(rest) {
		return 0, nil, fmt.Errorf("malformed %s frame: %d bytes of data announced, %d present", f.Type, n, len(rest))
	}
	return stream, rest[:n], nil
}

func decodeStream(t Type, d *varbin.Decoder) Message {
	switch t {
	case TypeOpen:
		return &Open{Stream: d.Uvarint(), Kind: d.Uvarint(), Seq: d.Uvarint(), Path: d.String(),
			Offset: d.Uvarint(), Length: d.Uvarint(), Mode: d.Uvarint(), Mtime: d.Varint(), Flags: d.Uvarint(), Sum: d.String()}
	case TypeData:
		return &Data{Stream: d.Uvarint(), Data: d.Bytes()}
	case TypeEnd:
		return &End{Stream: d.Uvarint(), Error: d.String()}
	case TypeCredit:
		return &Credit{Stream: d.Uvarint(), Bytes: d.Uvarint()}
	}
	return nil
}
