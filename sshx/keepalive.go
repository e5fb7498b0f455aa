package sshx

import (
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// keepalive sends keepalive@openssh.com requests, as OpenSSH's
// ServerAliveInterval does, and calls lost when count of them in a row go
// unanswered, so that a hung host is noticed.
type keepalive struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func newKeepalive(c *ssh.Client, interval time.Duration, count int, lost func()) *keepalive {
	k := &keepalive{done: make(chan struct{})}
	if interval <= 0 {
		return k
	}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		replies := make(chan error, 1)
		pending, missed := false, 0
		for {
			select {
			case <-k.done:
				return
			case err := <-replies:
				pending = false
				if err != nil {
					return
				}
				missed = 0
			case <-t.C:
				if pending {
					missed++
					if missed >= count {
						lost()
						return
					}
					continue
				}
				pending = true
				k.wg.Add(1)
				go func() {
					// Returns when answered or when the connection closes,
					// which the owner of c does before waiting on k.
					defer k.wg.Done()
					_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
					replies <- err
				}()
			}
		}
	}()
	return k
}

// stop ends the keepalive loop; the caller closes the connection before
// waiting, so that a request in flight returns.
func (k *keepalive) stop() { close(k.done) }
