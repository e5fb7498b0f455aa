package sched

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// feed reads the inputs into jobs, numbering them. Under -k it reads no
// further than the output may hold (output.Writer.WaitRoom); ctx ends when
// the run is over, which ends that wait too.
func (r *run) feed(ctx context.Context, src Source) {
	defer r.q.sourceDone()
	pack := max(r.cfg.Pack, 1)
	var seq uint64
	emit := func(args []string) bool {
		seq++
		if !r.cfg.Output.WaitRoom(ctx, seq) {
			return false
		}
		if r.cfg.Skip != nil && r.cfg.Skip(seq) {
			r.cfg.Output.Skip(seq)
			if r.cfg.JobLog != nil {
				if err := r.cfg.JobLog.Skip(seq); err != nil {
					r.fail(err)
				}
			}
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
	r.feedPacked(src, pack, emit, &seq)
}

// feedPacked packs records into jobs as GNU Parallel's -m and -X do
// (CommandLine::populate): a job takes records until the next would make
// its command line too long or it holds pack of them. The first job whose
// filling empties the input is spread over the slots: it and every later
// job take the records that job held divided by the slots, rounded up.
func (r *run) feedPacked(src Source, pack int, emit func([]string) bool, seq *uint64) {
	in := &peekSource{src: src}
	spread := false
	read := 0 // records read, for the error that names one
	for {
		var records [][]string
		length := 0
		if r.cfg.PackLength != nil {
			length = r.cfg.PackLength.Base
		}
		for len(records) < pack {
			args, err := in.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.fail(fmt.Errorf("read input: %w", err))
				return
			}
			read++
			if r.cfg.PackLength != nil {
				add := r.cfg.PackLength.Record(*seq+1, args)
				if f := r.cfg.PackLength.Factor; (length+add)*f >= r.cfg.PackChars {
					if len(records) > 0 {
						in.unget(args)
						read--
						break
					}
					r.fail(tooLong((length+add)*f, r.cfg.PackChars, read-1, args))
					return
				}
				length += add
			}
			records = append(records, args)
		}
		if len(records) == 0 {
			return
		}
		if r.cfg.PackSpread && !spread && in.empty() {
			spread = true
			if len(records) > 1 {
				pack = (len(records) + r.totalSlots() - 1) / r.totalSlots()
				for len(records) > pack {
					in.unget(records[len(records)-1])
					records = records[:len(records)-1]
				}
			}
		}
		if !emit(slices.Concat(records...)) {
			return
		}
	}
}

// tooLong is GNU Parallel's error for a record that does not fit a command
// line of its own; input counts records from 0.
func tooLong(length, limit, input int, args []string) error {
	text := strings.Join(args, " ")
	if len(text) > 50 {
		text = text[:50] + "..."
	}
	return fmt.Errorf("command line too long (%d >= %d) at input %d: %s", length, limit, input, text)
}

// peekSource is a Source that can tell whether it has more, and take
// records back.
type peekSource struct {
	src     Source
	pending [][]string // taken back, the next last
	err     error
}

func (p *peekSource) next() ([]string, error) {
	if n := len(p.pending); n > 0 {
		args := p.pending[n-1]
		p.pending = p.pending[:n-1]
		return args, nil
	}
	if p.err != nil {
		return nil, p.err
	}
	args, err := p.src.Next()
	if err != nil {
		p.err = err
	}
	return args, err
}

func (p *peekSource) unget(args []string) { p.pending = append(p.pending, args) }

// empty reports whether the source is at its end. It reads one record
// ahead; a read error is kept for next to report.
func (p *peekSource) empty() bool {
	if len(p.pending) > 0 {
		return false
	}
	if p.err != nil {
		return p.err == io.EOF
	}
	args, err := p.next()
	if err != nil {
		return err == io.EOF
	}
	p.unget(args)
	return false
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
