package main

// Fault injection: hosts that die, hang or never answer, a client that is
// killed or interrupted, and hostile input, each checked for the one promise
// that matters here: every job's result arrives exactly once, or the run
// says clearly why not, and nothing is left running.
//
// Tests whose name holds E2E start the system's sshd and run only with
// CONCURR_E2E=1 (make e2e); the others use the in-process SSH server or run
// locally, and run always.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"concurr/internal/proctest"
	"concurr/internal/sshtest"
)

// faultHost is one host of a test cluster: an alias in the cluster's
// ssh_config and the HOME its sessions run with.
type faultHost struct {
	alias string
	home  string
	proxy *sshtest.FaultProxy // in front of the host, when the test needs one
	sshd  *sshtest.SSHD
}

// faultCluster is a set of hosts reachable through one ssh_config.
type faultCluster struct {
	t          *testing.T
	clientHome string
	config     string
	hosts      map[string]*faultHost
	blocks     strings.Builder
	options    []string // ssh_config lines for every host
}

func newFaultCluster(t *testing.T) *faultCluster {
	return &faultCluster{t: t, clientHome: t.TempDir(), hosts: map[string]*faultHost{}, options: hostOptions}
}

// hostOptions are the ssh_config lines every host gets: a hang is noticed
// after two unanswered keepalives a second apart, and a host that never
// answers costs two seconds.
var hostOptions = []string{"ConnectTimeout 2", "ServerAliveInterval 1", "ServerAliveCountMax 2"}

// addBlock writes alias's Host block to the cluster's ssh_config.
func (c *faultCluster) addBlock(alias string, port int, keyFile, knownHosts string) {
	u, err := user.Current()
	if err != nil {
		c.t.Fatal(err)
	}
	fmt.Fprintf(&c.blocks, "Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n"+
		"  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
		alias, port, u.Username, keyFile, knownHosts)
	for _, l := range c.options {
		c.blocks.WriteString("  " + l + "\n")
	}
	c.config = filepath.Join(c.clientHome, "ssh_config")
	if err := os.WriteFile(c.config, []byte(c.blocks.String()), 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// knownHostsFor writes a known_hosts file that gives port the host key in
// line (a known_hosts line for another port of the same server), so that
// a proxy's port passes host key checking.
func (c *faultCluster) knownHostsFor(alias string, port int, keyType, key string) string {
	path := filepath.Join(c.clientHome, "known_hosts_"+alias)
	line := fmt.Sprintf("%s %s %s\n", knownhosts.Normalize("127.0.0.1:"+strconv.Itoa(port)), keyType, key)
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// addServer adds an in-process SSH server as alias, behind a proxy when
// proxied is set.
func (c *faultCluster) addServer(alias string, proxied bool) (*faultHost, *sshtest.Server) {
	s := sshtest.StartServer(c.t)
	h := &faultHost{alias: alias, home: s.Home}
	port := s.Port
	knownHosts := s.KnownHosts
	if proxied {
		h.proxy = sshtest.StartFaultProxy(c.t, s.Addr)
		port = h.proxy.Port
		f := strings.Fields(s.KnownHostsLine())
		knownHosts = c.knownHostsFor(alias, port, f[1], f[2])
	}
	c.addBlock(alias, port, s.Keys.KeyFile, knownHosts)
	c.hosts[alias] = h
	return h, s
}

// addSSHD adds every port of a real sshd as the given aliases, the first
// behind a proxy when proxied is set.
func (c *faultCluster) addSSHD(d *sshtest.SSHD, proxied bool, aliases ...string) []*faultHost {
	known, err := os.ReadFile(d.KnownHosts)
	if err != nil {
		c.t.Fatal(err)
	}
	f := strings.Fields(string(known))
	var hosts []*faultHost
	for i, alias := range aliases {
		h := &faultHost{alias: alias, home: d.Home, sshd: d}
		port := d.Ports[i%len(d.Ports)]
		knownHosts := d.KnownHosts
		if proxied && i == 0 {
			h.proxy = sshtest.StartFaultProxy(c.t, "127.0.0.1:"+strconv.Itoa(port))
			port = h.proxy.Port
			knownHosts = c.knownHostsFor(alias, port, f[1], f[2])
		}
		c.addBlock(alias, port, d.Keys.KeyFile, knownHosts)
		c.hosts[alias] = h
		hosts = append(hosts, h)
	}
	return hosts
}

// addSilent adds a host whose port accepts connections and never speaks.
func (c *faultCluster) addSilent(alias string, port int) {
	c.addBlock(alias, port, filepath.Join(c.clientHome, "no_key"), "/dev/null")
}

// agents lists the concurr agents running with HOME=home.
func agents(home string) []proctest.Process {
	return proctest.InHome(home, "concurr", "--agent").List()
}

// signalAll sends sig to each process.
func signalAll(ps []proctest.Process, sig syscall.Signal) {
	for _, p := range ps {
		syscall.Kill(p.PID, sig)
	}
}

// waitFor polls cond every 20ms for up to timeout and reports whether it
// became true.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// concurrRun is a concurr process started by a test.
type concurrRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *timedBuffer
	stderr *timedBuffer
	done   chan struct{}
	err    error
	start  time.Time
}

// timedBuffer is a buffer that records when it first got bytes.
type timedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first time.Time
}

func (b *timedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.first.IsZero() && len(p) > 0 {
		b.first = time.Now()
	}
	return b.buf.Write(p)
}

func (b *timedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }
func (b *timedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
func (b *timedBuffer) First() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.first }

// startConcurr starts concurr with args in dir, with HOME=home and the
// test's environment without CONCURR_ settings, plus env.
func startConcurr(t *testing.T, dir, home string, env []string, stdin io.Reader, args ...string) *concurrRun {
	t.Helper()
	path, err := exec.LookPath("concurr")
	if err != nil {
		t.Fatalf("concurr is not in $PATH, which testscript.Main sets up: %v", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONCURR_") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home)
	cmd.Env = append(cmd.Env, env...)
	r := &concurrRun{t: t, cmd: cmd, stdout: &timedBuffer{}, stderr: &timedBuffer{}, done: make(chan struct{})}
	cmd.Stdin = stdin
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.done
	})
	return r
}

// wait waits up to limit for concurr to exit and returns its exit status;
// it fails the test if concurr is still running then, or was killed by a
// signal it did not handle.
func (r *concurrRun) wait(limit time.Duration) int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(limit):
		r.cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, on stderr
		<-r.done
		r.t.Fatalf("concurr still running after %v: %v\nstderr:\n%s", limit, r.cmd.Args, tail(r.stderr.String(), 8000))
	}
	var exitErr *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return exitErr.ExitCode()
	default:
		r.t.Fatal(r.err)
		return -1
	}
}

func (r *concurrRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// checkNoPanic fails the test if concurr's stderr shows a panic or a race.
func checkNoPanic(t *testing.T, stderr string) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "DATA RACE"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("concurr's stderr shows %q:\n%s", bad, tail(stderr, 8000))
		}
	}
}

// jobLogEntry is a line of a job log.
type jobLogEntry struct {
	seq   int
	host  string
	start float64
	exit  int
}

// readJobLog parses a job log and fails the test on a malformed line.
func readJobLog(t *testing.T, path string) []jobLogEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []jobLogEntry
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			t.Fatalf("job log %s ends in a partial line %q", path, line)
		}
		if i == 0 {
			if !strings.HasPrefix(line, "Seq\tHost\t") {
				t.Fatalf("job log %s starts with %q, not its header", path, line)
			}
			continue
		}
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) < 9 {
			t.Fatalf("job log line %d has %d fields: %q", i+1, len(f), line)
		}
		seq, err1 := strconv.Atoi(f[0])
		start, err2 := strconv.ParseFloat(f[2], 64)
		exit, err3 := strconv.Atoi(f[6])
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("job log line %d %q: %v", i+1, line, err)
		}
		out = append(out, jobLogEntry{seq: seq, host: f[1], start: start, exit: exit})
	}
	return out
}

// checkOncePerSeq fails the test unless the log has one line for each of
// 1..n and no other.
func checkOncePerSeq(t *testing.T, log []jobLogEntry, n int) map[int]jobLogEntry {
	t.Helper()
	bySeq := map[int]jobLogEntry{}
	for _, e := range log {
		if _, dup := bySeq[e.seq]; dup {
			t.Errorf("job log has job %d twice", e.seq)
		}
		if e.seq < 1 || e.seq > n {
			t.Errorf("job log has job %d, outside 1..%d", e.seq, n)
		}
		bySeq[e.seq] = e
	}
	for i := 1; i <= n; i++ {
		if _, ok := bySeq[i]; !ok {
			t.Errorf("job log lacks job %d", i)
		}
	}
	return bySeq
}

// seqArgs returns "1" … "n".
func seqArgs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out
}

// starts reads the file in which jobs record "{#} {host}" as they start.
func starts(t *testing.T, path string) map[int][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	out := map[int][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		seq, _ := strconv.Atoi(f[0])
		out[seq] = append(out[seq], f[1])
	}
	return out
}

// hostFaultRun runs jobs on victim and other, two slots each, injects a
// fault into victim once it runs jobs, and checks that every job's output
// and job log line is there once, in order with -k, with its own {#}; that
// at least one job caught on victim ran again; and, with rejoin, that
// victim came back and took jobs after the fault.
type hostFaultRun struct {
	cluster     *faultCluster
	victim      string
	other       string
	jobs        int
	jobTime     string // the jobs' sleep
	inject      func(t *testing.T)
	rejoin      bool          // victim comes back and takes jobs again
	detectLimit time.Duration // victim's jobs must have moved within this time
	limit       time.Duration // the whole run
}

func (h hostFaultRun) run(t *testing.T) {
	dir := t.TempDir()
	startsFile := filepath.Join(dir, "starts")
	jobLog := filepath.Join(dir, "joblog")
	// printf with one argument: the agent's echo writes word by word, and
	// concurrent appends would interleave (TestFaultConcurrentAppends).
	template := fmt.Sprintf(`printf '%%s\n' "{#} {host}" >> %s; sleep %s; echo {#} {host}`, startsFile, h.jobTime)
	args := []string{"-F", h.cluster.config, "-S", "2/" + h.victim + ",2/" + h.other, "-k", "--joblog", jobLog, template, ":::"}
	args = append(args, seqArgs(h.jobs)...)
	r := startConcurr(t, dir, h.cluster.clientHome, nil, nil, args...)

	busy := func() bool {
		n := 0
		for _, hosts := range starts(t, startsFile) {
			if slices.Contains(hosts, h.victim) {
				n++
			}
		}
		return n >= 3
	}
	if !waitFor(20*time.Second, func() bool { return busy() || r.exited() }) || r.exited() {
		r.wait(time.Second)
		t.Fatalf("%s never ran jobs; stderr:\n%s", h.victim, r.stderr.String())
	}
	// A job the victim started ran again: requeued when the victim was
	// found lost. (A hung host may go on starting jobs until then.)
	rerunOf := func() (seqs []int) {
		for seq, hosts := range starts(t, startsFile) {
			if len(hosts) > 1 && hosts[0] == h.victim {
				seqs = append(seqs, seq)
			}
		}
		return seqs
	}
	injected := time.Now()
	h.inject(t)

	if h.detectLimit > 0 {
		if !waitFor(h.detectLimit, func() bool { return len(rerunOf()) > 0 }) {
			t.Errorf("no job of %s started again within %v of the fault; stderr:\n%s", h.victim, h.detectLimit, r.stderr.String())
		} else {
			t.Logf("jobs moved %v after the fault", time.Since(injected).Round(10*time.Millisecond))
		}
	}

	status := r.wait(h.limit)
	elapsed := time.Since(r.start)
	stderr := r.stderr.String()
	checkNoPanic(t, stderr)
	t.Logf("run took %v; stderr:\n%s", elapsed.Round(10*time.Millisecond), stderr)
	if status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}

	log := readJobLog(t, jobLog)
	bySeq := checkOncePerSeq(t, log, h.jobs)
	lines := strings.Split(strings.TrimSuffix(r.stdout.String(), "\n"), "\n")
	if len(lines) != h.jobs {
		t.Errorf("%d output lines, want %d:\n%s", len(lines), h.jobs, r.stdout.String())
	}
	for i, line := range lines {
		seq := i + 1
		e := bySeq[seq]
		if want := fmt.Sprintf("%d %s", seq, e.host); line != want {
			t.Errorf("output line %d is %q, want %q (the job log's host)", seq, line, want)
		}
		if e.exit != 0 {
			t.Errorf("job %d exited %d", seq, e.exit)
		}
	}

	rerun := rerunOf()
	if len(rerun) == 0 {
		t.Errorf("no job of %s ran again; starts: %v", h.victim, starts(t, startsFile))
	}
	slices.Sort(rerun)
	t.Logf("jobs %v of %s ran again, with their own {#}", rerun, h.victim)
	if h.rejoin {
		after := 0
		for _, e := range log {
			if e.host == h.victim && e.start > float64(injected.UnixMilli())/1000+0.3 {
				after++
			}
		}
		if after == 0 {
			t.Errorf("%s ran no job after the fault: it did not rejoin", h.victim)
		} else {
			t.Logf("%s ran %d jobs after rejoining", h.victim, after)
		}
	}
}

// TestFaultHostLost loses a host mid-run in the ways a host goes away, on
// in-process SSH servers: its jobs run again elsewhere with their {#}, and
// a host that comes back rejoins.
func TestFaultHostLost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds agents in /proc")
	}
	tests := []struct {
		name    string
		rejoin  bool
		detect  time.Duration
		jobTime string // long enough that the victim still holds jobs when the fault is noticed
		fault   func(t *testing.T, victim *faultHost, server *sshtest.Server)
	}{
		{name: "agent killed", rejoin: true, detect: 3 * time.Second,
			fault: func(t *testing.T, v *faultHost, _ *sshtest.Server) {
				ps := agents(v.home)
				if len(ps) == 0 {
					t.Fatal("no agent to kill")
				}
				signalAll(ps, syscall.SIGKILL)
			}},
		{name: "connection dropped", rejoin: true, detect: 3 * time.Second,
			fault: func(t *testing.T, v *faultHost, _ *sshtest.Server) { v.proxy.Drop() }},
		{name: "network hangs", detect: 5 * time.Second,
			fault: func(t *testing.T, v *faultHost, _ *sshtest.Server) {
				v.proxy.Freeze(true)
				t.Cleanup(func() { v.proxy.Freeze(false) })
			}},
		// The sessions' data still flows: only the keepalives tell.
		{name: "server stops answering keepalives", detect: 5 * time.Second, jobTime: "0.5",
			fault: func(t *testing.T, _ *faultHost, s *sshtest.Server) {
				s.SetHung(true)
				t.Cleanup(func() { s.SetHung(false) })
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newFaultCluster(t)
			victim, server := c.addServer("victim", true)
			c.addServer("other", false)
			jobTime := cmp.Or(tt.jobTime, "0.2")
			hostFaultRun{cluster: c, victim: "victim", other: "other", jobs: 40, jobTime: jobTime,
				inject: func(t *testing.T) { tt.fault(t, victim, server) }, rejoin: tt.rejoin,
				detectLimit: tt.detect, limit: 30 * time.Second}.run(t)
		})
	}
}

// TestFaultHostLostE2E loses a host mid-run in the ways a host goes away,
// on real sshds: the victim has an sshd of its own, so that stopping it
// leaves the other host up.
func TestFaultHostLostE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	if runtime.GOOS != "linux" {
		t.Skip("finds agents in /proc")
	}
	tests := []struct {
		name   string
		rejoin bool
		detect time.Duration
		fault  func(t *testing.T, victim *faultHost)
	}{
		{name: "agent killed", rejoin: true, detect: 3 * time.Second,
			fault: func(t *testing.T, v *faultHost) {
				ps := agents(v.home)
				if len(ps) == 0 {
					t.Fatal("no agent to kill")
				}
				signalAll(ps, syscall.SIGKILL)
			}},
		{name: "connection dropped", rejoin: true, detect: 3 * time.Second,
			fault: func(t *testing.T, v *faultHost) { v.proxy.Drop() }},
		{name: "sshd stopped", detect: 5 * time.Second,
			fault: func(t *testing.T, v *faultHost) { stopSSHD(t, v.sshd) }},
		{name: "host frozen", detect: 6 * time.Second,
			fault: func(t *testing.T, v *faultHost) {
				thaw := v.sshd.Freeze(t)
				t.Cleanup(thaw)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFaultCluster(t)
			victim := c.addSSHD(sshtest.StartSSHD(t, 1), true, "victim")[0]
			c.addSSHD(sshtest.StartSSHD(t, 1), false, "other")
			hostFaultRun{cluster: c, victim: "victim", other: "other", jobs: 40, jobTime: "0.2",
				inject: func(t *testing.T) { tt.fault(t, victim) }, rejoin: tt.rejoin,
				detectLimit: tt.detect, limit: 40 * time.Second}.run(t)
		})
	}
}

// stopSSHD ends a real sshd as a host's power cut would: the listener and
// every session it forked, with what they run, are killed at once.
func stopSSHD(t *testing.T, d *sshtest.SSHD) {
	t.Helper()
	listeners := proctest.Cmdline("-E " + d.Log).List()
	if len(listeners) == 0 {
		t.Fatalf("no sshd with -E %s", d.Log)
	}
	var all []int
	for _, l := range listeners {
		all = append(all, l.PID)
		all = append(all, proctest.Descendants(l.PID)...)
	}
	for _, p := range proctest.InHome(d.Home).List() {
		all = append(all, p.PID)
	}
	for _, pid := range all {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestFaultAgentStoppedE2E stops (SIGSTOP) the agent of one host while
// sshd itself stays up and answers keepalives: the jobs it holds must move
// elsewhere within a bounded time all the same.
func TestFaultAgentStoppedE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	c := newFaultCluster(t)
	victim := c.addSSHD(sshtest.StartSSHD(t, 1), false, "victim")[0]
	c.addSSHD(sshtest.StartSSHD(t, 1), false, "other")
	hostFaultRun{cluster: c, victim: "victim", other: "other", jobs: 40, jobTime: "0.2",
		inject: func(t *testing.T) {
			ps := agents(victim.home)
			if len(ps) == 0 {
				t.Fatal("no agent to stop")
			}
			signalAll(ps, syscall.SIGSTOP)
			t.Cleanup(func() { signalAll(ps, syscall.SIGCONT) })
		},
		detectLimit: 10 * time.Second, limit: 15 * time.Second}.run(t)
}

// TestFaultConcurrentAppends has jobs append lines to one file at the same
// time, a common way to collect results: as with bash under GNU Parallel,
// every line must stay whole.
func TestFaultConcurrentAppends(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := startConcurr(t, dir, dir, nil, nil, "-j4", `for i in $(seq 2000); do echo {} line $i >> shared; done`,
		":::", "aaaa", "bbbb", "cccc", "dddd")
	if status := r.wait(60 * time.Second); status != 0 {
		t.Fatalf("exit status %d: %s", status, r.stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	broken := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 || len(f[0]) != 4 || f[1] != "line" {
			broken++
		}
	}
	if broken > 0 || len(lines) != 8000 {
		t.Errorf("%d of %d lines broken (want 8000 whole lines), such as %q", broken, len(lines), lines[:min(5, len(lines))])
	}
}

// TestFaultUnreachableAtStart checks that a host that never answers costs
// no more than its ConnectTimeout (2s), and that the other hosts start at
// once.
func TestFaultUnreachableAtStart(t *testing.T) {
	tests := []struct {
		name string
		port func(t *testing.T) int
	}{
		{name: "accepts and stays silent", port: func(t *testing.T) int { return sshtest.StartSilentListener(t) }},
		{name: "never accepts", port: func(t *testing.T) int { return sshtest.StartFullListener(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newFaultCluster(t)
			c.addServer("up", false)
			c.addSilent("dead", tt.port(t))
			dir := t.TempDir()
			// The agent is uploaded once, so that the timing is the
			// unreachable host's alone.
			warm := startConcurr(t, dir, c.clientHome, nil, nil, "-F", c.config, "-S", "up", "true", ":::", "1")
			if st := warm.wait(20 * time.Second); st != 0 {
				t.Fatalf("warm-up run: status %d\n%s", st, warm.stderr.String())
			}

			// The jobs outlast ConnectTimeout, so the unreachable host's
			// failure is known, and reported, before the run ends.
			r := startConcurr(t, dir, c.clientHome, nil, nil, "-F", c.config, "-S", "dead,3/up", "--lb", "echo {}; sleep 2.5", ":::", "a", "b", "c")
			status := r.wait(15 * time.Second)
			elapsed := time.Since(r.start)
			first := r.stdout.First().Sub(r.start)
			stderr := r.stderr.String()
			checkNoPanic(t, stderr)
			t.Logf("first output after %v, exit after %v; stderr:\n%s", first.Round(time.Millisecond), elapsed.Round(time.Millisecond), stderr)
			if status != 0 {
				t.Errorf("exit status %d, want 0", status)
			}
			lines := strings.Fields(r.stdout.String())
			sort.Strings(lines)
			if got := strings.Join(lines, " "); got != "a b c" {
				t.Errorf("stdout %q", r.stdout.String())
			}
			if r.stdout.First().IsZero() || first > 1500*time.Millisecond {
				t.Errorf("first output after %v: the reachable host waited for the unreachable one", first)
			}
			if elapsed > 6*time.Second {
				t.Errorf("the run took %v: more than its 2.5s jobs (and slack)", elapsed)
			}
			if !strings.Contains(stderr, "dead") {
				t.Errorf("stderr does not name the unreachable host:\n%s", stderr)
			}
		})
	}
}

// TestFaultMaxStartupsE2E runs on 64 host aliases of one sshd that
// throttles logins (MaxStartups 10:30:60): sshd drops some handshakes, and
// every job must still run once.
func TestFaultMaxStartupsE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 1, sshtest.WithSSHDConfig("MaxStartups 10:30:60"))
	c := newFaultCluster(t)
	// A throttled sshd on a small machine takes seconds to let 64 logins
	// in: the default ConnectTimeout of ssh_config examples, not 2s.
	c.options = []string{"ConnectTimeout 10"}
	var aliases, logins []string
	for i := range 64 {
		aliases = append(aliases, "n"+strconv.Itoa(i+1))
		logins = append(logins, "1/n"+strconv.Itoa(i+1))
	}
	c.addSSHD(d, false, aliases...)
	const jobs = 200
	var want strings.Builder
	for i := 1; i <= jobs; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	for _, extra := range [][]string{nil, {"--sshdelay", "0.01"}} {
		t.Run(strings.Join(append([]string{"args"}, extra...), " "), func(t *testing.T) {
			dir := t.TempDir()
			jobLog := filepath.Join(dir, "joblog")
			args := append([]string{"-F", c.config, "-S", strings.Join(logins, ","), "-k", "--joblog", jobLog}, extra...)
			args = append(args, "echo {#}", ":::")
			args = append(args, seqArgs(jobs)...)
			r := startConcurr(t, dir, c.clientHome, nil, nil, args...)
			status := r.wait(90 * time.Second)
			stderr := r.stderr.String()
			checkNoPanic(t, stderr)
			t.Logf("took %v; %d hosts ran jobs; stderr (%d lines):\n%s", time.Since(r.start).Round(time.Millisecond),
				len(hostsOf(readJobLog(t, jobLog))), strings.Count(stderr, "\n"), tail(stderr, 3000))
			if status != 0 {
				t.Errorf("exit status %d, want 0", status)
			}
			if strings.Contains(stderr, "warning") {
				t.Errorf("hosts were lost to the throttling")
			}
			if got := r.stdout.String(); got != want.String() {
				t.Errorf("stdout is not 1..%d once each in order:\n%s", jobs, tail(got, 2000))
			}
			checkOncePerSeq(t, readJobLog(t, jobLog), jobs)
		})
	}
	if left := proctest.InHome(d.Home).WaitNone(10 * time.Second); len(left) != 0 {
		t.Errorf("%d processes left on the host: %v", len(left), left)
	}
}

func hostsOf(log []jobLogEntry) map[string]int {
	out := map[string]int{}
	for _, e := range log {
		out[e.host]++
	}
	return out
}

// TestFaultClientKilledResume kills the client (SIGKILL, no chance to
// clean up) in the middle of a run with --joblog, and runs it again with
// --resume. What "exactly once" means here:
//
//   - a job in the job log after the first run is never run again;
//   - every job runs at least once, and the job log ends with one line
//     for each job;
//   - only jobs that were running when the client was killed (started,
//     not logged) may have run twice.
//
// Then --resume-failed reruns the failed jobs, and only them.
func TestFaultClientKilledResume(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	jobLog := filepath.Join(dir, "joblog")
	const jobs = 60
	// Every fifth job fails until the third run.
	template := fmt.Sprintf(`printf '%%s\n' "{#} $RUN" >> %s; sleep 0.05; test $(({#} %% 5)) -ne 0 || test $RUN = 3`, runs)
	args := append([]string{"-j4", "--joblog", jobLog, template, ":::"}, seqArgs(jobs)...)

	r1 := startConcurr(t, dir, dir, []string{"RUN=1"}, nil, append([]string{"--resume"}, args...)...)
	logged := func() int {
		data, _ := os.ReadFile(jobLog)
		return strings.Count(string(data), "\n") - 1
	}
	if !waitFor(20*time.Second, func() bool { return logged() >= jobs/3 || r1.exited() }) || r1.exited() {
		t.Fatalf("the first run ended or logged nothing: %s", r1.stderr.String())
	}
	r1.cmd.Process.Kill()
	r1.wait(5 * time.Second)
	// The local agent kills the jobs that were running when the client
	// died; let it finish before reading what ran.
	time.Sleep(300 * time.Millisecond)
	log1 := readJobLog(t, jobLog)
	ran1 := runsBy(t, runs, "1")
	inLog1 := map[int]bool{}
	for _, e := range log1 {
		inLog1[e.seq] = true
	}
	if len(log1) == 0 || len(log1) == jobs {
		t.Fatalf("the kill came at the wrong time: %d of %d jobs logged", len(log1), jobs)
	}

	r2 := startConcurr(t, dir, dir, []string{"RUN=2"}, nil, append([]string{"--resume"}, args...)...)
	status := r2.wait(30 * time.Second)
	checkNoPanic(t, r2.stderr.String())
	failing := 0 // the failures of this run: the logged ones are not run again
	for seq := 5; seq <= jobs; seq += 5 {
		if !inLog1[seq] {
			failing++
		}
	}
	if status != failing {
		t.Errorf("--resume: exit status %d, want %d (the failed jobs)\n%s", status, failing, r2.stderr.String())
	}
	log2 := readJobLog(t, jobLog)
	checkOncePerSeq(t, log2, jobs)
	ran2 := runsBy(t, runs, "2")
	for seq := 1; seq <= jobs; seq++ {
		switch {
		case inLog1[seq] && ran2[seq] > 0:
			t.Errorf("job %d was in the job log and ran again under --resume", seq)
		case !inLog1[seq] && ran2[seq] != 1:
			t.Errorf("job %d was not in the job log and ran %d times under --resume", seq, ran2[seq])
		case ran1[seq] > 1:
			t.Errorf("job %d ran %d times in the first run", seq, ran1[seq])
		}
		if !inLog1[seq] && ran1[seq] > 0 {
			t.Logf("job %d was running at the kill and ran again", seq)
		}
	}

	r3 := startConcurr(t, dir, dir, []string{"RUN=3"}, nil, append([]string{"--resume-failed"}, args...)...)
	if status := r3.wait(30 * time.Second); status != 0 {
		t.Errorf("--resume-failed: exit status %d, want 0\n%s", status, r3.stderr.String())
	}
	ran3 := runsBy(t, runs, "3")
	for seq := 1; seq <= jobs; seq++ {
		want := 0
		if seq%5 == 0 {
			want = 1
		}
		if ran3[seq] != want {
			t.Errorf("--resume-failed ran job %d %d times, want %d", seq, ran3[seq], want)
		}
	}
	// The log now holds both the failures and their reruns, as GNU
	// Parallel's does; the last line for each job is a success.
	last := map[int]int{}
	for _, e := range readJobLog(t, jobLog) {
		last[e.seq] = e.exit
	}
	for seq := 1; seq <= jobs; seq++ {
		if x, ok := last[seq]; !ok || x != 0 {
			t.Errorf("job %d: last job log exit %d (logged %v)", seq, x, ok)
		}
	}
}

// runsBy counts, per job, the lines "{#} run" of the given run.
func runsBy(t *testing.T, path, run string) map[int]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == run {
			seq, _ := strconv.Atoi(f[0])
			out[seq]++
		}
	}
	return out
}

// TestFaultClientKilledRemoteE2E kills the client (SIGKILL) during a remote
// run: the agents see their stream end and kill their jobs, so that nothing
// is left on the hosts, and --resume runs the jobs that had not finished,
// and only them.
func TestFaultClientKilledRemoteE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	c := newFaultCluster(t)
	d := sshtest.StartSSHD(t, 2)
	c.addSSHD(d, false, "h1", "h2")
	dir := t.TempDir()
	marker := fmt.Sprintf("%d.%09d", 200, rand.Uint32N(1e9))
	jobLog := filepath.Join(dir, "joblog")
	const jobs = 40
	// Jobs 1..10 end at once; the others wait for the file go, which the
	// first run never sees.
	args := []string{"-F", c.config, "-S", "2/h1,2/h2", "-k", "--resume", "--joblog", jobLog,
		fmt.Sprintf("test {#} -le 10 || test -e %s/go || /bin/sleep %s; echo {#}", dir, marker), ":::"}
	args = append(args, seqArgs(jobs)...)
	r := startConcurr(t, dir, c.clientHome, nil, nil, args...)
	t.Cleanup(func() { signalAll(proctest.InHome(d.Home, marker).List(), syscall.SIGKILL) })
	if !waitFor(20*time.Second, func() bool { return len(proctest.InHome(d.Home, "sleep", marker).List()) >= 4 }) {
		t.Fatalf("the sleeps did not start: %v\n%s", proctest.Cmdline(marker).List(), r.stderr.String())
	}
	r.cmd.Process.Kill()
	r.wait(5 * time.Second)
	killed := time.Now()
	if !waitFor(10*time.Second, func() bool { return len(proctest.InHome(d.Home, marker).List())+len(agents(d.Home)) == 0 }) {
		t.Errorf("left on the hosts 10s after the client died: %v %v", proctest.InHome(d.Home, marker).List(), agents(d.Home))
		signalAll(proctest.InHome(d.Home, marker).List(), syscall.SIGKILL)
	} else {
		t.Logf("the hosts were clean %v after the client died", time.Since(killed).Round(10*time.Millisecond))
	}
	done := map[int]bool{}
	for _, e := range readJobLog(t, jobLog) {
		done[e.seq] = true
	}
	if len(done) != 10 {
		t.Errorf("the first run logged %d jobs, want 10 (jobs 1..10)", len(done))
	}

	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r2 := startConcurr(t, dir, c.clientHome, nil, nil, args...)
	if status := r2.wait(30 * time.Second); status != 0 {
		t.Errorf("--resume: exit status %d; stderr:\n%s", status, r2.stderr.String())
	}
	var want strings.Builder
	for seq := 1; seq <= jobs; seq++ {
		if !done[seq] {
			fmt.Fprintf(&want, "%d\n", seq)
		}
	}
	if got := r2.stdout.String(); got != want.String() {
		t.Errorf("--resume ran:\n%s\nwant the jobs not in the log:\n%s", got, want.String())
	}
	checkOncePerSeq(t, readJobLog(t, jobLog), jobs)
}

// TestFaultInterruptRemote interrupts a remote run on several hosts: every
// job on every host is killed by process group, the agents exit, and
// concurr exits 130 (SIGINT) or 143 (SIGTERM).
func TestFaultInterruptRemote(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts processes in /proc")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			c := newFaultCluster(t)
			h1, _ := c.addServer("h1", false)
			h2, _ := c.addServer("h2", false)
			interruptRemote(t, c, sig, []string{h1.home, h2.home}, "2/h1,2/h2")
		})
	}
}

// TestFaultInterruptRemoteE2E is TestFaultInterruptRemote on real sshds.
func TestFaultInterruptRemoteE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			c := newFaultCluster(t)
			d1 := sshtest.StartSSHD(t, 1)
			d2 := sshtest.StartSSHD(t, 2)
			c.addSSHD(d1, false, "h1")
			c.addSSHD(d2, false, "h2", "h3")
			interruptRemote(t, c, sig, []string{d1.Home, d2.Home}, "2/h1,2/h2,2/h3")
		})
	}
}

func interruptRemote(t *testing.T, c *faultCluster, sig syscall.Signal, homes []string, logins string) {
	marker := fmt.Sprintf("%d.%09d", 100+int(sig), rand.Uint32N(1e9))
	dir := t.TempDir()
	// Each job starts a child in the background, so that killing the
	// job's shell alone would leave it running. There are enough jobs to
	// fill every host's slots even though the first host to connect is
	// sent up to 16 jobs ahead.
	template := fmt.Sprintf(`sh -c "sleep %s & sleep %s; echo done"`, marker, marker)
	r := startConcurr(t, dir, c.clientHome, nil, nil, append([]string{"-F", c.config, "-S", logins, template, ":::"}, seqArgs(40)...)...)
	slots := strings.Count(logins, "/")
	want := 2 * 2 * slots
	t.Cleanup(func() {
		for _, h := range homes {
			signalAll(proctest.InHome(h, marker).List(), syscall.SIGKILL)
		}
	})
	count := func() (n int) {
		for _, h := range homes {
			n += len(proctest.InHome(h, "sleep", marker).List())
		}
		return n
	}
	if !waitFor(20*time.Second, func() bool { return count() >= want || r.exited() }) || r.exited() {
		t.Fatalf("%d of %d sleeps started: %v; stderr:\n%s", count(), want, proctest.Cmdline(marker).List(), r.stderr.String())
	}
	for _, h := range homes {
		if len(agents(h)) == 0 {
			t.Fatalf("no agent runs with HOME=%s", h)
		}
	}
	sent := time.Now()
	r.cmd.Process.Signal(sig)
	status := r.wait(10 * time.Second)
	t.Logf("exit %d after %v", status, time.Since(sent).Round(time.Millisecond))
	checkNoPanic(t, r.stderr.String())
	if want := 128 + int(sig); status != want {
		t.Errorf("exit status %d, want %d; stderr:\n%s", status, want, r.stderr.String())
	}
	if strings.Contains(r.stdout.String(), "done") {
		t.Errorf("a job ran to its end after the interrupt")
	}
	left := func() (ps []proctest.Process) {
		for _, h := range homes {
			ps = append(ps, proctest.InHome(h, marker).List()...)
			ps = append(ps, agents(h)...)
		}
		return ps
	}
	if !waitFor(3*time.Second, func() bool { return len(left()) == 0 }) {
		t.Errorf("left on the hosts 3s after concurr exited: %v", left())
	}
}

// TestFaultRetriesOtherHost runs jobs that fail on one host only, with
// --retries: each retry goes to the other host, and every job succeeds.
func TestFaultRetriesOtherHost(t *testing.T) {
	t.Parallel()
	c := newFaultCluster(t)
	c.addServer("bad", false)
	c.addServer("good", false)
	dir := t.TempDir()
	attempts := filepath.Join(dir, "attempts")
	// A job fails on bad only once good has run one: a retry avoids the
	// host it failed on only while another host is up (as it must, lest
	// it wait for one that never joins), and under load good's login can
	// come after bad's first failures. The wait is bounded, at 20 s.
	goodUp := filepath.Join(dir, "good-up")
	template := fmt.Sprintf(`printf '%%s\n' "{#} {host}" >> %s; if [ {host} = good ]; then : > %s; sleep 0.02; echo {#} {host}; else i=0; while [ ! -e %s ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done; exit 1; fi`, attempts, goodUp, goodUp)
	// Enough jobs that both hosts get some, although the first to connect
	// is sent up to 16 beyond its slots.
	const jobs = 50
	args := append([]string{"-F", c.config, "-S", "2/bad,2/good", "-k", "--retries", "3", template, ":::"}, seqArgs(jobs)...)
	r := startConcurr(t, dir, c.clientHome, nil, nil, args...)
	status := r.wait(30 * time.Second)
	checkNoPanic(t, r.stderr.String())
	if status != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, r.stderr.String())
	}
	var want strings.Builder
	for i := 1; i <= jobs; i++ {
		fmt.Fprintf(&want, "%d good\n", i)
	}
	if got := r.stdout.String(); got != want.String() {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want.String())
	}
	tried := starts(t, attempts)
	onBad := 0
	for seq := 1; seq <= jobs; seq++ {
		hosts := tried[seq]
		for i := 1; i < len(hosts); i++ {
			if hosts[i-1] == "bad" && hosts[i] == "bad" {
				t.Errorf("job %d was retried on the host it failed on: %v", seq, hosts)
			}
		}
		if slices.Contains(hosts, "bad") {
			onBad++
		}
		if len(hosts) > 2 {
			t.Errorf("job %d took %d attempts: %v", seq, len(hosts), hosts)
		}
	}
	if onBad == 0 {
		t.Errorf("no job ran on bad first, so nothing was retried: %v", tried)
	}
}

// hostileArgs reach a command as one literal word each.
var hostileArgs = []string{
	"a b; rm -rf ~", "$(touch PWNED)", "`touch PWNED`", "*", "~", "~root", `'`, `"`, `\`, `'"'"'`,
	"a\nb", "", " ", "\t", "$HOME", "${HOME}", "-n", "--", "; touch PWNED", "| touch PWNED", "&& touch PWNED",
	"\xff\xfe bad utf-8 \xc3\x28", "{}", "{#}", "%s", ">PWNED", "<PWNED",
}

// TestFaultHostileArgsRemote passes hostile arguments through a remote run.
func TestFaultHostileArgsRemote(t *testing.T) {
	t.Parallel()
	c := newFaultCluster(t)
	h1, _ := c.addServer("h1", false)
	h2, _ := c.addServer("h2", false)
	hostileRun(t, c, "h1,h2", []string{h1.home, h2.home})
}

// TestFaultHostileArgsRemoteE2E is TestFaultHostileArgsRemote on a real
// sshd, whose login shell runs the agent.
func TestFaultHostileArgsRemoteE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	c := newFaultCluster(t)
	d := sshtest.StartSSHD(t, 2)
	c.addSSHD(d, false, "h1", "h2")
	hostileRun(t, c, "h1,h2", []string{d.Home})
}

func hostileRun(t *testing.T, c *faultCluster, logins string, homes []string) {
	dir := t.TempDir()
	// NUL-separated, since ::: splits its arguments at newlines as GNU
	// Parallel does.
	stdin := strings.NewReader(strings.Join(hostileArgs, "\x00") + "\x00")
	r := startConcurr(t, dir, c.clientHome, nil, stdin, "-F", c.config, "-S", logins, "-0", "-k", `printf '<%s>\n' {}`)
	status := r.wait(30 * time.Second)
	checkNoPanic(t, r.stderr.String())
	if status != 0 {
		t.Errorf("exit status %d; stderr:\n%s", status, r.stderr.String())
	}
	var want strings.Builder
	for _, a := range hostileArgs {
		fmt.Fprintf(&want, "<%s>\n", a)
	}
	if got := r.stdout.String(); got != want.String() {
		t.Errorf("stdout:\n%q\nwant:\n%q", got, want.String())
	}
	for _, d := range append([]string{dir, c.clientHome}, homes...) {
		if _, err := os.Stat(filepath.Join(d, "PWNED")); err == nil {
			t.Errorf("an argument ran as code: %s/PWNED exists", d)
		}
	}
}

// TestFaultEnvSecretRemote checks that the client's environment stays on
// the client unless --env names a variable.
func TestFaultEnvSecretRemote(t *testing.T) {
	t.Parallel()
	c := newFaultCluster(t)
	c.addServer("h1", false)
	dir := t.TempDir()
	secret := "SECRET_TOKEN=s3cr3t-" + strconv.Itoa(int(rand.Uint32()))
	value := strings.TrimPrefix(secret, "SECRET_TOKEN=")
	tests := []struct {
		name  string
		extra []string
		shown bool
	}{
		{name: "not named", shown: false},
		{name: "named with --env", extra: []string{"--env", "SECRET_TOKEN"}, shown: true},
		{name: "another named", extra: []string{"--env", "OTHER_VAR"}, shown: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-F", c.config, "-S", "h1"}, tt.extra...)
			args = append(args, "env; echo {}", ":::", "x")
			r := startConcurr(t, dir, c.clientHome, []string{secret, "OTHER_VAR=other"}, nil, args...)
			if status := r.wait(20 * time.Second); status != 0 {
				t.Fatalf("exit status %d: %s", status, r.stderr.String())
			}
			out := r.stdout.String()
			if got := strings.Contains(out, value); got != tt.shown {
				t.Errorf("the job's environment shows the secret: %v, want %v:\n%s", got, tt.shown, out)
			}
			if tt.shown && !strings.Contains(out, secret+"\n") {
				t.Errorf("--env SECRET_TOKEN: the job's environment lacks %s:\n%s", secret, out)
			}
		})
	}
}

// TestFaultEnvFunctionRemote checks that a function bash exported reaches a
// remote host only when --env names it, as GNU Parallel requires.
func TestFaultEnvFunctionRemote(t *testing.T) {
	t.Parallel()
	c := newFaultCluster(t)
	c.addServer("h1", false)
	dir := t.TempDir()
	function := "BASH_FUNC_doit%%=() {  echo \"doing $1\"\n}"
	tests := []struct {
		name   string
		extra  []string
		status int
		stdout string
		stderr string
	}{
		{name: "not named", status: 1, stderr: "doit: command not found\n"},
		{name: "named with --env", extra: []string{"--env", "doit"}, stdout: "doing x\n"},
		{name: "another named", extra: []string{"--env", "OTHER_VAR"}, status: 1, stderr: "doit: command not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-F", c.config, "-S", "h1"}, tt.extra...)
			args = append(args, "doit", ":::", "x")
			r := startConcurr(t, dir, c.clientHome, []string{function, "OTHER_VAR=other"}, nil, args...)
			if status := r.wait(20 * time.Second); status != tt.status {
				t.Fatalf("exit status %d, want %d: %s", status, tt.status, r.stderr.String())
			}
			if got := r.stdout.String(); got != tt.stdout {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
			if !strings.Contains(r.stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr.String(), tt.stderr)
			}
		})
	}
}

// TestFaultLocalHostileInput feeds a local run input and templates that
// have broken other tools: each gets the right result or a clear error,
// never a panic, a hang or lost output.
func TestFaultLocalHostileInput(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	var binary bytes.Buffer
	for i := range 4096 {
		binary.WriteByte(byte(i * 7))
	}
	tests := []struct {
		name   string
		args   []string
		stdin  string
		stdout string // exact, unless check is set
		check  func(t *testing.T, stdout, stderr string)
		status int
	}{
		{name: "NUL-separated input under -0", args: []string{"-0", "-k", `printf '<%s>\n' {}`},
			stdin: "a\x00b c\x00\xff\x00line\nbreak\x00", stdout: "<a>\n<b c>\n<\xff>\n<line\nbreak>\n"},
		{name: "NUL bytes in a line without -0", args: []string{"-k", `printf '<%s>\n' {}`},
			stdin: "a\x00b\nc\n",
			check: func(t *testing.T, stdout, stderr string) {
				// The shell cannot hold a NUL in a word; what matters is
				// that the line is not silently cut or merged.
				if !strings.HasSuffix(stdout, "<c>\n") {
					t.Errorf("the line after the NUL is lost: %q", stdout)
				}
			}, status: -1},
		// An exec cannot carry a NUL: the job fails (exit 127, as a
		// command that cannot start), the run goes on and says so.
		{name: "NUL byte in an argument to an external command", args: []string{"-k", "/bin/echo {}"},
			stdin: "a\x00b\nc\n", stdout: "c\n", status: 1,
			check: func(t *testing.T, stdout, stderr string) {
				if stdout != "c\n" || !strings.Contains(stderr, "/bin/echo: Invalid argument") {
					t.Errorf("stdout %q, stderr %q", stdout, stderr)
				}
			}},
		{name: "non-UTF-8 lines", args: []string{"-k", `printf '<%s>\n' {}`},
			stdin: "\xff\xfe\n\xc3\x28\nok\n", stdout: "<\xff\xfe>\n<\xc3\x28>\n<ok>\n"},
		{name: "10 MB argument to a builtin", args: []string{`echo {} | wc -c`},
			stdin: big + "\n", stdout: strconv.Itoa(len(big)+1) + "\n"},
		{name: "10 MB argument to an external command", args: []string{`/bin/echo {} >/dev/null`},
			stdin: big + "\n",
			check: func(t *testing.T, stdout, stderr string) {
				if !strings.Contains(strings.ToLower(stderr), "argument list too long") {
					t.Errorf("stderr does not say the argument is too long:\n%s", tail(stderr, 2000))
				}
			}, status: 1},
		{name: "50000 empty lines", args: []string{"-j4", "echo -n x{}"},
			stdin: strings.Repeat("\n", 50_000),
			check: func(t *testing.T, stdout, stderr string) {
				if len(stdout) != 50_000 || strings.Trim(stdout, "x") != "" {
					t.Errorf("%d bytes of output, want 50000 x's", len(stdout))
				}
			}},
		{name: "last line without a newline", args: []string{"-k", "echo {}"},
			stdin: "a\nb", stdout: "a\nb\n"},
		{name: "template that is not shell", args: []string{"touch ran; echo $(", ":::", "a"},
			check: func(t *testing.T, stdout, stderr string) {
				if !strings.HasPrefix(stderr, "concurr: error:") {
					t.Errorf("stderr is not a concurr error:\n%s", stderr)
				}
			}, status: 255},
		{name: "template printing binary", args: []string{`printf '\000\377\001\r\033[0m{}'`, ":::", "x"},
			stdout: "\x00\xff\x01\r\x1b[0mx"},
		{name: "job printing binary", args: []string{"cat binary; true {}", ":::", "x"}, stdout: binary.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "binary"), binary.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdin io.Reader
			if tt.stdin != "" {
				stdin = strings.NewReader(tt.stdin)
			}
			r := startConcurr(t, dir, dir, nil, stdin, tt.args...)
			status := r.wait(60 * time.Second)
			stdout, stderr := r.stdout.String(), r.stderr.String()
			checkNoPanic(t, stderr)
			t.Logf("took %v, exit %d", time.Since(r.start).Round(time.Millisecond), status)
			switch {
			case tt.status == -1 && status == 0:
			case tt.status == -1:
				if !strings.Contains(stderr, "concurr: error:") && !strings.Contains(stderr, "concurr: warning:") {
					t.Errorf("exit status %d without a message:\n%s", status, stderr)
				}
			case status != tt.status:
				t.Errorf("exit status %d, want %d; stderr:\n%s", status, tt.status, tail(stderr, 2000))
			}
			if tt.check != nil {
				tt.check(t, stdout, stderr)
			} else if stdout != tt.stdout {
				t.Errorf("stdout %q, want %q", tail(stdout, 200), tail(tt.stdout, 200))
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil && tt.status == 255 {
				t.Errorf("a job ran although the template is not valid")
			}
		})
	}
}

// TestFaultMillionEmptyLinesE2E runs a job for each of a million empty
// lines. It is in the slow tier (CONCURR_E2E=1) for its minute of run time
// on a small machine, not because it needs sshd.
func TestFaultMillionEmptyLinesE2E(t *testing.T) {
	sshtest.RequireE2E(t)
	dir := t.TempDir()
	const n = 1_000_000
	jobLog := filepath.Join(dir, "joblog")
	r := startConcurr(t, dir, dir, nil, strings.NewReader(strings.Repeat("\n", n)), "--joblog", jobLog, "echo -n x{}")
	status := r.wait(5 * time.Minute)
	checkNoPanic(t, r.stderr.String())
	t.Logf("took %v", time.Since(r.start).Round(time.Millisecond))
	if status != 0 {
		t.Errorf("exit status %d; stderr:\n%s", status, tail(r.stderr.String(), 2000))
	}
	if got := r.stdout.String(); len(got) != n || strings.Trim(got, "x") != "" {
		t.Errorf("%d bytes of output, want %d x's", len(got), n)
	}
	checkOncePerSeq(t, readJobLog(t, jobLog), n)
}

// TestFaultLargeStdoutAndStderr has jobs write 50 MB on stdout and 50 MB
// on stderr at the same time: both arrive whole, byte for byte.
func TestFaultLargeStdoutAndStderr(t *testing.T) {
	t.Parallel()
	const size = 50 << 20
	dir := t.TempDir()
	// Two jobs at once, each writing both streams at the same time.
	template := fmt.Sprintf(`yes out{} | head -c %d & yes err{} | head -c %d >&2; wait`, size, size)
	r := startConcurr(t, dir, dir, nil, nil, "-j2", "-k", "--tmpdir", dir, template, ":::", "1", "2")
	status := r.wait(60 * time.Second)
	if status != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", status, tail(r.stderr.String(), 500))
	}
	t.Logf("took %v", time.Since(r.start).Round(time.Millisecond))
	want := func(stream string) [32]byte {
		var all []byte
		for _, n := range []string{"1", "2"} {
			line := stream + n + "\n"
			b := bytes.Repeat([]byte(line), size/len(line)+1)[:size]
			all = append(all, b...)
		}
		return sha256.Sum256(all)
	}
	for _, s := range []struct {
		name string
		got  []byte
	}{{"out", r.stdout.Bytes()}, {"err", r.stderr.Bytes()}} {
		if len(s.got) != 2*size {
			t.Errorf("std%s: %d bytes, want %d", s.name, len(s.got), 2*size)
		}
		if sha256.Sum256(s.got) != want(s.name) {
			t.Errorf("std%s: the bytes differ from what the jobs wrote (first 100: %q)", s.name, s.got[:min(100, len(s.got))])
		}
	}
}
