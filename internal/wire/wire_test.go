package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func roundTrip(t *testing.T, msgs ...Message) []Message {
	t.Helper()
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := NewWriter(bw)
	for _, m := range msgs {
		if err := w.Write(m); err != nil {
			t.Fatalf("write %s: %v", m.Type(), err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(bufio.NewReader(&buf))
	var got []Message
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		m, err := Decode(f)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		got = append(got, m)
	}
}

func TestRoundTrip(t *testing.T) {
	binary := string([]byte{0, 0xff, 0xfe, '\n', '\\', 'n'})
	tests := []struct {
		name string
		msg  Message
	}{
		{"hello", &Hello{Version: Version, BuildID: "abc", OS: "linux", Arch: "amd64", Hostname: "h", Slots: 8, PID: 42}},
		{"command", &Command{ID: 1, Template: []byte{1, 2, 3}, Env: []string{"A=b", "C="}, Workdir: "...", Host: "node1", Slots: 3}},
		{"command with a shell", &Command{ID: 2, Template: []byte{1}, Host: "node2", Nice: -3, Shell: "/bin/bash"}},
		{"input", &Input{Command: 1, Seq: 1 << 40, Args: []string{"", binary, "a b; rm -rf ~"}, Timeout: 1500}},
		{"input without args", &Input{Command: 1, Seq: 2}},
		{"output", &Output{Seq: 7, Stream: Stderr, Data: []byte(binary)}},
		{"result", &Result{Seq: 7, Exit: 143, Signal: 15, Slot: 2, Start: -5, Runtime: 1e9, Flags: ResultTimedOut}},
		{"delete", &Delete{Command: 9}},
		{"cancel", &Cancel{Seq: 0, Signal: 15}},
		{"error", &Error{Command: 1, Seq: 3, Message: "bad template"}},
		{"ping", &Ping{Nonce: 99}},
		{"open stdin", &Open{Stream: 3, Kind: StreamStdin, Seq: 12}},
		{"open file range", &Open{Stream: 1 << 33, Kind: StreamCat, Seq: 1, Path: "/tmp/big file", Offset: 1 << 40, Length: 10 << 20, Mode: 0o644, Mtime: -1}},
		{"open transferred file", &Open{Stream: 7, Kind: StreamFile, Seq: 3, Path: "sub/f.txt", Mode: 0o755, Mtime: 1700000000123456789, Flags: OpenCleanup}},
		{"open basefile", &Open{Stream: 8, Kind: StreamBase, Seq: 1, Path: "ref/db.txt", Length: 5, Mode: 0o644, Mtime: 1700000000123456789, Flags: OpenCleanup, Sum: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}},
		{"open returned dir", &Open{Stream: 8, Kind: StreamReturn, Seq: 3, Path: "out", Mode: ModeDir | 0o700}},
		{"data", &Data{Stream: 3, Data: []byte(binary)}},
		{"data of a full chunk", &Data{Stream: 1 << 20, Data: bytes.Repeat([]byte(binary), StreamChunk/len(binary))}},
		{"end", &End{Stream: 3}},
		{"end with an error", &End{Stream: 3, Error: "read input: broken"}},
		{"credit", &Credit{Stream: 3, Bytes: StreamWindow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roundTrip(t, tt.msg)
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.msg) {
				t.Fatalf("got %#v, want %#v", got, tt.msg)
			}
		})
	}
}

func TestUnknownTypeTolerated(t *testing.T) {
	got := roundTrip(t, &Unknown{T: 200, Payload: []byte("future")}, &Ping{Nonce: 1})
	if u, ok := got[0].(*Unknown); !ok || u.T != 200 || string(u.Payload) != "future" {
		t.Fatalf("got %#v", got[0])
	}
	if p, ok := got[1].(*Ping); !ok || p.Nonce != 1 {
		t.Fatalf("got %#v", got[1])
	}
}

func frame(typ Type, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)+1))
	b = append(b, byte(typ))
	return append(b, payload...)
}

func TestBadFrames(t *testing.T) {
	tests := []struct {
		name    string
		stream  []byte
		wantErr string
	}{
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 1}, "size limit"},
		{"just over the limit", binary.BigEndian.AppendUint32(nil, MaxFrame+1), "size limit"},
		{"zero length", []byte{0, 0, 0, 0}, "empty frame"},
		{"truncated header", []byte{0, 0}, "unexpected EOF"},
		{"truncated body", []byte{0, 0, 0, 10, 1, 2}, "unexpected EOF"},
		{"truncated large body", binary.BigEndian.AppendUint32(nil, 8<<20), "unexpected EOF"},
		{"result cut short", frame(TypeResult, []byte{1}), "malformed result"},
		{"string longer than frame", frame(TypeError, []byte{1, 1, 0xff, 0x01}), "malformed error"},
		{"list longer than frame", frame(TypeInput, []byte{1, 1, 0xff, 0xff, 0x03}), "malformed input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bufio.NewReader(bytes.NewReader(tt.stream)))
			f, err := r.ReadFrame()
			if err == nil {
				_, err = Decode(f)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadMagic(t *testing.T) {
	tests := []struct {
		name      string
		stream    string
		maxNoise  int
		wantNoise string
		wantErr   bool
	}{
		{"clean", Magic + "rest", 0, "", false},
		{"motd before", "Welcome!\nLast login: today\n" + Magic, 1 << 10, "Welcome!\nLast login: today\n", false},
		{"noise not allowed", "x" + Magic, 0, "", true},
		{"too much noise", strings.Repeat("x", 100) + Magic, 10, "", true},
		{"empty stream", "", 10, "", true},
		{"other program", "bash: concurr: command not found\n", 1 << 10, "bash: concurr: command not found\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.stream))
			noise, err := ReadMagic(br, tt.maxNoise)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && string(noise) != tt.wantNoise {
				t.Fatalf("noise = %q, want %q", noise, tt.wantNoise)
			}
			if tt.name == "other program" && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want unexpected EOF", err)
			}
		})
	}
}

func BenchmarkEncodeDecode(b *testing.B) {
	var buf bytes.Buffer
	bw := bufio.NewWriterSize(&buf, 64<<10)
	w := NewWriter(bw)
	in := &Input{Command: 1, Seq: 12345, Args: []string{"some/file/name.txt"}}
	out := &Output{Seq: 12345, Stream: Stdout, Data: []byte("some/file/name.txt\n")}
	res := &Result{Seq: 12345, Slot: 1, Start: 1, Runtime: 1000}
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		w.Write(in)
		w.Write(out)
		w.Write(res)
		w.Flush()
		r := NewReader(bufio.NewReader(&buf))
		for range 3 {
			f, err := r.ReadFrame()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Decode(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Input.FrameSize is the size AppendFrame gives the frame, header aside.
func TestInputFrameSize(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{"empty", Input{}},
		{"small", Input{Command: 1, Seq: 7, Args: []string{"a", ""}}},
		{"large numbers", Input{Command: 1 << 40, Seq: 1<<64 - 1, Timeout: 1 << 63, Args: []string{"x"}}},
		{"long argument", Input{Command: 1, Seq: 1, Args: []string{strings.Repeat("a", 1<<15), strings.Repeat("b", 200)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendFrame(nil, &tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tt.in.FrameSize(), len(b)-4; got != want {
				t.Fatalf("FrameSize %d, frame %d", got, want)
			}
		})
	}
}
