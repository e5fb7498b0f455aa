package sshx

import (
	"context"
	"net"
	"sync"
	"time"
)

// sshd counts the connections that have not yet authenticated against its
// MaxStartups, "10:30:100" by default: past 10 it drops 30% of new ones at
// random, rising to all of them at 100. Hosts that are separate machines
// never meet it, but a run that names many aliases of one machine, or many
// ports of one sshd, opens all its connections to one sshd at once, and a
// third of them would be dropped and retried after a backoff, each retry
// again a gamble.
//
// So logins to one address are spread: at most a window of them is in
// flight, from the TCP connect to the end of authentication. The window
// starts at sshd's default start value, where nothing is dropped, grows by
// one with each login that succeeds while the window is full (a server
// whose MaxStartups was raised takes more), and halves at each drop, as
// TCP's congestion window does. Other addresses are not held up.
const (
	startupsFirst = 10   // sshd's default MaxStartups start
	startupsMax   = 1024 // no server is worth more at once
	startupsMin   = 1
)

// startupGates holds one gate per server address.
var startupGates = &startupGateSet{gates: map[string]*startupGate{}}

type startupGateSet struct {
	mu    sync.Mutex
	gates map[string]*startupGate
}

func (s *startupGateSet) gate(addr string) *startupGate {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gates[addr]
	if !ok {
		g = newStartupGate(startupsFirst)
		s.gates[addr] = g
	}
	return g
}

// startupGate is the window of logins in flight to one address.
type startupGate struct {
	mu       sync.Mutex
	window   int
	inFlight int
	// wake is closed and replaced whenever a slot may have opened.
	wake chan struct{}
}

func newStartupGate(window int) *startupGate {
	return &startupGate{window: window, wake: make(chan struct{})}
}

// acquire waits for a place in the window, or for ctx to end. release
// reports how the login went: dropped when the server closed the
// connection before authentication, as sshd does past MaxStartups.
func (g *startupGate) acquire(ctx context.Context) (release func(dropped bool), err error) {
	for {
		g.mu.Lock()
		if g.inFlight < g.window {
			g.inFlight++
			full := g.inFlight == g.window
			g.mu.Unlock()
			var once sync.Once
			return func(dropped bool) { once.Do(func() { g.release(dropped, full) }) }, nil
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// release frees a place. A login that succeeded with the window full
// widens it; a drop halves it.
func (g *startupGate) release(dropped, full bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
	switch {
	case dropped:
		g.window = max(startupsMin, g.window/2)
	case full:
		g.window = min(startupsMax, g.window+1)
	}
	close(g.wake)
	g.wake = make(chan struct{})
}

// loginGrace bounds the key exchange and authentication once the server
// has answered, as sshd's own LoginGraceTime (120 s by default) bounds
// them on its side.
const loginGrace = 60 * time.Second

// bannerDeadline applies ConnectTimeout as OpenSSH does: to the connection
// and the server's first bytes (its version banner), not to the whole key
// exchange and authentication. A server that answers is alive; one that
// is busy with hundreds of logins at once (sshd forks and re-executes
// itself for each, and every key exchange costs it CPU) may take longer
// than ConnectTimeout to finish them all, and counting that against the
// timeout would give up on hosts that were about to join.
type bannerDeadline struct {
	net.Conn
	mu        sync.Mutex
	answered  bool
	cancelled bool
}

func newBannerDeadline(conn net.Conn, connectDeadline time.Time) *bannerDeadline {
	conn.SetDeadline(connectDeadline)
	return &bannerDeadline{Conn: conn}
}

func (b *bannerDeadline) Read(p []byte) (int, error) {
	n, err := b.Conn.Read(p)
	if n > 0 {
		b.mu.Lock()
		if !b.answered && !b.cancelled {
			b.answered = true
			b.Conn.SetDeadline(time.Now().Add(loginGrace))
		}
		b.mu.Unlock()
	}
	return n, err
}

// cancel ends the handshake at once, whatever its deadline.
func (b *bannerDeadline) cancel() {
	b.mu.Lock()
	b.cancelled = true
	b.Conn.SetDeadline(time.Unix(1, 0))
	b.mu.Unlock()
}

func (b *bannerDeadline) hasAnswered() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.answered
}
