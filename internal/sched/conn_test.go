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
	return handshakeCtx(context.Background(), stream)
}

func handshakeCtx(ctx context.Context, stream []byte) (*Conn, error) {
	return Handshake(ctx, bytes.NewReader(stream), nopWriteCloser{io.Discard}, io.NopCloser(nil))
}

// The protocol's checks are wire.ClientHandshake's, tested there; Handshake
// adds the context.
func TestHandshake(t *testing.T) {
	good := &wire.Hello{Version: wire.Version, Slots: 4, OS: "linux", Arch: "amd64"}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		stream  []byte
		wantErr string
	}{
		{"clean", context.Background(), agentStream("motd\n", good), ""},
		{"not an agent", context.Background(), []byte("sh: 1: concurr: not found\n"), "(it printed"},
		{"context ended, agent fine", cancelled, agentStream("", good), context.Canceled.Error()},
		{"context ended, agent broken", cancelled, agentStream("", &wire.Result{}), context.Canceled.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := handshakeCtx(tt.ctx, tt.stream)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c.Hello != *good || string(c.Noise) != "motd\n" {
					t.Fatalf("hello %+v, noise %q", c.Hello, c.Noise)
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
// protocol: the handshake, the node it sets up from the agent's hello, and
// the frames after it must give errors, never panic or hang.
func FuzzClient(f *testing.F) {
	hello := &wire.Hello{Version: wire.Version, Slots: 2}
	f.Add(agentStream("", hello, &wire.Output{Seq: 1, Stream: 1, Data: []byte("x\n")}, &wire.Result{Seq: 1}))
	f.Add(agentStream("motd\n", hello, &wire.Error{Message: "bad"}))
	f.Add([]byte(wire.Magic + "\x00\x00\x00\x01\x05"))
	f.Add(agentStream("", &wire.Hello{Version: wire.Version, Slots: 1<<63 - 1}))
	f.Add(agentStream("", &wire.Hello{Version: wire.Version, Slots: 1 << 40}))
	f.Add(agentStream("", &wire.Hello{Version: wire.Version, Slots: wire.MaxSlots}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := handshake(data)
		if err != nil {
			return
		}
		// The node is sized by the hello as a run sizes it, with -j's
		// default and as the sole node, which is given all its credit.
		n := Node{Name: "fuzz", Slots: announcedSlots, Prefetch: 16}
		nr := (&run{soleNode: true}).newNodeRun(n, c, nodeSlots(n, c.Hello))
		if nr.slots < 1 || nr.slots > wire.MaxSlots || len(nr.credit) != nr.slots+n.Prefetch {
			t.Fatalf("hello %+v gave %d slots and %d credit", c.Hello, nr.slots, len(nr.credit))
		}
		for range 1000 {
			if _, err := c.Receive(); err != nil {
				return
			}
		}
	})
}
