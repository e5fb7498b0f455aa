// Package sched owns the client's side of a run: one shared queue of jobs
// fed lazily from the inputs, nodes that pull from it as their slots free up
// (with a small prefetch to hide the round trip), results turned into
// output, job log lines, retries and halts, and jobs of a lost node put back
// for the others.
//
// Where each concern lives: Run and the run's state here; the shared queue
// in queue.go and feeding it from the inputs in feed.go; a node's life
// (dial, serve, ping, loss, rejoin) in node.go; sending it jobs, and ahead
// of its slots, in send.go; streaming its results back in receive.go; a
// finished job's retry, output and job log line in finish.go; --halt in
// halt.go; --timeout in timeout.go; the protocol stream in conn.go; the
// hooks that follow a run (Progress) in observe.go.
package sched

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/template"
	"concurr/internal/wire"
)

// Source yields each job's argument values; io.EOF ends it.
type Source interface {
	Next() ([]string, error)
}

// Node is a place jobs can run: this machine or a host.
type Node struct {
	Name string // for {host}, --tag and the job log's Host column; ":" is this machine
	// Dial starts the node's agent and completes the handshake.
	Dial func(ctx context.Context) (*Conn, error)
	// Slots decides how many jobs run at once on the node, given what its
	// agent announced.
	Slots func(hello wire.Hello) int
	// Prefetch is how many jobs beyond its slots the node is sent ahead.
	Prefetch int
	// Local says that the node is this machine, which reads a --pipepart
	// block's range of the file itself rather than have it sent.
	Local bool
	// PingEvery, when set, has the client ping the agent that often while
	// it is quiet; an agent that answers nothing for PingMisses intervals
	// is taken for lost. SSH keepalives cannot see this: sshd answers them
	// for a stopped agent.
	PingEvery  time.Duration
	PingMisses int
}

// Config is everything a run needs besides its nodes and inputs.
type Config struct {
	Template *template.Template
	Env      []string // NAME=value for every job
	Workdir  string

	// Pack is how many input records one job takes at most (-m, -X, with
	// -n or -N); 0 or 1 is one. With PackSpread, the job that reaches the
	// end of the input is spread over the slots as GNU Parallel does.
	Pack       int
	PackSpread bool
	// PackLength measures a packed job's command line, which must stay
	// below PackChars; nil is no limit. A record too long for a job of its
	// own ends the run with GNU Parallel's error.
	PackLength *template.PackLength
	PackChars  int

	// Input, when set, gives jobs their input as a stream (--pipe,
	// --pipepart); see blocks.go.
	Input *Input

	// Transfer, when set, moves files to and from remote nodes with each
	// job (--transferfile, --return, --cleanup); see transfer.go.
	Transfer *Transfer

	// DryRun prints each job's command instead of running it.
	DryRun bool

	Timeout        time.Duration // per job; 0 is none
	TimeoutPercent float64       // per job, relative to the median runtime so far
	Retries        int           // runs per job at most, as GNU Parallel counts (0 and 1 mean once)
	Halt           Halt
	Delay          time.Duration // between job starts
	// MemFree and MaxLoad are --memfree and --load, which each node's
	// agent measures and applies before it starts a job there; Nice is
	// --nice (see wire.Command).
	MemFree uint64
	MaxLoad string
	Nice    int
	// Shell is the external shell that runs every job's command on every
	// node (--shell, PARALLEL_SHELL); "" is the embedded shell.
	Shell string
	// Terminal gives jobs the terminal on stdin (--tty; see wire.Command).
	Terminal bool
	// Limit, when set, is asked before a job is sent to a node (--limit):
	// 0 lets it go, anything else holds the node back and asks again, and
	// 2 also kills the youngest job running there, which goes back to the
	// queue. While the node's slots are all busy it is asked too, for 2.
	// Nodes should then be sent nothing ahead (Node.Prefetch 0).
	Limit func(ctx context.Context, host string) int

	Output *output.Writer
	JobLog *joblog.Writer
	Tag    func(args []string, seq uint64, host string) []byte // nil: no tag
	// SlotTag, when set, makes the tag again as the job ends, from its
	// slot (--tagstring with {%}), for output held until then.
	SlotTag func(args []string, seq, slot, slots uint64, host string) []byte
	Verbose bool // -v: print each command before its output
	// Started, when set, is given each job's command as it starts
	// (--verbose, -t), dry runs included.
	Started func(command string)
	Skip    func(seq uint64) bool // --resume: jobs not to run
	// ResultsDir names where a job's --results files go (see
	// output.Writer.Begin).
	ResultsDir func(args []string, seq uint64) string

	// Warn reports a problem the run survives, such as a lost node, for the
	// client's stderr. The error may carry a hint (package hint) to print
	// after it.
	Warn func(err error)
	// Progress, when set, is told about every node that joins or leaves
	// and every job that starts and ends (see observe.go).
	Progress Progress
}

// Summary is how a run ended.
type Summary struct {
	Jobs     uint64 // finished jobs
	Failed   int
	Halted   bool
	HaltExit int // with Halted: the exit status to use
}

// ErrNoNodes is returned when no node could be started.
var ErrNoNodes = errors.New("no host could be reached")

// job is one job on the client.
type job struct {
	seq     uint64
	args    []string
	attempt int
	losses  int    // how many times a node was lost while it ran there
	avoid   string // the node it last failed on, or was lost on
	out     *output.Job
	stdout  int64
	stderr  int64
	node    *nodeRun
	input   *jobInput         // --pipe: the job's input
	stream  *outStream        // the stream that sends input to the node it runs on
	files   []*outStream      // --transferfile streams to the node it runs on
	returns map[string]string // --return: the node's path to this machine's
	// returning is the files coming back before its Result; the receiver's.
	returning []*inFile
	sent      time.Time // when it went to its node, for --timeout N%
	// timedOut is set when the client killed it for running past
	// --timeout N%; guarded by its node's mutex while in flight.
	timedOut bool
}

type run struct {
	cfg      Config
	q        *queue
	template []byte
	soleNode bool // the run has one node, which no other could take jobs from

	mu       sync.Mutex
	failed   int
	done     uint64
	total    uint64
	halted   bool
	haltExit int
	runtimes []time.Duration // finished jobs' runtimes, for --timeout N%
	fatal    error

	blocks blockRoom // --pipe: blocks held until their jobs' results

	nodesMu   sync.Mutex
	live      int // nodes in the run: connected, or lost and about to rejoin
	connected int // nodes with a running agent
	everUp    bool
	nodes     []*nodeRun // the connected ones
	refusal   error      // the last node's refusal of the command, if one refused
	refusing  int        // nodes that refused the command
	lastStart time.Time
}

// Run runs every job from src on the nodes and reports how it went. It
// returns when all jobs have finished, the run halted, or ctx ended (then
// running jobs are killed). An error means the run could not go on.
func Run(ctx context.Context, cfg Config, nodes []Node, src Source) (Summary, error) {
	tmpl, err := cfg.Template.MarshalBinary()
	if err != nil {
		return Summary{}, err
	}
	if cfg.Warn == nil {
		cfg.Warn = func(error) {}
	}
	r := &run{cfg: cfg, q: newQueue(4096), template: tmpl, live: len(nodes), soleNode: len(nodes) == 1}
	// Dials still under way when the run is over are abandoned.
	dialCtx, endDials := context.WithCancel(ctx)
	defer endDials()
	r.q.onOver = endDials

	// When ctx ends, stop handing out jobs and kill the running ones.
	stopOnCancel := context.AfterFunc(ctx, func() {
		r.q.stop()
		r.cancelAll(syscall.SIGTERM)
	})
	defer stopOnCancel()

	var wg sync.WaitGroup
	// The feeder stops with the dials: when the run is over, even while it
	// waits for -k's output to make room.
	if cfg.Input != nil {
		wg.Go(func() { r.feedBlocks(dialCtx, src) })
	} else {
		wg.Go(func() { r.feed(dialCtx, src) })
	}
	for _, n := range nodes {
		wg.Go(func() { r.runNode(ctx, dialCtx, n) })
	}
	if cfg.TimeoutPercent > 0 {
		wg.Go(func() { r.watchTimeouts(ctx) })
	}
	wg.Wait()

	r.mu.Lock()
	defer r.mu.Unlock()
	sum := Summary{Jobs: r.done, Failed: r.failed, Halted: r.halted, HaltExit: r.haltExit}
	if r.fatal != nil {
		return sum, r.fatal
	}
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, nil
}

func (r *run) fail(err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.mu.Unlock()
	r.q.stop()
	r.cancelAll(syscall.SIGTERM)
}

// cancelAll kills every running job on every node.
func (r *run) cancelAll(sig syscall.Signal) {
	r.nodesMu.Lock()
	nodes := slices.Clone(r.nodes)
	r.nodesMu.Unlock()
	for _, nr := range nodes {
		nr.conn.Send(&wire.Cancel{Signal: uint64(sig)}, true)
	}
}

// Kill ends every node's stream at once, without waiting: agents kill their
// jobs when their stream closes. It is for a second interrupt.
func Kill(nodes []*Conn) {
	for _, c := range nodes {
		c.Close()
	}
}

// FormatHosts lists node names for messages.
func FormatHosts(nodes []Node) string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return strings.Join(names, ",")
}
