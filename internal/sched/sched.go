// Package sched owns the client's side of a run: one shared queue of jobs
// fed lazily from the inputs, nodes that pull from it as their slots free up
// (with a small prefetch to hide the round trip), results turned into
// output, job log lines, retries and halts, and jobs of a lost node put back
// for the others.
package sched

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/wire"
	"concurr/internal/template"
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
	// PingEvery, when set, has the client ping the agent that often while
	// it is quiet; an agent that answers nothing for PingMisses intervals
	// is taken for lost. SSH keepalives cannot see this: sshd answers them
	// for a stopped agent.
	PingEvery  time.Duration
	PingMisses int
}

// HaltWhen says which jobs count towards --halt.
type HaltWhen int

// The halt conditions.
const (
	HaltNever HaltWhen = iota
	HaltOnFail
	HaltOnSuccess
	HaltOnDone
)

// Halt is a --halt policy.
type Halt struct {
	When    HaltWhen
	Now     bool    // kill running jobs; otherwise let them finish (soon)
	Count   int     // halt after this many; 0 when Percent is used
	Percent float64 // halt after this share of all jobs, 0–100
}

// Config is everything a run needs besides its nodes and inputs.
type Config struct {
	Template *template.Template
	Env      []string // NAME=value for every job
	Workdir  string

	// Pack is how many input records one job takes (-X, -m); 0 or 1 is one.
	// With PackSpread, a short input is spread over the slots as GNU
	// Parallel does.
	Pack       int
	PackSpread bool
	PackChars  int // and at most this many bytes of arguments; 0 is no limit

	// DryRun prints each job's command instead of running it.
	DryRun bool

	Timeout        time.Duration // per job; 0 is none
	TimeoutPercent float64       // per job, relative to the median runtime so far
	Retries        int           // runs per job at most, as GNU Parallel counts (0 and 1 mean once)
	Halt           Halt
	Delay          time.Duration // between job starts

	Output  *output.Writer
	JobLog  *joblog.Writer
	Tag     func(args []string, seq uint64, host string) []byte // nil: no tag
	Verbose bool                                                // print each command before its output
	Skip    func(seq uint64) bool                               // --resume: jobs not to run
	// ResultsDir names the directory of a job's --results files.
	ResultsDir func(args []string) string

	// Warn reports a problem the run survives, such as a lost node, for the
	// client's stderr. The error may carry a hint (package hint) to print
	// after it.
	Warn func(err error)
	// Progress, when set, is told about every job that starts and ends.
	Progress Progress
}

// Progress follows a run for --bar, --eta and --progress.
type Progress interface {
	Started(seq uint64)
	Ended(seq uint64, failed bool)
	SourceDone(total uint64)
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
	avoid   string // the node it last failed on
	out     *output.Job
	stdout  int64
	node    *nodeRun
	sent    time.Time // when it went to its node, for --timeout N%
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

	nodesMu   sync.Mutex
	live      int // nodes in the run: connected, or lost and about to rejoin
	connected int // nodes with a running agent
	everUp    bool
	nodes     []*nodeRun // the connected ones
	lastStart time.Time
}

type nodeRun struct {
	run   *run
	node  Node
	conn  *Conn
	slots int

	mu       sync.Mutex
	inflight map[uint64]*job
	credit   chan struct{}
	changed  chan struct{} // a result arrived or the node was lost
	gone     chan struct{} // closed when the node is lost
	dead     bool
	closing  bool // the client ended the stream on purpose
	lost     bool // the stream ended while jobs were in flight or to come

	heard atomic.Int64 // when the agent last sent anything, Unix nanoseconds

	// Prefetch accounting, owned by the receiver.
	results         int
	runtime         time.Duration
	prefetchGranted bool
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
	wg.Go(func() { r.feed(ctx, src) })
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

// feed reads the inputs into jobs, numbering them.
func (r *run) feed(ctx context.Context, src Source) {
	defer r.q.sourceDone()
	pack := max(r.cfg.Pack, 1)
	var seq uint64
	emit := func(args []string) bool {
		seq++
		if r.cfg.Skip != nil && r.cfg.Skip(seq) {
			r.cfg.Output.Skip(seq)
			return true
		}
		j := &job{seq: seq, args: args}
		return r.q.push(ctx, j)
	}
	defer func() {
		r.mu.Lock()
		r.total = seq
		r.mu.Unlock()
		if r.cfg.Progress != nil {
			r.cfg.Progress.SourceDone(seq)
		}
	}()
	if pack == 1 {
		for {
			args, err := src.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				r.fail(fmt.Errorf("read input: %w", err))
				return
			}
			if !emit(args) {
				return
			}
		}
	}
	// Packing: read up to a full job; a short input is spread over the
	// slots first, as GNU Parallel does for -X and -m.
	var batch [][]string
	chars := 0
	first := true
	for {
		args, err := src.Next()
		if err != nil && err != io.EOF {
			r.fail(fmt.Errorf("read input: %w", err))
			return
		}
		if err == nil {
			batch = append(batch, args)
			for _, a := range args {
				chars += len(a) + 1
			}
		}
		full := r.cfg.PackChars > 0 && chars >= r.cfg.PackChars
		spreadLimit := pack
		if first && r.cfg.PackSpread {
			spreadLimit = pack * r.totalSlots()
		}
		if err == nil && len(batch) < spreadLimit && !full {
			continue
		}
		per := pack
		if err == io.EOF && first && r.cfg.PackSpread && len(batch) > 0 {
			per = (len(batch) + r.totalSlots() - 1) / r.totalSlots()
			per = min(max(per, 1), pack)
		}
		first = false
		for len(batch) > 0 && (len(batch) >= per || err == io.EOF || full) {
			n := min(per, len(batch))
			if full {
				n = r.fitChars(batch, per)
			}
			if !emit(slices.Concat(batch[:n]...)) {
				return
			}
			batch = batch[n:]
		}
		chars = 0
		for _, b := range batch {
			for _, a := range b {
				chars += len(a) + 1
			}
		}
		if err == io.EOF {
			return
		}
	}
}

// fitChars is how many records from the start of batch fit PackChars, at
// least one.
func (r *run) fitChars(batch [][]string, most int) int {
	chars := 0
	for i, b := range batch[:min(most, len(batch))] {
		for _, a := range b {
			chars += len(a) + 1
		}
		if chars > r.cfg.PackChars {
			return max(i, 1)
		}
	}
	return min(most, len(batch))
}

// totalSlots is the spread target for packing: the slots of the nodes that
// are up, or the count they announced once known. Before any node is up it
// waits briefly for one.
func (r *run) totalSlots() int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.nodesMu.Lock()
		n := 0
		for _, nr := range r.nodes {
			n += nr.slots
		}
		live := r.live
		r.nodesMu.Unlock()
		if n > 0 || live == 0 || time.Now().After(deadline) {
			return max(n, 1)
		}
		time.Sleep(time.Millisecond)
	}
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

// nodesInRun counts the nodes that are up or on their way (connecting or
// rejoining): a retried job waits for another of them rather than run again
// where it failed.
func (r *run) nodesInRun() int {
	r.nodesMu.Lock()
	defer r.nodesMu.Unlock()
	return r.live
}

// Rejoin policy for a node that was up and was lost: it is dialled again
// after RejoinDelay, doubling up to RejoinMaxDelay, at most RejoinTries
// times in a row before it is given up.
var (
	RejoinDelay    = time.Second
	RejoinMaxDelay = 30 * time.Second
	RejoinTries    = 6
)

// runNode runs one node for the whole run: it starts the node's agent and
// feeds it; when a node that was up is lost, its jobs go back to the queue
// and it is dialled again with backoff, so that a host that comes back
// rejoins. A node that cannot be reached at the start is not retried (the
// transport already retries what is worth retrying).
func (r *run) runNode(ctx, dialCtx context.Context, n Node) {
	defer r.nodeGone()
	delay := RejoinDelay
	wasUp := false
	tries := 0
	for {
		conn, err := n.Dial(dialCtx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if dialCtx.Err() != nil {
				return // the jobs were done before the host was up
			}
			if !wasUp {
				r.warnNode(n.Name, err)
				return
			}
			r.warnNode(n.Name, fmt.Errorf("rejoin failed: %w", err))
		} else {
			wasUp, tries, delay = true, 0, RejoinDelay
			if !r.serveNode(ctx, n, conn) {
				return
			}
		}
		tries++
		if tries > RejoinTries || ctx.Err() != nil || r.q.over() {
			return
		}
		r.warnf("%s: trying to rejoin in %s", n.Name, delay)
		if !r.sleepUnlessOver(ctx, delay) {
			return
		}
		delay = min(delay*2, RejoinMaxDelay)
	}
}

// sleepUnlessOver waits d, and reports false if the run ended meanwhile.
func (r *run) sleepUnlessOver(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil || r.q.over() {
			return false
		}
		time.Sleep(min(50*time.Millisecond, time.Until(deadline)))
	}
	return ctx.Err() == nil && !r.q.over()
}

// serveNode feeds one connected agent until the run is over for it. It
// reports whether the node was lost with the run unfinished.
func (r *run) serveNode(ctx context.Context, n Node, conn *Conn) (lost bool) {
	slots := max(n.Slots(conn.Hello), 1)
	nr := &nodeRun{run: r, node: n, conn: conn, slots: slots,
		inflight: make(map[uint64]*job), changed: make(chan struct{}, 1), gone: make(chan struct{}), credit: make(chan struct{}, slots+n.Prefetch)}
	if r.cfg.Delay > 0 || r.cfg.Halt.When != HaltNever || r.cfg.TimeoutPercent > 0 {
		// Jobs sent ahead would start the moment a slot frees, past the
		// delay or the halt, and before the clock of --timeout N% starts.
		nr.credit = make(chan struct{}, slots)
	}
	// Jobs are sent ahead only once the node's jobs prove short (see
	// grantPrefetch): sent ahead of long jobs, they would wait behind a busy
	// slot while other nodes sit idle.
	for range slots {
		nr.credit <- struct{}{}
	}
	if r.soleNode {
		// No other node could take the jobs sent ahead, so they are sent
		// at once, long jobs too: a slot then starts its next job without
		// waiting for a round trip to the client.
		nr.prefetchGranted = true
		for range cap(nr.credit) - slots {
			nr.credit <- struct{}{}
		}
	}
	r.nodesMu.Lock()
	r.nodes = append(r.nodes, nr)
	r.connected++
	r.nodesMu.Unlock()
	r.mu.Lock()
	r.everUp = true
	r.mu.Unlock()
	defer func() {
		r.nodesMu.Lock()
		r.nodes = slices.DeleteFunc(r.nodes, func(x *nodeRun) bool { return x == nr })
		r.nodesMu.Unlock()
	}()

	err := conn.Send(&wire.Command{ID: 1, Template: r.template, Env: r.cfg.Env,
		Workdir: r.cfg.Workdir, Host: n.Name, Slots: uint64(slots)}, true)
	if err != nil {
		if !r.q.over() {
			r.warnNode(n.Name, err)
		}
		conn.Close()
		r.nodeLost(nr)
		return true
	}
	var wg sync.WaitGroup
	nr.heard.Store(time.Now().UnixNano())
	stopPing := make(chan struct{})
	wg.Go(func() { nr.receive() })
	if n.PingEvery > 0 {
		wg.Go(func() { nr.ping(stopPing) })
	}
	defer close(stopPing)
	nr.send(ctx)
	nr.conn.Send(&wire.Delete{Command: 1}, true)
	nr.drain(ctx)
	nr.mu.Lock()
	nr.closing = true
	nr.mu.Unlock()
	nr.conn.CloseWrite()
	wg.Wait()
	nr.conn.Close()
	nr.mu.Lock()
	defer nr.mu.Unlock()
	return nr.lost && !r.q.over()
}

// warnNode reports a node's failure, named after the node, keeping the
// error's hint.
func (r *run) warnNode(name string, err error) {
	if !strings.HasPrefix(err.Error(), name+": ") {
		err = fmt.Errorf("%s: %w", name, err)
	}
	r.cfg.Warn(err)
}

// warnf reports a problem the run survives.
func (r *run) warnf(format string, args ...any) {
	r.cfg.Warn(fmt.Errorf(format, args...))
}

// nodeLost takes a connected node out of the run and puts its unfinished
// jobs back in the queue, keeping their sequence numbers.
func (r *run) nodeLost(nr *nodeRun) {
	nr.mu.Lock()
	if nr.dead {
		nr.mu.Unlock()
		return
	}
	nr.dead = true
	close(nr.gone)
	nr.lost = !nr.closing || len(nr.inflight) > 0
	orphans := make([]*job, 0, len(nr.inflight))
	for _, j := range nr.inflight {
		orphans = append(orphans, j)
	}
	clear(nr.inflight)
	nr.mu.Unlock()
	nr.signal()
	r.nodesMu.Lock()
	r.connected--
	r.nodesMu.Unlock()
	sort.Slice(orphans, func(a, b int) bool { return orphans[a].seq < orphans[b].seq })
	for _, j := range orphans {
		r.cfg.Output.Discard(j.out)
		j.node = nil
		r.q.requeue(j)
	}
	r.q.wake()
}

// nodeGone records that a node is out of the run for good. When the last
// one goes with jobs unfinished, the run cannot go on.
func (r *run) nodeGone() {
	r.nodesMu.Lock()
	r.live--
	live := r.live
	r.nodesMu.Unlock()
	r.q.wake()
	if live > 0 {
		return
	}
	r.q.mu.Lock()
	unfinished := !(r.q.srcDone && r.q.pending == 0) && !r.q.stopping
	r.q.mu.Unlock()
	if unfinished {
		r.mu.Lock()
		if r.fatal == nil {
			r.fatal = ErrNoNodes
			if r.everUp {
				r.fatal = errors.New("every host was lost before the jobs finished")
			}
		}
		r.mu.Unlock()
	}
	r.q.stop()
}

// send hands jobs to the node while it has credit, sending as many as are
// at hand before one flush.
func (nr *nodeRun) send(ctx context.Context) {
	r := nr.run
	for {
		select {
		case <-nr.credit:
		case <-nr.gone:
			return
		case <-ctx.Done():
			return
		}
		j, ok := r.q.take(nr.node.Name, r.nodesInRun, nr.isDead, true)
		if !ok {
			return
		}
		if nr.start(j) != nil {
			return
		}
	more:
		for {
			select {
			case <-nr.credit:
			default:
				break more
			}
			j, ok = r.q.take(nr.node.Name, r.nodesInRun, nr.isDead, false)
			if j == nil {
				nr.credit <- struct{}{}
				if !ok {
					nr.conn.Flush()
					return
				}
				break
			}
			if nr.start(j) != nil {
				return
			}
		}
		if nr.conn.Flush() != nil {
			return
		}
	}
}

// drain waits until the node has no job left in flight, so that closing its
// stream kills nothing that should finish. After ctx ends it waits only
// briefly: the jobs were cancelled and should report at once.
func (nr *nodeRun) drain(ctx context.Context) {
	var grace <-chan time.Time
	for {
		nr.mu.Lock()
		idle := len(nr.inflight) == 0 || nr.dead
		nr.mu.Unlock()
		if idle {
			return
		}
		if grace == nil && ctx.Err() != nil {
			grace = time.After(5 * time.Second)
		}
		select {
		case <-nr.changed:
		case <-ctx.Done():
		case <-grace:
			return
		}
	}
}

// start sends one job to the node.
func (nr *nodeRun) start(j *job) error {
	r := nr.run
	if r.cfg.Delay > 0 {
		r.nodesMu.Lock()
		wait := time.Until(r.lastStart.Add(r.cfg.Delay))
		if wait > 0 {
			r.lastStart = r.lastStart.Add(r.cfg.Delay)
		} else {
			r.lastStart = time.Now()
		}
		r.nodesMu.Unlock()
		if wait > 0 {
			nr.conn.Flush()
			time.Sleep(wait)
		}
	}
	var tag []byte
	if r.cfg.Tag != nil {
		tag = r.cfg.Tag(j.args, j.seq, nr.node.Name)
	}
	if j.out == nil {
		dir := ""
		if r.cfg.ResultsDir != nil {
			dir = r.cfg.ResultsDir(j.args)
		}
		j.out = r.cfg.Output.Begin(j.seq, tag, dir)
	} else {
		j.out.Tag = tag
	}
	j.node = nr
	j.stdout = 0
	if r.cfg.DryRun {
		slot := (j.seq-1)%uint64(nr.slots) + 1
		text := r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: slot, Host: nr.node.Name, Args: j.args})
		r.cfg.Output.Chunk(j.out, output.Stdout, []byte(text+"\n"))
		nr.credit <- struct{}{}
		r.finish(j, nr, &wire.Result{Seq: j.seq, Slot: slot, Start: time.Now().UnixNano()})
		return nil
	}
	nr.mu.Lock()
	if nr.dead {
		nr.mu.Unlock()
		r.q.requeue(j)
		return errors.New("node lost")
	}
	j.sent = time.Now()
	j.timedOut = false
	nr.inflight[j.seq] = j
	nr.mu.Unlock()
	if r.cfg.Progress != nil {
		r.cfg.Progress.Started(j.seq)
	}
	in := &wire.Input{Command: 1, Seq: j.seq, Args: j.args, Timeout: r.timeoutMillis()}
	if err := nr.conn.Send(in, false); err != nil {
		r.warnf("%s: %v", nr.node.Name, err)
		nr.conn.Close()
		r.nodeLost(nr)
		return err
	}
	return nil
}

// timeoutMillis is the timeout sent with each job. --timeout N% is not sent:
// its limit moves as jobs finish, so the client watches it (watchTimeouts).
func (r *run) timeoutMillis() uint64 {
	return uint64(r.cfg.Timeout.Milliseconds())
}

// watchTimeouts kills jobs running longer than --timeout N% of the median
// runtime of the jobs that succeeded so far, as GNU Parallel does: the
// limit is recomputed as jobs finish and applies to running jobs.
func (r *run) watchTimeouts(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !r.q.over() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.mu.Lock()
		var limit time.Duration
		if len(r.runtimes) > 0 {
			s := slices.Clone(r.runtimes)
			slices.Sort(s)
			limit = time.Duration(float64(s[len(s)/2]) * r.cfg.TimeoutPercent / 100)
		}
		r.mu.Unlock()
		if limit == 0 {
			continue
		}
		r.nodesMu.Lock()
		nodes := slices.Clone(r.nodes)
		r.nodesMu.Unlock()
		for _, nr := range nodes {
			var late []uint64
			nr.mu.Lock()
			for seq, j := range nr.inflight {
				if !j.timedOut && time.Since(j.sent) > limit {
					j.timedOut = true
					late = append(late, seq)
				}
			}
			nr.mu.Unlock()
			for _, seq := range late {
				nr.conn.Send(&wire.Cancel{Seq: seq, Signal: uint64(syscall.SIGTERM)}, true)
			}
		}
	}
}

// receive handles what the node's agent sends until its stream ends.
func (nr *nodeRun) receive() {
	r := nr.run
	for {
		m, err := nr.conn.Receive()
		nr.heard.Store(time.Now().UnixNano())
		if err != nil {
			nr.mu.Lock()
			expected := nr.closing && len(nr.inflight) == 0
			nr.mu.Unlock()
			if !expected {
				r.warnf("%s: lost the agent: %v", nr.node.Name, describeEOF(err))
			}
			nr.conn.Close()
			r.nodeLost(nr)
			return
		}
		switch m := m.(type) {
		case *wire.Output:
			if j := nr.lookup(m.Seq); j != nil {
				if m.Stream == wire.Stdout {
					j.stdout += int64(len(m.Data))
				}
				r.cfg.Output.Chunk(j.out, int(m.Stream), m.Data)
			}
		case *wire.Result:
			nr.mu.Lock()
			j := nr.inflight[m.Seq]
			delete(nr.inflight, m.Seq)
			nr.mu.Unlock()
			if j != nil {
				// Finish first: a halt must be known before the slot is
				// offered another job.
				r.finish(j, nr, m)
				nr.credit <- struct{}{}
				nr.grantPrefetch(m)
				nr.signal()
			}
		case *wire.Error:
			r.fail(fmt.Errorf("%s: agent refused the command: %s", nr.node.Name, m.Message))
		}
		if nr.conn.Idle() {
			if err := r.cfg.Output.Flush(); err != nil {
				r.fail(fmt.Errorf("write output: %w", err))
			}
		}
	}
}

func describeEOF(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("connection closed")
	}
	return err
}

// ping asks a quiet agent for a sign of life, and ends the node's stream
// when none comes, which hands its jobs to the others.
func (nr *nodeRun) ping(stop <-chan struct{}) {
	every := nr.node.PingEvery
	misses := max(nr.node.PingMisses, 1)
	tick := time.NewTicker(every / 4)
	defer tick.Stop()
	var nonce uint64
	var lastPing time.Time
	for {
		select {
		case <-stop:
			return
		case <-nr.gone:
			return
		case <-tick.C:
		}
		quiet := time.Since(time.Unix(0, nr.heard.Load()))
		if quiet > every*time.Duration(misses) {
			nr.run.warnf("%s: the agent answered nothing for %s", nr.node.Name, quiet.Round(time.Second))
			nr.conn.Close()
			return
		}
		if quiet >= every && time.Since(lastPing) >= every {
			lastPing = time.Now()
			nonce++
			// A stopped agent stops reading too: once its stream is full,
			// the send blocks, and the deadline must still end it.
			deadline := time.AfterFunc(every*time.Duration(misses), func() { nr.conn.Close() })
			nr.conn.Send(&wire.Ping{Nonce: nonce}, true)
			deadline.Stop()
		}
	}
}

// shortJob is the runtime below which jobs are worth sending ahead: the
// round trip to the node then costs more than the job.
const shortJob = 20 * time.Millisecond

// grantPrefetch adds the node's prefetch credit once its first jobs have
// been short on average. It is called by the receiver only.
func (nr *nodeRun) grantPrefetch(res *wire.Result) {
	if nr.prefetchGranted || cap(nr.credit) == nr.slots {
		return
	}
	nr.results++
	nr.runtime += time.Duration(res.Runtime)
	if nr.results < nr.slots {
		return
	}
	if nr.runtime/time.Duration(nr.results) >= shortJob {
		if nr.results >= 4*nr.slots {
			nr.prefetchGranted = true // long jobs: never send ahead
		}
		return
	}
	nr.prefetchGranted = true
	for range cap(nr.credit) - nr.slots {
		nr.credit <- struct{}{}
	}
}

func (nr *nodeRun) isDead() bool {
	nr.mu.Lock()
	defer nr.mu.Unlock()
	return nr.dead
}

func (nr *nodeRun) signal() {
	select {
	case nr.changed <- struct{}{}:
	default:
	}
}

func (nr *nodeRun) lookup(seq uint64) *job {
	nr.mu.Lock()
	defer nr.mu.Unlock()
	return nr.inflight[seq]
}

// finish handles a job's result: retry it, or report it and count it.
func (r *run) finish(j *job, nr *nodeRun, res *wire.Result) {
	if j.timedOut {
		res.Flags |= wire.ResultTimedOut
		res.Flags &^= wire.ResultCancelled
	}
	failed := res.Exit != 0 || res.Signal != 0 || res.Flags&(wire.ResultTimedOut|wire.ResultNotRun) != 0
	r.mu.Lock()
	halted := r.halted && r.cfg.Halt.Now
	r.mu.Unlock()
	if halted || res.Flags&wire.ResultCancelled != 0 && r.q.over() {
		// Killed by the halt or an interrupt: not a result of its own.
		r.cfg.Output.Discard(j.out)
		r.q.finished()
		return
	}
	j.attempt++
	if failed && j.attempt < r.cfg.Retries && !r.q.over() {
		r.cfg.Output.Discard(j.out)
		j.avoid = nr.node.Name
		r.q.requeue(j)
		return
	}
	display := ""
	if r.cfg.Verbose || r.cfg.JobLog != nil {
		display = r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: res.Slot, Host: nr.node.Name, Args: j.args})
	}
	if r.cfg.Verbose && !r.cfg.DryRun {
		r.cfg.Output.SetHeader(j.out, []byte(display+"\n"))
	}
	r.cfg.Output.Finish(j.out)
	if r.cfg.JobLog != nil {
		e := joblog.Entry{Seq: j.seq, Host: nr.node.Name, Start: time.Unix(0, res.Start),
			Runtime: time.Duration(res.Runtime), Receive: j.stdout, Exit: int(res.Exit),
			Signal: int(res.Signal), Command: display}
		switch {
		case res.Flags&(wire.ResultTimedOut|wire.ResultNotRun) != 0:
			e.Exit = -1
		case res.Signal != 0:
			// GNU Parallel splits the wait status: a signal death exits 0.
			e.Exit = 0
		}
		if err := r.cfg.JobLog.Write(e); err != nil {
			r.fail(err)
		}
	}
	if r.cfg.Progress != nil {
		r.cfg.Progress.Ended(j.seq, failed)
	}
	if res.Flags&wire.ResultTimedOut != 0 {
		r.warnf("this job was killed because it timed out: %s",
			r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: res.Slot, Host: nr.node.Name, Args: j.args}))
	}

	r.mu.Lock()
	r.done++
	if failed {
		r.failed++
	} else if r.cfg.TimeoutPercent > 0 {
		r.runtimes = append(r.runtimes, time.Duration(res.Runtime))
	}
	halt := r.shouldHalt(failed)
	if halt && !r.halted {
		r.halted = true
		r.haltExit = r.haltStatus(res)
	}
	r.mu.Unlock()
	r.q.finished()
	if halt {
		what := "failed"
		if !failed {
			what = "succeeded"
		}
		r.warnf("this job %s: %s", what,
			r.cfg.Template.Display(template.Job{Seq: j.seq, Slot: res.Slot, Host: nr.node.Name, Args: j.args}))
		r.q.stop()
		if r.cfg.Halt.Now {
			r.cancelAll(syscall.SIGTERM)
		}
	}
}

// haltStatus is the exit status of a halted run, as GNU Parallel gives it:
// the triggering job's status when one job was enough, the failure count
// (capped at 101) for a larger count, the failed share in percent for a
// percentage, and 0 when halting on success. r.mu is held.
func (r *run) haltStatus(res *wire.Result) int {
	h := r.cfg.Halt
	switch {
	case h.When == HaltOnSuccess:
		return 0
	case h.Percent > 0:
		return int(math.Ceil(float64(r.failed) * 100 / float64(max(r.total, 1))))
	case h.Count > 1:
		return min(r.failed, 101)
	}
	if res.Exit == 0 && (res.Signal != 0 || res.Flags != 0) {
		return 1 // timed out or never started: failed without a status of its own
	}
	return int(res.Exit)
}

// shouldHalt applies the --halt policy; r.mu is held.
func (r *run) shouldHalt(failed bool) bool {
	h := r.cfg.Halt
	var count int
	switch h.When {
	case HaltNever:
		return false
	case HaltOnFail:
		if !failed {
			return false
		}
		count = r.failed
	case HaltOnSuccess:
		if failed {
			return false
		}
		count = int(r.done) - r.failed
	case HaltOnDone:
		count = int(r.done)
	}
	if h.Percent > 0 {
		// GNU Parallel judges a share only once the total is known, and
		// after at least 3 jobs.
		if r.total == 0 || r.done < 3 {
			return false
		}
		return float64(count)*100/float64(r.total) >= h.Percent
	}
	return count >= max(h.Count, 1)
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
