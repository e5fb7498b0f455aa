package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"concurr/internal/hint"
	"concurr/internal/sched"
	"concurr/internal/wire"
	"concurr/parse"
	"concurr/sshx"
)

// soleLocalPrefetch is how many jobs beyond its slots this machine's agent
// is sent ahead when it is the run's only node.
const soleLocalPrefetch = 256

// planNodes makes a node of every host named, or of this machine when none
// is, each with its slot count and its way of starting the agent.
func (p *runPlan) planNodes(o *options, v optionValues, stderr io.Writer, say *messages) error {
	hosts, err := collectHosts(o)
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		hosts = []parse.Host{{Spec: ":", Local: true}}
	}
	sshOpts, err := sshOptions(o, stderr, say)
	if err != nil {
		return err
	}
	remote := 0
	for _, h := range hosts {
		if !h.Local {
			remote++
		}
	}
	if err := checkDescriptors(remote, o.sshCommand != "", say, o.verbose); err != nil {
		return err
	}
	setClientMemoryLimit(remote)
	for i, h := range hosts {
		n := sched.Node{Name: h.String(), Slots: slotsFunc(v.jobs, h.Slots)}
		if o.terminalJobs() && !h.Local {
			return remoteTerminalError(h.String())
		}
		if h.Local {
			n.Dial = dialLocal
			if o.terminalJobs() {
				n.Dial = dialLocalOnTerminal
			}
			// The agent is a process of its own, and jobs sent ahead save a
			// round trip through its pipes: as many as a remote node's
			// when other nodes share the jobs, so that none is left
			// waiting behind this one at the end, and more when this
			// machine runs them all. Then the client and the agent each
			// handle inputs and results a hundred at a time, rather than
			// taking turns: 100,000 echo jobs took 1.00-1.04 s with 256
			// sent ahead, against 1.22-1.55 s with 16.
			n.Local = true
			n.Prefetch = 16
			if len(hosts) == 1 {
				n.Prefetch = soleLocalPrefetch
			}
		} else {
			n.Dial = dialRemote(sshOpts, h, time.Duration(i)*v.sshDelay, p.hostSlow(say))
			n.Prefetch = 16
			n.PingEvery, n.PingMisses = 2*time.Second, 3
		}
		p.nodes = append(p.nodes, n)
	}
	if o.filterHosts {
		return p.filterHosts(sshOpts.ConnectTimeout, say)
	}
	return nil
}

// filterAfterConnect is how long --filter-hosts waits for a node's agent
// past the connection's own timeout: long enough to upload the agent over a
// slow link, short enough that a host whose shell hangs does not hold the
// run back for long.
const filterAfterConnect = 30 * time.Second

// filterHosts starts the agent of every remote node at once, for
// --filter-hosts, and leaves out the nodes where it cannot start, with one
// warning naming them and why, as GNU Parallel removes the hosts it cannot
// reach before the run. A node that starts keeps its connection for the
// run, so that it is not reached twice. This machine is always kept.
func (p *runPlan) filterHosts(connectTimeout time.Duration, say *messages) error {
	if connectTimeout <= 0 {
		connectTimeout = sshx.DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout+filterAfterConnect)
	defer cancel()
	conns := make([]*sched.Conn, len(p.nodes))
	errs := make([]error, len(p.nodes))
	var wg sync.WaitGroup
	for i, n := range p.nodes {
		if n.Local {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conns[i], errs[i] = n.Dial(ctx)
		}()
	}
	wg.Wait()
	kept := p.nodes[:0]
	var removed []string
	for i, n := range p.nodes {
		if err := errs[i]; err != nil {
			removed = append(removed, n.Name)
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("the agent did not start within %s", connectTimeout+filterAfterConnect)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, n.Name+": ") {
				err = fmt.Errorf("%s: %w", n.Name, err)
			}
			say.warningf("--filter-hosts: removed %v", err)
			continue
		}
		if conns[i] != nil {
			var closeUnused func()
			n.Dial, closeUnused = reuseConn(conns[i], n.Dial)
			p.closers = append(p.closers, closeUnused)
		}
		kept = append(kept, n)
	}
	p.nodes = kept
	if len(kept) == 0 {
		return hint.Errorf("the warnings above say why each host was removed", "--filter-hosts: no host can be reached (%s): cannot run any jobs", strings.Join(removed, " "))
	}
	return nil
}

// reuseConn has a node's first dial take conn, which --filter-hosts made,
// and any later one dial again, as after a lost connection. closeUnused
// ends conn if the run never took it.
func reuseConn(conn *sched.Conn, dial func(context.Context) (*sched.Conn, error)) (reuse func(context.Context) (*sched.Conn, error), closeUnused func()) {
	var mu sync.Mutex
	taken := false
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		first := !taken
		taken = true
		return first
	}
	reuse = func(ctx context.Context) (*sched.Conn, error) {
		if take() {
			return conn, nil
		}
		return dial(ctx)
	}
	closeUnused = func() {
		if take() {
			conn.Close()
		}
	}
	return reuse, closeUnused
}

// collectHosts gathers the hosts from -S, --slf and --scheduler-hosts.
func collectHosts(o *options) ([]parse.Host, error) {
	var hosts []parse.Host
	if len(o.sshLogins) > 0 {
		h, err := parse.ParseSSHLogins(o.sshLogins)
		if err != nil {
			return nil, usagef("write hosts as [N/][user@]host[:port] or [N/]srun://NODE, docker://, podman://, kubectl://, exec://COMMAND, comma-separated", "bad -S value: %v", err)
		}
		hosts = append(hosts, h...)
	}
	for _, f := range o.sshLoginFiles {
		h, err := parse.ReadSSHLoginFile(f)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, h...)
	}
	if o.schedulerHosts != schedulerOff {
		h, err := parse.HostsFromScheduler(os.Getenv)
		if err != nil {
			return nil, usagef("--scheduler-hosts works inside a Slurm or PBS job", "%v", err)
		}
		if o.schedulerHosts == schedulerAuto {
			h = schedulerTransportFor(h, os.Getenv, exec.LookPath)
		}
		hosts = append(hosts, h...)
	}
	return hosts, nil
}

// schedulerTransportFor reaches the nodes of a batch job with the
// scheduler's own launcher, which works where SSH to compute nodes is not
// allowed and keeps the processes inside the job's limits: one srun step
// per node under Slurm, and pbs_tmrsh under PBS where it is installed.
// Otherwise the nodes stay SSH hosts.
func schedulerTransportFor(hosts []parse.Host, getenv func(string) string, lookPath func(string) (string, error)) []parse.Host {
	out := make([]parse.Host, len(hosts))
	for i, h := range hosts {
		switch {
		case firstSet(getenv("SLURM_JOB_NODELIST"), getenv("SLURM_NODELIST")):
			h.Transport = "srun"
		case getenv("PBS_NODEFILE") != "" && lookPathOK(lookPath, "pbs_tmrsh"):
			h.Transport, h.Command = "exec", "pbs_tmrsh "+h.Name+" /bin/sh"
		}
		if h.Transport != "" {
			h.Spec = h.String()
			if h.Slots != 0 {
				h.Spec = strconv.Itoa(h.Slots) + "/" + h.Spec
			}
		}
		out[i] = h
	}
	return out
}

func firstSet(s ...string) bool {
	for _, v := range s {
		if v != "" {
			return true
		}
	}
	return false
}

func lookPathOK(lookPath func(string) (string, error), name string) bool {
	_, err := lookPath(name)
	return err == nil
}

// slotsFunc gives a node its slot count once its agent has said how many
// cores it has: the host's own N/ when given, or else -j's.
func slotsFunc(j parse.Jobs, forced int) func(wire.Hello) int {
	return func(h wire.Hello) int {
		if forced > 0 {
			return forced
		}
		return j.Slots(int(h.Slots))
	}
}

// localAgents are the local agents of this run, for killNow.
var localAgents struct {
	sync.Mutex
	closers []func()
}

// dialLocal starts this machine's agent as a child process, this same
// binary in agent mode on a pair of pipes: local jobs run through the same
// agent and protocol as remote ones. Being a process of its own is what
// makes the client's death, even by SIGKILL, end its jobs: the agent's
// stdin then reaches EOF, and the agent kills every job it runs, as a
// remote agent does when its SSH session ends.
func dialLocal(ctx context.Context) (*sched.Conn, error) {
	return startLocalAgent(ctx, false)
}

// dialLocalOnTerminal starts the local agent for --tty: in the terminal's
// foreground process group, this one, where its jobs may read the
// terminal without being stopped by SIGTTIN; a Ctrl-C there reaches them
// too, as it reaches GNU Parallel's --tty jobs.
func dialLocalOnTerminal(ctx context.Context) (*sched.Conn, error) {
	return startLocalAgent(ctx, true)
}

func startLocalAgent(ctx context.Context, onTerminal bool) (*sched.Conn, error) {
	// Linux's /proc/self/exe is this very binary even when its file has
	// been replaced or removed since the run began.
	self := "/proc/self/exe"
	if _, err := os.Stat(self); err != nil {
		if self, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("start the local agent: %w", err)
		}
	}
	// The agent outlives ctx on purpose: after an interrupt the client
	// cancels jobs through the protocol and waits for their results.
	cmd := exec.Command(self, sshx.AgentArg)
	// argv[0] stays concurr whatever the file is called, as the agent's
	// name in ps and for test binaries that dispatch on it.
	cmd.Args[0] = "concurr"
	cmd.Stderr = os.Stderr
	// A process group of its own, so that a Ctrl-C at the terminal
	// reaches the client alone, which then cancels the jobs through the
	// protocol and waits for their results.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !onTerminal}
	toAgent, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start the local agent: %w", err)
	}
	fromAgent, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start the local agent: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the local agent: %w", err)
	}
	var once sync.Once
	finish := func() {
		once.Do(func() {
			// EOF on its stdin tells the agent to kill what still runs
			// and exit.
			toAgent.Close()
			cmd.Wait()
		})
	}
	localAgents.Lock()
	localAgents.closers = append(localAgents.closers, finish)
	localAgents.Unlock()
	return sched.Handshake(ctx, fromAgent, toAgent, closerFunc(func() error { finish(); return nil }))
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// killNow ends every local agent, which kills its jobs' process groups,
// for a second interrupt.
func killNow() {
	localAgents.Lock()
	defer localAgents.Unlock()
	for _, c := range localAgents.closers {
		c()
	}
}
