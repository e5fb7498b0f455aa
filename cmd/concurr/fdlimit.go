package main

import (
	"fmt"
	"syscall"
)

// Every SSH host holds its connection's socket for the whole run, and an
// `--ssh` host the three pipes to its ssh process. Hundreds of hosts pass
// the soft limit of 1024 descriptors that most systems start a session
// with, so concurr raises the soft limit to the hard one before it dials,
// as OpenSSH-based tools (pdsh, clush, GNU Parallel's own ssh) do, and
// refuses a run that would still not fit before it dials anything: a run
// that ran out of descriptors at host 1,000 would lose that host and keep
// failing every job that opens a file.
//
// The Go runtime already raises the soft limit on Linux when the os
// package starts, and gives child processes back the limit they were
// started with; doing it here too covers platforms and runtimes that do
// not, and lets -v say what the limit is.

// Descriptors the run needs beyond its hosts': stdio, the runtime's poller,
// output spools, the job log, --results files and the local agent's pipes.
const descriptorReserve = 16

// descriptorsPerHost is what one host holds open in the client: two for a
// native SSH host (its socket, with room to spare for a ProxyJump hop), or
// three for an --ssh host (the pipes to its ssh process).
func descriptorsPerHost(sshCommand bool) int {
	if sshCommand {
		return 3
	}
	return 2
}

// descriptorLimit is the soft RLIMIT_NOFILE after raiseDescriptorLimit.
type descriptorLimit struct {
	soft, hard uint64
	raisedFrom uint64 // the soft limit before, when this call raised it
	raiseErr   error  // why the soft limit could not be raised
}

// raiseDescriptorLimit sets the soft descriptor limit to the hard one.
func raiseDescriptorLimit() (descriptorLimit, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return descriptorLimit{}, fmt.Errorf("read the descriptor limit: %w", err)
	}
	l := descriptorLimit{soft: uint64(r.Cur), hard: uint64(r.Max)}
	if l.soft >= l.hard {
		return l, nil
	}
	want := r
	want.Cur = r.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		// macOS refuses an unlimited soft limit: its real ceiling is
		// kern.maxfilesperproc, and OPEN_MAX is what it always accepts.
		if l.soft < openMax && l.hard > openMax {
			want.Cur = openMaxOf(r.Cur)
			if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
				l.raisedFrom, l.soft = l.soft, openMax
				return l, nil
			}
		}
		l.raiseErr = err
		return l, nil
	}
	l.raisedFrom, l.soft = l.soft, l.hard
	return l, nil
}

// openMax is macOS's OPEN_MAX, the soft limit it accepts when the hard
// limit is unlimited.
const openMax = 10240

// openMaxOf returns openMax in the type of the platform's Rlimit field.
func openMaxOf[T ~int64 | ~uint64](T) T { return T(openMax) }

// checkDescriptors raises the descriptor limit, says so under -v, and
// returns an error when hosts would not fit under it.
func checkDescriptors(hosts int, sshCommand bool, say *messages, verbose bool) error {
	if hosts == 0 {
		return nil
	}
	l, err := raiseDescriptorLimit()
	if err != nil {
		// Without a limit to compare with, the dials themselves will say.
		if verbose {
			say.logf("descriptor limit unknown: %v", err)
		}
		return nil
	}
	need := uint64(hosts*descriptorsPerHost(sshCommand) + descriptorReserve)
	many := fmt.Sprintf("%d hosts need", hosts)
	if hosts == 1 {
		many = "1 host needs"
	}
	if verbose {
		switch {
		case l.raisedFrom > 0:
			say.logf("descriptor limit raised from %d to %d (the hard limit); %s about %d", l.raisedFrom, l.soft, many, need)
		case l.raiseErr != nil:
			say.logf("descriptor limit %d, hard limit %d: could not raise it: %v; %s about %d", l.soft, l.hard, l.raiseErr, many, need)
		default:
			say.logf("descriptor limit %d (the hard limit); %s about %d", l.soft, many, need)
		}
	}
	if need <= l.soft {
		return nil
	}
	fix := "raise the hard limit (ulimit -Hn as root, or nofile in /etc/security/limits.conf), or give fewer hosts per run"
	if l.soft < l.hard {
		fix = fmt.Sprintf("raise the soft limit with ulimit -n %d, or give fewer hosts per run", l.hard)
	}
	return usagef(fix, "%s about %d file descriptors, but this process may open only %d (ulimit -n)", many, need, l.soft)
}
