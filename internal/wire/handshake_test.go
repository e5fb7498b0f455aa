package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// agentStream encodes what a (possibly broken) agent would send: noise, its
// opening, then frames.
func agentStream(noise string, msgs ...Message) []byte {
	b := append([]byte(noise), Magic...)
	for _, m := range msgs {
		b, _ = AppendFrame(b, m)
	}
	return b
}

// clientHandshake runs the client's side on stream and returns what it
// answered.
func clientHandshake(stream []byte) (hello *Hello, noise []byte, answer string, err error) {
	var out bytes.Buffer
	r := NewReader(bufio.NewReader(bytes.NewReader(stream)))
	hello, noise, err = ClientHandshake(r, NewWriter(bufio.NewWriter(&out)))
	return hello, noise, out.String(), err
}

func TestClientHandshake(t *testing.T) {
	good := &Hello{Version: Version, Slots: 4, OS: "linux", Arch: "amd64"}
	tests := []struct {
		name      string
		stream    []byte
		wantNoise string
		wantErr   string
	}{
		{"clean", agentStream("", good), "", ""},
		{"login noise first", agentStream("Welcome to node1\nLast login: never\n", good), "Welcome to node1\nLast login: never\n", ""},
		{"other protocol version", agentStream("", &Hello{Version: Version + 1, Slots: 4}), "", "protocol version"},
		{"no slots", agentStream("", &Hello{Version: Version}), "", "no slots"},
		{"result before hello", agentStream("", &Result{Seq: 1}), "", "before hello"},
		{"not an agent", []byte("sh: 1: concurr: not found\n"), "sh: 1: concurr: not found\n", "protocol began"},
		{"huge frame", append([]byte(Magic), 0xff, 0xff, 0xff, 0xff), "", "size limit"},
		{"truncated hello", agentStream("", good)[:len(Magic)+6], "", "unexpected EOF"},
		{"garbled hello", append([]byte(Magic), 0, 0, 0, 2, byte(TypeHello), 0xff), "", "malformed hello"},
		{"endless noise", bytes.Repeat([]byte("y\n"), MaxNoise), strings.Repeat("y\n", MaxNoise/2), "not a concurr agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hello, noise, answer, err := clientHandshake(tt.stream)
			if string(noise) != tt.wantNoise {
				t.Errorf("noise = %.40q, want %.40q", noise, tt.wantNoise)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if answer != "" {
					t.Fatalf("the client answered %q to a failed handshake", answer)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(hello, good) {
				t.Fatalf("hello %+v, want %+v", hello, good)
			}
			if answer != Magic {
				t.Fatalf("the client answered %q, want the opening", answer)
			}
		})
	}
}

func TestReadClientOpening(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		wantErr error  // matched with errors.Is, when set
		wantMsg string // contained in the error, when set
		next    Type   // the frame after the opening, when there is one
	}{
		{"opening then a frame", Magic + "\x00\x00\x00\x02\x09\x07", nil, "", TypePing},
		{"client left at once", "", io.EOF, "", 0},
		{"client left inside the opening", Magic[:4], io.EOF, "", 0},
		{"no noise allowed", "motd\n" + Magic, nil, "not a concurr agent", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bufio.NewReader(strings.NewReader(tt.stream)))
			err := r.ReadClientOpening()
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			case tt.wantMsg != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantMsg)
				}
				return
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			}
			f, err := r.ReadFrame()
			if err != nil || f.Type != tt.next {
				t.Fatalf("next frame %s, %v; want %s", f.Type, err, tt.next)
			}
		})
	}
}

// The two sides' halves of the handshake fit together.
func TestHandshakeBothSides(t *testing.T) {
	hello := &Hello{Version: Version, BuildID: "b", OS: "linux", Arch: "arm64", Hostname: "n1", Slots: 3, PID: 42}
	opening, err := AppendAgentOpening(nil, hello)
	if err != nil {
		t.Fatal(err)
	}
	got, _, answer, err := clientHandshake(opening)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, hello) {
		t.Fatalf("hello %+v, want %+v", got, hello)
	}
	if err := NewReader(bufio.NewReader(strings.NewReader(answer))).ReadClientOpening(); err != nil {
		t.Fatalf("the agent refused the client's answer: %v", err)
	}
}

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		prefix  []byte
		m       Message
		wantErr bool
	}{
		{"into an empty buffer", nil, &Ping{Nonce: 1}, false},
		{"after other frames", agentStream("", &Ping{Nonce: 2}), &Output{Seq: 3, Stream: Stderr, Data: []byte("x")}, false},
		{"too large", []byte("kept"), &Output{Seq: 1, Data: make([]byte, MaxFrame)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := bytes.Clone(tt.prefix)
			b, err := AppendFrame(prefix, tt.m)
			if tt.wantErr {
				if !errors.Is(err, ErrFrameTooLarge) || !bytes.Equal(b, tt.prefix) {
					t.Fatalf("err = %v, buffer %.20q; want ErrFrameTooLarge and the buffer as it was", err, b)
				}
				return
			}
			if err != nil || !bytes.Equal(b[:len(tt.prefix)], tt.prefix) {
				t.Fatalf("err = %v, prefix changed", err)
			}
			// The frame is what Writer writes.
			var buf bytes.Buffer
			w := NewWriter(bufio.NewWriter(&buf))
			w.Write(tt.m)
			w.Flush()
			if !bytes.Equal(b[len(tt.prefix):], buf.Bytes()) {
				t.Fatalf("AppendFrame %q, Writer %q", b[len(tt.prefix):], buf.Bytes())
			}
		})
	}
}

// A broken or hostile agent's slot count is refused past MaxSlots: the
// client sizes its credit for the node by it.
func TestClientHandshakeSlots(t *testing.T) {
	tests := []struct {
		name    string
		slots   uint64
		wantErr string
	}{
		{"one", 1, ""},
		{"the most", MaxSlots, ""},
		{"one past the most", MaxSlots + 1, "more than"},
		{"2^40", 1 << 40, "more than"},
		{"2^63-1", 1<<63 - 1, "more than"},
		{"2^64-1", 1<<64 - 1, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hello, _, answer, err := clientHandshake(agentStream("", &Hello{Version: Version, Slots: tt.slots}))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || answer != "" {
					t.Fatalf("err = %v, answer %q; want one containing %q and no answer", err, answer, tt.wantErr)
				}
				return
			}
			if err != nil || hello.Slots != tt.slots {
				t.Fatalf("hello %+v, err %v; want %d slots", hello, err, tt.slots)
			}
		})
	}
}

// ReadAgentOpening is the client's half without its answer, for a transport
// that sent the client's opening as the agent started.
func TestReadAgentOpening(t *testing.T) {
	hello := &Hello{Version: Version, Slots: 2}
	r := NewReader(bufio.NewReader(bytes.NewReader(agentStream("motd\n", hello, &Ping{Nonce: 7}))))
	got, noise, err := ReadAgentOpening(r)
	if err != nil || !reflect.DeepEqual(got, hello) || string(noise) != "motd\n" {
		t.Fatalf("hello %+v, noise %q, err %v", got, noise, err)
	}
	f, err := r.ReadFrame()
	if err != nil || f.Type != TypePing {
		t.Fatalf("next frame %v, %v; want the ping after the hello", f.Type, err)
	}
}
