package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// Retries of a handshake the server dropped: exponential from
// retryFirst up to retryMax, jittered, for at most retryBudget times the
// connect timeout in all.
const (
	retryFirst  = 50 * time.Millisecond
	retryMax    = 2 * time.Second
	retryBudget = 3
)

// dialChain connects to each ProxyJump hop in turn and then to the target,
// each through the previous one. The last client is the target's.
func dialChain(ctx context.Context, name string, target *endpoint, opts *Options) ([]*ssh.Client, error) {
	hops := append(append([]*endpoint(nil), target.jumps...), target)
	var clients []*ssh.Client
	closeAll := func() {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
		}
	}
	for i, e := range hops {
		var via *ssh.Client
		viaName := ""
		if i > 0 {
			via, viaName = clients[i-1], hops[i-1].alias
		}
		c, err := dialHop(ctx, name, e, via, viaName, opts)
		if err != nil {
			closeAll()
			return nil, err
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// dialHop connects to one server, directly or through via, and
// authenticates. A server that drops the connection before authentication,
// as sshd does past MaxStartups, is tried again after a jittered
// exponential backoff; refusals, timeouts, authentication and host key
// errors are final. Each try is bounded by the connect timeout.
func dialHop(ctx context.Context, name string, e *endpoint, via *ssh.Client, viaName string, opts *Options) (*ssh.Client, error) {
	budget := time.Now().Add(retryBudget * e.connectTimeout)
	backoff := retryFirst
	connected := false
	for try := 1; ; try++ {
		c, queued, err := dialOnce(ctx, name, e, via, viaName, opts)
		// Time spent waiting for a place among the server's logins in
		// flight is not the host's: a run of a thousand aliases of one
		// server queues most of them for seconds.
		budget = budget.Add(queued)
		if err == nil {
			return c, nil
		}
		var dropped *droppedError
		retry := errors.As(err, &dropped)
		if retry && !dropped.connected && !connected {
			retry = false // refused from the start: nothing listens there
		}
		if retry && dropped.connected {
			connected = true
		}
		if !retry || ctx.Err() != nil {
			if dropped != nil {
				return nil, dropped.err
			}
			return nil, err
		}
		sleep := backoff/2 + rand.N(backoff/2+1)
		if time.Now().Add(sleep).After(budget) {
			return nil, fmt.Errorf("%w (gave up after %d tries)", dropped.err, try)
		}
		opts.log("%s: %s dropped the connection (%v): trying again in %v", name, e.alias, dropped.cause, sleep.Round(time.Millisecond))
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, &Error{Node: name, Err: ctx.Err()}
		case <-t.C:
		}
		backoff = min(2*backoff, retryMax)
	}
}

// droppedError is a connection the server refused or closed before
// authentication, which may succeed when tried again.
type droppedError struct {
	err       error // for the user
	cause     error
	connected bool // the TCP connection was made
}

func (d *droppedError) Error() string { return d.err.Error() }

// dialOnce makes one connection to e and runs the SSH handshake on it, all
// within e's connect timeout.
// It reports how long it waited for its turn before the connection began.
func dialOnce(ctx context.Context, name string, e *endpoint, via *ssh.Client, viaName string, opts *Options) (*ssh.Client, time.Duration, error) {
	// Waiting for a place among the logins in flight to this server is
	// not part of the connect timeout.
	queuedAt := time.Now()
	release, err := startupGates.gate(e.addr()).acquire(ctx)
	queued := time.Since(queuedAt)
	if err != nil {
		return nil, queued, &Error{Node: name, Err: err}
	}
	if opts.AttemptStarted != nil {
		opts.AttemptStarted()
	}
	c, err := dialAndHandshake(ctx, name, e, via, viaName, opts)
	var dropped *droppedError
	release(errors.As(err, &dropped) && dropped.connected)
	return c, queued, err
}

// dialAndHandshake is dialOnce's connection and handshake.
func dialAndHandshake(ctx context.Context, name string, e *endpoint, via *ssh.Client, viaName string, opts *Options) (*ssh.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, e.connectTimeout)
	defer cancel()
	if via == nil && e.proxyCommand != "" {
		return dialProxyCommand(ctx, dctx, name, e, opts)
	}
	var conn net.Conn
	var err error
	if via == nil {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", e.addr())
	} else {
		conn, err = via.DialContext(dctx, "tcp", e.addr())
	}
	if err != nil {
		how := ""
		if viaName != "" {
			how = " via " + viaName
		}
		var ne net.Error
		if ctx.Err() == nil && (dctx.Err() != nil || errors.As(err, &ne) && ne.Timeout()) {
			return nil, fmt.Errorf("%s: connect to %s (%s)%s: timed out after %v", name, e.alias, e.addr(), how, e.connectTimeout)
		}
		wrapped := fmt.Errorf("%s: connect to %s (%s)%s: %w", name, e.alias, e.addr(), how, err)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil, &droppedError{err: wrapped, cause: err}
		case errors.Is(err, syscall.ECONNRESET):
			// Accepted and reset before connect returned.
			return nil, &droppedError{err: wrapped, cause: err, connected: true}
		}
		return nil, wrapped
	}
	deadline, _ := dctx.Deadline()
	c, err := handshake(ctx, conn, e, deadline, opts)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// handshake runs the SSH handshake and authentication on conn, bounded by
// deadline and by ctx.
func handshake(ctx context.Context, conn net.Conn, e *endpoint, deadline time.Time, opts *Options) (*ssh.Client, error) {
	checker, err := newHostKeyChecker(e, opts)
	if err != nil {
		return nil, &Error{Node: e.alias, Err: err}
	}
	creds := loadCredentials(e)
	defer creds.close()
	config := &ssh.ClientConfig{
		User:              e.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(creds.signers...)},
		HostKeyCallback:   checker.check,
		HostKeyAlgorithms: checker.known,
		Timeout:           e.connectTimeout,
	}
	e.algos.apply(&config.Config)
	bc := newBannerDeadline(conn, deadline)
	stop := context.AfterFunc(ctx, bc.cancel)
	c, chans, reqs, err := ssh.NewClientConn(bc, e.addr(), config)
	stop()
	if err != nil {
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, &Error{Node: e.alias, Err: hk}
		}
		if ctx.Err() != nil {
			return nil, &Error{Node: e.alias, Err: ctx.Err()}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if bc.hasAnswered() {
				return nil, &Error{Node: e.alias, Err: fmt.Errorf("ssh handshake with %s: no login within %v of its answer", e.addr(), loginGrace)}
			}
			return nil, &Error{Node: e.alias, Err: fmt.Errorf("ssh handshake with %s timed out after %v", e.addr(), e.connectTimeout)}
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &Error{Node: e.alias, Err: fmt.Errorf("permission denied (publickey) for %s@%s: %s", e.user, e.addr(), authRefusal(err, len(creds.signers))), hint: creds.authHint()}
		}
		wrapped := &Error{Node: e.alias, Err: fmt.Errorf("ssh handshake with %s: %w", e.addr(), err)}
		if droppedInHandshake(err) {
			return nil, &droppedError{err: wrapped, cause: err, connected: true}
		}
		return nil, wrapped
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// authRefusal says what was tried and what the server answered, from the
// SSH library's "unable to authenticate, attempted methods [none
// publickey], no supported methods remain".
func authRefusal(err error, keys int) string {
	tried := "no method"
	if _, rest, ok := strings.Cut(err.Error(), "attempted methods ["); ok {
		if methods, _, ok := strings.Cut(rest, "]"); ok && methods != "" {
			tried = strings.Join(strings.Fields(methods), ", ")
		}
	}
	offered := fmt.Sprintf("%d keys", keys)
	if keys == 1 {
		offered = "1 key"
	}
	return fmt.Sprintf("the server refused every method tried (%s; %s offered)", tried, offered)
}

// droppedInHandshake says whether the server closed or reset the
// connection during the handshake, as sshd does to connections past
// MaxStartups, rather than refusing the client.
func droppedInHandshake(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	// x/crypto/ssh flattens some errors into text.
	msg := err.Error()
	return strings.HasSuffix(msg, ": EOF") || strings.Contains(msg, "connection reset by peer")
}

// dialProxyCommand runs e's ProxyCommand and the SSH handshake over its
// stdin and stdout. A handshake that fails because the command failed is
// final, not tried again, and its message is the command's stderr.
func dialProxyCommand(ctx, dctx context.Context, name string, e *endpoint, opts *Options) (*ssh.Client, error) {
	conn, err := startProxyCommand(e.proxyCommand, e.knownHostsAddr())
	if err != nil {
		return nil, &Error{Node: name, Err: fmt.Errorf("ProxyCommand %q for %s: %w", e.proxyCommand, e.alias, err)}
	}
	deadline, _ := dctx.Deadline()
	c, err := handshake(ctx, conn, e, deadline, opts)
	if err == nil {
		// The command lives as long as the connection: ssh.Client.Close
		// closes conn.
		return c, nil
	}
	reason, failed := conn.failure(200 * time.Millisecond)
	conn.Close()
	var dropped *droppedError
	isDropped := errors.As(err, &dropped)
	if !failed && isDropped && ctx.Err() == nil {
		// The command ended quietly, or runs on, when the server closed:
		// as over TCP, the login may be tried again.
		dropped.err = &Error{Node: name, Err: fmt.Errorf("ProxyCommand %q for %s: the connection closed before the login: %w", e.proxyCommand, e.alias, dropped.cause)}
		return nil, dropped
	}
	if !failed || ctx.Err() != nil || !isDropped && !isTimeout(err) {
		return nil, err
	}
	if reason == "" {
		reason = err.Error()
	}
	return nil, &Error{Node: name, Err: fmt.Errorf("ProxyCommand %q for %s failed: %s", e.proxyCommand, e.alias, reason)}
}

// isTimeout says whether err is a handshake that timed out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "timed out after")
}
