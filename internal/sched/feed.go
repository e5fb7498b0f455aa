package sched

import (
	"context"
	"fmt"
	"io"
	"slices"
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
