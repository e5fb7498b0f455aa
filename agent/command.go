package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"concurr/internal/template"
	"concurr/internal/wire"
)

// command is a compiled template's program with its slots and its queue
// of jobs.
type command struct {
	s       *session
	id      uint64
	program *template.Program
	file    *syntax.File // the parsed script; nil for FromInput templates
	env     *baseEnviron
	funcs   exportedFuncs // bash's exported functions, defined in every job
	dir     string
	tempDir string      // removed when the command's slots have exited
	bases   []*baseFile // --basefile, in place before any job starts; guarded by s.mu
	host    string
	slots   int
	limits  *limits // --memfree and --load; nil for none
	nice    int64   // --nice
	niceCmd string  // nice(1), when nice is set
	// shell, when set, runs each job's command as `shell -c command`
	// (see shell.go); shellErr says why this node cannot.
	shell    string
	shellErr error
	// unsupported is what the embedded shell cannot run in the script.
	unsupported error
	// leavesNoState says that the script can change nothing in the
	// interpreter that its next job would see (see stateless.go).
	leavesNoState bool
	// terminal gives jobs the terminal on stdin (--tty), and keeps their
	// processes in the agent's process group, which is the terminal's
	// foreground group, so that reading it does not stop them.
	terminal bool

	// mayMakeFIFOs says whether the command's jobs may leave process
	// substitutions' FIFOs for the slot to release (see fifo.go).
	mayMakeFIFOs bool

	mu      sync.Mutex
	more    sync.Cond
	queue   []*job
	head    int
	retired bool // no more inputs: slots exit once the queue is empty
	running sync.WaitGroup

	// slotBusy[i] says whether slot number i+1 ({%}) is taken by a running
	// job. A job takes the lowest free number, as in GNU Parallel, rather
	// than the number of whichever slot goroutine the scheduler ran first.
	slotBusy  []bool
	slotNames []string // the numbers in decimal, for PARALLEL_JOBSLOT
	tmpPrefix string   // PARALLEL_TMP without the job's number
}

// newCommand decodes m's program and parses its script, once for all its
// jobs; the error is reported to the client.
func newCommand(s *session, m *wire.Command) (*command, error) {
	program, err := template.UnmarshalProgram(m.Template)
	if err != nil {
		return nil, err
	}
	// Each slot is a goroutine with a shell of its own: a count from the
	// client beyond reason is refused, not trusted.
	if m.Slots > wire.MaxSlots {
		return nil, fmt.Errorf("command %d asks for %d slots, more than the %d a node may have", m.ID, m.Slots, wire.MaxSlots)
	}
	c := &command{s: s, id: m.ID, program: program, host: m.Host, slots: int(m.Slots)}
	c.more.L = &c.mu
	if c.slots <= 0 {
		c.slots = s.slots
	}
	c.slotBusy = make([]bool, c.slots)
	for i := range c.slots {
		c.slotNames = append(c.slotNames, strconv.Itoa(i+1))
	}
	if !program.FromInput && program.Raw == nil {
		c.file, err = parseScript(program.Script)
		if err != nil {
			return nil, fmt.Errorf("parse template script: %w", err)
		}
	}
	for _, kv := range m.Env {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return nil, fmt.Errorf("environment entry %q is not NAME=value", kv)
		}
	}
	shadowed := map[string]bool{}
	for _, name := range jobVarNames {
		shadowed[name] = true
	}
	for _, v := range program.Vars {
		shadowed[v.Name] = true
	}
	c.env = newBaseEnviron(slices.Concat(os.Environ(), hostVars(m.Host), m.Env), shadowed)
	c.funcs = importFuncs(c.env.pairs)
	// A script built per job (from its input, or pasted for l{}) is looked
	// at when it is known (see interpret).
	c.mayMakeFIFOs = c.file != nil && mayMakeFIFOs(c.file) || c.funcs.mayMakeFIFOs()
	c.tmpPrefix = filepath.Join(os.TempDir(), fmt.Sprintf("par%d-%d-", os.Getpid(), m.ID))
	if c.limits, err = newLimits(m.MemFree, m.MaxLoad, "/"); err != nil {
		return nil, err
	}
	c.nice = m.Nice
	if m.Terminal {
		c.terminal = true
		keepInterruptsForJobs()
	}
	if c.niceCmd, err = findNice(m.Nice); err != nil {
		return nil, err
	}
	if c.dir, c.tempDir, err = workdir(s.cwd, m.Workdir); err != nil {
		return nil, err
	}
	if c.file != nil && m.Shell == "" {
		c.unsupported = unsupportedSyntax(c.file)
		c.leavesNoState = c.unsupported == nil && !program.FromInput && program.Raw == nil && leavesNoState(c.file, c.funcs.bodies)
	}
	if m.Shell != "" {
		if err := CheckShell(m.Shell); err != nil {
			return nil, err
		}
		c.shell = m.Shell
		if path, err := resolveShell(m.Host, c.dir, c.env, m.Shell); err != nil {
			c.shellErr = err
		} else {
			c.shell = path
		}
	}
	return c, nil
}

func parseScript(src string) (*syntax.File, error) {
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err == nil {
		unescapeAssignments(file)
	}
	return file, err
}

// workdir resolves a Command's Workdir against the agent's directory: ""
// is that directory, "..." a new temporary directory, "~/..." is relative to
// the home directory. A directory that does not exist is created, as GNU
// Parallel's --workdir does.
func workdir(cwd, wd string) (dir, temp string, err error) {
	switch {
	case wd == "":
		return cwd, "", nil
	case wd == "...":
		temp, err = os.MkdirTemp("", "concurr-wd-")
		if err != nil {
			return "", "", fmt.Errorf("create a temporary workdir: %w", err)
		}
		return temp, temp, nil
	case wd == "~" || strings.HasPrefix(wd, "~/"):
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", fmt.Errorf("workdir %s: %w", wd, err)
		}
		wd = filepath.Join(home, wd[1:])
	case !filepath.IsAbs(wd):
		wd = filepath.Join(cwd, wd)
	}
	if err := os.MkdirAll(wd, 0o777); err != nil {
		return "", "", fmt.Errorf("workdir: %w", err)
	}
	return wd, "", nil
}

// start launches the command's slots.
func (c *command) start() {
	for range c.slots {
		c.running.Add(1)
		c.s.slotsWG.Add(1)
		go func() {
			defer c.s.slotsWG.Done()
			defer c.running.Done()
			c.runSlot()
		}()
	}
	// The last slot out releases the basefiles and removes the temporary
	// workdir.
	c.s.slotsWG.Add(1)
	go func() {
		defer c.s.slotsWG.Done()
		c.running.Wait()
		c.releaseBases()
		if c.tempDir == "" {
			return
		}
		if err := os.RemoveAll(c.tempDir); err != nil {
			c.s.logf("remove workdir of command %d: %v", c.id, err)
		}
	}()
}

// push queues a job; it never blocks on a busy slot.
func (c *command) push(j *job) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retired {
		return false
	}
	c.queue = append(c.queue, j)
	c.more.Signal()
	return true
}

// pop returns the next job, or nil when the command is retired and drained.
func (c *command) pop() (j *job, slotNumber uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.head == len(c.queue) && !c.retired {
		c.more.Wait()
	}
	if c.head == len(c.queue) {
		return nil, 0
	}
	// Each slot goroutine holds at most one number, so one is free.
	for i, busy := range c.slotBusy {
		if !busy {
			c.slotBusy[i] = true
			slotNumber = uint64(i + 1)
			break
		}
	}
	j = c.queue[c.head]
	c.queue[c.head] = nil
	c.head++
	if c.head == len(c.queue) {
		c.queue, c.head = c.queue[:0], 0
	} else if c.head > 1024 && c.head*2 > len(c.queue) {
		c.queue, c.head = append(c.queue[:0], c.queue[c.head:]...), 0
	}
	return j, slotNumber
}

// finishOnSlot gives back the slot number res.Slot that the job took in
// pop, then reports the job's Result: in that order, so that a job the
// client sends once it has the Result finds the number free, as the next
// job does in GNU Parallel.
func (c *command) finishOnSlot(j *job, res *wire.Result) {
	c.mu.Lock()
	c.slotBusy[res.Slot-1] = false
	c.mu.Unlock()
	c.s.finish(j, res)
}

// retire lets the slots finish the queue and exit. With drop, queued jobs
// are dropped instead: the agent is shutting down.
func (c *command) retire(drop bool) {
	c.mu.Lock()
	c.retired = true
	if drop {
		for i := c.head; i < len(c.queue); i++ {
			c.s.forget(c.queue[i])
			c.queue[i] = nil
		}
		c.queue, c.head = c.queue[:0], 0
	}
	c.more.Broadcast()
	c.mu.Unlock()
}

// slot is one slot's state: the interpreter it owns for its life.
type slot struct {
	c       *command
	n       uint64 // the slot number ({%}) of the job it runs
	runner  *interp.Runner
	name    string // n in decimal, for PARALLEL_JOBSLOT
	env     jobEnviron
	devnull *os.File
	fifos   *slotFIFOs // the interpreter's directory for FIFOs
	cgroup  slotCgroup
	bindVar func(v *template.Var, values []string) // made once, not per job
	// asReset says that the interpreter is as Reset left it, with the
	// exported functions defined: the last job's script could change
	// nothing, and it ended by itself.
	asReset bool

	// outBufs are the stdout and stderr buffers that the slot lends each job:
	// sendOutput copies what it sends.
	outBufs [2][]byte

	// The session's end stops the running job through current, and every
	// later job as it starts: jobs' contexts do not derive from the
	// session's, which costs every job a context and its registration.
	mu           sync.Mutex
	current      *job
	sessionEnded bool
}

// endSession stops the slot's job, and the jobs after it, once the session
// ends.
func (sl *slot) endSession() {
	sl.mu.Lock()
	sl.sessionEnded = true
	j := sl.current
	sl.mu.Unlock()
	if j != nil {
		j.stop.cancel(sl.c.s.ctx.Err())
	}
}

func (c *command) runSlot() {
	sl := &slot{c: c, env: jobEnviron{parent: c.env}}
	// The interpreter is made for the slot's first job: a node has a slot
	// a core, and most commands of a --nonall or a short run give jobs to
	// few of them.
	var err error
	prepared := false
	defer func() {
		if sl.devnull != nil {
			sl.devnull.Close()
		}
		if err := sl.fifos.remove(); err != nil {
			c.s.logf("remove FIFO directory of command %d: %v", c.id, err)
		}
	}()
	defer sl.cgroup.remove()
	sl.bindVar = func(v *template.Var, values []string) { sl.env.setValues(v.Name, values) }
	ended := make(chan struct{})
	stop := context.AfterFunc(c.s.ctx, func() {
		defer close(ended)
		sl.endSession()
	})
	defer func() {
		if !stop() {
			<-ended
		}
	}()
	for {
		j, n := c.pop()
		if j == nil {
			return
		}
		sl.n, sl.name = n, c.slotNames[n-1]
		if !prepared {
			prepared = true
			err = sl.prepare()
		}
		if err == nil && c.limits != nil {
			// --memfree and --load: the job waits here until the node has room.
			if lerr := c.limits.wait(c.s.ctx, j.killed, c.s.logf); lerr != nil && c.s.ctx.Err() == nil {
				fmt.Fprintf(&j.stderr, "concurr: slot %d: %v\n", n, lerr)
				c.finishOnSlot(j, &wire.Result{Seq: j.seq, Exit: 255, Slot: n, Start: time.Now().UnixNano(), Flags: wire.ResultNotRun})
				continue
			}
		}
		if err != nil {
			// Without an interpreter no job can run; say why for each.
			fmt.Fprintf(&j.stderr, "concurr: slot %d: %v\n", n, err)
			c.finishOnSlot(j, &wire.Result{Seq: j.seq, Exit: 255, Slot: n, Start: time.Now().UnixNano(), Flags: wire.ResultNotRun})
		} else {
			sl.run(j)
		}
	}
}

// prepare gives the slot its job's stdin and its interpreter.
func (sl *slot) prepare() error {
	var err error
	if sl.devnull, err = openJobStdin(sl.c.terminal); err != nil {
		return err
	}
	sl.fifos = reserveFIFODir(&sl.env)
	return sl.newRunner()
}

// newRunner gives the slot a new interpreter, whose FIFOs go in the slot's
// directory for them.
func (sl *slot) newRunner() error {
	c := sl.c
	handlers := []func(interp.ExecHandlerFunc) interp.ExecHandlerFunc{bashMiddleware, execMiddleware}
	if c.nice != 0 {
		handlers = []func(interp.ExecHandlerFunc) interp.ExecHandlerFunc{bashMiddleware, niceMiddleware(c.nice, c.niceCmd), execMiddleware}
	}
	r, err := interp.New(
		interp.Env(&sl.env),
		interp.Dir(c.dir),
		interp.StdIO(sl.devnull, nil, nil),
		interp.ExecHandlers(handlers...),
		interp.CallHandler(beforeCall),
		interp.OpenHandler(openRedirect),
	)
	if err != nil {
		return err
	}
	sl.runner, sl.env.runner, sl.asReset = r, r, false
	if sl.fifos.path != "" {
		pinTempDir(sl, sl.fifos.path)
	}
	return nil
}

// prepareFIFOs makes the slot's directory for FIFOs before a job that may
// make some. When its name cannot be made (someone took it, or the
// temporary folder is not writable), the slot starts over with a directory
// made now, or, failing that, with the interpreter's default, as a shell
// would use.
func (sl *slot) prepareFIFOs() error {
	if dir, ok := sl.fifos.ensure(); ok || dir == "" {
		return nil
	}
	sl.c.s.logf("slot %d: cannot make FIFO directory %s: making another", sl.n, sl.fifos.path)
	sl.fifos = makeFIFODir(&sl.env)
	return sl.newRunner()
}

// killed reports whether the job was killed before it started.
func (j *job) killed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.killSig != 0
}

// run runs one job and reports its Result.
func (sl *slot) run(j *job) {
	c := sl.c
	start := time.Now()
	res := &wire.Result{Seq: j.seq, Slot: sl.n, Start: start.UnixNano()}

	j.mu.Lock()
	if j.killSig != 0 {
		// Cancelled while queued.
		j.state = jobDone
		sig := j.killSig
		res.Flags = j.flags | wire.ResultNotRun
		j.mu.Unlock()
		res.Exit, res.Signal = 128+uint64(sig), uint64(sig)
		c.finishOnSlot(j, res)
		return
	}
	j.state = jobRunning
	j.mu.Unlock()
	var timer *time.Timer
	if j.timeout > 0 {
		timer = time.AfterFunc(j.timeout, func() { j.kill(syscall.SIGTERM, wire.ResultTimedOut) })
	}

	j.cgroup = &sl.cgroup
	j.stdout.lend(sl.outBufs[0])
	j.stderr.lend(sl.outBufs[1])
	j.stop.Context = c.s.ctx
	j.ctx = jobContext{Context: &j.stop, j: j}
	sl.mu.Lock()
	sl.current = j
	ended := sl.sessionEnded
	sl.mu.Unlock()
	if ended {
		j.stop.cancel(c.s.ctx.Err())
	}
	stdin, in, exit := sl.devnull, (*jobInput)(nil), 0
	if j.input != nil {
		var err error
		if in, err = startInput(&j.ctx, j, j.input); err != nil {
			fmt.Fprintf(&j.stderr, "concurr: %v\n", err)
			exit = 255
		} else if in.stdin != nil {
			stdin = in.stdin
		}
	}
	if exit == 0 && (len(j.files) > 0 || len(j.bases) > 0) {
		if err := j.awaitFiles(&j.ctx); err != nil {
			fmt.Fprintf(&j.stderr, "concurr: %s: %v\n", c.host, err)
			exit = 255
		}
	}
	if exit == 0 {
		exit = sl.interpret(&j.ctx, j, stdin)
	}

	if timer != nil {
		timer.Stop()
	}
	j.mu.Lock()
	j.state = jobFinishing
	j.mu.Unlock()
	// Whatever the job left running dies with it: the interpreter's
	// background statements stop, and processes left in its groups are
	// terminated.
	j.cancel()
	sl.mu.Lock()
	sl.current = nil
	sl.mu.Unlock()
	if j.anyGroupAlive() {
		j.mu.Lock()
		if j.killSig == 0 {
			j.killSig = syscall.SIGTERM
			j.startEscalation(syscall.SIGTERM)
		}
		j.mu.Unlock()
	}
	j.active.Wait()
	if in != nil {
		in.finish()
	}
	if len(j.returns) > 0 && !ended {
		j.sendReturns()
	}
	j.settle()
	j.escalation.Wait()
	j.mu.Lock()
	spawned := j.spawned
	j.mu.Unlock()
	if spawned {
		// Processes that left the job's groups are still in its cgroup.
		sl.cgroup.killLeft()
	}
	if (c.mayMakeFIFOs || j.mayMakeFIFOs) && sl.fifos.isMade() {
		releaseFIFOs(sl.fifos.path)
	}

	j.mu.Lock()
	j.state = jobDone
	res.Flags |= j.flags
	if j.shellSig != 0 {
		exit = 128 + int(j.shellSig)
		res.Signal = uint64(j.shellSig)
	} else if j.lastSignal != 0 && exit == 128+j.lastSignal {
		res.Signal = uint64(j.lastSignal)
	} else if j.flags&(wire.ResultTimedOut|wire.ResultCancelled) != 0 && exit < 128 {
		// Killed between commands, or in a builtin: report the signal that
		// was sent, as a shell killed by it would.
		exit = 128 + int(j.killSig)
		res.Signal = uint64(j.killSig)
	}
	j.mu.Unlock()
	res.Exit = uint64(exit)
	res.Runtime = int64(time.Since(start))
	c.finishOnSlot(j, res)
	sl.outBufs[0] = j.stdout.reclaim()
	sl.outBufs[1] = j.stderr.reclaim()
}

// interpreter returns the slot's interpreter ready for a job: reset, or
// as the last job left it when that is as Reset leaves it (see asReset),
// with only Vars emptied as Reset would: the environment's copy there is
// left out only when Vars starts empty (see jobEnviron.Each).
func (sl *slot) interpreter() *interp.Runner {
	r := sl.runner
	if sl.asReset {
		clear(r.Vars)
	} else {
		r.Reset()
		sl.c.funcs.define(r)
	}
	sl.asReset = false
	return r
}

// interpret runs the job's script in the slot's interpreter and returns its
// exit status.
func (sl *slot) interpret(ctx context.Context, j *job, stdin *os.File) int {
	c := sl.c
	file, src := c.file, c.program.Script
	if c.program.FromInput || c.program.Raw != nil {
		// The job's values are part of its shell source.
		src = strings.Join(j.args, " ")
		if c.program.Raw != nil {
			src = c.program.RawScript(template.Job{Seq: j.seq, Slot: sl.n, Host: c.host, Args: j.args})
		}
		var err error
		file, err = parseScript(src)
		if err == nil && c.shell == "" {
			err = unsupportedSyntax(file)
			j.mayMakeFIFOs = j.mayMakeFIFOs || mayMakeFIFOs(file)
		}
		if err != nil {
			// As a shell given bad syntax with -c: the message on stderr
			// and status 2.
			fmt.Fprintf(&j.stderr, "concurr: %v\n", err)
			return 2
		}
	}
	if c.unsupported != nil {
		fmt.Fprintf(&j.stderr, "concurr: %v\n", c.unsupported)
		return 2
	}
	// Before the job's variables are set: a new interpreter resets them.
	if c.shell == "" && (c.mayMakeFIFOs || j.mayMakeFIFOs) {
		if err := sl.prepareFIFOs(); err != nil {
			fmt.Fprintf(&j.stderr, "concurr: slot %d: %v\n", sl.n, err)
			return 255
		}
	}
	j.fifos = sl.fifos
	sl.env.reset(j.values[:0])
	sl.env.setJobVars(c.tmpPrefix, j.seq, sl.name)
	job := template.Job{Seq: j.seq, Slot: sl.n, Slots: uint64(c.slots), Host: c.host, Args: j.args}
	c.program.Bind(job, sl.bindVar)
	if c.shell != "" {
		if c.shellErr != nil {
			fmt.Fprintf(&j.stderr, "concurr: %v\n", c.shellErr)
			return 127
		}
		var err error
		if file, err = shellCall(c.shell, externalScript(src, file, c.program, job)); err != nil {
			fmt.Fprintf(&j.stderr, "concurr: %v\n", err)
			return 255
		}
	}
	r := sl.interpreter()
	if err := interp.StdIO(stdin, &j.stdout, &j.stderr)(r); err != nil {
		fmt.Fprintf(&j.stderr, "concurr: %v\n", err)
		return 255
	}
	err := r.Run(ctx, file)
	// AsType, unlike As, does not move a status variable to the heap for
	// every job.
	status, isStatus := errors.AsType[interp.ExitStatus](err)
	// A job that ended by itself, and whose script leaves no state, leaves
	// the interpreter as Reset made it; one that was stopped, or that the
	// interpreter failed, may have left it anywhere.
	sl.asReset = c.leavesNoState && ctx.Err() == nil && (err == nil || isStatus)
	if err == nil {
		return 0
	}
	if isStatus {
		return int(status)
	}
	switch {
	case ctx.Err() != nil:
		return 1
	default:
		fmt.Fprintf(&j.stderr, "concurr: %v\n", err)
		return 1
	}
}
