package events

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
)

// The causes a host is reported with, in the summary and the event stream.
const (
	CauseDNS        = "dns"        // its name did not resolve
	CauseRefused    = "refused"    // nothing listened on its port
	CauseAuth       = "auth"       // it did not accept the login
	CauseHostKey    = "hostkey"    // its host key is unknown or changed
	CauseTimeout    = "timeout"    // it did not answer in time
	CauseBootstrap  = "bootstrap"  // it answered, but the agent did not start there
	CauseConnection = "connection" // it was up, and its connection ended
	CauseCommand    = "command"    // its agent refused the command (a --workdir it cannot make, say)
)

// Cause classifies why a host never joined the run (joined false) or left
// it (joined true). It looks at the error's chain first and at its text
// second, since an ssh subprocess (--ssh) reports only text, and the SSH
// library flattens some errors into text too.
func Cause(err error, joined bool) string {
	if err == nil {
		return ""
	}
	text := strings.ToLower(err.Error())
	var dns *net.DNSError
	var timeout interface{ Timeout() bool }
	switch {
	case strings.Contains(text, "refused the command"):
		// First: the agent's own message may say anything.
		return CauseCommand
	case errors.As(err, &dns) || containsAny(text, "no such host", "could not resolve hostname", "name or service not known", "temporary failure in name resolution"):
		return CauseDNS
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(text, "connection refused"):
		return CauseRefused
	case containsAny(text, "host key verification failed", "host key mismatch", "remote host identification has changed", "unknown host key", "host key of"):
		return CauseHostKey
	case containsAny(text, "permission denied", "unable to authenticate", "no supported methods remain", "too many authentication failures"):
		return CauseAuth
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &timeout) && timeout.Timeout() ||
		containsAny(text, "timed out", "timeout", "answered nothing", "no answer to"):
		return CauseTimeout
	case joined:
		return CauseConnection
	}
	return CauseBootstrap
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
