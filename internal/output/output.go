// Package output owns how jobs' output reaches the client's stdout and
// stderr: grouped per job (the default), in input order (-k), line by line
// (--line-buffer) or as it comes (-u), with --tag prefixes, or into files
// (--results). Grouped output is held in memory up to a bound and spilled
// past it to a few unlinked temporary files that all held jobs share, and -k
// lets the run go only so far past the oldest job not yet printed, so the
// client's memory and file descriptors stay bounded whatever the jobs print.
package output

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// Mode is how output from concurrent jobs is interleaved.
type Mode int

// The modes, as GNU Parallel names them.
const (
	Group      Mode = iota // --group: each job's output at its end, together
	LineBuffer             // --line-buffer: whole lines as they come
	Ungroup                // -u: bytes as they come
)

// Options configure a Writer.
type Options struct {
	Mode      Mode
	KeepOrder bool   // -k: jobs' output in sequence order
	TempDir   string // for spill files; "" is the system default
	// Warn, when set, is told once that spilling failed (a full disk, a
	// folder removed), after which held output stays in memory.
	Warn func(error)
	// MemoryLimit bounds the output held in memory across all jobs before it
	// spills to files. 0 means 8 MiB.
	MemoryLimit int
	// Window bounds, under -k, how far past the oldest job not yet printed
	// a job may start (see WaitRoom). 0 means DefaultWindow.
	Window int
	// Results, when set, is the --results folder: each job's output goes
	// to files in the folder given to Begin, which must lie under it,
	// instead of stdout and stderr.
	Results string
	// ResultsFiles says that the names given to Begin are GNU Parallel's
	// file form of --results, from a name with replacement strings: stdout
	// in the name, stderr in name.err and the sequence number in name.seq,
	// or seq, stdout and stderr in it when it ends in a slash.
	ResultsFiles bool
	// Table, when set, writes each job as a row of TableOut (--results
	// x.csv, x.tsv, x.json) instead of printing its output; TableNames
	// name the argument columns, V1, V2, ... where missing.
	Table      Table
	TableOut   io.Writer
	TableNames []string
	// LineEnd, with a job's Tag, goes before the newline of every line, and
	// a line the job leaves open is ended with it and a newline: --color's
	// reset, which GNU Parallel writes so.
	LineEnd []byte
}

// Streams.
const (
	Stdout = 1
	Stderr = 2
)

// Job is one job's output in progress. It is created by Begin and belongs to
// the Writer until Finish or Discard.
type Job struct {
	Seq uint64
	// Tag prefixes every line when non-nil (--tag, --tagstring), tab
	// included.
	Tag []byte
	// Record is the job's row with Options.Table, set before Finish.
	Record *Record

	held    [2]held
	partial [2][]byte // line-buffer: the unfinished last line
	midLine [2]bool   // a line has been started on the stream and not ended
	header  []byte    // printed before the job's stdout, for -v
	live    bool      // keep-order head: streaming straight out
	files   [2]*os.File
	// resultsErr is why the job's --results files could not be made; such
	// a job must not run, as its output would have nowhere to go.
	resultsErr error
}

// ResultsErr reports why the job's --results files could not be made, or
// nil.
func (j *Job) ResultsErr() error { return j.resultsErr }

// Writer serialises all jobs' output onto stdout and stderr.
type Writer struct {
	mu   sync.Mutex
	opts Options
	// results is what --results found out about its folder, once.
	results resultsRoot
	spill   spiller
	out     [2]*bufio.Writer
	err     error
	// spillFailed: a spill file could not be written, and Warn was told.
	spillFailed bool
	next        uint64 // keep-order: the next sequence number to print
	held        map[uint64]*Job
	skip        map[uint64]bool
	memory      int       // bytes held in memory by all jobs
	room        sync.Cond // signalled when next moves while WaitRoom waits
	waiting     int       // callers of WaitRoom waiting

	tableHeader bool // the CSV or TSV header row is written
}

// New returns a Writer on stdout and stderr. Sequence numbers start at 1.
func New(stdout, stderr io.Writer, opts Options) *Writer {
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = 8 << 20
	}
	if opts.Window == 0 {
		opts.Window = DefaultWindow
	}
	if opts.KeepOrder && opts.Mode == Ungroup || opts.Table != NoTable {
		opts.Mode = Group
	}
	w := &Writer{
		opts:  opts,
		spill: spiller{dir: opts.TempDir},
		out:   [2]*bufio.Writer{bufio.NewWriterSize(stdout, 64<<10), bufio.NewWriterSize(stderr, 16<<10)},
		next:  1,
		held:  make(map[uint64]*Job),
		skip:  make(map[uint64]bool),
	}
	w.room.L = &w.mu
	return w
}

// DefaultWindow is how many jobs, under -k, may start past the oldest one
// not yet printed. GNU Parallel stops starting jobs when it runs out of file
// descriptors, a few hundred jobs ahead; concurr holds a job's output in a
// shared file and a few hundred bytes of memory, and goes further ahead.
const DefaultWindow = 1 << 15

// WaitRoom waits until job seq may start, and reports false when ctx ends
// first. Under -k a job may start at most Options.Window jobs past the
// oldest job not yet printed: otherwise a slow job would make the Writer
// hold the output of every job after it, as long as it runs, and memory
// would grow with the length of the run.
func (w *Writer) WaitRoom(ctx context.Context, seq uint64) bool {
	if !w.opts.KeepOrder || w.opts.Results != "" {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hasRoom(seq) {
		return true
	}
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.room.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.waiting++
	for !w.hasRoom(seq) && ctx.Err() == nil {
		w.room.Wait()
	}
	w.waiting--
	return ctx.Err() == nil
}

func (w *Writer) hasRoom(seq uint64) bool { return seq < w.next+uint64(w.opts.Window) }

// Begin starts collecting output for a job. With Options.Results, dir is
// where its files go.
func (w *Writer) Begin(seq uint64, tag []byte, dir string) *Job {
	j := &Job{Seq: seq, Tag: tag}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.opts.Results != "" {
		w.openResults(j, dir)
		return j
	}
	if w.streamsHead() && seq == w.next {
		j.live = true
	}
	return j
}

// Chunk adds output of a job on a stream.
func (w *Writer) Chunk(j *Job, stream int, data []byte) {
	if stream != Stdout && stream != Stderr {
		return
	}
	i := stream - 1
	w.mu.Lock()
	defer w.mu.Unlock()
	if j.files[i] != nil {
		if _, err := j.files[i].Write(data); err != nil && w.err == nil {
			w.err = err
		}
		return
	}
	if w.streamsHead() && !j.live && j.Seq == w.next {
		// The job's turn has come while it runs: stream it from now on.
		w.flushHeld(j)
		j.live = true
	}
	switch {
	case j.live:
		w.emit(j, i, data)
	case w.opts.KeepOrder || w.opts.Mode == Group || w.opts.Table != NoTable:
		w.hold(j, i, data)
	case w.opts.Mode == LineBuffer:
		w.lines(j, i, data)
	default:
		w.emit(j, i, data)
	}
}

// streamsHead reports whether the job whose turn it is under -k prints as
// it runs. Only --line-buffer does: grouped output stays unprinted until the
// job ends, so that a retried or halted job can still be dropped.
func (w *Writer) streamsHead() bool {
	return w.opts.KeepOrder && w.opts.Mode == LineBuffer
}

// hold keeps data for later, in memory while the global budget allows.
func (w *Writer) hold(j *Job, i int, data []byte) {
	if len(data) == 0 {
		return
	}
	h := &j.held[i]
	if len(h.spilled) == 0 && w.memory+len(data) <= w.opts.MemoryLimit {
		h.mem = append(h.mem, data...)
		w.memory += len(data)
		return
	}
	if len(h.tail) == 0 {
		err := w.spill.write(h, data)
		if err == nil {
			return
		}
		// Finished jobs' output must not be lost to a full disk: it is
		// held in memory instead, past the budget.
		if !w.spillFailed && w.opts.Warn != nil {
			w.opts.Warn(fmt.Errorf("cannot spill held output to a file (%v): holding it in memory", err))
		}
		w.spillFailed = true
	}
	h.tail = append(h.tail, data...)
	w.memory += len(data)
}

// lines writes the complete lines in data and keeps the rest.
func (w *Writer) lines(j *Job, i int, data []byte) {
	p := append(j.partial[i], data...)
	cut := bytes.LastIndexByte(p, '\n') + 1
	if cut == 0 && len(p) > 64<<10 {
		// A line longer than this goes out in pieces rather than growing
		// without bound.
		cut = len(p)
	}
	w.emit(j, i, p[:cut])
	j.partial[i] = append(p[:0], p[cut:]...)
}

// emit writes data to the stream, putting the tag at the start of every line.
func (w *Writer) emit(j *Job, i int, data []byte) {
	if len(data) == 0 || w.err != nil {
		return
	}
	out := w.out[i]
	if j.Tag == nil {
		_, w.err = out.Write(data)
		return
	}
	for len(data) > 0 {
		if !j.midLine[i] {
			out.Write(j.Tag)
			j.midLine[i] = true
		}
		n := bytes.IndexByte(data, '\n')
		if n < 0 {
			_, w.err = out.Write(data)
			return
		}
		if w.opts.LineEnd != nil {
			out.Write(data[:n])
			out.Write(w.opts.LineEnd)
			if _, w.err = out.Write(data[n : n+1]); w.err != nil {
				return
			}
		} else if _, w.err = out.Write(data[:n+1]); w.err != nil {
			return
		}
		j.midLine[i] = false
		data = data[n+1:]
	}
}

// SetHeader sets text printed before the job's output, as -v does.
func (w *Writer) SetHeader(j *Job, header []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if j.live || (!w.opts.KeepOrder && w.opts.Mode != Group) {
		w.emit(&Job{}, 0, header)
		return
	}
	j.header = header
}

// Discard drops what a job printed so far, for a job that will run again.
func (w *Writer) Discard(j *Job) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.release(j)
	j.partial = [2][]byte{}
	for _, f := range j.files {
		if f != nil {
			f.Truncate(0)
			f.Seek(0, 0)
		}
	}
}

func (w *Writer) release(j *Job) {
	for i := range j.held {
		h := &j.held[i]
		w.memory -= len(h.mem) + len(h.tail)
		h.mem, h.tail = nil, nil
		w.spill.release(h)
	}
}

// Finish ends a job: its output is printed now, or when its turn comes with
// -k.
func (w *Writer) Finish(j *Job) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.opts.Results != "" {
		w.closeResults(j)
		return
	}
	if !w.opts.KeepOrder {
		w.print(j)
		return
	}
	if j.Seq != w.next {
		w.held[j.Seq] = j
		return
	}
	w.print(j)
	w.advance()
}

// Skip tells a keep-order Writer that seq will never run (--resume).
func (w *Writer) Skip(seq uint64) {
	if !w.opts.KeepOrder {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq != w.next {
		w.skip[seq] = true
		return
	}
	w.advance()
}

// advance moves past the printed head job and prints every held job whose
// turn has come.
func (w *Writer) advance() {
	for {
		w.next++
		if w.skip[w.next] {
			delete(w.skip, w.next)
			continue
		}
		j, ok := w.held[w.next]
		if !ok {
			if w.waiting > 0 {
				w.room.Broadcast()
			}
			return
		}
		delete(w.held, w.next)
		w.print(j)
	}
}

// print writes a finished job's held output.
func (w *Writer) print(j *Job) {
	if w.opts.Table != NoTable {
		w.writeRow(j)
		return
	}
	if !j.live {
		w.flushHeld(j)
	}
	for i := range j.partial {
		w.emit(j, i, j.partial[i])
		j.partial[i] = nil
		if w.opts.LineEnd != nil && j.Tag != nil && j.midLine[i] && w.err == nil {
			w.out[i].Write(w.opts.LineEnd)
			_, w.err = w.out[i].Write([]byte{'\n'})
			j.midLine[i] = false
		}
	}
}

func (w *Writer) flushHeld(j *Job) {
	if len(j.header) > 0 {
		w.emit(&Job{}, 0, j.header)
		j.header = nil
	}
	for i := range j.held {
		h := &j.held[i]
		w.emit(j, i, h.mem)
		w.memory -= len(h.mem)
		h.mem = nil
		if len(h.spilled) > 0 {
			err := w.spill.drain(h, func(b []byte) error {
				w.emit(j, i, b)
				return w.err
			})
			if err != nil && w.err == nil {
				w.err = fmt.Errorf("read back the output of job %d: %w", j.Seq, err)
			}
		}
		w.emit(j, i, h.tail)
		w.memory -= len(h.tail)
		h.tail = nil
	}
}

// WantsRecords reports whether Finish needs the job's Record.
func (w *Writer) WantsRecords() bool { return w.opts.Table != NoTable }

// Flush writes buffered output. It returns the first write error, such as a
// closed pipe.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range w.out {
		if err := o.Flush(); err != nil && w.err == nil {
			w.err = err
		}
	}
	return w.err
}

// Err returns the first error met writing output.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
