package sched

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"concurr/internal/output"
)

// TestNodeLost covers what losing a connected node does: its jobs in flight
// go back to the queue in input order, and whether it counts as lost (to be
// dialled again) depends on whether the client meant to close it.
func TestNodeLost(t *testing.T) {
	tests := []struct {
		name      string
		inflight  []uint64
		closing   bool // the client ended the stream on purpose
		losses    int  // how many times the loss is reported
		wantRetry []uint64
		wantLost  bool
	}{
		{"jobs in flight go back in order", []uint64{3, 1, 2}, false, 1, []uint64{1, 2, 3}, true},
		{"lost with nothing in flight", nil, false, 1, nil, true},
		{"closed on purpose with nothing in flight", nil, true, 1, nil, false},
		{"closed on purpose with jobs in flight", []uint64{5}, true, 1, []uint64{5}, true},
		{"a loss reported twice counts once", []uint64{1}, false, 2, []uint64{1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{cfg: Config{Output: output.New(io.Discard, io.Discard, output.Options{})}, q: newQueue(16), connected: 1}
			nr := r.newNodeRun(Node{Name: "n"}, nil, 2)
			nr.closing = tt.closing
			for _, seq := range tt.inflight {
				nr.inflight[seq] = &job{seq: seq, node: nr, out: r.cfg.Output.Begin(seq, nil, "")}
			}
			within(t, "nodeLost", func() {
				for range tt.losses {
					r.nodeLost(nr)
				}
			})
			var retried []uint64
			for _, j := range r.q.retry {
				retried = append(retried, j.seq)
				if j.node != nil {
					t.Errorf("job %d still names its lost node", j.seq)
				}
			}
			if !slices.Equal(retried, tt.wantRetry) {
				t.Errorf("put back %v, want %v", retried, tt.wantRetry)
			}
			if nr.lost != tt.wantLost || !nr.dead || len(nr.inflight) != 0 || r.connected != 0 {
				t.Errorf("lost %v dead %v inflight %d connected %d; want lost %v, dead, none in flight, none connected",
					nr.lost, nr.dead, len(nr.inflight), r.connected, tt.wantLost)
			}
			select {
			case <-nr.gone:
			default:
				t.Error("gone is not closed")
			}
		})
	}
}

// TestRequeueOnLoss drops a scripted agent with jobs in flight: exactly
// those go to the other node, first and in order, and the run still
// finishes every job once.
func TestRequeueOnLoss(t *testing.T) {
	tests := []struct {
		name     string
		answered int      // results the first node sends before it drops
		wantMove []uint64 // the first inputs the second node sees
	}{
		{"dropped before any result", 0, []uint64{1, 2}},
		{"dropped after a result", 1, []uint64{2, 3}},
		{"dropped after two results", 2, []uint64{3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const jobs = 6
			badAgents := make(chan *fakeAgent, 1)
			goodAgents := make(chan *fakeAgent, 1)
			// The second node comes up once the client has handled the
			// loss: it warns of the rejoin after putting the jobs back.
			requeued := make(chan struct{})
			var signalRequeued sync.Once
			badDial := fakeDial(t, 2, badAgents)
			var dials sync.Mutex
			dialled := false
			bad := Node{Name: "bad", Slots: fixedSlots(2), Dial: func(ctx context.Context) (*Conn, error) {
				dials.Lock()
				again := dialled
				dialled = true
				dials.Unlock()
				if again {
					return nil, fmt.Errorf("host is down")
				}
				return badDial(ctx)
			}}
			goodDial := fakeDial(t, 1, goodAgents)
			good := Node{Name: "good", Slots: fixedSlots(1), Dial: func(ctx context.Context) (*Conn, error) {
				select {
				case <-requeued:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return goodDial(ctx)
			}}
			var stdout strings.Builder
			var mu sync.Mutex
			var warnings []string
			cfg := Config{
				Template: compile(t, "echo", "{}"),
				Output:   output.New(&stdout, io.Discard, output.Options{KeepOrder: true}),
				Warn: func(err error) {
					mu.Lock()
					w := err.Error()
					warnings = append(warnings, w)
					mu.Unlock()
					if strings.HasPrefix(w, "bad: trying to rejoin") {
						signalRequeued.Do(func() { close(requeued) })
					}
				},
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ended := make(chan struct{})
			var sum Summary
			var err error
			go func() {
				defer close(ended)
				sum, err = Run(ctx, cfg, []Node{bad, good}, &numbers{n: jobs})
			}()

			fa := <-badAgents
			inflight := fa.expectInputs(t, 2)
			for i := range tt.answered {
				fa.answer(inflight[i], time.Second)
				inflight = append(inflight, fa.expectInputs(t, 1)...)
			}
			fa.drop()

			var ga *fakeAgent
			select {
			case ga = <-goodAgents:
			case <-time.After(time.Second):
				t.Fatal("the second node was not dialled")
			}
			moved := ga.expectInputs(t, 1)
			ga.answer(moved[0], time.Millisecond)
			moved = append(moved, ga.expectInputs(t, 1)...)
			if !slices.Equal(moved, tt.wantMove) {
				t.Fatalf("the second node got %v first, want %v", moved, tt.wantMove)
			}
			ga.answer(moved[1], time.Millisecond)
			ga.answerAll(ended)
			if err != nil || sum.Jobs != jobs || sum.Failed != 0 {
				t.Fatalf("Run: %+v, %v (warnings %q)", sum, err, warnings)
			}
			cfg.Output.Flush()
			if w := strings.Join(warnings, "\n"); !strings.Contains(w, "bad: lost the agent") {
				t.Fatalf("the loss was not reported: %q", w)
			}
		})
	}
}
