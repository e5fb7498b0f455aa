package sched

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// within fails the test unless fn returns within a second: the queue's
// waits must end when the test says they should, never hang the run.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatalf("%s: still blocked after a second", what)
	}
}

// blocked reports whether ch stays empty for a moment: the goroutine that
// would send on it is still waiting.
func blocked[T any](ch <-chan T) bool {
	select {
	case <-ch:
		return false
	case <-time.After(20 * time.Millisecond):
		return true
	}
}

func never() bool { return false }

// liveNodes is what a waiting take sees as the count of nodes up.
var liveNodes atomic.Int32

func nodes(n int) func() int { return func() int { return n } }

// takeSeq takes without waiting and returns the job's number, 0 for none,
// and ok.
func takeSeq(q *queue, node string, others int) (uint64, bool) {
	j, ok := q.take(node, nodes(others), never, nil, false)
	if j == nil {
		return 0, ok
	}
	return j.seq, ok
}

func pushSeqs(t *testing.T, q *queue, seqs ...uint64) {
	t.Helper()
	for _, s := range seqs {
		if !q.push(context.Background(), &job{seq: s}) {
			t.Fatalf("push %d refused", s)
		}
	}
}

func TestQueue(t *testing.T) {
	type took struct {
		seq uint64
		ok  bool
	}
	tests := []struct {
		name string
		run  func(t *testing.T, q *queue) []took
		want []took
	}{
		{"fresh jobs in input order", func(t *testing.T, q *queue) []took {
			pushSeqs(t, q, 1, 2, 3)
			var got []took
			for range 4 {
				s, ok := takeSeq(q, "a", 1)
				got = append(got, took{s, ok})
			}
			return got
		}, []took{{1, true}, {2, true}, {3, true}, {0, true}}},
		{"retries go before fresh jobs, in the order put back", func(t *testing.T, q *queue) []took {
			pushSeqs(t, q, 1, 2)
			q.requeue(&job{seq: 9})
			q.requeue(&job{seq: 7})
			var got []took
			for range 4 {
				s, ok := takeSeq(q, "a", 1)
				got = append(got, took{s, ok})
			}
			return got
		}, []took{{9, true}, {7, true}, {1, true}, {2, true}}},
		{"a retry avoids the node it failed on while another is up", func(t *testing.T, q *queue) []took {
			pushSeqs(t, q, 1)
			q.requeue(&job{seq: 5, avoid: "a"})
			a1, ok1 := takeSeq(q, "a", 2)
			a2, ok2 := takeSeq(q, "a", 2)
			b, ok3 := takeSeq(q, "b", 2)
			return []took{{a1, ok1}, {a2, ok2}, {b, ok3}}
		}, []took{{1, true}, {0, true}, {5, true}}},
		{"a retry runs where it failed when no other node is up", func(t *testing.T, q *queue) []took {
			q.requeue(&job{seq: 5, avoid: "a"})
			s, ok := takeSeq(q, "a", 1)
			return []took{{s, ok}}
		}, []took{{5, true}}},
		{"over once the source is done and every job finished", func(t *testing.T, q *queue) []took {
			pushSeqs(t, q, 1, 2)
			q.sourceDone()
			s1, _ := takeSeq(q, "a", 1)
			s2, _ := takeSeq(q, "a", 1)
			q.finished()
			if q.over() {
				t.Fatal("over with a job unfinished")
			}
			mid, midOK := takeSeq(q, "a", 1)
			q.finished()
			if !q.over() {
				t.Fatal("not over with every job finished")
			}
			end, endOK := takeSeq(q, "a", 1)
			return []took{{s1, true}, {s2, true}, {mid, midOK}, {end, endOK}}
		}, []took{{1, true}, {2, true}, {0, true}, {0, false}}},
		{"stop hands out nothing more and refuses pushes", func(t *testing.T, q *queue) []took {
			pushSeqs(t, q, 1)
			q.requeue(&job{seq: 2})
			q.stop()
			if q.push(context.Background(), &job{seq: 3}) {
				t.Fatal("push accepted after stop")
			}
			if !q.over() {
				t.Fatal("not over after stop")
			}
			s, ok := takeSeq(q, "a", 1)
			return []took{{s, ok}}
		}, []took{{0, false}}},
		{"a gone node takes nothing", func(t *testing.T, q *queue) []took {
			pushSeqs(t, q, 1)
			j, ok := q.take("a", nodes(1), func() bool { return true }, nil, false)
			if j != nil {
				t.Fatalf("took job %d", j.seq)
			}
			return []took{{0, ok}}
		}, []took{{0, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(8)
			got := tt.run(t, q)
			if len(got) != len(tt.want) {
				t.Fatalf("took %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("took %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestQueueWaits covers what blocks: the feeder's read-ahead, and a sender
// waiting for a job; each wait must end on the event that ends it.
func TestQueueWaits(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(q *queue) // before the wait begins
		wait    func(q *queue, ctx context.Context) any
		release func(q *queue, cancel context.CancelFunc)
		want    any
	}{
		{
			"push waits while the read-ahead is full, until a take",
			func(q *queue) { q.push(context.Background(), &job{seq: 1}); q.push(context.Background(), &job{seq: 2}) },
			func(q *queue, ctx context.Context) any { return q.push(ctx, &job{seq: 3}) },
			func(q *queue, _ context.CancelFunc) { takeSeq(q, "a", 1) },
			true,
		},
		{
			"push waits while the read-ahead is full, until the run stops",
			func(q *queue) { q.push(context.Background(), &job{seq: 1}); q.push(context.Background(), &job{seq: 2}) },
			func(q *queue, ctx context.Context) any { return q.push(ctx, &job{seq: 3}) },
			func(q *queue, _ context.CancelFunc) { q.stop() },
			false,
		},
		{
			"push waits while the read-ahead is full, until ctx ends",
			func(q *queue) { q.push(context.Background(), &job{seq: 1}); q.push(context.Background(), &job{seq: 2}) },
			func(q *queue, ctx context.Context) any { return q.push(ctx, &job{seq: 3}) },
			func(q *queue, cancel context.CancelFunc) { cancel(); q.wake() },
			false,
		},
		{
			"take waits for a fresh job",
			func(*queue) {},
			func(q *queue, _ context.Context) any { j, _ := q.take("a", nodes(1), never, nil, true); return j.seq },
			func(q *queue, _ context.CancelFunc) { q.push(context.Background(), &job{seq: 4}) },
			uint64(4),
		},
		{
			"take waits for a job put back",
			func(q *queue) { q.push(context.Background(), &job{seq: 1}); takeSeq(q, "a", 1); q.sourceDone() },
			func(q *queue, _ context.Context) any { j, _ := q.take("a", nodes(1), never, nil, true); return j.seq },
			func(q *queue, _ context.CancelFunc) { q.requeue(&job{seq: 1}) },
			uint64(1),
		},
		{
			"take waits until the last job finishes",
			func(q *queue) { q.push(context.Background(), &job{seq: 1}); takeSeq(q, "a", 1); q.sourceDone() },
			func(q *queue, _ context.Context) any { _, ok := q.take("a", nodes(1), never, nil, true); return ok },
			func(q *queue, _ context.CancelFunc) { q.finished() },
			false,
		},
		{
			"take waits until the run stops",
			func(*queue) {},
			func(q *queue, _ context.Context) any { _, ok := q.take("a", nodes(1), never, nil, true); return ok },
			func(q *queue, _ context.CancelFunc) { q.stop() },
			false,
		},
		{
			"a retry that avoids the node waits until the other node leaves",
			func(q *queue) { q.requeue(&job{seq: 5, avoid: "a"}) },
			func(q *queue, _ context.Context) any {
				j, _ := q.take("a", func() int { return int(liveNodes.Load()) }, never, nil, true)
				return j.seq
			},
			func(q *queue, _ context.CancelFunc) { liveNodes.Store(1); q.wake() },
			uint64(5),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			liveNodes.Store(2)
			q := newQueue(2)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tt.prepare(q)
			got := make(chan any, 1)
			go func() { got <- tt.wait(q, ctx) }()
			if !blocked(got) {
				t.Fatal("did not wait")
			}
			tt.release(q, cancel)
			select {
			case g := <-got:
				if g != tt.want {
					t.Fatalf("got %v, want %v", g, tt.want)
				}
			case <-time.After(time.Second):
				q.stop()
				t.Fatal("still waiting a second after the event that ends the wait")
			}
		})
	}
}

func TestQueueOnOver(t *testing.T) {
	tests := []struct {
		name string
		run  func(q *queue)
		want int
	}{
		{"not while jobs are pending", func(q *queue) { q.push(context.Background(), &job{seq: 1}); q.sourceDone() }, 0},
		{"once when the last job finishes", func(q *queue) {
			q.push(context.Background(), &job{seq: 1})
			q.sourceDone()
			q.finished()
			q.stop()
		}, 1},
		{"once on stop", func(q *queue) { q.stop(); q.stop(); q.sourceDone() }, 1},
		{"on an empty source", func(q *queue) { q.sourceDone() }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(4)
			calls := 0
			q.onOver = func() { calls++ }
			within(t, tt.name, func() { tt.run(q) })
			if calls != tt.want {
				t.Fatalf("onOver called %d times, want %d", calls, tt.want)
			}
		})
	}
}
