package sched

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"concurr/internal/output"
	"concurr/internal/wire"
)

// writesDial returns a Dial to an agent played by the test that records the
// client's stream write by write (an io.Pipe's Read returns the bytes of one
// Write at most), answers every Input with a success, and sends the list of
// writes on done when the client ends its stream. opened says that the
// transport sent the client's opening (HandshakeOpened).
func writesDial(t *testing.T, opened bool, done chan<- [][]byte) func(context.Context) (*Conn, error) {
	return func(ctx context.Context) (*Conn, error) {
		toAgent, fromClient := io.Pipe()
		toClient, fromAgent := io.Pipe()
		t.Cleanup(func() {
			fromAgent.Close()
			toAgent.Close()
		})
		go func() {
			opening, _ := wire.AppendAgentOpening(nil, &wire.Hello{Version: wire.Version, Slots: 1})
			if _, err := fromAgent.Write(opening); err != nil {
				return
			}
			var writes [][]byte
			buf := make([]byte, 1<<20)
			for {
				n, err := toAgent.Read(buf)
				if err != nil {
					done <- writes
					fromAgent.Close()
					return
				}
				w := bytes.Clone(buf[:n])
				writes = append(writes, w)
				if bytes.Equal(w, []byte(wire.Magic)) {
					continue
				}
				r := wire.NewReader(bufio.NewReader(bytes.NewReader(w)))
				for {
					f, err := r.ReadFrame()
					if err != nil {
						break
					}
					if m, _ := wire.Decode(f); m != nil {
						if in, ok := m.(*wire.Input); ok {
							reply, _ := wire.AppendFrame(nil, &wire.Result{Seq: in.Seq, Slot: 1})
							fromAgent.Write(reply)
						}
					}
				}
			}
		}()
		handshake := Handshake
		if opened {
			handshake = HandshakeOpened
		}
		return handshake(ctx, toClient, fromClient, closeFunc(func() error {
			fromClient.Close()
			toClient.Close()
			toAgent.Close()
			return nil
		}))
	}
}

// framesOf decodes one write of the client's stream into its message types.
func framesOf(t *testing.T, w []byte) []wire.Type {
	t.Helper()
	var types []wire.Type
	r := wire.NewReader(bufio.NewReader(bytes.NewReader(w)))
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			return types
		}
		if err != nil {
			t.Fatalf("write %q: %v", w, err)
		}
		types = append(types, f.Type)
	}
}

// The client's stream to a node is as few writes as the protocol allows:
// the opening (unless the transport sent it), then the command with the
// first jobs in one write, and at the end, with no job left running, the
// stream's end alone. Each small write that follows another before the
// node answers can wait up to 40 ms on a TCP hop with Nagle's algorithm on
// (srun's I/O forwarding): a short run on a node paid that three times.
func TestClientWritesToANode(t *testing.T) {
	for _, opened := range []bool{false, true} {
		name := "client sends its opening"
		if opened {
			name = "transport sent the opening"
		}
		t.Run(name, func(t *testing.T) {
			done := make(chan [][]byte, 1)
			var stdout strings.Builder
			cfg := Config{Template: compile(t, "echo", "{}"), Warn: func(err error) { t.Error(err) },
				Output: output.New(&stdout, io.Discard, output.Options{KeepOrder: true})}
			nodes := []Node{{Name: "n1", Slots: fixedSlots(1), Dial: writesDial(t, opened, done)}}
			sum, err := runBounded(t, 20*time.Second, cfg, nodes, &list{"a"})
			if err != nil || sum.Jobs != 1 || sum.Failed != 0 {
				t.Fatalf("summary %+v, err %v", sum, err)
			}
			var writes [][]byte
			select {
			case writes = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the client did not end its stream")
			}
			if !opened {
				if len(writes) == 0 || string(writes[0]) != wire.Magic {
					t.Fatalf("writes %q, want the opening first", writes)
				}
				writes = writes[1:]
			}
			if len(writes) != 1 {
				t.Fatalf("%d writes after the opening (%q), want one", len(writes), writes)
			}
			got := framesOf(t, writes[0])
			if len(got) != 2 || got[0] != wire.TypeCommand || got[1] != wire.TypeInput {
				t.Fatalf("the write carries %v, want the command and the job", got)
			}
		})
	}
}
