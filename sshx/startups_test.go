package sshx

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"concurr/internal/sshtest"
)

func TestStartupGate(t *testing.T) {
	tests := []struct {
		name string
		// logins runs against a gate of window 2: each is acquire, then
		// release with dropped, in order, all first acquired then released.
		dropped    []bool
		wantWindow int
	}{
		{name: "logins that fill the window widen it", dropped: []bool{false, false}, wantWindow: 3},
		{name: "a drop halves it", dropped: []bool{true}, wantWindow: 1},
		{name: "never below one", dropped: []bool{true, true}, wantWindow: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newStartupGate(2)
			var releases []func(bool)
			for range tt.dropped {
				rel, err := g.acquire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				releases = append(releases, rel)
			}
			for i, rel := range releases {
				rel(tt.dropped[i])
				rel(tt.dropped[i]) // a second release is a no-op
			}
			if g.window != tt.wantWindow || g.inFlight != 0 {
				t.Errorf("window %d, in flight %d; want window %d, none in flight", g.window, g.inFlight, tt.wantWindow)
			}
		})
	}
}

func TestStartupGateWaits(t *testing.T) {
	g := newStartupGate(1)
	rel, err := g.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a login past the window waits for a place", func(t *testing.T) {
		got := make(chan func(bool))
		go func() {
			r, _ := g.acquire(context.Background())
			got <- r
		}()
		select {
		case <-got:
			t.Fatal("acquired past the window")
		case <-time.After(50 * time.Millisecond):
		}
		rel(false)
		select {
		case r := <-got:
			r(false)
		case <-time.After(5 * time.Second):
			t.Fatal("no place after a release")
		}
	})
	t.Run("the wait ends with ctx", func(t *testing.T) {
		hold, _ := g.acquire(context.Background())
		for g.inFlight < g.window {
			h, _ := g.acquire(context.Background())
			defer h(false)
		}
		defer hold(false)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := g.acquire(ctx); err == nil {
			t.Fatal("acquired past a full window")
		}
	})
}

// A login that waits for its turn among the logins in flight to its server
// is told when its connection begins, after the wait: the wait is not the
// host's (no "slow host" warning counts it), and it does not use up the
// retry budget of a host whose server drops it.
func TestAttemptStartsAfterTheTurn(t *testing.T) {
	s := sshtest.StartServer(t)
	config := s.WriteConfig("node1")
	g := startupGates.gate(s.Addr)
	var holds []func(bool)
	for {
		g.mu.Lock()
		full := g.inFlight >= g.window
		g.mu.Unlock()
		if full {
			break
		}
		h, err := g.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		holds = append(holds, h)
	}
	var releasedAt, startedAt atomic.Int64 // UnixNano
	go func() {
		time.Sleep(300 * time.Millisecond)
		releasedAt.Store(time.Now().UnixNano())
		for _, h := range holds {
			h(false)
		}
	}()
	var log logLines
	opts := options(config, &log)
	opts.AttemptStarted = func() { startedAt.CompareAndSwap(0, time.Now().UnixNano()) }
	n := start(t, "node1", opts)
	hello(t, n)
	if released, started := releasedAt.Load(), startedAt.Load(); released == 0 || started < released {
		t.Errorf("the attempt began %v before the server's logins in flight made room", time.Duration(released-started))
	}
}
