package agent

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/interp"

	"concurr/internal/wire"
)

// job is one input of a command, from the Input frame to its Result.
type job struct {
	s       *session
	cmd     *command
	seq     uint64
	args    []string
	timeout time.Duration
	input   *inStream    // the job's input stream (--pipe), or nil: /dev/null
	files   []*fileWrite // files transferred for the job (--transferfile)
	bases   []*baseFile  // its command's basefiles, as they were when it came
	returns []wire.Open  // what the job returns (--return), asked for by the client

	// ended is guarded by the sink's mutex: once the Result is buffered no
	// Output of this job may follow.
	ended bool

	stdout, stderr outWriter

	// proc holds what the job's umask and ulimit set for its processes.
	proc procSettings

	// values is the first backing array of the job's replacement values
	// (see jobEnviron.setValues), here to save an allocation per job.
	values [4]string

	// ctx is the context the job's interpreter runs in, set when the job
	// starts; stop is what ends it.
	ctx  jobContext
	stop cancelContext

	// fifos is the slot's directory for FIFOs, for the interpreters of
	// scripts the job runs; mayMakeFIFOs is set when one of them ran, as the
	// command's template does not tell what they do, or when the job's own
	// script, built for it, may make some. Both are the job goroutine's,
	// and are written before active.Done.
	fifos        *slotFIFOs
	mayMakeFIFOs bool

	// cgroup is the slot's, which the job's processes are born in.
	cgroup *slotCgroup

	// active counts exec handler calls in flight, including those of the
	// interpreter's background statements, so that the job's Result waits
	// for their output.
	active sync.WaitGroup

	mu         sync.Mutex
	state      jobState
	flags      uint64         // ResultTimedOut, ResultCancelled
	killSig    syscall.Signal // the first signal sent, 0 until killed
	stageSig   syscall.Signal // the signal of the current escalation stage
	groups     []int          // process groups the job started
	spawned    bool           // the job started a process
	lastSignal int            // the signal that ended the last external command, or 0
	shellSig   syscall.Signal // the job's script "killed its own shell" ($$) with it
	settled    chan struct{}  // made by the first escalation; see settledLocked
	hasSettled bool           // the job's commands have all returned
	escalation sync.WaitGroup
}

// cancel stops the job's interpreter.
func (j *job) cancel() { j.stop.cancel(context.Canceled) }

// cancelContext is the session's context with a cancellation of the job's
// own. It lives in the job and makes its Done channel only when asked, as
// the interpreter never asks for jobs of builtins: a context.WithCancel
// would cost every job two allocations and a registration with the
// session's context. The slot cancels it when the session ends.
type cancelContext struct {
	context.Context // the session's, for values and deadline

	mu   sync.Mutex
	done chan struct{}
	err  error
}

var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *cancelContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedDone
		}
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *cancelContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// cancel ends c with err, which the first call sets.
func (c *cancelContext) cancel(err error) {
	if err == nil {
		err = context.Canceled
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
}

type jobState uint8

const (
	jobQueued jobState = iota
	jobRunning
	jobFinishing // the script has returned; what it left is being stopped
	jobDone
)

// outWriter turns a job's stdout or stderr into Output frames, in chunks no
// larger than maxChunk. What builtins write is gathered until the next
// command starts (see flushBeforeCall), so that `echo a b` makes one frame
// and not four, and goes out before anything that may block; what external
// processes write is sent as it arrives.
type outWriter struct {
	j      *job
	stream uint8

	mu  sync.Mutex
	buf []byte
}

// Write takes what a builtin writes.
func (o *outWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf)+len(p) <= maxChunk {
		o.buf = append(o.buf, p...)
		return len(p), nil
	}
	if err := o.flushLocked(); err != nil {
		return 0, err
	}
	if len(p) < maxChunk/2 {
		o.buf = append(o.buf, p...)
		return len(p), nil
	}
	return o.sendLocked(p)
}

// WriteString is Write without the conversion that io.WriteString would
// allocate for every echo of a builtin.
func (o *outWriter) WriteString(p string) (int, error) {
	o.mu.Lock()
	if len(o.buf)+len(p) <= maxChunk {
		o.buf = append(o.buf, p...)
		o.mu.Unlock()
		return len(p), nil
	}
	o.mu.Unlock()
	return o.Write([]byte(p))
}

// lend gives o a buffer to gather builtins' output in, before the job
// starts.
func (o *outWriter) lend(buf []byte) {
	o.mu.Lock()
	o.buf = buf[:0]
	o.mu.Unlock()
}

// reclaim takes o's buffer back once the job's Result is sent, for the
// slot's next job. What is still writing for the job (its background
// statements) gets a buffer of its own, and nothing of it is sent anyway.
func (o *outWriter) reclaim() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	buf := o.buf[:0]
	o.buf = nil
	if cap(buf) > maxChunk {
		return nil
	}
	return buf
}

func (o *outWriter) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flushLocked()
}

func (o *outWriter) flushLocked() error {
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.sendLocked(o.buf)
	o.buf = o.buf[:0]
	if cap(o.buf) > maxChunk {
		o.buf = nil
	}
	return err
}

func (o *outWriter) sendLocked(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := p[:min(len(p), maxChunk)]
		if err := o.j.s.out.sendOutput(o.j, o.stream, c); err != nil {
			return n, err
		}
		n += len(c)
		p = p[len(c):]
	}
	return n, nil
}

// processWriter takes what an external process writes: it is sent at once,
// after whatever builtins wrote before.
type processWriter struct{ o *outWriter }

func (w processWriter) Write(p []byte) (int, error) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	if err := w.o.flushLocked(); err != nil {
		return 0, err
	}
	return w.o.sendLocked(p)
}

// beforeCall is the interpreter's call handler. It sends what builtins
// wrote before the next command runs, and sends kill, which the interpreter
// lists as a builtin but does not implement, to the system's kill.
func beforeCall(ctx context.Context, args []string) ([]string, error) {
	if j := jobOf(ctx); j != nil {
		j.stdout.flush()
		j.stderr.flush()
	}
	args = bashBuiltin(ctx, args)
	if args[0] == "read" {
		return bashRead(args)
	}
	if args[0] == "kill" {
		hc := interp.HandlerCtx(ctx)
		if path, err := interp.LookPathDir(hc.Dir, hc.Env, "kill"); err == nil {
			args[0] = path
		}
	}
	return args, nil
}

func newJob(s *session, c *command, in *wire.Input) *job {
	j := &job{
		s:       s,
		cmd:     c,
		seq:     in.Seq,
		args:    in.Args,
		timeout: time.Duration(in.Timeout) * time.Millisecond,
	}
	j.stdout.j, j.stdout.stream = j, wire.Stdout
	j.stderr.j, j.stderr.stream = j, wire.Stderr
	return j
}

// termSequence mirrors GNU Parallel's default --termseq
// (TERM,200,TERM,100,TERM,50,KILL,25): the first stage's signal is the one
// asked for, later stages insist with SIGTERM and end with SIGKILL.
var termSequence = []struct {
	sig  syscall.Signal
	wait time.Duration
}{
	{0, 200 * time.Millisecond},
	{syscall.SIGTERM, 100 * time.Millisecond},
	{syscall.SIGTERM, 50 * time.Millisecond},
	{syscall.SIGKILL, 25 * time.Millisecond},
}

// kill stops the job: its interpreter stops at the next statement and its
// process groups get sig, then the rest of termSequence. flag says why, for
// the Result. A queued job is marked, and its slot reports it without
// running it. kill does not block.
func (j *job) kill(sig syscall.Signal, flag uint64) {
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.killSig != 0 || j.state > jobRunning {
		return
	}
	j.flags |= flag
	j.killSig = sig
	if j.state == jobQueued {
		return
	}
	j.cancel()
	j.startEscalation(sig)
}

// isQueued reports whether j still waits for a slot.
func (j *job) isQueued() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state == jobQueued
}

// settledLocked returns a channel closed once the job's commands have all
// returned. Only escalations wait for it, so jobs that are never killed
// never make it. Called with j.mu held.
func (j *job) settledLocked() <-chan struct{} {
	if j.settled == nil {
		j.settled = make(chan struct{})
		if j.hasSettled {
			close(j.settled)
		}
	}
	return j.settled
}

// settle records that the job's commands have all returned.
func (j *job) settle() {
	j.mu.Lock()
	j.hasSettled = true
	if j.settled != nil {
		close(j.settled)
	}
	j.mu.Unlock()
}

// startEscalation runs termSequence in a goroutine that the job's slot waits
// for. Called with j.mu held.
func (j *job) startEscalation(sig syscall.Signal) {
	settled := j.settledLocked()
	j.escalation.Add(1)
	go func() {
		defer j.escalation.Done()
		for i, stage := range termSequence {
			s := stage.sig
			if i == 0 {
				s = sig
			}
			j.mu.Lock()
			j.stageSig = s
			groups := append([]int(nil), j.groups...)
			j.mu.Unlock()
			for _, g := range groups {
				_ = syscall.Kill(-g, s)
			}
			t := time.NewTimer(stage.wait)
			select {
			case <-t.C:
			case <-settled:
				t.Stop()
				// The job's commands have returned; background processes
				// may remain in its groups. Keep insisting only on them.
				if !j.anyGroupAlive() {
					return
				}
				t.Reset(stage.wait)
				<-t.C
			}
			if !j.anyGroupAlive() {
				return
			}
		}
	}()
}

// addGroup records a process group the job started. A job that is being
// killed kills it at once, so that a command starting while the job is
// killed does not escape.
func (j *job) addGroup(pgid int) {
	j.mu.Lock()
	j.groups = append(j.groups, pgid)
	j.spawned = true
	sig := j.stageSig
	j.mu.Unlock()
	if sig != 0 {
		_ = syscall.Kill(-pgid, sig)
	}
}

// anyGroupAlive reports whether any process of the job's groups still runs.
func (j *job) anyGroupAlive() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	live := j.groups[:0]
	for _, g := range j.groups {
		if err := syscall.Kill(-g, 0); err == nil || !errors.Is(err, syscall.ESRCH) {
			live = append(live, g)
		}
	}
	j.groups = live
	return len(live) > 0
}

// killShell ends the job as if its shell had received sig: the script stops,
// and whatever it started gets sig and then the rest of termSequence.
func (j *job) killShell(sig syscall.Signal) error {
	j.mu.Lock()
	if j.shellSig == 0 {
		j.shellSig = sig
	}
	if j.killSig == 0 && j.state == jobRunning {
		j.killSig = sig
		j.cancel()
		j.startEscalation(sig)
	}
	j.mu.Unlock()
	return interp.ExitStatus(128 + int(sig))
}

// setLastSignal records how the last external command ended, for
// Result.Signal.
func (j *job) setLastSignal(sig int) {
	j.mu.Lock()
	j.lastSignal = sig
	j.mu.Unlock()
}
