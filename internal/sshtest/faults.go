package sshtest

import (
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartSilentListener listens on a loopback port that accepts connections
// and never says a word on them, as a host whose sshd hangs would. It
// returns the port, and closes everything at the test's cleanup.
func StartSilentListener(t testing.TB) int {
	t.Helper()
	lb := listenLoopback(t)
	lb.serve(func(net.Conn) {}) // held open, and tracked, until cleanup
	t.Cleanup(lb.close)
	return lb.port
}

// FaultProxy forwards loopback TCP connections to a target, and can drop
// them (a network failure) or freeze them (a host that hangs: bytes are
// no longer forwarded, and new connections are accepted but never
// answered).
type FaultProxy struct {
	Port     int // where clients connect instead of the target
	target   string
	loopback *loopback

	mu     sync.Mutex
	frozen bool
}

// StartFaultProxy starts a proxy in front of target (host:port), and
// closes it at the test's cleanup.
func StartFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	lb := listenLoopback(t)
	p := &FaultProxy{Port: lb.port, target: target, loopback: lb}
	lb.serve(p.forward)
	t.Cleanup(p.close)
	return p
}

func (p *FaultProxy) forward(c net.Conn) {
	// A frozen host accepts and says nothing, until the proxy thaws.
	for p.isFrozen() {
		if p.loopback.isClosed() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.loopback.track(up) {
		up.Close()
		c.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(up, c) }()
	go func() { defer wg.Done(); p.pump(c, up) }()
	wg.Wait()
}

// pump copies src to dst, holding what it reads while the proxy is frozen.
func (p *FaultProxy) pump(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for n > 0 && p.isFrozen() && !p.loopback.isClosed() {
			time.Sleep(20 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *FaultProxy) isFrozen() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.frozen }

// Freeze stops forwarding, or resumes it.
func (p *FaultProxy) Freeze(frozen bool) {
	p.mu.Lock()
	p.frozen = frozen
	p.mu.Unlock()
}

// Drop resets every connection the proxy holds, and keeps accepting new
// ones: the network failed, the host did not.
func (p *FaultProxy) Drop() { p.loopback.resetAll() }

func (p *FaultProxy) close() {
	p.Freeze(false)
	p.loopback.close()
}

// StartFullListener listens on a loopback port whose accept queue is full
// and never drains, so that the kernel drops new connections' SYNs and a
// connect hangs as it does to a host that is down behind a firewall. It
// skips the test when the queue cannot be filled.
func StartFullListener(t testing.TB) int {
	t.Helper()
	// SOCK_CLOEXEC is Linux's; CloseOnExec right after is portable, and a
	// child forked in between would only hold the socket open a while.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	// A backlog of 0 queues one connection; the rest wait for room.
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// Fill the queue, then check that one more connection hangs.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i == 8 {
			t.Skip("the kernel keeps accepting connections to a full queue")
		}
	}
	return port
}
