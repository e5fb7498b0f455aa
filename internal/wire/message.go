package wire

import (
	"fmt"

	"concurr/internal/varbin"
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
	Template []byte   // template.Program in its binary form
	Env      []string // NAME=value pairs added to every job's environment
	Workdir  string   // where jobs run; empty means the agent's directory, "..." a temporary one
	Host     string   // the host's name as the client knows it, for {host}
	Slots    uint64   // how many jobs of this command run at once; 0 means Hello's count
	// MemFree and MaxLoad hold back the next job on the node while it has
	// less than MemFree bytes of memory available, or while MaxLoad (a
	// number, or N% of its cores) processes or more run there; 0 and ""
	// mean no limit. Nice is the niceness jobs run at.
	MemFree uint64
	MaxLoad string
	Nice    int64
	// Shell, when set, is the external shell that runs each job's command
	// (--shell, PARALLEL_SHELL) instead of the embedded one.
	Shell string
	// Terminal gives jobs the agent's terminal on stdin (--tty), in the
	// agent's process group, instead of /dev/null.
	Terminal bool
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
	b = varbin.AppendUvarint(b, m.Version)
	b = varbin.AppendString(b, m.BuildID)
	b = varbin.AppendString(b, m.OS)
	b = varbin.AppendString(b, m.Arch)
	b = varbin.AppendString(b, m.Hostname)
	b = varbin.AppendUvarint(b, m.Slots)
	return varbin.AppendUvarint(b, m.PID)
}

func (m *Command) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.ID)
	b = varbin.AppendBytes(b, m.Template)
	b = varbin.AppendStrings(b, m.Env)
	b = varbin.AppendString(b, m.Workdir)
	b = varbin.AppendString(b, m.Host)
	b = varbin.AppendUvarint(b, m.Slots)
	b = varbin.AppendUvarint(b, m.MemFree)
	b = varbin.AppendString(b, m.MaxLoad)
	b = varbin.AppendVarint(b, m.Nice)
	b = varbin.AppendString(b, m.Shell)
	return varbin.AppendBool(b, m.Terminal)
}

func (m *Input) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Command)
	b = varbin.AppendUvarint(b, m.Seq)
	b = varbin.AppendStrings(b, m.Args)
	return varbin.AppendUvarint(b, m.Timeout)
}

// FrameSize is the size m's frame would have, type byte included, as
// MaxFrame counts it, found without encoding it: a job whose arguments
// cannot fit in a frame is failed before anything is sent or buffered.
func (m *Input) FrameSize() int {
	n := 1 + uvarintLen(m.Command) + uvarintLen(m.Seq) + uvarintLen(uint64(len(m.Args))) + uvarintLen(m.Timeout)
	for _, a := range m.Args {
		n += uvarintLen(uint64(len(a))) + len(a)
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (m *Output) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Seq)
	b = append(b, m.Stream)
	return varbin.AppendBytes(b, m.Data)
}

func (m *Result) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Seq)
	b = varbin.AppendUvarint(b, m.Exit)
	b = varbin.AppendUvarint(b, m.Signal)
	b = varbin.AppendUvarint(b, m.Slot)
	b = varbin.AppendVarint(b, m.Start)
	b = varbin.AppendVarint(b, m.Runtime)
	return varbin.AppendUvarint(b, m.Flags)
}

func (m *Delete) AppendTo(b []byte) []byte { return varbin.AppendUvarint(b, m.Command) }

func (m *Cancel) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Seq)
	return varbin.AppendUvarint(b, m.Signal)
}

func (m *Error) AppendTo(b []byte) []byte {
	b = varbin.AppendUvarint(b, m.Command)
	b = varbin.AppendUvarint(b, m.Seq)
	return varbin.AppendString(b, m.Message)
}

func (m *Ping) AppendTo(b []byte) []byte { return varbin.AppendUvarint(b, m.Nonce) }

func (u *Unknown) AppendTo(b []byte) []byte { return append(b, u.Payload...) }

// Decode decodes a frame into its message. Byte strings in the result are
// copies, so the message outlives the frame. A frame of unknown type decodes
// to *Unknown; a malformed payload is an error.
func Decode(f Frame) (Message, error) {
	d := varbin.NewDecoder(f.Payload)
	var m Message
	switch f.Type {
	case TypeHello:
		m = &Hello{Version: d.Uvarint(), BuildID: d.String(), OS: d.String(), Arch: d.String(),
			Hostname: d.String(), Slots: d.Uvarint(), PID: d.Uvarint()}
	case TypeCommand:
		m = &Command{ID: d.Uvarint(), Template: d.Bytes(), Env: d.Strings(), Workdir: d.String(), Host: d.String(), Slots: d.Uvarint(),
			MemFree: d.Uvarint(), MaxLoad: d.String(), Nice: d.Varint(), Shell: d.String(), Terminal: d.Bool()}
	case TypeInput:
		m = &Input{Command: d.Uvarint(), Seq: d.Uvarint(), Args: d.Strings(), Timeout: d.Uvarint()}
	case TypeOutput:
		m = &Output{Seq: d.Uvarint(), Stream: d.Byte(), Data: d.Bytes()}
	case TypeResult:
		m = &Result{Seq: d.Uvarint(), Exit: d.Uvarint(), Signal: d.Uvarint(), Slot: d.Uvarint(),
			Start: d.Varint(), Runtime: d.Varint(), Flags: d.Uvarint()}
	case TypeDelete:
		m = &Delete{Command: d.Uvarint()}
	case TypeCancel:
		m = &Cancel{Seq: d.Uvarint(), Signal: d.Uvarint()}
	case TypeError:
		m = &Error{Command: d.Uvarint(), Seq: d.Uvarint(), Message: d.String()}
	case TypePing:
		m = &Ping{Nonce: d.Uvarint()}
	case TypeOpen, TypeData, TypeEnd, TypeCredit:
		m = decodeStream(f.Type, d)
	default:
		return &Unknown{T: f.Type, Payload: append([]byte(nil), f.Payload...)}, nil
	}
	// Trailing bytes are allowed: a newer peer may append fields.
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("malformed %s frame: %w", f.Type, err)
	}
	return m, nil
}
