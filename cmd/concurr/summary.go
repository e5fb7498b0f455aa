package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"

	"concurr/internal/events"
	"concurr/internal/sched"
)

// runReport follows a run for the summary printed at its end, when
// anything went wrong, in one short block as pdsh prints one:
//
//	concurr: summary: 2 of 10 jobs failed
//	concurr: summary:   job 3 (exit 1): grep x c.txt
//	concurr: summary:   job 7 (killed by SIGKILL): sort big.txt
//	concurr: summary: 1 of 3 hosts never joined: node3 (dns)
//	concurr: summary: 1 host was lost: node2 (timeout, rejoined)
//	concurr: summary: 2 jobs moved to another host: 4 (node2 to node1), 5 (node2 to node1)
//
// Each problem was reported as it happened, in full; the summary gathers
// them, with each host's cause classified (see events.Cause), so that the
// end of a long run says what went wrong without scrolling back. A clean
// run prints nothing.
type runReport struct {
	mu     sync.Mutex
	hosts  int
	jobs   uint64
	failed int
	shown  []failedJob // the first few failed jobs

	up          map[string]bool // hosts that joined at some point
	neverJoined []hostCause
	lost        []hostCause // in the order they were first lost
	lostAt      map[string]int
	moved       int
	movedShown  []movedJob
	slowHosts   []string // hosts warned of for taking past their ConnectTimeout
}

// slow records a host that took past its ConnectTimeout to start: if it
// neither joins nor fails by the end, it never joined, for a timeout.
func (r *runReport) slow(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.slowHosts = append(r.slowHosts, name)
}

// settle counts the slow hosts that were still starting when the run ended
// among those that never joined; r.mu is held.
func (r *runReport) settle() {
	for _, name := range r.slowHosts {
		if r.up[name] || slices.ContainsFunc(r.neverJoined, func(h hostCause) bool { return h.name == name }) {
			continue
		}
		r.neverJoined = append(r.neverJoined, hostCause{name: name, cause: events.CauseTimeout + ", still starting"})
	}
	r.slowHosts = nil
}

type failedJob struct {
	seq     uint64
	status  string
	command string
}

type hostCause struct {
	name, cause string
	rejoined    bool
}

type movedJob struct {
	seq      uint64
	from, to string
}

// How many failed jobs, hosts and moved jobs the summary names before it
// only counts the rest.
const (
	summaryJobs  = 5
	summaryHosts = 8
	summaryMoved = 5
)

func newRunReport(hosts int) *runReport {
	return &runReport{hosts: hosts, up: map[string]bool{}, lostAt: map[string]int{}}
}

func (r *runReport) NodeUp(u sched.NodeUp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.up[u.Name] = true
	if i, ok := r.lostAt[u.Name]; ok {
		r.lost[i].rejoined = true
	}
}

func (r *runReport) NodeDown(d sched.NodeDown) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cause := events.Cause(d.Err, d.Joined)
	if !d.Joined {
		r.neverJoined = append(r.neverJoined, hostCause{name: d.Name, cause: cause})
		return
	}
	if i, ok := r.lostAt[d.Name]; ok {
		// Lost again: the latest cause, and it has not rejoined since.
		if cause != "" {
			r.lost[i].cause = cause
		}
		r.lost[i].rejoined = false
		return
	}
	r.lostAt[d.Name] = len(r.lost)
	r.lost = append(r.lost, hostCause{name: d.Name, cause: cause})
}

func (r *runReport) Started(s sched.JobStarted) {
	if s.From == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.moved++
	if len(r.movedShown) < summaryMoved {
		r.movedShown = append(r.movedShown, movedJob{s.Seq, s.From, s.Host})
	}
}

func (r *runReport) Ended(e sched.JobEnded) {
	if e.Retry {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs++
	if !e.Failed {
		return
	}
	r.failed++
	// The first few in input order, whatever order they ended in.
	i, _ := slices.BinarySearchFunc(r.shown, e.Seq, func(f failedJob, seq uint64) int { return cmp.Compare(f.seq, seq) })
	if i < summaryJobs {
		r.shown = slices.Insert(r.shown, i, failedJob{e.Seq, jobStatus(e), clip(e.CommandLine(), 60)})
		r.shown = r.shown[:min(len(r.shown), summaryJobs)]
	}
}

func (r *runReport) SourceDone(uint64) {}

// jobStatus says how a failed job ended.
func jobStatus(e sched.JobEnded) string {
	switch {
	case e.TimedOut:
		return "timed out"
	case e.NotRun:
		return "not run"
	case e.Signal != 0:
		return "killed by " + signalName(e.Signal)
	}
	return fmt.Sprintf("exit %d", e.Exit)
}

func signalName(n int) string {
	for name, sig := range map[string]syscall.Signal{"HUP": syscall.SIGHUP, "INT": syscall.SIGINT,
		"QUIT": syscall.SIGQUIT, "ABRT": syscall.SIGABRT, "KILL": syscall.SIGKILL, "SEGV": syscall.SIGSEGV,
		"PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM, "TERM": syscall.SIGTERM, "BUS": syscall.SIGBUS,
		"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "FPE": syscall.SIGFPE, "ILL": syscall.SIGILL} {
		if int(sig) == n {
			return "SIG" + name
		}
	}
	return fmt.Sprintf("signal %d", n)
}

// clip shortens s to at most most bytes for a summary line.
func clip(s string, most int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= most {
		return s
	}
	return strings.ToValidUTF8(s[:most], "") + "…"
}

// stillStarting says how many hosts neither joined nor failed to: at the
// end of a run that finished its jobs, those whose start was still under
// way when the jobs ran out, and was called off. It is "" when there were
// none.
func (r *runReport) stillStarting() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	n := r.hosts - len(r.up) - len(r.neverJoined)
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("%d of %s %s still starting when the jobs ran out, and not waited for", n, plural(r.hosts, "host"), wasOrWere(n))
}

// lines is the summary, or nothing when the run went well.
func (r *runReport) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	var out []string
	if r.failed > 0 {
		out = append(out, fmt.Sprintf("summary: %d of %s failed", r.failed, plural(int(r.jobs), "job")))
		for _, j := range r.shown {
			out = append(out, fmt.Sprintf("summary:   job %d (%s): %s", j.seq, j.status, j.command))
		}
		if more := r.failed - len(r.shown); more > 0 {
			out = append(out, fmt.Sprintf("summary:   and %d more", more))
		}
	}
	if n := len(r.neverJoined); n > 0 {
		out = append(out, fmt.Sprintf("summary: %d of %s never joined: %s", n, plural(r.hosts, "host"), hostList(r.neverJoined)))
	}
	if n := len(r.lost); n > 0 {
		out = append(out, fmt.Sprintf("summary: %s %s lost: %s", plural(n, "host"), wasOrWere(n), hostList(r.lost)))
	}
	if r.moved > 0 {
		moves := make([]string, len(r.movedShown))
		for i, m := range r.movedShown {
			moves[i] = fmt.Sprintf("%d (%s to %s)", m.seq, hostName(m.from), hostName(m.to))
		}
		text := strings.Join(moves, ", ")
		if more := r.moved - len(r.movedShown); more > 0 {
			text += fmt.Sprintf(" and %d more", more)
		}
		out = append(out, fmt.Sprintf("summary: %s moved to another host: %s", plural(r.moved, "job"), text))
	}
	return out
}

// hostList names hosts with their causes: "node3 (dns), node4 (auth)".
func hostList(hosts []hostCause) string {
	var parts []string
	for i, h := range hosts {
		if i == summaryHosts {
			parts = append(parts, fmt.Sprintf("and %d more", len(hosts)-i))
			break
		}
		why := h.cause
		if h.rejoined {
			why += ", rejoined"
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", hostName(h.name), why))
	}
	return strings.Join(parts, ", ")
}

func wasOrWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// totals is the run_end event's account of the run.
func (r *runReport) totals() events.Totals {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle()
	t := events.Totals{Jobs: r.jobs, Failed: r.failed, Moved: r.moved, HostsUp: len(r.up)}
	for _, h := range r.neverJoined {
		t.HostsNeverUp = append(t.HostsNeverUp, h.name)
	}
	for _, h := range r.lost {
		t.HostsLost = append(t.HostsLost, h.name)
	}
	return t
}

// progressTee hands a run's progress to each of its followers.
type progressTee []sched.Progress

func (t progressTee) NodeUp(u sched.NodeUp) {
	for _, p := range t {
		p.NodeUp(u)
	}
}

func (t progressTee) NodeDown(d sched.NodeDown) {
	for _, p := range t {
		p.NodeDown(d)
	}
}

func (t progressTee) Started(s sched.JobStarted) {
	for _, p := range t {
		p.Started(s)
	}
}

func (t progressTee) Ended(e sched.JobEnded) {
	for _, p := range t {
		p.Ended(e)
	}
}

func (t progressTee) SourceDone(total uint64) {
	for _, p := range t {
		p.SourceDone(total)
	}
}
