package sched

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"concurr/internal/hint"
	"concurr/internal/wire"
)

// Block is one job's input under --pipe or --pipepart: Data, then, for
// --pipepart, Length bytes of the file Path from Offset (Data is then the
// --header, if any).
type Block struct {
	Data   []byte
	Path   string
	Offset int64
	Length int64
}

// BlockSource yields the blocks of a --pipe run; io.EOF ends it.
type BlockSource interface {
	Next() (Block, error)
}

// Input is how jobs get their input under --pipe and --pipepart.
type Input struct {
	Blocks BlockSource
	// Kind is the stream kind that jobs read their input as:
	// wire.StreamStdin, or StreamCat or StreamFifo for --cat and --fifo,
	// whose jobs' first argument ({}) becomes the input's file name.
	Kind uint64
	// Tee gives every job of the run's Source the whole input (--tee);
	// RoundRobin starts one job per slot and spreads the blocks over them
	// (--round-robin). Both stream the input to jobs as it is read, so
	// their jobs cannot be run again when their host is lost.
	Tee, RoundRobin bool
}

// jobInput is a job's input: a block, kept until the job's result so that
// it can run again elsewhere, or the feed of a --tee or --round-robin job.
type jobInput struct {
	block Block
	feed  *feed
	// refs counts who holds the block: the job until its result, and the
	// goroutine of each stream sending it. The last one out lets it go.
	refs atomic.Int32
}

// newBlockInput holds a block for its job.
func newBlockInput(b Block) *jobInput {
	in := &jobInput{block: b}
	in.refs.Store(1)
	return in
}

// unref lets go of one hold of a block; the last gives the block's buffer
// back to the source, if it reuses buffers, and makes room for another.
func (r *run) unref(in *jobInput) {
	if in.feed != nil || in.refs.Add(-1) != 0 {
		return
	}
	if rc, ok := r.cfg.Input.Blocks.(interface{ Recycle([]byte) }); ok && in.block.Data != nil {
		rc.Recycle(in.block.Data)
	}
	r.blocks.release()
}

// inputKind is the stream kind of the run's jobs' input.
func (r *run) inputKind() uint64 {
	if r.cfg.Input.Kind == 0 {
		return wire.StreamStdin
	}
	return r.cfg.Input.Kind
}

// blockRoom bounds the blocks the client holds: read, queued, sent or
// running, each kept until its job's result. Two per slot keep every slot
// busy while the next block is read.
type blockRoom struct {
	mu   sync.Mutex
	cond sync.Cond
	held int
}

// wait blocks until fewer than most blocks are held, then holds one more.
func (b *blockRoom) wait(ctx context.Context, most func() int, over func() bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cond.L == nil {
		b.cond.L = &b.mu
	}
	for b.held >= most() {
		if ctx.Err() != nil || over() {
			return false
		}
		b.cond.Wait()
	}
	b.held++
	return true
}

func (b *blockRoom) release() {
	b.mu.Lock()
	b.held--
	if b.cond.L != nil {
		b.cond.Broadcast()
	}
	b.mu.Unlock()
}

func (b *blockRoom) wake() {
	b.mu.Lock()
	if b.cond.L != nil {
		b.cond.Broadcast()
	}
	b.mu.Unlock()
}

// releaseInput lets go of a finished job's block.
func (r *run) releaseInput(j *job) {
	if j.input == nil {
		return
	}
	if j.input.feed != nil {
		j.input.feed.kill()
		return
	}
	r.unref(j.input)
}

// feedBlocks is the feeder of a --pipe run: one job per block, or the
// jobs of --tee and --round-robin fed as the input is read.
func (r *run) feedBlocks(ctx context.Context, src Source) {
	defer r.q.sourceDone()
	var seq uint64
	defer func() {
		r.mu.Lock()
		r.total = seq
		r.mu.Unlock()
		if r.cfg.Progress != nil {
			r.cfg.Progress.SourceDone(seq)
		}
	}()
	// The room is re-checked when a job ends and when the run stops.
	stopWake := context.AfterFunc(ctx, r.blocks.wake)
	defer stopWake()
	most := func() int { return 2 * r.totalSlots() }
	var args []string
	if k := r.cfg.Input.Kind; k == wire.StreamCat || k == wire.StreamFifo {
		args = []string{""} // {} becomes the file's name on the node
	}
	emit := func(j *job) bool {
		if !r.cfg.Output.WaitRoom(ctx, j.seq) {
			return false
		}
		if r.cfg.Skip != nil && r.cfg.Skip(j.seq) {
			r.cfg.Output.Skip(j.seq)
			r.releaseInput(j)
			return true
		}
		return r.q.push(ctx, j)
	}
	if s, ok := r.cfg.Input.Blocks.(interface{ SetSlots(int) }); ok {
		// --pipepart's negative --block counts blocks per slot.
		s.SetSlots(r.totalSlots())
	}
	if r.cfg.Input.Tee || r.cfg.Input.RoundRobin {
		var feeds []*feed
		if r.cfg.Input.Tee {
			// Every job's arguments are read, and counted against the slots,
			// before the first job goes out: a job already sent would wait
			// for input that a failed run never streams.
			var jobArgs [][]string
			for {
				a, err := src.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					r.fail(fmt.Errorf("read input: %w", err))
					return
				}
				jobArgs = append(jobArgs, append(args, a...))
			}
			if slots := r.totalSlots(); len(jobArgs) > slots {
				// Each job must run at once, to read the input as it comes.
				r.fail(hint.Errorf(fmt.Sprintf("use -j %d, or more hosts", len(jobArgs)), "--tee runs every job at once: %d jobs need %d slots, and there are %d", len(jobArgs), len(jobArgs), slots))
				return
			}
			for _, a := range jobArgs {
				feeds = append(feeds, newFeed())
				seq++
				if !emit(&job{seq: seq, args: a, input: &jobInput{feed: feeds[len(feeds)-1]}}) {
					return
				}
			}
		} else {
			for range r.totalSlots() {
				feeds = append(feeds, newFeed())
				seq++
				if !emit(&job{seq: seq, args: args, input: &jobInput{feed: feeds[len(feeds)-1]}}) {
					return
				}
			}
		}
		r.spread(ctx, feeds)
		return
	}
	for {
		if !r.blocks.wait(ctx, most, r.q.over) {
			return
		}
		b, err := r.cfg.Input.Blocks.Next()
		if err != nil {
			r.blocks.release()
			if err != io.EOF {
				r.fail(fmt.Errorf("read input: %w", err))
			}
			return
		}
		seq++
		if !emit(&job{seq: seq, args: args, input: newBlockInput(b)}) {
			return
		}
	}
}

// spread reads the blocks and gives each to every feed (--tee) or to the
// next feed with room (--round-robin), then ends the feeds.
func (r *run) spread(ctx context.Context, feeds []*feed) {
	defer func() {
		for _, f := range feeds {
			f.close()
		}
	}()
	next := 0
	for {
		b, err := r.cfg.Input.Blocks.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			for _, f := range feeds {
				f.abort(fmt.Errorf("read input: %w", err))
			}
			r.fail(fmt.Errorf("read input: %w", err))
			return
		}
		if r.cfg.Input.Tee {
			for _, f := range feeds {
				if !f.put(ctx, b.Data) && ctx.Err() != nil {
					return
				}
			}
			continue
		}
		// Round robin: the next feed that has room, waiting for the
		// next in turn when none has.
		given := false
		for i := range feeds {
			f := feeds[(next+i)%len(feeds)]
			if f.tryPut(b.Data) {
				next = (next + i + 1) % len(feeds)
				given = true
				break
			}
		}
		for !given {
			live := false
			for i := range feeds {
				f := feeds[(next+i)%len(feeds)]
				if f.dead() {
					continue
				}
				live = true
				if f.put(ctx, b.Data) {
					next = (next + i + 1) % len(feeds)
					given = true
				}
				break
			}
			if !live || ctx.Err() != nil {
				if !live && ctx.Err() == nil && !r.q.over() {
					r.fail(errors.New("every --round-robin job ended before the input did"))
				}
				return
			}
		}
	}
}

// feed carries the input of a --tee or --round-robin job to its stream
// as it is read: at most one block waits in it.
type feed struct {
	ch       chan []byte
	gone     chan struct{} // the job has ended: what is put is dropped
	goneOnce sync.Once
	mu       sync.Mutex
	err      error
	closed   bool
}

func newFeed() *feed { return &feed{ch: make(chan []byte, 1), gone: make(chan struct{})} }

func (f *feed) kill() { f.goneOnce.Do(func() { close(f.gone) }) }
func (f *feed) dead() bool {
	select {
	case <-f.gone:
		return true
	default:
		return false
	}
}

// put waits until the block is taken, or the job is gone.
func (f *feed) put(ctx context.Context, b []byte) bool {
	select {
	case f.ch <- b:
		return true
	case <-f.gone:
		return false
	case <-ctx.Done():
		return false
	}
}

func (f *feed) tryPut(b []byte) bool {
	if f.dead() {
		return false
	}
	select {
	case f.ch <- b:
		return true
	default:
		return false
	}
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.ch)
	}
}

func (f *feed) abort(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
	f.close()
}

// sendTo sends what the feed carries on st, until the feed ends.
func (f *feed) sendTo(st *outStream) (bool, error) {
	for {
		select {
		case b, ok := <-f.ch:
			if !ok {
				f.mu.Lock()
				defer f.mu.Unlock()
				return f.err == nil, f.err
			}
			if !st.write(b) {
				return false, nil
			}
		case <-st.done:
			return false, nil
		case <-st.nr.gone:
			return false, nil
		}
	}
}
