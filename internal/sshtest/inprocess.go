package sshtest

import (
	"context"
	"encoding/binary"
	"io"
	"time"

	"golang.org/x/crypto/ssh"
)

// ExecHandler serves an exec request inside the test's own process instead
// of running it with /bin/sh: it reads the session's stdin, writes its
// stdout and stderr, and returns the exit status. ctx ends when the client
// closes the channel or signals the session. It lets a benchmark stand up
// a thousand hosts, each with its agent, in one process.
type ExecHandler func(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) int

// SetExecHandler makes the server serve every later exec request with h;
// nil goes back to /bin/sh.
func (s *Server) SetExecHandler(h ExecHandler) {
	s.mu.Lock()
	s.execHandler = h
	s.mu.Unlock()
}

// SetHandshakeTimeout bounds each later connection's handshake and login
// (10 s by default): a thousand logins at once on a few cores take longer.
func (s *Server) SetHandshakeTimeout(d time.Duration) {
	s.mu.Lock()
	s.handshakeTimeout = d
	s.mu.Unlock()
}

// startInProcess runs h for one exec request on ch. The returned cancel
// ends its ctx; exited closes once h has returned and the exit status has
// been sent.
func (s *Server) startInProcess(h ExecHandler, command string, ch ssh.Channel) (cancel func(), exited chan struct{}) {
	s.mu.Lock()
	s.execs = append(s.execs, command)
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	exited = make(chan struct{})
	go func() {
		// Owned by the session loop, which waits on exited.
		defer close(exited)
		status := h(ctx, command, ch, ch, ch.Stderr())
		ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(status)))
		ch.CloseWrite()
	}()
	return cancel, exited
}
