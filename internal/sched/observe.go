package sched

import (
	"time"

	"concurr/internal/template"
	"concurr/internal/wire"
)

// Progress follows a run as it goes, for --bar, --eta and --progress, the
// end-of-run summary and --json-events. Its methods are called from the
// run's goroutines, concurrently, as things happen; they must not block.
type Progress interface {
	// NodeUp: a node's agent answered and took the command.
	NodeUp(NodeUp)
	// NodeDown: a node is out of the run, for now (it was lost and will be
	// dialled again) or for good.
	NodeDown(NodeDown)
	// Started: a job was sent to a node's agent, which runs it as soon as
	// one of its slots is free.
	Started(JobStarted)
	// Ended: a job finished, or finished an attempt that will be retried.
	Ended(JobEnded)
	// SourceDone: the inputs are read to their end: total jobs in all.
	SourceDone(total uint64)
}

// NodeUp is a node that joined the run.
type NodeUp struct {
	Name   string
	Cores  int  // as its agent announced them
	Slots  int  // jobs it runs at once
	Rejoin bool // it was up before, was lost, and is back
}

// NodeDown is a node that left the run, or never joined it.
type NodeDown struct {
	Name   string
	Err    error // why; nil for none known
	Joined bool  // it had been up: it was lost, rather than never reached
	// Final: the node will not be dialled again.
	Final bool
	// Requeued are the jobs it was running or had been sent, which go back
	// to the queue for the nodes still in the run.
	Requeued []uint64
}

// JobStarted is a job sent to a node.
type JobStarted struct {
	Seq     uint64
	Host    string
	Args    []string
	Attempt int    // 1 for the first run, 2 for the first retry, …
	From    string // the node it ran on before, when it moved: lost there, or failed and retried
}

// JobEnded is a job's result.
type JobEnded struct {
	Seq  uint64
	Host string
	Slot uint64
	// Command is the command line as --joblog shows it, when it was
	// already made; CommandLine makes it when it was not.
	Command string
	Exit    int
	Signal  int
	Start   time.Time
	Runtime time.Duration
	Stdout  int64 // bytes of output
	Stderr  int64
	Failed  bool
	// TimedOut: --timeout killed it. NotRun: it failed without running
	// (see giveUp).
	TimedOut, NotRun bool
	// Retry: it failed and runs again, so this is not its end.
	Retry bool

	// The command line is made only for a follower that asks for it:
	// most followers only count a job that succeeded, and making it cost
	// every short job a twelfth of the client's CPU.
	template *template.Template
	job      template.Job
}

// CommandLine returns the job's command line as --joblog shows it. It
// reads the job's arguments, so a follower calls it from Ended, not later.
func (e JobEnded) CommandLine() string {
	if e.Command == "" && e.template != nil {
		return e.template.Display(e.job)
	}
	return e.Command
}

// timeoutError is the cause of a node lost because its agent stopped
// answering pings; it reports Timeout as net.Error does, for the summary's
// and the event stream's classification of causes.
type timeoutError struct{ error }

func (timeoutError) Timeout() bool { return true }

func (r *run) reportUp(up NodeUp) {
	if r.cfg.Progress != nil {
		r.cfg.Progress.NodeUp(up)
	}
}

func (r *run) reportDown(down NodeDown) {
	if r.cfg.Progress != nil {
		r.cfg.Progress.NodeDown(down)
	}
}

func (r *run) reportStarted(j *job, nr *nodeRun) {
	if r.cfg.Progress == nil {
		return
	}
	s := JobStarted{Seq: j.seq, Host: nr.node.Name, Args: j.args, Attempt: j.attempt + 1}
	if j.avoid != "" && j.avoid != nr.node.Name {
		s.From = j.avoid
	}
	r.cfg.Progress.Started(s)
}

// reportEnded tells Progress of a job's result; display is its command as
// the job log shows it, or "" to have it made here.
func (r *run) reportEnded(j *job, nr *nodeRun, res *wire.Result, failed, retry bool, display string) {
	if r.cfg.Progress == nil {
		return
	}
	r.cfg.Progress.Ended(JobEnded{Seq: j.seq, Host: nr.node.Name, Slot: res.Slot, Command: display,
		Exit: int(res.Exit), Signal: int(res.Signal), Start: time.Unix(0, res.Start),
		Runtime: time.Duration(res.Runtime), Stdout: j.stdout, Stderr: j.stderr, Failed: failed,
		TimedOut: res.Flags&wire.ResultTimedOut != 0, NotRun: res.Flags&wire.ResultNotRun != 0, Retry: retry,
		template: r.cfg.Template, job: template.Job{Seq: j.seq, Slot: res.Slot, Host: nr.node.Name, Args: j.args}})
}

// setCause records why the node's stream ended, first cause first.
func (nr *nodeRun) setCause(err error) {
	nr.mu.Lock()
	if nr.cause == nil {
		nr.cause = err
	}
	nr.mu.Unlock()
}
