// Package agent owns concurr's server side, the only code that runs jobs: it
// speaks the wire protocol on a pair of streams (a child process's stdio locally,
// an SSH session's stdio remotely), creates commands with their slots, runs
// each job in the slot's embedded shell (mvdan.cc/sh/v3 interp) with every
// external process in a process group of its own, streams the job's output
// back as it is written, and kills process groups on cancel, timeout and
// exit so that no process outlives the agent.
//
// What a client can rely on:
//
//   - Every Input accepted gets exactly one Result, after all of its Output;
//     an Input that is refused (unknown or retired command, a sequence
//     number still in use) gets an Error instead. At EOF or when the context
//     ends, jobs are killed and their Results are not sent.
//   - A job cancelled before it started reports ResultCancelled|ResultNotRun
//     with the exit status of the signal asked for.
//   - Killing a job sends the signal to each of its process groups, then
//     SIGTERM after 200 ms, SIGTERM after 100 ms more, and SIGKILL after
//     50 ms more, as GNU Parallel's default --termseq. The exit status is
//     128+n for a job ended by signal n, and Result.Signal is n.
//   - When a job's script returns, what it left running (the shell's
//     background statements, processes remaining in its groups) is killed the
//     same way; output that a process's leftover children keep writing is read
//     for 2 s after the process exits.
//   - On Linux, where the agent may write its own cgroup v2 subtree, a
//     slot's processes are born in a cgroup of the slot's, and what a job
//     leaves there, in its groups or out of them (setsid), is killed when
//     the job ends. Process substitutions that nobody opened are released
//     and their FIFOs removed when the job ends.
//   - In the embedded shell $$ is the agent's PID: `kill $$` ends the job
//     with that signal, as it would end the job's shell, and not the agent.
package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"concurr/internal/buildinfo"
	"concurr/internal/cpus"
	"concurr/internal/wire"
)

// Options configure an agent.
type Options struct {
	Slots  int       // default slot count announced in Hello; 0 means cpus.Usable()
	Stderr io.Writer // the agent's own log, never the protocol stream
	Debug  bool      // trace frames to Stderr (CONCURR_DEBUG=protocol)

	// BuildID is announced in Hello. When empty, it is the ID that the
	// node's build cache folder names (buildinfo.InstalledID), or empty
	// when the agent runs from anywhere else: hashing the executable would
	// cost every start tens of milliseconds, and no client needs the ID of
	// an agent it did not install.
	BuildID string
}

// session is one Serve call: the state shared by the frame reader and the
// slots.
type session struct {
	ctx    context.Context // ends at shutdown; each slot then stops its current job and takes no more
	cancel context.CancelFunc
	opts   Options
	out    *sink
	slots  int
	cwd    string

	slotsWG sync.WaitGroup // slot goroutines and workdir removers

	mu       sync.Mutex
	jobs     map[uint64]*job // queued and running, by sequence number
	commands map[uint64]*command
	closing  bool

	streams   map[uint64]*inStream // streams the client sends, until their End
	jobInputs map[uint64]*inStream // job input streams opened before their Input, by sequence number

	jobFiles   map[uint64][]*inStream // files to write for a job (StreamFile), until its Input
	jobReturns map[uint64][]wire.Open // files a job is to return (StreamReturn), until its Input
	outStreams map[uint64]*outStream  // returned files being sent
	lastOut    uint64
}

// Serve speaks the protocol on r and w until r reaches EOF or ctx ends,
// then kills every running job by process group, removes temporary
// workdirs and returns. It returns nil at EOF and when ctx ends, and an
// error for a stream that is not the protocol. When ctx ends while a read
// is blocked, r is closed if it is an io.Closer, so that the reader stops.
func Serve(ctx context.Context, r io.Reader, w io.Writer, opts Options) error {
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &session{
		ctx:      ctx,
		cancel:   cancel,
		opts:     opts,
		slots:    opts.Slots,
		jobs:     make(map[uint64]*job),
		commands: make(map[uint64]*command),

		streams:   make(map[uint64]*inStream),
		jobInputs: make(map[uint64]*inStream),

		jobFiles:   make(map[uint64][]*inStream),
		jobReturns: make(map[uint64][]wire.Open),
		outStreams: make(map[uint64]*outStream),
	}
	if s.slots <= 0 {
		s.slots = cpus.Usable()
	}
	var err error
	if s.cwd, err = os.Getwd(); err != nil {
		return fmt.Errorf("agent: working directory: %w", err)
	}
	var trace func(string, wire.Message)
	if opts.Debug {
		trace = s.trace
	}
	s.out = newSink(w, trace, cancel)
	go s.out.run()

	readErr := make(chan error, 1)
	go func() { readErr <- s.read(r) }()

	select {
	case err = <-readErr:
	case <-ctx.Done():
		if c, ok := r.(io.Closer); ok {
			c.Close()
			err = <-readErr
		}
		if ctx.Err() != nil {
			// A broken output stream or the caller ended the session; the
			// reader's complaint about the closed input says nothing more.
			err = nil
		}
	}
	s.shutdown()
	return err
}

// read handles the handshake and the frames until EOF.
func (s *session) read(r io.Reader) error {
	host, _ := os.Hostname()
	buildID := s.opts.BuildID
	if buildID == "" {
		buildID, _ = buildinfo.InstalledID()
	}
	s.out.sendOpening(&wire.Hello{
		Version:  wire.Version,
		BuildID:  buildID,
		OS:       runtime.GOOS,
		Arch:     runtime.GOARCH,
		Hostname: host,
		Slots:    uint64(s.slots),
		PID:      uint64(os.Getpid()),
	})
	fr := wire.NewReader(bufio.NewReaderSize(r, 64<<10))
	if err := fr.ReadClientOpening(); err != nil {
		if err == io.EOF {
			return nil // the client left before it began
		}
		return fmt.Errorf("agent: %w", err)
	}
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("agent: read frame: %w", err)
		}
		if f.Type == wire.TypeData && !s.opts.Debug {
			// The bulk of a --pipe run: copied once, into a pooled chunk.
			id, data, err := wire.DecodeData(f)
			if err != nil {
				return fmt.Errorf("agent: %w", err)
			}
			if s.ctx.Err() != nil {
				return nil
			}
			s.streamData(&wire.Data{Stream: id, Data: copyChunk(data)})
			continue
		}
		m, err := wire.Decode(f)
		if err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		if s.opts.Debug {
			s.trace("<-", m)
		}
		if s.ctx.Err() != nil {
			return nil
		}
		s.dispatch(m)
	}
}

func (s *session) dispatch(m wire.Message) {
	switch m := m.(type) {
	case *wire.Command:
		s.addCommand(m)
	case *wire.Input:
		s.addInput(m)
	case *wire.Delete:
		s.mu.Lock()
		c := s.commands[m.Command]
		delete(s.commands, m.Command)
		s.mu.Unlock()
		if c != nil {
			c.retire(false)
		}
	case *wire.Cancel:
		s.cancelJobs(m)
	case *wire.Ping:
		s.out.send(&wire.Ping{Nonce: m.Nonce})
	case *wire.Open:
		s.openStream(m)
	case *wire.Data:
		s.streamData(m)
	case *wire.End:
		s.streamEnd(m)
	case *wire.Credit:
		s.streamCredit(m)
	default:
		// Unknown and agent-to-client types: a newer or confused client.
		// Tolerated, so that the protocol can grow.
		if s.opts.Debug {
			s.logf("ignoring a %s frame", m.Type())
		}
	}
}

func (s *session) addCommand(m *wire.Command) {
	s.mu.Lock()
	_, dup := s.commands[m.ID]
	s.mu.Unlock()
	if dup {
		s.out.send(&wire.Error{Command: m.ID, Message: fmt.Sprintf("command %d already exists", m.ID)})
		return
	}
	c, err := newCommand(s, m)
	if err != nil {
		s.out.send(&wire.Error{Command: m.ID, Message: err.Error()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		if c.tempDir != "" {
			os.RemoveAll(c.tempDir)
		}
		return
	}
	s.commands[m.ID] = c
	// Under s.mu, so that shutdown either sees the command or never
	// starts waiting before its slots are counted.
	c.start()
}

// maxTimeoutMillis is the longest timeout an Input may ask for, beyond
// which it would overflow a time.Duration: a longer one is none at all.
const maxTimeoutMillis = uint64(math.MaxInt64 / int64(time.Millisecond))

func (s *session) addInput(m *wire.Input) {
	if m.Timeout > maxTimeoutMillis {
		m.Timeout = 0
	}
	s.mu.Lock()
	c := s.commands[m.Command]
	if s.closing {
		c = nil
	}
	_, dup := s.jobs[m.Seq]
	var j *job
	input := s.takeJobInputLocked(m.Seq)
	files, returns := s.jobFiles[m.Seq], s.jobReturns[m.Seq]
	delete(s.jobFiles, m.Seq)
	delete(s.jobReturns, m.Seq)
	if c != nil && !dup {
		j = newJob(s, c, m)
		j.input = input
		j.returns = returns
		j.bases = c.bases
		s.jobs[m.Seq] = j
	}
	s.mu.Unlock()
	if j != nil {
		j.startFiles(c.dir, files)
	} else {
		for _, st := range files {
			s.forgetStream(st)
		}
	}
	if input != nil && j == nil {
		s.forgetStream(input)
	}
	switch {
	case c == nil:
		s.out.send(&wire.Error{Command: m.Command, Seq: m.Seq, Message: fmt.Sprintf("no command %d", m.Command)})
	case dup:
		s.out.send(&wire.Error{Command: m.Command, Seq: m.Seq, Message: fmt.Sprintf("job %d is already running", m.Seq)})
	case !c.push(j):
		s.forget(j)
		if input != nil {
			s.forgetStream(input)
		}
		s.out.send(&wire.Error{Command: m.Command, Seq: m.Seq, Message: fmt.Sprintf("command %d is retired", m.Command)})
	}
}

func (s *session) cancelJobs(m *wire.Cancel) {
	sig := syscall.Signal(m.Signal)
	if m.Signal == 0 || m.Signal > 64 {
		sig = syscall.SIGTERM
	}
	s.mu.Lock()
	var victims []*job
	if m.Seq == 0 {
		for _, j := range s.jobs {
			victims = append(victims, j)
		}
	} else if j := s.jobs[m.Seq]; j != nil {
		victims = append(victims, j)
	}
	s.mu.Unlock()
	// Queued jobs first: a running job that is killed frees its slot, which
	// must not start a queued job this same Cancel ends.
	for _, j := range victims {
		if j.isQueued() {
			j.kill(sig, wire.ResultCancelled)
		}
	}
	for _, j := range victims {
		j.kill(sig, wire.ResultCancelled)
	}
}

// finish forgets j and reports its Result; in that order, so that a client
// that reuses a sequence number once it has the Result finds it free.
func (s *session) finish(j *job, res *wire.Result) {
	s.forget(j)
	if j.input != nil {
		s.forgetStream(j.input)
	}
	j.releaseFiles()
	j.stdout.flush()
	j.stderr.flush()
	s.out.sendResult(j, res)
}

func (s *session) forget(j *job) {
	s.mu.Lock()
	if s.jobs[j.seq] == j {
		delete(s.jobs, j.seq)
	}
	s.mu.Unlock()
}

// shutdown kills every job, waits for the slots, and closes the output.
// The client is gone, so frames still buffered or yet to come are dropped;
// that also frees slots whose output was blocked on a client that stopped
// reading.
func (s *session) shutdown() {
	s.out.close(true)
	s.mu.Lock()
	s.closing = true
	commands := make([]*command, 0, len(s.commands))
	for id, c := range s.commands {
		commands = append(commands, c)
		delete(s.commands, id)
	}
	s.mu.Unlock()
	// Retired commands still running their queues are in no map; their
	// jobs are, and dropping queues of live commands covers the rest.
	for _, c := range commands {
		c.retire(true)
	}
	s.mu.Lock()
	for _, j := range s.jobs {
		if j.cmd != nil {
			j.cmd.retire(true)
		}
	}
	victims := make([]*job, 0, len(s.jobs))
	for _, j := range s.jobs {
		victims = append(victims, j)
	}
	s.mu.Unlock()
	for _, j := range victims {
		j.kill(syscall.SIGTERM, wire.ResultCancelled)
	}
	s.dropStreams()
	s.wakeOutStreams()
	s.cancel() // stops jobs that start after the sweep above
	s.slotsWG.Wait()
	s.waitSink()
}

// waitSink waits for the flusher, which may be stuck writing to a client
// that stopped reading: then w is closed if it can be, and otherwise the
// flusher is left behind.
func (s *session) waitSink() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-s.out.done:
	case <-t.C:
		if c, ok := s.out.w.(io.Closer); ok {
			c.Close()
			<-s.out.done
		}
	}
}

func (s *session) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Stderr, "concurr agent: "+format+"\n", args...)
}

func (s *session) trace(dir string, m wire.Message) {
	switch m := m.(type) {
	case *wire.Output:
		s.logf("%s output seq=%d stream=%d %d bytes", dir, m.Seq, m.Stream, len(m.Data))
	case *wire.Command:
		s.logf("%s command id=%d slots=%d workdir=%q env=%q template=%d bytes", dir, m.ID, m.Slots, m.Workdir, m.Env, len(m.Template))
	case *wire.Unknown:
		s.logf("%s %s %d bytes", dir, m.Type(), len(m.Payload))
	default:
		s.logf("%s %s %+v", dir, m.Type(), m)
	}
}
