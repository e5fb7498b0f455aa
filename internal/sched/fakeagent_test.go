package sched

import (
	"bufio"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"concurr/internal/wire"
)

// fakeAgent is an agent played by the test: it passes on every Input the
// client sends, and answers only when told, so that a test sees exactly
// what the client sends ahead and when.
type fakeAgent struct {
	inputs  chan *wire.Input
	cancels chan *wire.Cancel
	mu      sync.Mutex
	w       *wire.Writer
	drop    func() // ends the stream as a crashed host does
}

// fakeDial returns a Dial that starts a fakeAgent with slots and hands it to
// the test on agents.
func fakeDial(t *testing.T, slots int, agents chan<- *fakeAgent) func(context.Context) (*Conn, error) {
	return func(ctx context.Context) (*Conn, error) {
		toAgent, fromClient := io.Pipe()
		toClient, fromAgent := io.Pipe()
		fa := &fakeAgent{inputs: make(chan *wire.Input, 1024), cancels: make(chan *wire.Cancel, 1024), w: wire.NewWriter(bufio.NewWriter(fromAgent))}
		fa.drop = func() {
			fromAgent.CloseWithError(io.ErrUnexpectedEOF)
			toAgent.Close()
		}
		var wg sync.WaitGroup
		t.Cleanup(func() {
			fa.drop()
			wg.Wait()
		})
		wg.Go(func() {
			opening, _ := wire.AppendAgentOpening(nil, &wire.Hello{Version: wire.Version, Slots: uint64(slots)})
			if _, err := fromAgent.Write(opening); err != nil {
				return
			}
			r := wire.NewReader(bufio.NewReader(toAgent))
			if r.ReadClientOpening() != nil {
				return
			}
			for {
				f, err := r.ReadFrame()
				if err != nil {
					fromAgent.Close() // the client ended its stream: so does the agent
					return
				}
				if m, _ := wire.Decode(f); m != nil {
					switch m := m.(type) {
					case *wire.Input:
						fa.inputs <- m
					case *wire.Cancel:
						fa.cancels <- m
					}
				}
			}
		})
		agents <- fa
		return Handshake(ctx, toClient, fromClient, closeFunc(func() error {
			fromClient.Close()
			toClient.Close()
			toAgent.Close()
			return nil
		}))
	}
}

// answer sends the Result of job seq, which ran for runtime.
func (fa *fakeAgent) answer(seq uint64, runtime time.Duration) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	fa.w.Write(&wire.Result{Seq: seq, Slot: 1, Runtime: int64(runtime)})
	fa.w.Flush()
}

// print sends a line of job seq's stdout.
func (fa *fakeAgent) print(seq uint64, line string) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	fa.w.Write(&wire.Output{Seq: seq, Stream: wire.Stdout, Data: []byte(line + "\n")})
	fa.w.Flush()
}

// answerCancelled sends the Result of job seq killed by a Cancel.
func (fa *fakeAgent) answerCancelled(seq uint64) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	fa.w.Write(&wire.Result{Seq: seq, Slot: 1, Signal: 15, Flags: wire.ResultCancelled})
	fa.w.Flush()
}

// expectInputs waits for exactly n more inputs and returns their numbers:
// n arrive within a second, and no other within a moment after.
func (fa *fakeAgent) expectInputs(t *testing.T, n int) []uint64 {
	t.Helper()
	var seqs []uint64
	deadline := time.After(time.Second)
	for len(seqs) < n {
		select {
		case in := <-fa.inputs:
			seqs = append(seqs, in.Seq)
		case <-deadline:
			t.Fatalf("got %d inputs %v, want %d", len(seqs), seqs, n)
		}
	}
	select {
	case in := <-fa.inputs:
		t.Fatalf("after %v, one more input (%d): want %d only", seqs, in.Seq, n)
	case <-time.After(30 * time.Millisecond):
	}
	return seqs
}

// answerAll answers every input until the run ends.
func (fa *fakeAgent) answerAll(done <-chan struct{}) {
	for {
		select {
		case in := <-fa.inputs:
			fa.answer(in.Seq, time.Millisecond)
		case <-done:
			return
		}
	}
}

// unreachable is a node that never comes up: it keeps a run from having a
// sole node.
var unreachable = Node{Name: "unreachable", Slots: fixedSlots(1), Dial: func(ctx context.Context) (*Conn, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}}
