// Package parse owns concurr's command-line grammar: input sources and
// the records they yield, and host specifications. Its functions are pure
// apart from reading input files.
package parse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// SourceSpec is one input source named on the command line: the values of
// one ::: group, or one file after :::: (GNU Parallel treats every file
// after :::: as a source of its own).
type SourceSpec struct {
	Files  bool     // from :::: (or ::): read records from Path
	Values []string // from ::: (or :): the values as given
	Path   string   // the file to read when Files is set; "-" is stdin
	Linked bool     // from :::+ or ::::+: paired element-wise with the previous source
}

// Separators are the words that start input sources on the command line.
// GNU Parallel lets --arg-sep and --arg-file-sep change them.
type Separators struct {
	Args  string // default ":::"
	Files string // default "::::"
}

// DefaultSeparators are GNU Parallel's separators. With them, concurr also
// accepts the original Concurr's ":" for ":::" and "::" for "::::".
var DefaultSeparators = Separators{Args: ":::", Files: "::::"}

// SplitCommandLine splits what remains of the command line after option
// parsing into the template words and the input sources that follow the
// first separator, with the default separators.
//
// As in GNU Parallel, a separator that is the last word and follows the
// template directly is dropped, so `concurr echo :::` reads stdin, while an
// empty group between others (`::: a :::`) is a source of its own that
// contributes one empty value. An empty :::: group adds no source.
func SplitCommandLine(args []string) (template []string, sources []SourceSpec, err error) {
	return SplitCommandLineWith(args, DefaultSeparators)
}

// srcSepKind classifies one command-line word.
type srcSepKind uint8

const (
	srcNotSep srcSepKind = iota
	srcArgSep
	srcFileSep
)

func (s Separators) classify(word string) (kind srcSepKind, linked bool) {
	argSep, fileSep := s.Args, s.Files
	if argSep == "" {
		argSep = DefaultSeparators.Args
	}
	if fileSep == "" {
		fileSep = DefaultSeparators.Files
	}
	aliases := argSep == DefaultSeparators.Args && fileSep == DefaultSeparators.Files
	switch {
	case word == argSep, aliases && word == ":":
		return srcArgSep, false
	case word == argSep+"+":
		return srcArgSep, true
	case word == fileSep, aliases && word == "::":
		return srcFileSep, false
	case word == fileSep+"+":
		return srcFileSep, true
	}
	return srcNotSep, false
}

// SplitCommandLineWith is SplitCommandLine with other separators, as
// --arg-sep and --arg-file-sep set them. The ":" and "::" aliases apply
// only to the default separators.
func SplitCommandLineWith(args []string, seps Separators) (template []string, sources []SourceSpec, err error) {
	first := -1
	for i, w := range args {
		if k, _ := seps.classify(w); k != srcNotSep {
			first = i
			break
		}
	}
	if first < 0 {
		return args, nil, nil
	}
	template = args[:first:first]
	if first == len(args)-1 {
		// GNU Parallel's loop never looks at a trailing separator that
		// follows the template directly: it is dropped and stdin is read.
		return template, nil, nil
	}
	for i := first; i < len(args); {
		kind, linked := seps.classify(args[i])
		j := i + 1
		for j < len(args) {
			if k, _ := seps.classify(args[j]); k != srcNotSep {
				break
			}
			j++
		}
		group := args[i+1 : j]
		if kind == srcFileSep {
			for _, path := range group {
				if path == "" {
					return nil, nil, fmt.Errorf("empty file name after %s", args[i])
				}
				sources = append(sources, SourceSpec{Files: true, Path: path, Linked: linked})
			}
		} else {
			values := make([]string, len(group))
			copy(values, group)
			sources = append(sources, SourceSpec{Values: values, Linked: linked})
		}
		i = j
	}
	return template, sources, nil
}

// InputOptions are the options that say how input sources become job
// arguments. The zero value reads newline-separated records, one per job.
type InputOptions struct {
	// Delimiter is -d as given: records end with it after \n, \t, \r,
	// \ddd (octal) and \d escapes are interpreted, as GNU Parallel's
	// unquote_printf does. It may be several bytes. "" means newline.
	Delimiter string
	Null      bool   // -0: records end with NUL; Delimiter wins over it
	ColSep    string // --colsep: a regexp (RE2 syntax) splitting each record into positions
	// Header is --header: "" for none; "0" names each file source by its
	// path; anything else takes each source's first record as the names
	// of its positions, split by ColSep (a tab when ColSep is empty).
	Header string
	// MaxArgs is -N n with n ≥ 1: n consecutive records make one job,
	// the last job may have fewer. 0 means one record per job.
	MaxArgs int
	// NoArgs is -N0: one job per record, with no argument values. It
	// overrides MaxArgs.
	NoArgs bool
	// Trim is --trim: "n", "l", "r", "lr" or "rl". "" means "n", or "lr"
	// when ColSep is set, as in GNU Parallel.
	Trim      string
	Link      bool     // --link: all sources pair element-wise, shorter ones wrap around
	ArgFiles  []string // -a FILE, each a source before those of the command line; "-" is stdin
	EOFString string   // -E: a record equal to it ends its source
	SkipEmpty bool     // -r: records of white space only are skipped
	// CSV is --csv: each record is RFC 4180 CSV, its fields split at
	// ColSep (one character, "," when empty); a quoted field may hold the
	// delimiter, so such a record goes on after it.
	CSV bool
	// JoinLines is -L and -l: a record ending in white space goes on with
	// the next one, as GNU Parallel and xargs read lines for -L.
	JoinLines bool
	// Shuffle is --shuf: every job's values are read first and the jobs
	// come out in a random order (before -N groups them, as in GNU
	// Parallel).
	Shuffle bool
}

// UnescapePrintf interprets the escapes GNU Parallel accepts in -d and
// --tagstring: \t, \n, \r, \ddd in octal and \d. Other backslashes stay.
func UnescapePrintf(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	// GNU Parallel applies one substitution after another over the whole
	// string; doing the same keeps odd inputs such as `\\t` identical.
	s = strings.ReplaceAll(s, `\t`, "\t")
	s = strings.ReplaceAll(s, `\n`, "\n")
	s = strings.ReplaceAll(s, `\r`, "\r")
	s = srcOctal3().ReplaceAllStringFunc(s, srcPerlOctal)
	s = srcOctal1().ReplaceAllStringFunc(s, srcPerlOctal)
	return s
}

// The octal escapes, compiled at their first use rather than at the start
// of every agent.
var (
	srcOctal3 = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\\[0-9]{3}`) })
	srcOctal1 = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\\[0-9]`) })
)

// srcPerlOctal evaluates a backslash and digits as Perl's "\ddd" does: the
// octal digits before any 8 or 9 make one byte and the rest stay as they are.
func srcPerlOctal(m string) string {
	digits := m[1:]
	v, n := 0, 0
	for n < len(digits) && digits[n] <= '7' {
		v = v*8 + int(digits[n]-'0')
		n++
	}
	if n == 0 {
		return digits
	}
	return string([]byte{byte(v)}) + digits[n:]
}

// Inputs yields the jobs' argument values from the input sources. The first
// source is read lazily, record by record; the others are read when the
// Inputs is opened and held, as a cartesian product needs them. An Inputs
// is for one goroutine at a time.
type Inputs struct {
	stream *srcSource   // the first source
	held   []*srcSource // the others, read in full
	closer []io.Closer

	header    []string
	positions int

	opts      InputOptions
	link      bool
	groups    [][]int // nest mode: linked runs of source indices; group 0 holds source 0
	groupLen  []int   // nest mode: length of each group after zipping (group 0: held members only, -1 if none)
	splitter  func(string) ([]string, error)
	trimLeft  bool
	trimRight bool

	started    bool
	done       bool
	allEmpty   bool
	streamRecs int        // records taken from the stream so far
	streamCur  []string   // the stream's current record
	streamEOF  bool       // the stream source has ended
	streamHeld [][]string // link mode: the stream's records kept for wrapping
	streamLen  int        // link mode: the stream's length once it ended
	maxHeld    int        // link mode: the longest held source
	round      int        // link mode: tuples produced so far
	odometer   []int      // nest mode: the index into each group
	shuffled   [][]string // --shuf: the tuples not yet taken, once read

	scratch []string // the current record's single value, reused
	job     []string // the job being assembled, reused
	slab    []string // backing store shared by the slices Next returns
}

// srcSource is one opened input source.
type srcSource struct {
	name    string // for error messages and --header 0
	isFile  bool
	rr      *srcRecordReader
	records [][]string // held sources: every record's columns
	rawLen  int        // held sources: how many records they really had
}

// UsesStdin reports whether OpenInputs would read stdin for these sources,
// so that the caller can warn when stdin is a terminal, as GNU Parallel
// does.
func UsesStdin(sources []SourceSpec, opts InputOptions) bool {
	if len(sources) == 0 && len(opts.ArgFiles) == 0 {
		return true
	}
	for _, f := range opts.ArgFiles {
		if f == "-" {
			return true
		}
	}
	for _, s := range sources {
		if s.Files && s.Path == "-" {
			return true
		}
	}
	return false
}

// OpenInputs opens the input sources: the -a files of opts, then sources.
// With neither, stdin is the only source. Files that cannot be opened are
// reported here, before any job runs. Sources other than the first are
// read in full now; so is the header of every source.
func OpenInputs(sources []SourceSpec, opts InputOptions, stdin io.Reader) (inputs *Inputs, err error) {
	in := &Inputs{opts: opts, link: opts.Link}
	defer func() {
		if err != nil {
			in.Close()
		}
	}()
	delim, err := srcDelimiter(opts)
	if err != nil {
		return nil, err
	}
	if err := in.setTrim(opts); err != nil {
		return nil, err
	}
	if err := in.setColSep(opts); err != nil {
		return nil, err
	}
	if opts.MaxArgs < 0 {
		return nil, fmt.Errorf("-N %d: must not be negative", opts.MaxArgs)
	}

	all := make([]SourceSpec, 0, len(opts.ArgFiles)+len(sources))
	for _, f := range opts.ArgFiles {
		all = append(all, SourceSpec{Files: true, Path: f})
	}
	all = append(all, sources...)
	if len(all) == 0 {
		all = append(all, SourceSpec{Files: true, Path: "-"})
	}

	opened := make([]*srcSource, len(all))
	for i, spec := range all {
		src, err := in.open(spec, delim, stdin)
		if err != nil {
			return nil, err
		}
		opened[i] = src
	}

	if err := in.readHeaders(opened); err != nil {
		return nil, err
	}

	in.stream = opened[0]
	in.held = opened[1:]
	for _, h := range in.held {
		if err := in.readAll(h); err != nil {
			return nil, err
		}
	}
	in.planGroups(all)

	perTuple := len(all)
	switch {
	case opts.NoArgs, in.splitter != nil:
		in.positions = 0
	case opts.MaxArgs > 1:
		in.positions = perTuple * opts.MaxArgs
	default:
		in.positions = perTuple
	}
	return in, nil
}

func srcDelimiter(opts InputOptions) ([]byte, error) {
	switch {
	case opts.Delimiter != "":
		d := UnescapePrintf(opts.Delimiter)
		if d == "" {
			return nil, errors.New("-d: empty delimiter")
		}
		return []byte(d), nil
	case opts.Null:
		return []byte{0}, nil
	}
	return []byte{'\n'}, nil
}

func (in *Inputs) setTrim(opts InputOptions) error {
	trim := opts.Trim
	if trim == "" {
		trim = "n"
		if opts.ColSep != "" {
			trim = "lr"
		}
	}
	switch trim {
	case "n":
	case "l":
		in.trimLeft = true
	case "r":
		in.trimRight = true
	case "lr", "rl":
		in.trimLeft, in.trimRight = true, true
	default:
		return fmt.Errorf("--trim %q: must be one of n, l, r, lr, rl", opts.Trim)
	}
	return nil
}

func (in *Inputs) setColSep(opts InputOptions) error {
	if opts.CSV {
		sep, err := csvSeparator(opts.ColSep)
		if err != nil {
			return err
		}
		in.splitter = csvSplitter(sep)
		return nil
	}
	colsep := opts.ColSep
	if colsep == "" && opts.Header != "" {
		colsep = "\t"
	}
	if colsep == "" {
		return nil
	}
	re, err := regexp.Compile(colsep)
	if err != nil {
		return fmt.Errorf("--colsep %q: %w", colsep, err)
	}
	if lit, complete := re.LiteralPrefix(); complete && lit != "" {
		in.splitter = func(s string) ([]string, error) { return strings.Split(s, lit), nil }
	} else {
		in.splitter = func(s string) ([]string, error) { return re.Split(s, -1), nil }
	}
	return nil
}

func (in *Inputs) open(spec SourceSpec, delim []byte, stdin io.Reader) (*srcSource, error) {
	var r io.Reader
	src := &srcSource{isFile: spec.Files}
	switch {
	case !spec.Files:
		// GNU Parallel writes a ::: group to a file, one value and one
		// delimiter after another, and reads it back like any other
		// source: a value holding the delimiter becomes several records.
		var b strings.Builder
		for _, v := range spec.Values {
			b.WriteString(v)
			b.Write(delim)
		}
		r = strings.NewReader(b.String())
		src.name = "command line arguments"
	case spec.Path == "-":
		if stdin == nil {
			stdin = strings.NewReader("")
		}
		r = stdin
		src.name = "-"
	default:
		f, err := os.Open(spec.Path)
		if err != nil {
			return nil, fmt.Errorf("cannot open input file: %w", err)
		}
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			f.Close()
			return nil, fmt.Errorf("cannot open input file %s: is a directory", spec.Path)
		}
		in.closer = append(in.closer, f)
		r = f
		src.name = spec.Path
	}
	src.rr = newSrcRecordReader(r, delim)
	return src, nil
}

// readHeaders takes each source's first record as the names of its
// positions, as GNU Parallel's --header does.
func (in *Inputs) readHeaders(sources []*srcSource) error {
	switch in.opts.Header {
	case "":
		return nil
	case "0":
		// GNU Parallel numbers only the file sources here, which
		// misnames them when ::: groups come first; name each source's
		// own position instead.
		for _, src := range sources {
			name := ""
			if src.isFile {
				name = src.name
			}
			in.header = append(in.header, name)
		}
		return nil
	}
	for _, src := range sources {
		rec, ok, err := src.rr.next()
		if err != nil {
			return fmt.Errorf("read header of %s: %w", src.name, err)
		}
		if !ok {
			continue
		}
		line := string(bytes.TrimSuffix(rec, []byte{'\r'}))
		if line == "" {
			continue
		}
		names, err := in.splitter(line)
		if err != nil {
			return fmt.Errorf("header of %s is not CSV: %v", src.name, err)
		}
		// Perl's split without a limit drops trailing empty fields.
		for len(names) > 0 && names[len(names)-1] == "" {
			names = names[:len(names)-1]
		}
		in.header = append(in.header, names...)
	}
	return nil
}

// readAll holds every record of a source other than the first. An empty
// source takes part in a product as one empty value, as in GNU Parallel.
func (in *Inputs) readAll(src *srcSource) error {
	for {
		cols, ok, err := in.readRecord(src)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		src.records = append(src.records, in.copyCols(cols))
	}
	src.rawLen = len(src.records)
	if src.rawLen == 0 {
		src.records = [][]string{{""}}
	}
	return nil
}

// readRecord reads a source's next record and splits it into trimmed
// columns; ok is false at the end of the source. A record may span several
// of the reader's: a CSV field left open by its quotes goes on after the
// delimiter, which it keeps, and under -L a record ending in white space
// goes on with the next, as GNU Parallel reads them.
func (in *Inputs) readRecord(src *srcSource) (cols []string, ok bool, err error) {
	rr := src.rr
	var joined []byte // the record so far, while it spans several
	spanning, inQuote := false, false
	for {
		rec, ok, err := rr.next()
		if err != nil {
			return nil, false, fmt.Errorf("read input file %s: %w", src.name, err)
		}
		if !ok {
			if !spanning {
				return nil, false, nil
			}
			// The input ends the record it was in.
			return in.splitRecord(src, joined)
		}
		if in.opts.CSV && csvOpen(rec) {
			inQuote = !inQuote
		}
		if inQuote {
			joined = append(append(joined, rec...), rr.delim...)
			spanning = true
			continue
		}
		if in.opts.EOFString != "" && string(rec) == in.opts.EOFString {
			rr.stop()
			if spanning {
				return in.splitRecord(src, joined)
			}
			return nil, false, nil
		}
		if spanning {
			joined = append(joined, rec...)
			rec, spanning = joined, false
		}
		if in.opts.SkipEmpty && srcBlank(rec) {
			joined = joined[:0]
			continue
		}
		if in.opts.JoinLines && len(rec) > 0 && srcSpace(rec[len(rec)-1]) {
			joined = append(joined[:0], rec...)
			spanning = true
			continue
		}
		return in.splitRecord(src, rec)
	}
}

// splitRecord turns one whole record into its trimmed columns.
func (in *Inputs) splitRecord(src *srcSource, rec []byte) (cols []string, ok bool, err error) {
	if in.opts.NoArgs {
		return nil, true, nil
	}
	s := string(in.trimBytes(rec))
	if in.splitter == nil {
		in.scratch = append(in.scratch[:0], s)
		return in.scratch[:1:1], true, nil
	}
	if in.opts.CSV {
		// RFC 4180 ends records with CRLF.
		s = strings.TrimSuffix(s, "\r")
	}
	if s == "" {
		return []string{""}, true, nil
	}
	cols, err = in.splitter(s)
	if err != nil {
		return nil, false, fmt.Errorf("%s: the record %q is not CSV: %v", src.name, s, err)
	}
	for i, c := range cols {
		cols[i] = in.trimString(c)
	}
	return cols, true, nil
}

// srcSpace is Perl's \s on bytes.
func srcSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

func srcBlank(b []byte) bool {
	for _, c := range b {
		if !srcSpace(c) {
			return false
		}
	}
	return true
}

func (in *Inputs) trimBytes(b []byte) []byte {
	if in.splitter != nil {
		// Columns are trimmed one by one after the split.
		return b
	}
	if in.trimLeft {
		for len(b) > 0 && srcSpace(b[0]) {
			b = b[1:]
		}
	}
	if in.trimRight {
		for len(b) > 0 && srcSpace(b[len(b)-1]) {
			b = b[:len(b)-1]
		}
	}
	return b
}

func (in *Inputs) trimString(s string) string {
	if in.trimLeft {
		for len(s) > 0 && srcSpace(s[0]) {
			s = s[1:]
		}
	}
	if in.trimRight {
		for len(s) > 0 && srcSpace(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// planGroups splits the sources into runs linked by :::+ and ::::+, each
// run one dimension of the product, its length that of its shortest member.
func (in *Inputs) planGroups(all []SourceSpec) {
	if in.link {
		for _, h := range in.held {
			in.maxHeld = max(in.maxHeld, len(h.records))
		}
		return
	}
	for i, spec := range all {
		if i == 0 || !spec.Linked {
			in.groups = append(in.groups, []int{i})
			in.groupLen = append(in.groupLen, -1)
			if i == 0 {
				continue
			}
		} else {
			last := len(in.groups) - 1
			in.groups[last] = append(in.groups[last], i)
		}
		g := len(in.groups) - 1
		n := len(in.held[i-1].records)
		if in.groupLen[g] < 0 || n < in.groupLen[g] {
			in.groupLen[g] = n
		}
	}
	in.odometer = make([]int, len(in.groups))
}

// Header returns the names of the positions when --header is used, the
// first name naming position 1. A name may be empty.
func (in *Inputs) Header() []string { return in.header }

// Positions returns how many argument values a job has at most, or 0 when
// that depends on the input (--colsep) or jobs have none (-N0).
func (in *Inputs) Positions() int { return in.positions }

// Close closes the files the Inputs opened. It does not close stdin.
func (in *Inputs) Close() error {
	var errs []error
	for _, c := range in.closer {
		errs = append(errs, c.Close())
	}
	in.closer = nil
	in.done = true
	return errors.Join(errs...)
}

// Next returns one job's argument values, position 1 first, or io.EOF
// after the last job. The slice is the caller's to keep.
func (in *Inputs) Next() ([]string, error) {
	if in.done {
		return nil, io.EOF
	}
	group := max(in.opts.MaxArgs, 1)
	if in.opts.NoArgs {
		group = 1
	}
	in.job = in.job[:0]
	for n := 0; n < group; n++ {
		more, err := in.takeTuple()
		if err != nil {
			in.done = true
			return nil, err
		}
		if !more {
			in.done = true
			if n == 0 {
				return nil, io.EOF
			}
			break
		}
	}
	if in.opts.NoArgs {
		return []string{}, nil
	}
	return in.keep(in.job), nil
}

// keep copies values into a slab shared by many jobs, so that a job costs
// one small allocation per slab rather than one per job.
func (in *Inputs) keep(values []string) []string {
	n := len(values)
	if n > 64 {
		out := make([]string, n)
		copy(out, values)
		return out
	}
	if len(in.slab)+n > cap(in.slab) {
		in.slab = make([]string, 0, 512)
	}
	start := len(in.slab)
	in.slab = append(in.slab, values...)
	return in.slab[start : start+n : start+n]
}

// takeTuple emits the next tuple: in GNU Parallel's order, or under
// --shuf from all of them read first and shuffled.
func (in *Inputs) takeTuple() (bool, error) {
	if !in.opts.Shuffle {
		return in.nextTuple()
	}
	if in.shuffled == nil {
		in.shuffled = [][]string{}
		for {
			in.job = in.job[:0]
			more, err := in.nextTuple()
			if err != nil {
				return false, err
			}
			if !more {
				break
			}
			in.shuffled = append(in.shuffled, slices.Clone(in.job))
		}
		in.job = in.job[:0]
		rand.Shuffle(len(in.shuffled), func(i, j int) {
			in.shuffled[i], in.shuffled[j] = in.shuffled[j], in.shuffled[i]
		})
	}
	if len(in.shuffled) == 0 {
		return false, nil
	}
	in.emit(in.shuffled[0])
	in.shuffled = in.shuffled[1:]
	return true, nil
}

// nextTuple emits one record of each source, in GNU Parallel's order.
func (in *Inputs) nextTuple() (bool, error) {
	if in.link {
		return in.nextLinked()
	}
	return in.nextNested()
}

func (in *Inputs) emit(cols []string) { in.job = append(in.job, cols...) }

// readStream advances the first source; at its end the first source is
// done, and if it never had a record it counts as one empty value.
func (in *Inputs) readStream() (bool, error) {
	if in.streamEOF {
		return false, nil
	}
	cols, ok, err := in.readRecord(in.stream)
	if err != nil {
		return false, err
	}
	if !ok {
		in.streamEOF = true
		return false, nil
	}
	in.streamCur = cols
	in.streamRecs++
	return true, nil
}

// start reads the first record of the first source and settles GNU
// Parallel's rule for empty sources: no jobs when all are empty, otherwise
// an empty source is one empty value.
func (in *Inputs) start() (bool, error) {
	in.started = true
	ok, err := in.readStream()
	if err != nil {
		return false, err
	}
	if !ok {
		heldAny := false
		for _, h := range in.held {
			heldAny = heldAny || h.rawLen > 0
		}
		if !heldAny {
			in.allEmpty = true
			return false, nil
		}
		in.streamCur = []string{""}
		in.streamRecs = 1
	}
	return true, nil
}

func (in *Inputs) nextNested() (bool, error) {
	if !in.started {
		ok, err := in.start()
		if !ok || err != nil {
			return false, err
		}
		if in.groupLen[0] == 0 {
			return false, nil
		}
	} else if !in.advanceInner() {
		ok, err := in.readStream()
		if !ok || err != nil {
			return false, err
		}
		if in.groupLen[0] >= 0 && in.streamRecs > in.groupLen[0] {
			// Linked with :::+: the shortest member ends the run.
			in.streamEOF = true
			return false, nil
		}
	}
	in.emit(in.streamCur)
	k := in.streamRecs - 1
	for g, members := range in.groups {
		idx := in.odometer[g]
		if g == 0 {
			idx = k
			members = members[1:]
		}
		for _, m := range members {
			in.emit(in.held[m-1].records[idx])
		}
	}
	return true, nil
}

// advanceInner steps the groups after the first, the last fastest; it
// reports false when they wrap around.
func (in *Inputs) advanceInner() bool {
	for g := len(in.groups) - 1; g >= 1; g-- {
		in.odometer[g]++
		if in.odometer[g] < in.groupLen[g] {
			return true
		}
		in.odometer[g] = 0
	}
	return false
}

// nextLinked pairs the sources element-wise as --link does: the longest
// source sets the number of jobs and the shorter ones wrap around.
func (in *Inputs) nextLinked() (bool, error) {
	r := in.round
	if !in.started {
		ok, err := in.start()
		if !ok || err != nil {
			return false, err
		}
		if in.streamEOF {
			in.streamHeld = [][]string{in.streamCur}
			in.streamLen = 1
		} else if r < in.maxHeld {
			in.streamHeld = append(in.streamHeld, in.copyCols(in.streamCur))
		}
	} else {
		var ok bool
		if !in.streamEOF {
			var err error
			ok, err = in.readStream()
			if err != nil {
				return false, err
			}
			if !ok {
				in.streamLen = r
			}
		}
		if ok {
			if r < in.maxHeld {
				in.streamHeld = append(in.streamHeld, in.copyCols(in.streamCur))
			}
		} else {
			if r >= in.maxHeld {
				return false, nil
			}
			in.streamCur = in.streamHeld[r%in.streamLen]
		}
	}
	in.round++
	in.emit(in.streamCur)
	for _, h := range in.held {
		in.emit(h.records[r%len(h.records)])
	}
	return true, nil
}

// copyCols detaches a record from the scratch space readRecord reuses.
func (in *Inputs) copyCols(cols []string) []string {
	return append([]string(nil), cols...)
}

// srcRecordReader splits a stream into records ending with a delimiter of
// one or more bytes. A final record without its delimiter still counts.
type srcRecordReader struct {
	br    *bufio.Reader
	delim []byte
	buf   []byte
	eof   bool
}

func newSrcRecordReader(r io.Reader, delim []byte) *srcRecordReader {
	return &srcRecordReader{br: bufio.NewReaderSize(r, 64<<10), delim: delim}
}

// stop ends the source early, as -E does.
func (rr *srcRecordReader) stop() { rr.eof = true }

// next returns the next record without its delimiter. The bytes are valid
// until the following call.
func (rr *srcRecordReader) next() ([]byte, bool, error) {
	if rr.eof {
		return nil, false, nil
	}
	if cap(rr.buf) > 1<<20 {
		// Let one huge record's buffer go rather than keep it forever.
		rr.buf = nil
	}
	rr.buf = rr.buf[:0]
	last := rr.delim[len(rr.delim)-1]
	for {
		chunk, err := rr.br.ReadSlice(last)
		switch err {
		case nil:
			if len(rr.buf) == 0 && bytes.HasSuffix(chunk, rr.delim) {
				return chunk[:len(chunk)-len(rr.delim)], true, nil
			}
			rr.buf = append(rr.buf, chunk...)
			if bytes.HasSuffix(rr.buf, rr.delim) {
				return rr.buf[:len(rr.buf)-len(rr.delim)], true, nil
			}
		case bufio.ErrBufferFull:
			rr.buf = append(rr.buf, chunk...)
		case io.EOF:
			rr.eof = true
			rr.buf = append(rr.buf, chunk...)
			if len(rr.buf) == 0 {
				return nil, false, nil
			}
			return rr.buf, true, nil
		default:
			rr.eof = true
			return nil, false, err
		}
	}
}
