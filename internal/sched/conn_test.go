package sched

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"concurr/internal/wire"
)

// agentStream encodes what a (possibly broken) agent would send.
func agentStream(noise string, msgs ...wire.Message) []byte {
	var b bytes.Buffer
	b.WriteString(noise)
	b.WriteString(wire.Magic)
	w := wire.NewWriter(bufio.NewWriter(&b))
	for _, m := range msgs {
		w.Write(m)
	}
	w.Flush()
	return b.Bytes()
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func handshake(stream []byte) (*Conn, error) {
	return Handshake(context.Background(), bytes.NewReader(stream), nopWriteCloser{io.Discard}, io.NopCloser(nil))
}

func TestHandshake(t *testing.T) {
	good := &wire.Hello{Version: wire.Version, Slots: 4, OS: "linux", Arch: "amd64"}
	tests := []struct {
		name    string
		stream  []byte
		wantErr string
	}{
		{"clean", agentStream("", good), ""},
		{"login noise first", agentStream("Welcome to node1\nLast login: never\n", good), ""},
		{"other protocol version", agentStream("", &wire.Hello{Version: wire.Version + 1, Slots: 4}), "protocol version"},
		{"no slots", agentStream("", &wire.Hello{Version: wire.Version}), "no slots"},
		{"result before hello", agentStream("", &wire.Result{Seq: 1}), "before hello"},
		{"not an agent", []byte("sh: 1: concurr: not found\n"), "protocol began"},
		{"huge frame", append([]byte(wire.Magic), 0xff, 0xff, 0xff, 0xff), "size limit"},
		{"truncated hello", agentStream("", good)[:len(wire.Magic)+6], "unexpected EOF"},
		{"garbled hello", append([]byte(wire.Magic), 0, 0, 0, 2, byte(wire.TypeHello), 0xff), "malformed hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := handshake(tt.stream)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c.Hello.Slots != 4 {
					t.Fatalf("hello %+v", c.Hello)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzClient feeds arbitrary agent streams to the client's side of the
// protocol: the handshake and the frames after it must give errors, never
// panic or hang.
func FuzzClient(f *testing.F) {
	hello := &wire.Hello{Version: wire.Version, Slots: 2}
	f.Add(agentStream("", hello, &wire.Output{Seq: 1, Stream: 1, Data: []byte("x\n")}, &wire.Result{Seq: 1}))
	f.Add(agentStream("motd\n", hello, &wire.Error{Message: "bad"}))
	f.Add([]byte(wire.Magic + "\x00\x00\x00\x01\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := handshake(data)
		if err != nil {
			return
		}
		for range 1000 {
			if _, err := c.Receive(); err != nil {
				return
			}
		}
	})
}
