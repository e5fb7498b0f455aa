// Package joblog owns the job log: GNU Parallel's tab-separated record of
// every finished job (--joblog), and reading it back to resume a run
// (--resume, --resume-failed).
//
// Each line is written with a single write to a file opened for appending,
// so a client killed at any moment leaves only whole lines of finished jobs;
// a line torn all the same (a full disk, a power loss, NFS) is ended before
// a resumed run appends, and skipped with a warning when read.
package joblog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header is the first line of a job log.
const Header = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

// Entry is one finished job.
type Entry struct {
	Seq     uint64
	Host    string // ":" for this machine
	Start   time.Time
	Runtime time.Duration
	Send    int64 // bytes sent to the job's stdin
	Receive int64 // bytes of the job's stdout
	Exit    int   // -1 when the job was killed by its timeout or never ran
	Signal  int
	Command string
}

// Failed reports whether the entry records a failed job.
func (e Entry) Failed() bool { return e.Exit != 0 || e.Signal != 0 }

// Format returns the entry as a job log line.
func (e Entry) Format() string {
	start := float64(e.Start.UnixNano()) / 1e9
	// A command's newlines would break the line format: GNU Parallel
	// writes each as a NUL.
	cmd := strings.ReplaceAll(e.Command, "\n", "\x00")
	return fmt.Sprintf("%d\t%s\t%.3f\t%10.3f\t%d\t%d\t%d\t%d\t%s\n",
		e.Seq, e.Host, start, e.Runtime.Seconds(), e.Send, e.Receive, e.Exit, e.Signal, cmd)
}

// Writer appends entries to a job log.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
	f  *os.File

	// With inOrder (-k), lines are written in sequence order, as GNU
	// Parallel writes them when it prints the jobs' output: held until
	// every earlier job is logged or skipped.
	inOrder bool
	next    uint64            // the next sequence number to write
	held    map[uint64]string // lines waiting for an earlier one; "" for a skipped job
}

// InOrder makes w write entries in sequence order, from 1.
func (w *Writer) InOrder() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inOrder, w.next, w.held = true, 1, map[uint64]string{}
}

// Skip tells an in-order log that job seq will have no entry, as under
// --resume, so that later jobs' lines are not held for it.
func (w *Writer) Skip(seq uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.inOrder {
		return nil
	}
	return w.hold(seq, "")
}

// hold keeps line for seq and writes every line whose turn has come.
func (w *Writer) hold(seq uint64, line string) error {
	w.held[seq] = line
	for {
		line, ok := w.held[w.next]
		if !ok {
			return nil
		}
		delete(w.held, w.next)
		w.next++
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w.w, line); err != nil {
			return fmt.Errorf("write job log: %w", err)
		}
	}
}

// Create opens path for appending entries. The header is written when the
// log is new or empty, or always when truncate is set (a run that does not
// resume starts a fresh log). The path "-" is stdout.
func Create(path string, truncate bool, stdout io.Writer) (*Writer, error) {
	return create(path, truncate, true, stdout)
}

// Append opens path for appending entries, as GNU Parallel's --joblog +FILE
// does: without a header, even when the file is new.
func Append(path string, stdout io.Writer) (*Writer, error) {
	return create(path, false, false, stdout)
}

func create(path string, truncate, header bool, stdout io.Writer) (*Writer, error) {
	if path == "-" {
		if !header {
			return &Writer{w: stdout}, nil
		}
		_, err := io.WriteString(stdout, Header)
		return &Writer{w: stdout}, err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if truncate {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open job log: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open job log: %w", err)
	}
	start := ""
	switch {
	case info.Size() == 0 && header:
		start = Header
	case info.Size() == 0:
	case !endsLine(path, info.Size()):
		// A line cut short by a crash or a full disk is ended, so that it
		// does not swallow the first line appended after it.
		start = "\n"
	}
	if _, err := f.WriteString(start); err != nil {
		f.Close()
		return nil, fmt.Errorf("write job log: %w", err)
	}
	return &Writer{w: f, f: f}, nil
}

// endsLine reports whether the file at path, of the given size, ends with a
// newline; a file it cannot read is taken to.
func endsLine(path string, size int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return true
	}
	return last[0] == '\n'
}

// Write appends one entry.
func (w *Writer) Write(e Entry) error {
	line := e.Format()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inOrder {
		return w.hold(e.Seq, line)
	}
	if _, err := io.WriteString(w.w, line); err != nil {
		return fmt.Errorf("write job log: %w", err)
	}
	return nil
}

// Close writes what an in-order log still holds, in order (the jobs before
// them never ended: a halt or an interrupt stopped the run), and closes the
// log file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var err error
	if w.inOrder {
		seqs := make([]uint64, 0, len(w.held))
		for seq := range w.held {
			seqs = append(seqs, seq)
		}
		slices.Sort(seqs)
		for _, seq := range seqs {
			if _, werr := io.WriteString(w.w, w.held[seq]); werr != nil && err == nil {
				err = fmt.Errorf("write job log: %w", werr)
			}
		}
		w.held = map[uint64]string{}
	}
	if w.f == nil {
		return err
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// errCutShort marks a last line without its newline.
var errCutShort = errors.New("cut short")

// namedBadLines is how many bad lines Read names before it only counts
// them.
const namedBadLines = 3

// Read returns the entries of the job log at path, by sequence number; when
// a job appears more than once the last line wins, as a resumed run appends.
// A missing file is an empty log.
//
// A line that cannot be read, such as one cut short by a full disk or a
// crash, is skipped with a warning, as GNU Parallel does, and its job runs
// again. Only a file with no header and no job line at all is refused: it is
// not a job log, and a resumed run must not append to it.
func Read(path string, warn func(error)) (map[uint64]Entry, error) {
	entries := make(map[uint64]Entry)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return entries, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	header := false
	type badLine struct {
		n   int
		err error
	}
	var bad []badLine
	for n := 1; ; n++ {
		line, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read job log %s: %w", path, err)
		}
		if line == "" {
			break
		}
		switch e, perr := parseLine(strings.TrimSuffix(line, "\n")); {
		case n == 1 && line == Header:
			header = true
		case !strings.HasSuffix(line, "\n"):
			bad = append(bad, badLine{n, errCutShort})
		case perr != nil:
			bad = append(bad, badLine{n, perr})
		default:
			entries[e.Seq] = e
		}
		if err == io.EOF {
			break
		}
	}
	if len(bad) > 0 && !header && len(entries) == 0 {
		return nil, fmt.Errorf("read job log %s: not a job log: line %d: %w", path, bad[0].n, bad[0].err)
	}
	for i, b := range bad {
		if i == namedBadLines {
			warn(fmt.Errorf("job log %s: %d more bad lines skipped", path, len(bad)-i))
			break
		}
		if b.err == errCutShort {
			warn(fmt.Errorf("job log %s: line %d is cut short: its job runs again", path, b.n))
		} else {
			warn(fmt.Errorf("job log %s: line %d skipped: %w", path, b.n, b.err))
		}
	}
	return entries, nil
}

func parseLine(line string) (Entry, error) {
	f := strings.SplitN(line, "\t", 9)
	if len(f) != 9 {
		return Entry{}, fmt.Errorf("%d tab-separated columns, want 9", len(f))
	}
	var e Entry
	var err error
	if e.Seq, err = strconv.ParseUint(f[0], 10, 64); err != nil {
		return Entry{}, fmt.Errorf("bad Seq %q", f[0])
	}
	e.Host = f[1]
	start, err := strconv.ParseFloat(strings.TrimSpace(f[2]), 64)
	if err != nil {
		return Entry{}, fmt.Errorf("bad Starttime %q", f[2])
	}
	e.Start = time.Unix(0, int64(start*1e9))
	rt, err := strconv.ParseFloat(strings.TrimSpace(f[3]), 64)
	if err != nil {
		return Entry{}, fmt.Errorf("bad JobRuntime %q", f[3])
	}
	e.Runtime = time.Duration(rt * 1e9)
	if e.Send, err = strconv.ParseInt(f[4], 10, 64); err != nil {
		return Entry{}, fmt.Errorf("bad Send %q", f[4])
	}
	if e.Receive, err = strconv.ParseInt(f[5], 10, 64); err != nil {
		return Entry{}, fmt.Errorf("bad Receive %q", f[5])
	}
	if e.Exit, err = strconv.Atoi(f[6]); err != nil {
		return Entry{}, fmt.Errorf("bad Exitval %q", f[6])
	}
	if e.Signal, err = strconv.Atoi(f[7]); err != nil {
		return Entry{}, fmt.Errorf("bad Signal %q", f[7])
	}
	e.Command = f[8]
	return e, nil
}
