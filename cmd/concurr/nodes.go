package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"concurr/agent"
	"concurr/internal/sched"
	"concurr/internal/wire"
	"concurr/parse"
)

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
	for i, h := range hosts {
		n := sched.Node{Name: h.String(), Slots: slotsFunc(v.jobs, h.Slots)}
		if h.Local {
			n.Dial = dialLocal
			n.Prefetch = 2
		} else {
			n.Dial = dialRemote(sshOpts, h, time.Duration(i)*v.sshDelay, p.hostSlow(say))
			n.Prefetch = 16
			n.PingEvery, n.PingMisses = 2*time.Second, 3
		}
		p.nodes = append(p.nodes, n)
	}
	return nil
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

// localAgents are the in-process agents of this run, for killNow.
var localAgents struct {
	sync.Mutex
	closers []func()
}

// dialLocal starts an agent in this process, connected by pipes: local
// jobs run through the same agent and protocol as remote ones.
func dialLocal(ctx context.Context) (*sched.Conn, error) {
	toAgent, fromClient := io.Pipe()
	toClient, fromAgent := io.Pipe()
	// The agent outlives ctx on purpose: after an interrupt the client
	// cancels jobs through the protocol and waits for their results.
	agentCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		agent.Serve(agentCtx, toAgent, fromAgent, agent.Options{Stderr: os.Stderr,
			Debug: os.Getenv("CONCURR_DEBUG") == "protocol"})
		fromAgent.Close()
	}()
	closer := closerFunc(func() error {
		stop()
		fromClient.Close()
		toClient.Close()
		<-done
		return nil
	})
	localAgents.Lock()
	localAgents.closers = append(localAgents.closers, func() { stop(); <-done })
	localAgents.Unlock()
	return sched.Handshake(ctx, toClient, fromClient, closer)
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
