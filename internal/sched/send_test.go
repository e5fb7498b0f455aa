package sched

import (
	"context"
	"io"
	"testing"
	"time"

	"concurr/internal/output"
	"concurr/internal/wire"
)

func TestNewNodeRunCredit(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		soleNode    bool
		wantCredit  int // credit at the start
		wantCap     int // the most it can have
		wantGranted bool
	}{
		{"one job per slot until jobs prove short", Config{}, false, 2, 5, false},
		{"a sole node gets its prefetch at once", Config{}, true, 5, 5, true},
		{"no send-ahead with --delay", Config{Delay: time.Millisecond}, true, 2, 2, true},
		{"no send-ahead with --halt", Config{Halt: Halt{When: HaltOnFail, Count: 1}}, true, 2, 2, true},
		{"no send-ahead with --timeout N%", Config{TimeoutPercent: 200}, false, 2, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{cfg: tt.cfg, soleNode: tt.soleNode}
			nr := r.newNodeRun(Node{Name: "n", Prefetch: 3}, nil, 2)
			if len(nr.credit) != tt.wantCredit || cap(nr.credit) != tt.wantCap || nr.prefetchGranted != tt.wantGranted {
				t.Fatalf("credit %d of %d, granted %v; want %d of %d, %v",
					len(nr.credit), cap(nr.credit), nr.prefetchGranted, tt.wantCredit, tt.wantCap, tt.wantGranted)
			}
		})
	}
}

func TestGrantPrefetch(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name        string
		runtimes    []time.Duration // of the results, in order
		wantAdded   int
		wantGranted bool
	}{
		{"not before a result per slot", []time.Duration{ms}, 0, false},
		{"short jobs: the prefetch", []time.Duration{ms, 2 * ms}, 3, true},
		{"judged on the average", []time.Duration{ms, 30 * ms}, 3, true},
		{"long jobs: not yet", []time.Duration{time.Second, time.Second}, 0, false},
		{"long jobs: never, after 4 results per slot", []time.Duration{time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, ms, ms, ms, ms, ms, ms, ms, ms, ms, ms, ms}, 0, true},
		{"granted once", []time.Duration{ms, ms, ms, ms}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{}
			nr := r.newNodeRun(Node{Name: "n", Prefetch: 3}, nil, 2)
			for range nr.slots {
				<-nr.credit // the slots are busy
			}
			for _, d := range tt.runtimes {
				nr.grantPrefetch(&wire.Result{Runtime: int64(d)})
			}
			if len(nr.credit) != tt.wantAdded || nr.prefetchGranted != tt.wantGranted {
				t.Fatalf("added %d credit, granted %v; want %d, %v", len(nr.credit), nr.prefetchGranted, tt.wantAdded, tt.wantGranted)
			}
		})
	}
}

// TestSendAhead checks through a scripted agent how many jobs the client
// sends beyond the node's slots (2, prefetch 3), and when.
func TestSendAhead(t *testing.T) {
	type step struct {
		answer  int           // answer this many of the oldest jobs in flight
		runtime time.Duration // with this runtime
		want    int           // then expect exactly this many more inputs
	}
	tests := []struct {
		name      string
		cfg       Config
		otherNode bool
		steps     []step
	}{
		{"a sole node is sent its prefetch at once", Config{}, false,
			[]step{{0, 0, 5}, {1, time.Second, 1}}},
		{"short jobs earn the prefetch", Config{}, true,
			[]step{{0, 0, 2}, {1, time.Millisecond, 1}, {1, time.Millisecond, 4}}},
		{"long jobs do not", Config{}, true,
			[]step{{0, 0, 2}, {2, time.Second, 2}}},
		{"nothing ahead with --halt", Config{Halt: Halt{When: HaltOnFail, Count: 1}}, false,
			[]step{{0, 0, 2}, {2, time.Millisecond, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agents := make(chan *fakeAgent, 1)
			cfg := tt.cfg
			cfg.Template = compile(t, "echo", "{}")
			cfg.Output = output.New(io.Discard, io.Discard, output.Options{})
			nodes := []Node{{Name: "n", Dial: fakeDial(t, 2, agents), Slots: fixedSlots(2), Prefetch: 3}}
			if tt.otherNode {
				nodes = append(nodes, unreachable)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ended := make(chan struct{})
			var sum Summary
			var err error
			go func() {
				defer close(ended)
				sum, err = Run(ctx, cfg, nodes, &numbers{n: 40})
			}()
			var fa *fakeAgent
			select {
			case fa = <-agents:
			case <-time.After(time.Second):
				t.Fatal("the node was not dialled")
			}
			var inflight []uint64
			for _, s := range tt.steps {
				for _, seq := range inflight[:s.answer] {
					fa.answer(seq, s.runtime)
				}
				inflight = inflight[s.answer:]
				inflight = append(inflight, fa.expectInputs(t, s.want)...)
			}
			for _, seq := range inflight {
				fa.answer(seq, time.Millisecond)
			}
			fa.answerAll(ended)
			if err != nil || sum.Jobs != 40 {
				t.Fatalf("Run: %+v, %v", sum, err)
			}
		})
	}
}
