package main

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"concurr/internal/pipe"
	"concurr/internal/sched"
	"concurr/internal/wire"
	"concurr/parse"
)

// pipeMode reports whether jobs get their input on stdin: --pipe,
// --pipepart, or an option that implies --pipe, as GNU Parallel's do.
func (o *options) pipeMode() bool {
	return o.pipe || o.pipePart || o.roundRobin || o.cat || o.fifo || o.tee
}

// planPipe prepares a --pipe or --pipepart run: the blocks come from stdin
// or from the files of -a and ::::, and jobs' arguments only from ::: with
// --tee.
func (p *runPlan) planPipe(o *options, rest []string, stdin io.Reader, say *messages) error {
	seps := parse.DefaultSeparators
	if o.argSep != "" {
		seps.Args = o.argSep
	}
	if o.argFileSep != "" {
		seps.Files = o.argFileSep
	}
	words, sources, err := parse.SplitCommandLineWith(rest, seps)
	if err != nil {
		return usagef("", "%v", err)
	}
	if o.cat && o.fifo {
		return usagef("", "--cat and --fifo cannot be used together")
	}
	opts := pipe.Options{RecStart: o.recStart.value, RecStartSet: o.recStart.set,
		RecEnd: o.recEnd.value, RecEndSet: o.recEnd.set, Regexp: o.regexp,
		Lines: pipeLines(o), Header: o.header, Warn: func(s string) { say.warningf("%s", s) }}
	if n := max(o.maxArgs, o.maxReplaceArgs); n > 0 {
		opts.Records = int(n) // -n or -N: records per block
	}
	if o.block != "" {
		if opts.BlockSize, err = pipe.ParseSize(o.block); err != nil {
			return usagef("write --block as a number with an optional unit, as in --block 10M", "%v", err)
		}
		if opts.BlockSize == 0 || opts.BlockSize < 0 && !o.pipePart {
			return usagef("a negative --block is a number of blocks per slot, for --pipepart only", "bad --block value %q: must be positive", o.block)
		}
	}
	if opts.BlockSize == 0 && o.pipePart {
		opts.BlockSize = -10 // GNU Parallel's: ten blocks per slot
		if o.roundRobin {
			opts.BlockSize = -1
		}
	}
	if o.pipePart && (opts.Records > 0 || opts.Lines > 0) {
		return usagef("use --recstart and --recend to say where records end", "--pipepart cannot count records (-N) or lines (-L)")
	}
	if o.groupBy != "" {
		if o.pipePart {
			return usagef("use --pipe", "--group-by works with --pipe, not yet with --pipepart")
		}
		if opts.GroupBy, err = pipe.ParseGroupBy(o.groupBy, o.colsep); err != nil {
			return usagef("name the column by its number, or by its name with --header :", "bad --group-by value %q: %v", o.groupBy, err)
		}
	}
	if _, err := pipe.NewSplitter(strings.NewReader(""), opts); err != nil {
		return usagef("", "%v", err)
	}
	in := &sched.Input{Kind: wire.StreamStdin, Tee: o.tee, RoundRobin: o.roundRobin && !o.pipePart}
	switch {
	case o.cat:
		in.Kind = wire.StreamCat
	case o.fifo:
		in.Kind = wire.StreamFifo
	}

	// The data: the files of -a and :::: for --pipepart, otherwise stdin.
	var args []parse.SourceSpec
	var files []string
	for _, s := range sources {
		if s.Files && o.pipePart {
			files = append(files, s.Path)
			continue
		}
		args = append(args, s)
	}
	if o.pipePart {
		files = append(files, o.argFiles...)
		if len(files) == 0 {
			return usagef("name the file with -a FILE", "--pipepart needs a file to read, not stdin")
		}
		src := &partSource{files: files, opts: opts}
		for i, f := range src.files {
			if f == "-" {
				return usagef("use --pipe for stdin", "--pipepart needs a regular file, not stdin")
			}
			if src.files[i], err = filepath.Abs(f); err != nil {
				return err
			}
		}
		in.Blocks = src
		if o.tee {
			// Every job reads every file whole: a splitter over them.
			r, err := openAll(src.files)
			if err != nil {
				return err
			}
			p.closers = append(p.closers, func() { r.Close() })
			sp, _ := pipe.NewSplitter(r, opts)
			in.Blocks = &splitSource{s: sp}
		}
	} else {
		if len(o.argFiles) > 0 {
			return usagef("use --pipepart -a FILE to split a file, or redirect it to stdin", "--pipe reads its input from stdin, not from -a")
		}
		sp, _ := pipe.NewSplitter(stdin, opts)
		in.Blocks = &splitSource{s: sp}
		if file, base, ok := regularStdin(stdin); ok && !in.Tee && !in.RoundRobin {
			in.Blocks = fileSplitSource{sp, file, base}
		}
	}
	if len(args) > 0 && !o.tee {
		return usagef("add --tee to give every job of the ::: arguments the whole input", "--pipe takes its input from stdin, not from ::: arguments")
	}
	if o.tee && len(args) == 0 {
		return usagef("name the jobs with ::: arguments, as in --tee 'grep {}' ::: a b", "--tee needs ::: arguments, one job each")
	}
	p.cfg.Input = in

	positions := 0
	if in.Kind != wire.StreamStdin {
		positions = 1
	}
	if o.tee {
		inputs, err := parse.OpenInputs(args, parse.InputOptions{Link: o.link, Delimiter: o.delimiter, Null: o.null, ColSep: o.colsep, Trim: o.trim}, nil)
		if err != nil {
			return err
		}
		p.closers = append(p.closers, func() { inputs.Close() })
		p.source = inputs
		positions += inputs.Positions()
	}
	p.cfg.Template, err = compileTemplate(o, words, nil, positions)
	if err != nil {
		return usagef("", "%v", err)
	}
	return nil
}

// openAll reads the files one after the other.
func openAll(paths []string) (io.ReadCloser, error) {
	var readers []io.Reader
	var files []*os.File
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, err
		}
		files = append(files, f)
		readers = append(readers, f)
	}
	return multiCloser{io.MultiReader(readers...), files}, nil
}

type multiCloser struct {
	io.Reader
	files []*os.File
}

func (m multiCloser) Close() error {
	for _, f := range m.files {
		f.Close()
	}
	return nil
}

// splitSource gives a splitter's blocks to the scheduler.
type splitSource struct {
	s *pipe.Splitter
	// held is the bytes of the blocks given out and not yet recycled;
	// the client's soft memory limit grows to leave room for their peak.
	held  atomic.Int64
	limit memoryRoom
}

func (s *splitSource) Next() (sched.Block, error) {
	b, err := s.s.Next()
	if err == nil {
		s.limit.grow(s.held.Add(int64(cap(b))))
	}
	return sched.Block{Data: b}, err
}

// Recycle gives a finished block's buffer back to the splitter.
func (s *splitSource) Recycle(b []byte) {
	s.held.Add(-int64(cap(b)))
	s.s.Recycle(b)
}

// memoryRoom raises the client's soft memory limit (see memlimit.go) to
// leave room for the --pipe blocks it holds, which the scheduler bounds
// at two per slot, each until its job's result. Blocks of 10 MB for a few
// slots pass the fixed limit, and the collector would then run without
// pause, taking more CPU than moving the data.
type memoryRoom struct {
	mu   sync.Mutex
	peak int64
	base int64 // the limit before the blocks; 0 until first asked
}

func (m *memoryRoom) grow(held int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if held <= m.peak {
		return
	}
	m.peak = held
	if m.base == 0 {
		m.base = debug.SetMemoryLimit(-1)
	}
	if os.Getenv("GOMEMLIMIT") != "" || m.base == math.MaxInt64 {
		return // the user's limit, or none at all
	}
	// Twice the blocks: the collector's usual pace above them.
	debug.SetMemoryLimit(m.base + 2*held)
}

// regularStdin reports whether stdin is a regular file that can be opened
// again by name (as `< FILE` makes it), with where in it reading begins.
// Its --pipe blocks, cut as from any stream, can then go to jobs from the
// file, as --pipepart's do: by sendfile(2) on this machine, never through
// the client's and the agent's memory.
func regularStdin(stdin io.Reader) (path string, offset int64, ok bool) {
	f, ok := stdin.(*os.File)
	if !ok {
		return "", 0, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", 0, false
	}
	offset, err = f.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", 0, false
	}
	// The name the file is open by, if it still names the same file.
	path, err = os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil || !filepath.IsAbs(path) {
		return "", 0, false
	}
	// Opened, as the blocks will be: a descriptor can be inherited where
	// the name cannot be opened (sudo, a directory without search rights).
	again, err := os.Open(path)
	if err != nil {
		return "", 0, false
	}
	defer again.Close()
	if afi, err := again.Stat(); err != nil || !os.SameFile(fi, afi) {
		return "", 0, false
	}
	return path, offset, true
}

// fileSplitSource gives the blocks of a splitter over a regular file as
// ranges of the file: the splitter still reads every byte to find where
// records end, but the block's data is let go at once.
type fileSplitSource struct {
	s      *pipe.Splitter
	path   string
	offset int64 // where the splitter began to read the file
}

func (s fileSplitSource) Next() (sched.Block, error) {
	b, at, err := s.s.NextAt()
	if err != nil {
		return sched.Block{}, err
	}
	header := s.s.Header()
	length := int64(len(b) - len(header))
	s.s.Recycle(b)
	return sched.Block{Data: header, Path: s.path, Offset: s.offset + at, Length: length}, nil
}

// partSource gives the --pipepart blocks of its files, found once the
// run's slots are known: a negative --block counts blocks per slot.
type partSource struct {
	files  []string
	opts   pipe.Options
	slots  int
	header []byte
	parts  []pipe.Part
}

// SetSlots is told the run's slot count before the first block.
func (s *partSource) SetSlots(n int) { s.slots = n }

func (s *partSource) Next() (sched.Block, error) {
	for len(s.parts) == 0 {
		if len(s.files) == 0 {
			return sched.Block{}, io.EOF
		}
		var err error
		s.header, s.parts, err = pipe.SplitFile(s.files[0], s.opts, s.slots)
		s.files = s.files[1:]
		if err != nil {
			return sched.Block{}, err
		}
	}
	part := s.parts[0]
	s.parts = s.parts[1:]
	return sched.Block{Data: s.header, Path: part.Path, Offset: part.Offset, Length: part.Length}, nil
}

// pipeLines is -L (or -l, --max-lines) with --pipe: records of that many
// lines; 0 when not given.
func pipeLines(o *options) int {
	if n, err := strconv.Atoi(o.maxLinesCtx); err == nil && n > 0 {
		return n
	}
	if o.maxLines.set {
		return max(o.maxLines.count, 1)
	}
	return 0
}
