package sshtest

import (
	"net"
	"sync"
	"testing"
)

// loopback is the accept loop that the test server, the fault proxy and
// the silent listener share: it listens on a free loopback port, hands each
// connection to a handler on a goroutine of its own, and keeps the
// connections it is told to track, so that closing it can end them and wait
// for every handler.
type loopback struct {
	listener net.Listener
	port     int

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// listenLoopback listens on a free loopback port; serve starts accepting.
func listenLoopback(t testing.TB) *loopback {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &loopback{listener: l, port: l.Addr().(*net.TCPAddr).Port, conns: map[net.Conn]bool{}}
}

// serve starts the accept loop. Each accepted connection is tracked, then
// passed to handle; handle may untrack it when it is done with it.
// Whatever is tracked stays open until close.
func (lb *loopback) serve(handle func(net.Conn)) {
	lb.wg.Add(1)
	go lb.accept(handle)
}

func (lb *loopback) accept(handle func(net.Conn)) {
	defer lb.wg.Done()
	for {
		c, err := lb.listener.Accept()
		if err != nil {
			return
		}
		if !lb.track(c) {
			c.Close()
			return
		}
		// The accept loop's own count keeps the group above zero here,
		// so this Add cannot race close's Wait.
		lb.wg.Add(1)
		go func() {
			defer lb.wg.Done()
			handle(c)
		}()
	}
}

// track adds c to the connections that close and resetAll end. It reports
// false, and tracks nothing, once the listener is closed.
func (lb *loopback) track(c net.Conn) bool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.closed {
		return false
	}
	lb.conns[c] = true
	return true
}

func (lb *loopback) untrack(c net.Conn) {
	lb.mu.Lock()
	delete(lb.conns, c)
	lb.mu.Unlock()
}

func (lb *loopback) isClosed() bool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.closed
}

// resetAll resets every tracked connection (an RST rather than a FIN, as a
// network failure looks to both ends) and forgets them; the listener goes
// on accepting.
func (lb *loopback) resetAll() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for c := range lb.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	clear(lb.conns)
}

// close stops accepting, closes every tracked connection and waits for the
// handlers to return.
func (lb *loopback) close() {
	lb.mu.Lock()
	if lb.closed {
		lb.mu.Unlock()
		return
	}
	lb.closed = true
	lb.listener.Close()
	for c := range lb.conns {
		c.Close()
	}
	clear(lb.conns)
	lb.mu.Unlock()
	lb.wg.Wait()
}
