package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Message is one protocol message.
type Message interface {
	Type() Type
	// AppendTo appends the message's payload encoding to b.
	AppendTo(b []byte) []byte
}

// Hello is the agent's first message: who it is and how many jobs it runs at
// once.
type Hello struct {
	Version  uint64
	BuildID  string // content hash of the agent's executable
	OS, Arch string // runtime.GOOS and runtime.GOARCH of the agent
	Hostname string
	Slots    uint64
	PID      uint64
}

// Command creates a command: a compiled template that later inputs run.
type Command struct {
	ID       uint64
	Template []byte   // parse.Template in its binary form
	Env      []string // NAME=value pairs added to every job's environment
	Workdir  string   // where jobs run; empty means the agent's directory, "..." a temporary one
	Host     string   // the host's name as the client knows it, for {host}
	Slots    uint64   // how many jobs of this command run at once; 0 means Hello's count
}

// Input is one job for a command.
type Input struct {
	Command uint64
	Seq     uint64   // the client's job number, {#}
	Args    []string // argument values, one per position
	Timeout uint64   // milliseconds; 0 means none
}

// Stream numbers used in Output.
const (
	Stdout = 1
	Stderr = 2
)

// Output is a chunk of a running job's output.
type Output struct {
	Seq    uint64
	Stream uint8 // Stdout or Stderr
	Data   []byte
}

// Result flags.
const (
	ResultTimedOut  = 1 << 0 // the job was killed by its timeout
	ResultCancelled = 1 << 1 // the job was killed by a cancel
	ResultNotRun    = 1 << 2 // the job could not be started at all
)

// Result reports the end of a job. All of the job's Output precedes it.
type Result struct {
	Seq     uint64
	Exit    uint64 // exit status, 0–255; 128+n when killed by signal n
	Signal  uint64 // the signal that killed the job's main process, or 0
	Slot    uint64 // the slot that ran it, {%}
	Start   int64  // Unix time in nanoseconds
	Runtime int64  // nanoseconds
	Flags   uint64
}

// Delete retires a command: its slots finish what they run and take no more.
type Delete struct{ Command uint64 }

// Cancel kills one job, or every job when Seq is 0, by process group.
type Cancel struct {
	Seq    uint64
	Signal uint64 // the first signal to send; the agent escalates to SIGKILL
}

// Error reports a refused command or input. Seq is 0 when it concerns a
// whole command.
type Error struct {
	Command uint64
	Seq     uint64
	Message string
}

// Ping asks for, or answers, a sign of life.
type Ping struct{ Nonce uint64 }

// Unknown is a frame of a type this build does not know. Decoding returns it
// instead of failing, so that peers can add messages.
type Unknown struct {
	T       Type
	Payload []byte
}

func (*Hello) Type() Type   { return TypeHello }
func (*Command) Type() Type { return TypeCommand }
func (*Input) Type() Type   { return TypeInput }
func (*Output) Type() Type  { return TypeOutput }
func (*Result) Type() Type  { return TypeResult }
func (*Delete) Type() Type  { return TypeDelete }
func (*Cancel) Type() Type  { return TypeCancel }
func (*Error) Type() Type   { return TypeError }
func (*Ping) Type() Type    { return TypePing }
func (u *Unknown) Type() Type {
	return u.T
}

func (m *Hello) AppendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Version)
	b = appendString(b, m.BuildID)
	b = appendString(b, m.OS)
	b = appendString(b, m.Arch)
	b = appendString(b, m.Hostname)
	b = binary.AppendUvarint(b, m.Slots)
	return binary.AppendUvarint(b, m.PID)
}

func (m *Command) AppendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, m.ID)
	b = appendBytes(b, m.Template)
	b = appendStrings(b, m.Env)
	b = appendString(b, m.Workdir)
	b = appendString(b, m.Host)
	return binary.AppendUvarint(b, m.Slots)
}

func (m *Input) AppendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Command)
	b = binary.AppendUvarint(b, m.Seq)
	b = appendStrings(b, m.Args)
	return binary.AppendUvarint(b, m.Timeout)
}

func (m *Output) AppendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Seq)
	b = append(b, m.Stream)
	return appendBytes(b, m.Data)
}

func (m *Result) AppendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Seq)
	b = binary.AppendUvarint(b, m.Exit)
	b = binary.AppendUvarint(b, m.Signal)
	b = binary.AppendUvarint(b, m.Slot)
	b = binary.AppendVarint(b, m.Start)
	b = binary.AppendVarint(b, m.Runtime)
	return binary.AppendUvarint(b, m.Flags)
}

func (m *Delete) AppendTo(b []byte) []byte { return binary.AppendUvarint(b, m.Command) }

func (m *Cancel) AppendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Seq)
	return binary.AppendUvarint(b, m.Signal)
}

func (m *Error) AppendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, m.Command)
	b = binary.AppendUvarint(b, m.Seq)
	return appendString(b, m.Message)
}

func (m *Ping) AppendTo(b []byte) []byte { return binary.AppendUvarint(b, m.Nonce) }

func (u *Unknown) AppendTo(b []byte) []byte { return append(b, u.Payload...) }

// Decode decodes a frame into its message. Byte strings in the result are
// copies, so the message outlives the frame. A frame of unknown type decodes
// to *Unknown; a malformed payload is an error.
func Decode(f Frame) (Message, error) {
	d := decoder{b: f.Payload}
	var m Message
	switch f.Type {
	case TypeHello:
		m = &Hello{Version: d.uvarint(), BuildID: d.string(), OS: d.string(), Arch: d.string(),
			Hostname: d.string(), Slots: d.uvarint(), PID: d.uvarint()}
	case TypeCommand:
		m = &Command{ID: d.uvarint(), Template: d.bytes(), Env: d.strings(), Workdir: d.string(), Host: d.string(), Slots: d.uvarint()}
	case TypeInput:
		m = &Input{Command: d.uvarint(), Seq: d.uvarint(), Args: d.strings(), Timeout: d.uvarint()}
	case TypeOutput:
		m = &Output{Seq: d.uvarint(), Stream: d.byte(), Data: d.bytes()}
	case TypeResult:
		m = &Result{Seq: d.uvarint(), Exit: d.uvarint(), Signal: d.uvarint(), Slot: d.uvarint(),
			Start: d.varint(), Runtime: d.varint(), Flags: d.uvarint()}
	case TypeDelete:
		m = &Delete{Command: d.uvarint()}
	case TypeCancel:
		m = &Cancel{Seq: d.uvarint(), Signal: d.uvarint()}
	case TypeError:
		m = &Error{Command: d.uvarint(), Seq: d.uvarint(), Message: d.string()}
	case TypePing:
		m = &Ping{Nonce: d.uvarint()}
	default:
		return &Unknown{T: f.Type, Payload: append([]byte(nil), f.Payload...)}, nil
	}
	// Trailing bytes are allowed: a newer peer may append fields.
	if d.err != nil {
		return nil, fmt.Errorf("malformed %s frame: %w", f.Type, d.err)
	}
	return m, nil
}

var errShort = errors.New("payload too short")

// decoder reads payload fields, remembering the first error so that a
// message decodes in one expression and is checked once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail(errShort)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// raw returns the next length-prefixed byte string without copying.
func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("field length %d exceeds the frame", n))
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) bytes() []byte {
	s := d.raw()
	if s == nil {
		return nil
	}
	return append([]byte(nil), s...)
}

func (d *decoder) string() string { return string(d.raw()) }

func (d *decoder) strings() []string {
	n := d.uvarint()
	// Every string takes at least one byte, which bounds the allocation by
	// the frame's size.
	if n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("list length %d exceeds the frame", n))
		return nil
	}
	if n == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = d.string()
	}
	return s
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}
