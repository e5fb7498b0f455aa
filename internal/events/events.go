// Package events writes --json-events: one JSON object per line, written
// as each thing happens, so that a consumer can follow a run with tail -f
// or feed a dashboard from it. The schema is in docs/json-events.md; its
// version, Version, is in every line and changes only when a field changes
// meaning or goes away (new fields and new event types do not change it).
package events

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"concurr/internal/sched"
)

// Version is the schema's version.
const Version = 1

// The event types.
const (
	TypeRunStart = "run_start"
	TypeHostUp   = "host_up"
	TypeHostDown = "host_down"
	TypeJobStart = "job_start"
	TypeJobEnd   = "job_end"
	TypeInputEnd = "input_end"
	TypeRunEnd   = "run_end"
)

// Event is one line of the stream. Fields that do not apply to a type are
// left out.
type Event struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	Time string `json:"time"` // RFC 3339, UTC, with nanoseconds

	// run_start
	Concurr string   `json:"concurr,omitempty"` // concurr's version
	Hosts   []string `json:"hosts,omitempty"`

	// host_up, host_down, job_start, job_end
	Host string `json:"host,omitempty"`
	// host_up
	Cores  int   `json:"cores,omitempty"`
	Slots  int   `json:"slots,omitempty"`
	Rejoin *bool `json:"rejoin,omitempty"`
	// host_down
	Joined   *bool    `json:"joined,omitempty"`
	Final    *bool    `json:"final,omitempty"`
	Cause    string   `json:"cause,omitempty"`
	Error    string   `json:"error,omitempty"`
	Requeued []uint64 `json:"requeued,omitempty"`

	// job_start, job_end
	Seq uint64 `json:"seq,omitempty"`
	// job_start
	Attempt int    `json:"attempt,omitempty"`
	From    string `json:"from,omitempty"`
	// job_end
	Slot     uint64   `json:"slot,omitempty"`
	Command  string   `json:"command,omitempty"`
	Exit     *int     `json:"exit,omitempty"`
	Signal   *int     `json:"signal,omitempty"`
	Start    string   `json:"start,omitempty"`
	Runtime  *float64 `json:"runtime,omitempty"` // seconds
	Stdout   *int64   `json:"stdout_bytes,omitempty"`
	Stderr   *int64   `json:"stderr_bytes,omitempty"`
	Failed   *bool    `json:"failed,omitempty"`
	TimedOut bool     `json:"timed_out,omitempty"`
	NotRun   bool     `json:"not_run,omitempty"`
	Retry    bool     `json:"retry,omitempty"`

	// input_end, run_end
	Total *uint64 `json:"total,omitempty"`
	// run_end
	Totals *Totals `json:"totals,omitempty"`
}

// Totals is how a run ended, in run_end.
type Totals struct {
	Jobs         uint64   `json:"jobs"`   // jobs that finished
	Failed       int      `json:"failed"` // of them, failed
	Moved        int      `json:"moved"`  // jobs that ran again on another host
	HostsUp      int      `json:"hosts_up"`
	HostsNeverUp []string `json:"hosts_never_joined"`
	HostsLost    []string `json:"hosts_lost"`
	Elapsed      float64  `json:"elapsed"` // seconds
	Exit         int      `json:"exit"`    // concurr's exit status
	Error        string   `json:"error,omitempty"`
	Halted       bool     `json:"halted,omitempty"`
}

// Writer writes the stream. It is a sched.Progress; each event is one
// write, so that lines stay whole for a reader that follows the file.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	err error // the first write error; later events are dropped
	now func() time.Time
}

// New writes events to w.
func New(w io.Writer) *Writer { return &Writer{w: w, now: time.Now} }

// Err is the first error writing the stream met, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) emit(e Event) {
	e.V = Version
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	e.Time = stamp(w.now())
	line, err := json.Marshal(e)
	if err != nil {
		w.err = err
		return
	}
	_, w.err = w.w.Write(append(line, '\n'))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func ptr[T any](v T) *T { return &v }

// RunStart opens the stream.
func (w *Writer) RunStart(version string, hosts []string) {
	w.emit(Event{Type: TypeRunStart, Concurr: version, Hosts: hosts})
}

// RunEnd closes the stream.
func (w *Writer) RunEnd(t Totals) {
	if t.HostsNeverUp == nil {
		t.HostsNeverUp = []string{}
	}
	if t.HostsLost == nil {
		t.HostsLost = []string{}
	}
	w.emit(Event{Type: TypeRunEnd, Totals: &t})
}

func (w *Writer) NodeUp(u sched.NodeUp) {
	w.emit(Event{Type: TypeHostUp, Host: u.Name, Cores: u.Cores, Slots: u.Slots, Rejoin: ptr(u.Rejoin)})
}

func (w *Writer) NodeDown(d sched.NodeDown) {
	e := Event{Type: TypeHostDown, Host: d.Name, Joined: ptr(d.Joined), Final: ptr(d.Final),
		Cause: Cause(d.Err, d.Joined), Requeued: d.Requeued}
	if d.Err != nil {
		e.Error = d.Err.Error()
	}
	w.emit(e)
}

func (w *Writer) Started(s sched.JobStarted) {
	w.emit(Event{Type: TypeJobStart, Seq: s.Seq, Host: s.Host, Attempt: s.Attempt, From: s.From})
}

func (w *Writer) Ended(j sched.JobEnded) {
	w.emit(Event{Type: TypeJobEnd, Seq: j.Seq, Host: j.Host, Slot: j.Slot, Command: j.CommandLine(),
		Exit: ptr(j.Exit), Signal: ptr(j.Signal), Start: stamp(j.Start), Runtime: ptr(j.Runtime.Seconds()),
		Stdout: ptr(j.Stdout), Stderr: ptr(j.Stderr), Failed: ptr(j.Failed),
		TimedOut: j.TimedOut, NotRun: j.NotRun, Retry: j.Retry})
}

func (w *Writer) SourceDone(total uint64) { w.emit(Event{Type: TypeInputEnd, Total: ptr(total)}) }
