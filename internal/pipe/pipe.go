// Package pipe cuts an input into blocks of whole records for --pipe and
// --pipepart, as GNU Parallel cuts them, so that every job's input is the
// same as GNU Parallel's: a block ends on a record boundary (where --recend
// is followed by --recstart), holds -N records or -L-line records when
// asked, and starts with the --header. Blocks are read as they are needed,
// so a stream of any size is cut in the memory of a few blocks.
package pipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Options say how records and blocks are cut.
type Options struct {
	BlockSize int64 // bytes per block before the cut; 0 is GNU's 1M
	// RecStart and RecEnd, when set (the Set flags), are the strings or,
	// with Regexp, the regular expressions between which records split.
	// Neither set means RecEnd "\n", as in GNU Parallel.
	RecStart, RecEnd       string
	RecStartSet, RecEndSet bool
	Regexp                 bool
	Records                int    // -N: records per block; 0 is as many as fit
	Lines                  int    // -L: lines per record
	Header                 string // --header: ":" one line, N lines, or a regular expression
	GroupBy                *GroupBy
	// Warn is told when a record longer than the block makes the block
	// grow, as GNU Parallel warns.
	Warn func(string)
}

// maxBlock is the largest a block grows to, as GNU Parallel's.
const maxBlock = math.MaxInt32

// ParseSize reads a --block value: a number with an optional unit, K M G
// T P (powers of 1024, also Ki Mi...) or k m g t p (powers of 1000), as
// GNU Parallel reads it. A negative size is allowed; --pipepart takes it
// as a number of blocks per slot.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], t[i:]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("bad size %q: want a number with an optional unit, as in 10M or 500k", s)
	}
	mult := map[string]float64{"": 1,
		"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50,
		"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}
	m, ok := mult[unit]
	if !ok {
		if len(unit) == 2 && (unit[1] == 'i' || unit[1] == 'I') {
			m, ok = mult[strings.ToUpper(unit[:1])]
		}
		if !ok {
			return 0, fmt.Errorf("bad size %q: unknown unit %q (use K, M, G, T, P or k, m, g, t, p)", s, unit)
		}
	}
	v *= m
	if v >= math.MaxInt64/2 {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	if neg {
		v = -v
	}
	return int64(v), nil
}

// separators are the compiled record separators.
type separators struct {
	start, end string // literal forms
	split      []byte // end+start, what a boundary looks like
	last       *regexp.Regexp
	first      *regexp.Regexp
	startsWith *regexp.Regexp
	regexp     bool
}

func (o *Options) separators() (*separators, error) {
	start, end := "", "\n"
	switch {
	case o.RecStartSet && o.RecEndSet:
		start, end = o.RecStart, o.RecEnd
	case o.RecStartSet:
		start, end = o.RecStart, ""
	case o.RecEndSet:
		start, end = "", o.RecEnd
	}
	s := &separators{regexp: o.Regexp}
	if !o.Regexp {
		s.start, s.end = unescape(start), unescape(end)
		s.split = []byte(s.end + s.start)
		return s, nil
	}
	if o.RecEndSet && !o.RecStartSet && end == "" {
		end = `(?s:.)`
	}
	// Perl's /m, as GNU Parallel matches: ^ and $ at line breaks.
	var err error
	if s.last, err = regexp.Compile(`(?m)\A((?s:.)*(?:` + end + `))(?:` + start + `)`); err != nil {
		return nil, fmt.Errorf("bad --recstart or --recend regular expression: %w", err)
	}
	s.first = regexp.MustCompile(`(?m)\A((?s:.)*?(?:` + end + `))(?:` + start + `)`)
	s.startsWith = regexp.MustCompile(`(?m)\A(?:` + start + `)`)
	return s, nil
}

// unescape reads \n \t \r \0 \\ \' \" in a separator, as GNU Parallel does.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if c, ok := map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '0': 0, '\\': '\\', '\'': '\'', '"': '"'}[s[i+1]]; ok {
				b.WriteByte(c)
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// headerPattern is the regular expression --header's value stands for.
func headerPattern(h string) (*regexp.Regexp, error) {
	switch {
	case h == "":
		return nil, nil
	case h == ":":
		h = `.*\n`
	default:
		if n, err := strconv.Atoi(h); err == nil && n >= 0 {
			h = strings.Repeat(`.*\n`, n)
		}
	}
	re, err := regexp.Compile(`\A(?:` + h + `)`)
	if err != nil {
		return nil, fmt.Errorf("bad --header regular expression: %w", err)
	}
	return re, nil
}

// Splitter cuts a stream into blocks.
type Splitter struct {
	r       io.Reader
	o       Options
	sep     *separators
	header  []byte
	headRE  *regexp.Regexp
	started bool
	size    int64
	buf     []byte
	eof     bool
	done    bool
	wrote   bool // a block was cut in this round
	garbage bool // -N --regexp: the text before the first record was looked at
	ready   [][]byte
	// read counts the bytes read from r; at counts, for each ready block,
	// where its records (after the header) begin in the input.
	read int64
	at   []int64

	freeMu sync.Mutex
	free   [][]byte // blocks' buffers given back by Recycle
}

// maxFree is how many buffers Recycle keeps for later blocks.
const maxFree = 16

// Recycle gives back the buffer of a block that is no longer used, for a
// later block: a long stream then reuses a few buffers rather than
// allocating (and faulting in) one per block. It may be called from any
// goroutine.
func (s *Splitter) Recycle(b []byte) {
	s.freeMu.Lock()
	defer s.freeMu.Unlock()
	if len(s.free) < maxFree && int64(cap(b)) >= s.size {
		s.free = append(s.free, b[:0])
	}
}

// buffer returns an empty buffer of at least n bytes.
func (s *Splitter) buffer(n int) []byte {
	s.freeMu.Lock()
	defer s.freeMu.Unlock()
	for len(s.free) > 0 {
		b := s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
		if cap(b) >= n {
			return b
		}
	}
	return make([]byte, 0, n)
}

// NewSplitter returns a splitter of r.
func NewSplitter(r io.Reader, o Options) (*Splitter, error) {
	sep, err := o.separators()
	if err != nil {
		return nil, err
	}
	head, err := headerPattern(o.Header)
	if err != nil {
		return nil, err
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 1 << 20
	}
	return &Splitter{r: r, o: o, sep: sep, headRE: head, size: min(o.BlockSize, maxBlock)}, nil
}

// Header is the --header found at the top of the input, once the first
// block has been read.
func (s *Splitter) Header() []byte { return s.header }

// Next returns the next block, with the header at its top. It returns
// io.EOF after the last one; an input with no data gives no block at all.
func (s *Splitter) Next() ([]byte, error) {
	b, _, err := s.NextAt()
	return b, err
}

// NextAt is Next, and also says where the block's records (the block less
// its header) begin in the input, counted from where the splitter began
// to read it: a block is always a stretch of the input, so a reader of a
// regular file can send it from the file rather than from memory.
func (s *Splitter) NextAt() ([]byte, int64, error) {
	if !s.started {
		s.started = true
		if err := s.readHeader(); err != nil {
			return nil, 0, err
		}
	}
	for len(s.ready) == 0 {
		if s.done {
			return nil, 0, io.EOF
		}
		if s.eof {
			// What is left is the last block, however long.
			s.done = true
			s.emit(len(s.buf))
			continue
		}
		s.wrote = false
		if err := s.readBlock(); err != nil {
			return nil, 0, err
		}
		s.pass()
		if s.eof {
			continue
		}
		if !s.wrote && s.size < maxBlock {
			old := s.size
			s.size = min(int64(math.Ceil(float64(s.size)*1.3+1)), maxBlock)
			if s.o.Warn != nil {
				s.o.Warn(fmt.Sprintf("a record was longer than %d; increasing to --blocksize %d", old, s.size))
			}
		}
	}
	b, at := s.ready[0], s.at[0]
	s.ready[0] = nil
	s.ready, s.at = s.ready[1:], s.at[1:]
	return b, at, nil
}

// readHeader takes the --header off the top of the input.
func (s *Splitter) readHeader() error {
	if s.headRE == nil {
		if s.o.GroupBy != nil && s.o.GroupBy.Name != "" {
			return fmt.Errorf("--group-by %s names a column: add --header : so that the first line names the columns", s.o.GroupBy.Name)
		}
		return nil
	}
	for {
		if loc := s.headRE.FindIndex(s.buf); loc != nil && (loc[1] > 0 || s.eof) {
			s.header = append([]byte(nil), s.buf[:loc[1]]...)
			s.buf = append(make([]byte, 0, s.size), s.buf[loc[1]:]...)
			if s.o.GroupBy != nil {
				return s.o.GroupBy.resolve(s.header)
			}
			return nil
		}
		if s.eof {
			return nil
		}
		n0 := len(s.buf)
		s.buf = grow(s.buf, int(s.size))
		n, err := s.r.Read(s.buf[n0 : n0+int(s.size)])
		s.buf = s.buf[:n0+n]
		s.read += int64(n)
		if err == io.EOF || n == 0 && err == nil {
			s.eof = err == io.EOF
		} else if err != nil {
			return fmt.Errorf("read the input: %w", err)
		}
	}
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// readBlock reads up to the next multiple of the block size, or to the
// end of the input.
func (s *Splitter) readBlock() error {
	want := int(s.size - int64(len(s.buf))%s.size)
	s.buf = grow(s.buf, want)
	for want > 0 {
		n0 := len(s.buf)
		n, err := s.r.Read(s.buf[n0 : n0+want])
		s.buf = s.buf[:n0+n]
		s.read += int64(n)
		want -= n
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the input: %w", err)
		}
	}
	return nil
}

// emit cuts the first n bytes of the buffer off as a block.
func (s *Splitter) emit(n int) {
	if n <= 0 {
		return
	}
	s.wrote = true
	s.at = append(s.at, s.read-int64(len(s.buf)))
	var b []byte
	if len(s.header) == 0 {
		// Its spare capacity goes with it, for Recycle; no one appends.
		b = s.buf[:n]
	} else {
		b = s.buffer(max(len(s.header)+n, int(s.size)))
		b = append(append(b, s.header...), s.buf[:n]...)
	}
	rest := s.buf[n:]
	if len(s.header) == 0 {
		// The block keeps the buffer; the rest, at most a record or so,
		// moves to a new one.
		s.buf = append(s.buffer(max(int(s.size), len(rest))), rest...)
	} else {
		s.buf = s.buf[:copy(s.buf, rest)]
	}
	s.ready = append(s.ready, b)
}

func (s *Splitter) pass() {
	sep := s.sep
	switch {
	case s.o.GroupBy != nil && s.o.Records > 0:
		for {
			cuts := s.o.GroupBy.boundaries(s.buf, s.o.Records)
			if len(cuts) < s.o.Records {
				return
			}
			s.emit(cuts[len(cuts)-1])
		}
	case s.o.GroupBy != nil:
		if s.eof {
			return
		}
		if cuts := s.o.GroupBy.boundaries(s.buf, 0); len(cuts) > 0 {
			s.emit(cuts[len(cuts)-1])
		}
	case s.o.Lines > 0 && s.o.Records == 0:
		// Records of -L lines: the last newline that ends a whole one.
		lines := bytes.Count(s.buf, []byte{'\n'})
		last := bytes.LastIndexByte(s.buf, '\n')
		for lines%s.o.Lines != 0 {
			lines--
			last = bytes.LastIndexByte(s.buf[:max(last, 0)], '\n')
		}
		s.emit(last + 1)
	case sep.regexp && s.o.Records > 0:
		s.passNRegexps()
	case sep.regexp:
		if s.eof {
			return
		}
		if m := sep.last.FindSubmatchIndex(s.buf); m != nil {
			s.emit(m[3])
		}
	case s.o.Records > 0:
		n := s.o.Records * max(s.o.Lines, 1)
		for len(s.buf) > 0 {
			i := nindex(s.buf, sep.split, n)
			if i < 0 {
				break
			}
			s.emit(i + len(sep.end))
		}
	default:
		if s.eof {
			return
		}
		if i := bytes.LastIndex(s.buf, sep.split); i >= 0 {
			s.emit(i + len(sep.end))
		}
	}
}

// nindex is where the n-th boundary is, searching from offset 1 as GNU
// Parallel's does, or -1.
func nindex(b, sep []byte, n int) int {
	i := 0
	for range n {
		i = indexFrom(b, sep, i+1)
		if i < 0 {
			return -1
		}
	}
	return i
}

// indexFrom is Perl's index(b, sep, pos).
func indexFrom(b, sep []byte, pos int) int {
	pos = min(pos, len(b))
	if len(sep) == 0 {
		return pos
	}
	j := bytes.Index(b[pos:], sep)
	if j < 0 {
		return -1
	}
	return pos + j
}

// passNRegexps cuts blocks of -N records whose ends match --recend and
// whose starts match --recstart. Text before the first record start is a
// block of its own, as in GNU Parallel.
func (s *Splitter) passNRegexps() {
	sep := s.sep
	if !s.garbage {
		s.garbage = true
		if !sep.startsWith.Match(s.buf) {
			if m := sep.first.FindSubmatchIndex(s.buf); m != nil && m[3] > 0 {
				s.emit(m[3])
			}
		}
	}
	n := s.o.Records * max(s.o.Lines, 1)
	for {
		end, ok := 0, true
		for range n {
			m := sep.first.FindSubmatchIndex(s.buf[end:])
			// A record is at least one byte long.
			for m != nil && m[3] == 0 {
				m = nil
				if sub := sep.first.FindSubmatchIndex(s.buf[end+1:]); sub != nil {
					m = []int{0, 0, 0, sub[3] + 1}
				}
			}
			if m == nil {
				ok = false
				break
			}
			end += m[3]
		}
		if !ok || end == 0 {
			return
		}
		s.emit(end)
	}
}

// ErrNotSeekable is returned for a --pipepart input that is not a file.
var ErrNotSeekable = errors.New("--pipepart needs a regular file (not a pipe or a stream)")
