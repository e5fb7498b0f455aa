// Package parse owns concurr's command-line grammar: input sources, the
// command template and its replacement strings, and host specifications.
// Its functions are pure apart from reading input files.
package parse

import (
	"concurr/internal/varbin"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Kind says which replacement value a template variable holds.
type Kind uint8

// The replacement kinds, with GNU Parallel's default replacement strings.
const (
	KindArg       Kind = iota + 1 // {}   the argument
	KindNoExt                     // {.}  without its extension
	KindBase                      // {/}  basename
	KindDir                       // {//} dirname
	KindBaseNoExt                 // {/.} basename without extension
	KindSeq                       // {#}  the job's sequence number
	KindSlot                      // {%}  the job slot on its node
	KindHost                      // {host} the name of the host running it
)

// Replacements are the strings that stand for replacement values. Empty
// fields take GNU Parallel's defaults.
type Replacements struct {
	Arg       string // -I, default {}
	NoExt     string // --extensionreplace, default {.}
	Base      string // --basenamereplace, default {/}
	Dir       string // --dirnamereplace, default {//}
	BaseNoExt string // --basenameextensionreplace, default {/.}
	Seq       string // --seqreplace, default {#}
	Slot      string // --slotreplace, default {%}
}

// Mode says how a job's arguments fill a replacement string.
type Mode uint8

// The modes.
const (
	ModeSingle  Mode = iota // one input record per job
	ModeXargs               // -m: several records per job, {} becomes them all
	ModeContext             // -X: several records per job, the word around {} is repeated for each
)

// TemplateOptions control how a template compiles.
type TemplateOptions struct {
	Replacements Replacements
	Header       []string // column names from --header, usable as {name}
	Positions    int      // argument positions per job, to refuse {n} beyond them; 0 skips the check
	Mode         Mode
	Quote        bool // -q: each template word is one literal word
}

// Var is one shell variable that a compiled script references.
type Var struct {
	Name           string
	Kind           Kind
	Index          int    // 0: all arguments; n > 0: the n-th; n < 0: n-th from the end
	Prefix, Suffix string // ModeContext: text repeated around each argument
}

// Template is a compiled command template. Replacement strings have become
// references to shell variables, so that values are data, never code.
type Template struct {
	Words     []string // the template as given, for display
	Script    string   // shell source, parsed once per node
	Vars      []Var
	FromInput bool // no template: each job's arguments are its command
	Options   TemplateOptions

	// display is how Display rebuilds the command line; nil when the
	// template could not be recompiled from its words.
	display *tplDisplay
}

// Job is what a template is expanded with.
type Job struct {
	Seq  uint64
	Slot uint64
	Host string
	Args []string
}

// tplVarPrefix starts the name of every generated variable. The names are
// not exported, so they never reach a job's child processes.
const tplVarPrefix = "__concurr_"

// The default replacement strings. {host} cannot be renamed.
const (
	tplDefaultArg       = "{}"
	tplDefaultNoExt     = "{.}"
	tplDefaultBase      = "{/}"
	tplDefaultDir       = "{//}"
	tplDefaultBaseNoExt = "{/.}"
	tplDefaultSeq       = "{#}"
	tplDefaultSlot      = "{%}"
	tplHost             = "{host}"
)

// tplMaxIndex bounds positional numbers; larger ones select nothing.
const tplMaxIndex = 1 << 30

// Compile compiles template words. It refuses invalid shell syntax and
// positional replacement strings beyond opts.Positions.
//
// The words are joined by single spaces (with opts.Quote each first becomes
// one literal shell word) and scanned with the shell's quoting rules. Each
// replacement string becomes a reference to a generated variable: "${v[@]}"
// where it stands unquoted, so that every value is exactly one word,
// ${v[*]} inside double quotes, and '"${v[*]}"' inside single quotes. A
// replacement string right after a $ or a backslash is shell syntax, not a
// replacement. A template without any replacement string gets " {}"
// appended, as in GNU Parallel; no words at all, or a template that is just
// {}, make a template whose jobs' arguments are their shell source.
func Compile(words []string, opts TemplateOptions) (*Template, error) {
	t := &Template{Words: words, Options: opts}
	text := strings.Join(words, " ")
	if len(words) == 0 {
		t.FromInput = true
		t.display = &tplDisplay{}
		return t, nil
	}
	r, err := newTplRecognizer(opts)
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", text, err)
	}
	if !opts.Quote && strings.TrimSpace(text) == r.arg {
		// GNU Parallel does not quote values for a template that starts with
		// a replacement string; for the template {} alone that means the
		// arguments are the command, which is what FromInput does.
		t.FromInput = true
		t.display = &tplDisplay{}
		return t, nil
	}
	c, err := tplCompileShell(text, words, r, opts)
	if err != nil {
		return nil, err
	}
	t.Script, t.Vars, t.display = c.script, c.vars, c.display
	return t, nil
}

// tplCompiled is what a template compiles to.
type tplCompiled struct {
	script  string
	vars    []Var
	display *tplDisplay
}

func tplCompileShell(text string, words []string, r *tplRecognizer, opts TemplateOptions) (*tplCompiled, error) {
	src := text
	var quoteWords [][]tplSeg
	if opts.Quote {
		var err error
		src, quoteWords, err = tplQuoteWords(words, r)
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", text, err)
		}
	}
	c := &tplCompiler{src: src, r: r, mode: opts.Mode}
	if err := c.run(); err != nil {
		return nil, fmt.Errorf("template %q: %w", text, err)
	}
	if c.nRefs == 0 {
		// No replacement string: the arguments go at the end.
		src += " " + r.arg
		if opts.Quote {
			quoteWords = append(quoteWords, []tplSeg{{ref: true, key: tplKey{kind: KindArg}}})
		}
		c = &tplCompiler{src: src, r: r, mode: opts.Mode}
		if err := c.run(); err != nil {
			return nil, fmt.Errorf("template %q: %w", text, err)
		}
	}
	script, vars := c.render()
	if err := tplCheckSyntax(script); err != nil {
		return nil, fmt.Errorf("template %q: %w", text, err)
	}
	return &tplCompiled{script: script, vars: vars, display: &tplDisplay{segs: c.segs, quoteWords: quoteWords}}, nil
}

// tplQuoteWords makes each word one literal shell word in which replacement
// strings still work, for -q.
func tplQuoteWords(words []string, r *tplRecognizer) (string, [][]tplSeg, error) {
	var b strings.Builder
	quoteWords := make([][]tplSeg, 0, len(words))
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		segs, err := r.scanText(w)
		if err != nil {
			return "", nil, err
		}
		quoteWords = append(quoteWords, segs)
		if w == "" {
			b.WriteString("''")
		}
		for _, s := range segs {
			if s.ref {
				b.WriteString(s.lit)
			} else {
				b.WriteString(ShellQuote(s.lit))
			}
		}
	}
	return b.String(), quoteWords, nil
}

// tplCheckSyntax parses a generated script as bash, which the agent also
// uses, because arrays need it.
func tplCheckSyntax(script string) error {
	_, err := ParseScript(script)
	return err
}

// ParseScript parses shell source as the agent runs it: a compiled
// template's Script, or a job's own command when the template is FromInput.
// A syntax error comes without its line and column, which would point into
// generated code.
func ParseScript(src string) (*syntax.File, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			return nil, errors.New(pe.Text)
		}
		var le syntax.LangError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s is not supported", le.Feature)
		}
		return nil, err
	}
	return f, nil
}

// tplKey identifies a replacement value; occurrences with equal keys share
// one variable.
type tplKey struct {
	kind           Kind
	index          int
	prefix, suffix string
}

// tplQuote is the shell quoting in force where a replacement string stands.
type tplQuote uint8

const (
	tplUnquoted tplQuote = iota
	tplDouble
	tplSingle
	tplANSI  // inside $'...'
	tplParam // inside "${...}"
)

// tplPiece is part of the generated script: literal source, or a reference.
type tplPiece struct {
	lit string
	ref bool
	key tplKey
	q   tplQuote
}

// tplSeg is part of the displayed command: literal template text, or a
// replacement shown as its quoted values. A context segment (-X) repeats
// its raw prefix and suffix around each value.
type tplSeg struct {
	lit                  string // literal text, or for a reference its replacement string
	ref                  bool
	key                  tplKey
	ctx                  bool
	rawPrefix, rawSuffix string
}

// tplDisplay is how a template shows a job's command line.
type tplDisplay struct {
	segs       []tplSeg
	quoteWords [][]tplSeg // with -q: each word, shown quoted as a whole
}

// tplRpl is one replacement string.
type tplRpl struct {
	text string
	kind Kind
}

// tplRecognizer finds replacement strings in template text.
type tplRecognizer struct {
	fixed     []tplRpl // longest first
	pos       []tplRpl // positional forms: {n followed by text; longest first
	header    []string
	arg       string
	positions int
}

type tplMatch struct {
	kind  Kind
	index int
	n     int // length in the text
}

func newTplRecognizer(opts TemplateOptions) (*tplRecognizer, error) {
	rp := opts.Replacements
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	all := []tplRpl{
		{or(rp.Arg, tplDefaultArg), KindArg},
		{or(rp.NoExt, tplDefaultNoExt), KindNoExt},
		{or(rp.Base, tplDefaultBase), KindBase},
		{or(rp.Dir, tplDefaultDir), KindDir},
		{or(rp.BaseNoExt, tplDefaultBaseNoExt), KindBaseNoExt},
		{or(rp.Seq, tplDefaultSeq), KindSeq},
		{or(rp.Slot, tplDefaultSlot), KindSlot},
	}
	r := &tplRecognizer{arg: all[0].text, header: opts.Header, positions: max(opts.Positions, 0)}
	seen := make(map[string]Kind, len(all)+1)
	for _, x := range all {
		if k, dup := seen[x.text]; dup {
			return nil, fmt.Errorf("replacement string %q stands for both %s and %s", x.text, k, x.kind)
		}
		seen[x.text] = x.kind
		r.fixed = append(r.fixed, x)
		// GNU Parallel's positional forms exist for replacement strings
		// that start with {: {} gives {3}, {.} gives {3.}, -I {x} gives {3x}.
		if x.kind <= KindBaseNoExt && len(x.text) >= 2 && x.text[0] == '{' {
			r.pos = append(r.pos, tplRpl{x.text[1:], x.kind})
		}
	}
	if _, taken := seen[tplHost]; !taken {
		r.fixed = append(r.fixed, tplRpl{tplHost, KindHost})
	}
	byLength := func(a, b tplRpl) int { return len(b.text) - len(a.text) }
	slices.SortStableFunc(r.fixed, byLength)
	slices.SortStableFunc(r.pos, byLength)
	return r, nil
}

// String names a kind by its default replacement string.
func (k Kind) String() string {
	switch k {
	case KindArg:
		return tplDefaultArg
	case KindNoExt:
		return tplDefaultNoExt
	case KindBase:
		return tplDefaultBase
	case KindDir:
		return tplDefaultDir
	case KindBaseNoExt:
		return tplDefaultBaseNoExt
	case KindSeq:
		return tplDefaultSeq
	case KindSlot:
		return tplDefaultSlot
	case KindHost:
		return tplHost
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// match returns the longest replacement string at s[i:]. Header names win
// ties, as GNU Parallel rewrites them first.
func (r *tplRecognizer) match(s string, i int) (tplMatch, bool) {
	var best tplMatch
	rest := s[i:]
	for _, f := range r.fixed {
		if strings.HasPrefix(rest, f.text) {
			best = tplMatch{kind: f.kind, n: len(f.text)}
			break
		}
	}
	if len(rest) < 2 || rest[0] != '{' || len(r.pos) == 0 {
		return best, best.n > 0
	}
	k := 1
	if rest[k] == '-' {
		k++
	}
	d := k
	for k < len(rest) && '0' <= rest[k] && rest[k] <= '9' {
		k++
	}
	if k > d {
		digits := rest[d:k]
		for k < len(rest) && tplIsSpace(rest[k]) {
			k++
		}
		for _, p := range r.pos {
			if strings.HasPrefix(rest[k:], p.text) {
				if n := k + len(p.text); n > best.n {
					index := tplMaxIndex
					if len(digits) <= 9 {
						index, _ = strconv.Atoi(digits)
					}
					if rest[1] == '-' {
						index = -index
					}
					best = tplMatch{kind: p.kind, index: index, n: n}
				}
				break
			}
		}
	}
	for col, h := range r.header {
		if h == "" || !strings.HasPrefix(rest[1:], h) {
			continue
		}
		after := rest[1+len(h):]
		for _, p := range r.pos {
			if strings.HasPrefix(after, p.text) {
				if n := 1 + len(h) + len(p.text); n >= best.n {
					best = tplMatch{kind: p.kind, index: col + 1, n: n}
				}
				break
			}
		}
	}
	return best, best.n > 0
}

// check refuses a position that no job can have.
func (r *tplRecognizer) check(s string, m tplMatch) error {
	text := s[:m.n]
	switch {
	case m.kind > KindBaseNoExt:
		return nil
	case m.index == 0 && text != r.fixedText(m.kind):
		return fmt.Errorf("%s: positions count from 1 (or from -1 at the end)", text)
	case r.positions > 0 && (m.index > r.positions || -m.index > r.positions):
		if r.positions == 1 {
			return fmt.Errorf("%s: there is only 1 argument position, so use {1} or {-1}", text)
		}
		return fmt.Errorf("%s: there are only %d argument positions: use {1} to {%d}, or {-1} to {-%d}",
			text, r.positions, r.positions, r.positions)
	}
	return nil
}

func (r *tplRecognizer) fixedText(k Kind) string {
	for _, f := range r.fixed {
		if f.kind == k {
			return f.text
		}
	}
	return ""
}

// unknownColumn reports a {name} that looks like a header column but is
// none, when there is a header.
func (r *tplRecognizer) unknownColumn(s string, i int) error {
	if len(r.header) == 0 || s[i] != '{' {
		return nil
	}
	k := i + 1
	for k < len(s) && (s[k] == '_' || 'a' <= s[k] && s[k] <= 'z' || 'A' <= s[k] && s[k] <= 'Z' ||
		k > i+1 && '0' <= s[k] && s[k] <= '9') {
		k++
	}
	if k == i+1 {
		return nil
	}
	for _, p := range r.pos {
		if strings.HasPrefix(s[k:], p.text) {
			names := make([]string, len(r.header))
			for c, h := range r.header {
				names[c] = "{" + h + "}"
			}
			return fmt.Errorf("%s is not a column of the header; the columns are %s",
				s[i:k+len(p.text)], strings.Join(names, " "))
		}
	}
	return nil
}

// scanText splits text into literal and replacement segments, with no
// regard for shell syntax.
func (r *tplRecognizer) scanText(s string) ([]tplSeg, error) {
	var segs []tplSeg
	from := 0
	for i := 0; i < len(s); {
		m, ok := r.match(s, i)
		if !ok {
			i++
			continue
		}
		if err := r.check(s[i:], m); err != nil {
			return nil, err
		}
		if i > from {
			segs = append(segs, tplSeg{lit: s[from:i]})
		}
		segs = append(segs, tplSeg{lit: s[i : i+m.n], ref: true, key: tplKey{kind: m.kind, index: m.index}})
		i += m.n
		from = i
	}
	if from < len(s) {
		segs = append(segs, tplSeg{lit: s[from:]})
	}
	return segs, nil
}

func tplIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// tplFrameKind is a shell context the scanner can be in.
type tplFrameKind uint8

const (
	tplTop      tplFrameKind = iota
	tplCmdSubst              // $( ... )
	tplBacktick              // ` ... `
	tplArith                 // $(( ... ))
	tplParamExp              // ${ ... }
	tplDQ                    // " ... "
	tplSQ                    // ' ... '
	tplANSIQ                 // $' ... '
	tplComment               // # ... to the end of the line
)

// tplWord follows one shell word of a command context, to find the -X
// words whose text around the replacement string is plain literal text.
type tplWord struct {
	active     bool
	pieceStart int
	segStart   int
	srcStart   int
	plain      bool
	name       bool // so far an unquoted NAME, so a = makes an assignment
	lit        []byte
	refs       int
	refAt      int
	refKey     tplKey
	refFrom    int
	refTo      int
}

type tplFrame struct {
	kind  tplFrameKind
	depth int
	owner int // the frame whose word this text belongs to, or -1
	w     tplWord
}

// tplCompiler turns template text into a script and display segments.
type tplCompiler struct {
	src    string
	r      *tplRecognizer
	mode   Mode
	frames []tplFrame
	pieces []tplPiece
	plit   []byte // literal script text not yet in pieces
	segs   []tplSeg
	segsAt int // source offset of literal text not yet in segs
	nRefs  int
	pos    int
}

func (c *tplCompiler) top() *tplFrame { return &c.frames[len(c.frames)-1] }

func (c *tplCompiler) tracksWords(k tplFrameKind) bool {
	return k == tplTop || k == tplCmdSubst || k == tplBacktick
}

func (c *tplCompiler) push(k tplFrameKind) {
	owner := -1
	parent := c.top()
	switch k {
	case tplDQ, tplSQ, tplANSIQ:
		owner = parent.owner
	case tplCmdSubst, tplBacktick:
		owner = len(c.frames)
	}
	if k != tplDQ && k != tplSQ {
		c.taint(parent)
	}
	c.frames = append(c.frames, tplFrame{kind: k, owner: owner})
}

func (c *tplCompiler) pop() {
	if c.tracksWords(c.top().kind) {
		c.endWord()
	}
	c.frames = c.frames[:len(c.frames)-1]
}

// word returns the word that text in frame f belongs to, or nil.
func (c *tplCompiler) word(f *tplFrame) *tplWord {
	if f.owner < 0 || !c.frames[f.owner].w.active {
		return nil
	}
	return &c.frames[f.owner].w
}

func (c *tplCompiler) taint(f *tplFrame) {
	if w := c.word(f); w != nil {
		w.plain = false
		w.name = false
	}
}

// addLit adds literal text to the word; bare says it stood unquoted and
// unescaped, so that it may still be part of an assignment's NAME.
func (c *tplCompiler) addLit(f *tplFrame, s string, bare bool) {
	if w := c.word(f); w != nil {
		w.lit = append(w.lit, s...)
		if !bare || !tplIsName(s) {
			w.name = false
		}
	}
}

func tplIsName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func (c *tplCompiler) flushLit() {
	if len(c.plit) > 0 {
		c.pieces = append(c.pieces, tplPiece{lit: string(c.plit)})
		c.plit = c.plit[:0]
	}
}

func (c *tplCompiler) flushSeg(to int) {
	if to > c.segsAt {
		c.segs = append(c.segs, tplSeg{lit: c.src[c.segsAt:to]})
	}
	c.segsAt = to
}

func (c *tplCompiler) startWord(at int) {
	f := c.top()
	c.flushLit()
	c.flushSeg(at)
	f.w = tplWord{active: true, pieceStart: len(c.pieces), segStart: len(c.segs), srcStart: at,
		plain: true, name: true, lit: f.w.lit[:0]}
}

// endWord closes the current word of the top frame, turning a -X word
// whose only replacement string is surrounded by literal text into a
// reference whose values carry that text.
func (c *tplCompiler) endWord() {
	f := c.top()
	w := &f.w
	if !w.active {
		return
	}
	w.active = false
	end := c.pos
	if c.mode != ModeContext || !w.plain || w.refs != 1 || w.refKey.index != 0 || w.refKey.kind > KindBaseNoExt {
		return
	}
	prefix, suffix := string(w.lit[:w.refAt]), string(w.lit[w.refAt:])
	if prefix == "" && suffix == "" {
		return
	}
	key := tplKey{kind: w.refKey.kind, prefix: prefix, suffix: suffix}
	c.pieces = append(c.pieces[:w.pieceStart], tplPiece{ref: true, key: key, q: tplUnquoted})
	c.plit = c.plit[:0]
	c.segs = append(c.segs[:w.segStart], tplSeg{ref: true, ctx: true, key: key,
		lit:       c.src[w.refFrom:w.refTo],
		rawPrefix: c.src[w.srcStart:w.refFrom], rawSuffix: c.src[w.refTo:end]})
	c.segsAt = end
}

func (c *tplCompiler) emit(s string) { c.plit = append(c.plit, s...) }

// unquotedParam reports whether the current position is inside a ${...}
// that is not itself in double quotes. mvdan.cc/sh splits such an
// expansion's result into words even where its text was quoted, so a
// replacement there cannot be kept one word.
func (c *tplCompiler) unquotedParam() bool {
	for i := len(c.frames) - 1; i >= 0; i-- {
		switch c.frames[i].kind {
		case tplCmdSubst, tplBacktick, tplArith, tplTop:
			return false
		case tplParamExp:
			for k := i - 1; k >= 0; k-- {
				switch c.frames[k].kind {
				case tplParamExp:
					continue
				case tplDQ:
					return false
				}
				return true
			}
		}
	}
	return false
}

func (c *tplCompiler) ref(f *tplFrame, m tplMatch, at int) {
	key := tplKey{kind: m.kind, index: m.index}
	q := tplUnquoted
	switch f.kind {
	case tplDQ:
		q = tplDouble
	case tplSQ:
		q = tplSingle
	case tplANSIQ:
		q = tplANSI
	case tplParamExp:
		q = tplParam
	}
	if w := c.word(f); w != nil {
		w.refs++
		w.name = false
		if w.refs == 1 {
			w.refAt, w.refKey, w.refFrom, w.refTo = len(w.lit), key, at, at+m.n
		}
	}
	c.flushLit()
	c.flushSeg(at)
	c.pieces = append(c.pieces, tplPiece{ref: true, key: key, q: q})
	c.segs = append(c.segs, tplSeg{lit: c.src[at : at+m.n], ref: true, key: key})
	c.segsAt = at + m.n
	c.nRefs++
}

func (c *tplCompiler) lit1(f *tplFrame, bare bool) {
	ch := c.src[c.pos : c.pos+1]
	c.emit(ch)
	c.addLit(f, ch, bare)
	c.pos++
}

// tryRef turns a replacement string at the current position into a
// reference.
func (c *tplCompiler) tryRef(f *tplFrame) (bool, error) {
	m, ok := c.r.match(c.src, c.pos)
	if !ok {
		return false, nil
	}
	if err := c.r.check(c.src[c.pos:], m); err != nil {
		return false, err
	}
	if c.unquotedParam() {
		return false, fmt.Errorf("%s inside ${...} needs double quotes around the ${...}", c.src[c.pos:c.pos+m.n])
	}
	c.ref(f, m, c.pos)
	c.pos += m.n
	return true, nil
}

// dollar copies a $ expansion's opening, entering its context.
func (c *tplCompiler) dollar(f *tplFrame, unquoted bool) {
	s, i := c.src, c.pos
	c.taint(f)
	if i+1 >= len(s) {
		c.emit("$")
		c.pos++
		return
	}
	switch n := s[i+1]; {
	case n == '\'' && unquoted:
		c.emit("$'")
		c.pos += 2
		c.push(tplANSIQ)
	case n == '"' && unquoted:
		c.emit(`$"`)
		c.pos += 2
		c.push(tplDQ)
	case n == '(' && i+2 < len(s) && s[i+2] == '(':
		c.emit("$((")
		c.pos += 3
		c.push(tplArith)
	case n == '(':
		c.emit("$(")
		c.pos += 2
		c.push(tplCmdSubst)
	case n == '{':
		c.emit("${")
		c.pos += 2
		c.push(tplParamExp)
	case strings.IndexByte("@*#?-$!0123456789", n) >= 0:
		// Special parameters: with -I @, $@ stays the shell's.
		c.emit(s[i : i+2])
		c.pos += 2
	case n == '_' || 'a' <= n && n <= 'z' || 'A' <= n && n <= 'Z':
		k := i + 2
		for k < len(s) && tplIsName(s[k:k+1]) {
			k++
		}
		c.emit(s[i:k])
		c.pos = k
	default:
		c.emit("$")
		c.pos++
	}
}

func tplIsBlank(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\n' }

func tplIsMeta(ch byte) bool {
	switch ch {
	case ';', '&', '|', '(', ')', '<', '>':
		return true
	}
	return false
}

// run scans the source once, tracking the shell's quoting, and fills
// pieces and segs.
func (c *tplCompiler) run() error {
	c.frames = append(c.frames[:0], tplFrame{kind: tplTop, owner: 0})
	s := c.src
	for c.pos < len(s) {
		f := c.top()
		ch := s[c.pos]
		var next byte
		if c.pos+1 < len(s) {
			next = s[c.pos+1]
		}
		switch f.kind {
		case tplSQ:
			if ch == '\'' {
				c.emit("'")
				c.pos++
				c.pop()
				continue
			}
			if ok, err := c.tryRef(f); err != nil {
				return err
			} else if ok {
				continue
			}
			c.lit1(f, false)
		case tplANSIQ:
			switch {
			case ch == '\\' && c.pos+1 < len(s):
				c.emit(s[c.pos : c.pos+2])
				c.pos += 2
			case ch == '\'':
				c.emit("'")
				c.pos++
				c.pop()
			default:
				if ok, err := c.tryRef(f); err != nil {
					return err
				} else if ok {
					continue
				}
				c.lit1(f, false)
			}
		case tplDQ:
			switch ch {
			case '"':
				c.emit(`"`)
				c.pos++
				c.pop()
			case '\\':
				c.taint(f)
				if strings.IndexByte("$`\"\\\n", next) >= 0 && c.pos+1 < len(s) {
					c.emit(s[c.pos : c.pos+2])
					c.pos += 2
					continue
				}
				// A backslash that escapes nothing is literal; before a
				// replacement it must not escape the reference's $.
				if _, ok := c.r.match(s, c.pos+1); ok && c.pos+1 < len(s) {
					c.emit(`\\`)
				} else {
					c.emit(`\`)
				}
				c.pos++
			case '$':
				c.dollar(f, false)
			case '`':
				c.emit("`")
				c.pos++
				c.push(tplBacktick)
			default:
				if ok, err := c.tryRef(f); err != nil {
					return err
				} else if ok {
					continue
				}
				c.lit1(f, false)
			}
		case tplComment:
			if ch == '\n' {
				c.pop()
				continue
			}
			if ok, err := c.tryRef(f); err != nil {
				return err
			} else if ok {
				continue
			}
			c.emit(s[c.pos : c.pos+1])
			c.pos++
		default:
			if err := c.unquoted(f, ch, next); err != nil {
				return err
			}
		}
	}
	for len(c.frames) > 0 {
		c.pop()
	}
	c.flushLit()
	c.flushSeg(len(s))
	return nil
}

// unquoted handles one step in a context of unquoted shell words: the top
// level, $(...), `...`, $((...)) and ${...}.
func (c *tplCompiler) unquoted(f *tplFrame, ch, next byte) error {
	s := c.src
	tracks := c.tracksWords(f.kind)
	if tracks && !f.w.active && !tplIsBlank(ch) && !tplIsMeta(ch) {
		if ch == '#' {
			c.emit("#")
			c.pos++
			c.frames = append(c.frames, tplFrame{kind: tplComment, owner: -1})
			return nil
		}
		c.startWord(c.pos)
	}
	switch ch {
	case '\\':
		if c.pos+1 >= len(s) {
			c.lit1(f, false)
			return nil
		}
		c.emit(s[c.pos : c.pos+2])
		if next == '\n' {
			c.taint(f)
		} else {
			c.addLit(f, s[c.pos+1:c.pos+2], false)
		}
		c.pos += 2
		return nil
	case '\'':
		c.emit("'")
		c.pos++
		c.push(tplSQ)
		return nil
	case '"':
		c.emit(`"`)
		c.pos++
		c.push(tplDQ)
		return nil
	case '$':
		c.dollar(f, true)
		return nil
	case '`':
		c.emit("`")
		c.pos++
		if f.kind == tplBacktick {
			c.pop()
		} else {
			c.push(tplBacktick)
		}
		return nil
	}
	if ok, err := c.tryRef(f); err != nil || ok {
		return err
	}
	switch f.kind {
	case tplCmdSubst:
		switch {
		case ch == '(':
			f.depth++
		case ch == ')' && f.depth == 0:
			c.pop()
			c.emit(")")
			c.pos++
			return nil
		case ch == ')':
			f.depth--
		}
	case tplArith:
		switch {
		case ch == '(':
			f.depth++
		case ch == ')' && f.depth == 0 && next == ')':
			c.emit("))")
			c.pos += 2
			c.pop()
			return nil
		case ch == ')' && f.depth > 0:
			f.depth--
		}
	case tplParamExp:
		switch {
		case ch == '{':
			f.depth++
		case ch == '}' && f.depth == 0:
			c.emit("}")
			c.pos++
			c.pop()
			return nil
		case ch == '}':
			f.depth--
		}
	}
	if tracks && (tplIsBlank(ch) || tplIsMeta(ch)) {
		c.endWord()
		c.emit(s[c.pos : c.pos+1])
		c.pos++
		return nil
	}
	if tracks {
		if err := c.r.unknownColumn(s, c.pos); err != nil {
			return err
		}
		if w := c.word(f); w != nil {
			switch {
			case strings.IndexByte("*?[]{}~", ch) >= 0:
				c.taint(f)
			case ch == '=' && w.name && len(w.lit) > 0:
				c.taint(f)
			}
		}
	}
	c.lit1(f, true)
	return nil
}

// render names the variables, one per distinct replacement, and writes
// the script.
func (c *tplCompiler) render() (string, []Var) {
	names := make(map[tplKey]string)
	var vars []Var
	var b strings.Builder
	for _, p := range c.pieces {
		if !p.ref {
			b.WriteString(p.lit)
			continue
		}
		name, ok := names[p.key]
		if !ok {
			name = tplVarPrefix + strconv.Itoa(len(vars)+1)
			names[p.key] = name
			vars = append(vars, Var{Name: name, Kind: p.key.kind, Index: p.key.index, Prefix: p.key.prefix, Suffix: p.key.suffix})
		}
		switch p.q {
		case tplUnquoted:
			b.WriteString(`"${` + name + `[@]}"`)
		case tplDouble:
			b.WriteString(`${` + name + `[*]}`)
		case tplSingle:
			b.WriteString(`'"${` + name + `[*]}"'`)
		case tplANSI:
			b.WriteString(`'"${` + name + `[*]}"$'`)
		case tplParam:
			// Only reached inside double quotes: see unquotedParam.
			b.WriteString(`${` + name + `[*]}`)
		}
	}
	return b.String(), vars
}

// Bind computes each variable's values for job j and passes them to set, in
// the order of t.Vars. A list of one element is a plain string. The list is
// lent for the call only: set must not modify it and must copy what it
// keeps.
func (t *Template) Bind(j Job, set func(v *Var, values []string)) { t.bind(j, set) }

// Display returns the command as GNU Parallel would show it with --dry-run,
// -v and in the job log: replacement values shell-quoted in place.
func (t *Template) Display(j Job) string {
	if t.FromInput {
		return strings.Join(j.Args, " ")
	}
	d := t.display
	if d == nil {
		return strings.Join(t.Words, " ")
	}
	var b []byte
	if d.quoteWords != nil {
		// GNU Parallel's -q quotes each word with its values in place.
		for i, w := range d.quoteWords {
			if i > 0 {
				b = append(b, ' ')
			}
			b = AppendShellQuote(b, tplExpand(w, j))
		}
		return string(b)
	}
	var vals []string
	for _, s := range d.segs {
		if !s.ref {
			b = append(b, s.lit...)
			continue
		}
		vals = tplAppendValues(vals[:0], s.key.kind, s.key.index, j)
		for k, v := range vals {
			if k > 0 {
				b = append(b, ' ')
			}
			b = append(b, s.rawPrefix...)
			b = AppendShellQuote(b, v)
			b = append(b, s.rawSuffix...)
		}
	}
	return string(b)
}

// tplExpand replaces references with their raw values, several joined by
// spaces.
func tplExpand(segs []tplSeg, j Job) string {
	var b strings.Builder
	var vals []string
	for _, s := range segs {
		if !s.ref {
			b.WriteString(s.lit)
			continue
		}
		vals = tplAppendValues(vals[:0], s.key.kind, s.key.index, j)
		for k, v := range vals {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// Text is text with replacement strings but no shell syntax, such as
// --tagstring, compiled once for many jobs.
type Text struct{ segs []tplSeg }

// CompileText finds the replacement strings in text.
func CompileText(text string, opts TemplateOptions) (*Text, error) {
	r, err := newTplRecognizer(opts)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	segs, err := r.scanText(text)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	return &Text{segs: segs}, nil
}

// Expand returns the text with job j's raw values in place; several values
// are joined by spaces.
func (x *Text) Expand(j Job) string { return tplExpand(x.segs, j) }

// ExpandText replaces the replacement strings in text with their unquoted
// values, as --tagstring does.
func ExpandText(text string, opts TemplateOptions, j Job) (string, error) {
	x, err := CompileText(text, opts)
	if err != nil {
		return "", err
	}
	return x.Expand(j), nil
}

// tplFormat versions the binary form; a decoder refuses others.
const tplFormat = 1

// MarshalBinary encodes the template for the wire: unsigned varints and
// length-prefixed strings, as in the protocol's frames.
func (t *Template) MarshalBinary() ([]byte, error) {
	b := binary.AppendUvarint(nil, tplFormat)
	b = varbin.AppendStrings(b, t.Words)
	b = varbin.AppendString(b, t.Script)
	b = binary.AppendUvarint(b, uint64(len(t.Vars)))
	for _, v := range t.Vars {
		b = varbin.AppendString(b, v.Name)
		b = binary.AppendUvarint(b, uint64(v.Kind))
		b = binary.AppendVarint(b, int64(v.Index))
		b = varbin.AppendString(b, v.Prefix)
		b = varbin.AppendString(b, v.Suffix)
	}
	b = varbin.AppendBool(b, t.FromInput)
	o := t.Options
	rp := o.Replacements
	for _, s := range []string{rp.Arg, rp.NoExt, rp.Base, rp.Dir, rp.BaseNoExt, rp.Seq, rp.Slot} {
		b = varbin.AppendString(b, s)
	}
	b = varbin.AppendStrings(b, o.Header)
	b = binary.AppendUvarint(b, uint64(max(o.Positions, 0)))
	b = binary.AppendUvarint(b, uint64(o.Mode))
	b = varbin.AppendBool(b, o.Quote)
	return b, nil
}

// UnmarshalTemplate decodes a template encoded by MarshalBinary.
func UnmarshalTemplate(b []byte) (*Template, error) {
	d := varbin.NewDecoder(b)
	if v := d.Uvarint(); d.Err() == nil && v != tplFormat {
		return nil, fmt.Errorf("decode template: format %d, want %d", v, tplFormat)
	}
	t := &Template{Words: d.Strings(), Script: d.String()}
	n := d.Count()
	if n > 0 {
		t.Vars = make([]Var, n)
	}
	for i := range t.Vars {
		v := &t.Vars[i]
		v.Name = d.String()
		kind := d.Uvarint()
		index := d.Varint()
		v.Prefix, v.Suffix = d.String(), d.String()
		if d.Err() != nil {
			break
		}
		if kind < uint64(KindArg) || kind > uint64(KindHost) {
			return nil, fmt.Errorf("decode template: variable %q has unknown kind %d", v.Name, kind)
		}
		if index > tplMaxIndex || index < -tplMaxIndex {
			return nil, fmt.Errorf("decode template: variable %q has position %d out of range", v.Name, index)
		}
		v.Kind, v.Index = Kind(kind), int(index)
	}
	t.FromInput = d.Bool()
	rp := &t.Options.Replacements
	for _, s := range []*string{&rp.Arg, &rp.NoExt, &rp.Base, &rp.Dir, &rp.BaseNoExt, &rp.Seq, &rp.Slot} {
		*s = d.String()
	}
	t.Options.Header = d.Strings()
	positions, mode := d.Uvarint(), d.Uvarint()
	t.Options.Quote = d.Bool()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	if positions > tplMaxIndex {
		return nil, fmt.Errorf("decode template: %d argument positions is out of range", positions)
	}
	if mode > uint64(ModeContext) {
		return nil, fmt.Errorf("decode template: unknown mode %d", mode)
	}
	t.Options.Positions, t.Options.Mode = int(positions), Mode(mode)
	// The display form is not sent: it is the same compilation again.
	if t.FromInput {
		t.display = &tplDisplay{}
	} else if again, err := Compile(t.Words, t.Options); err == nil {
		t.display = again.display
	}
	return t, nil
}
