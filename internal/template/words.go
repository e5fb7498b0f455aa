package template

import "strings"

// shellWord follows one shell word of a command context, to find the -X
// words whose text around the replacement string is plain literal text.
type shellWord struct {
	active     bool
	pieceStart int
	segStart   int
	srcStart   int
	plain      bool
	name       bool // so far an unquoted NAME, so a = makes an assignment
	lit        []byte
	refs       int
	refAt      int
	refKey     valueKey
	refFrom    int
	refTo      int
	refList    []wordRef // every replacement string in the word
}

// wordRef is a replacement string in a shell word: where it falls in the
// word's literal text and in the source.
type wordRef struct {
	litAt    int
	key      valueKey
	from, to int
}

// contextWord is a -X word that holds several replacement strings.
type contextWord struct {
	parts []Part
	raw   []seg // for display: the source text and the references, in order
}

// addLit adds literal text to the word; bare says it stood unquoted and
// unescaped, so that it may still be part of an assignment's NAME.
func (c *compiler) addLit(f *frame, s string, bare bool) {
	if w := c.word(f); w != nil {
		w.lit = append(w.lit, s...)
		if !bare || !isName(s) {
			w.name = false
		}
	}
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func (c *compiler) startWord(at int) {
	f := c.top()
	c.flushLit()
	c.flushSeg(at)
	f.w = shellWord{active: true, pieceStart: len(c.pieces), segStart: len(c.segs), srcStart: at,
		plain: true, name: true, lit: f.w.lit[:0], refList: f.w.refList[:0]}
}

// endWord closes the current word of the top frame, turning a -X word
// whose only replacement string is surrounded by literal text into a
// reference whose values carry that text.
func (c *compiler) endWord() {
	f := c.top()
	w := &f.w
	if !w.active {
		return
	}
	w.active = false
	end := c.pos
	if c.mode != ModeContext || !w.plain || w.refs == 0 {
		return
	}
	if w.refs > 1 {
		c.endContextWord(w, end)
		return
	}
	if w.refKey.index != 0 || !w.refKey.kind.perArg() {
		return
	}
	prefix, suffix := string(w.lit[:w.refAt]), string(w.lit[w.refAt:])
	if prefix == "" && suffix == "" {
		return
	}
	key := w.refKey
	key.prefix, key.suffix = prefix, suffix
	c.pieces = append(c.pieces[:w.pieceStart], piece{ref: true, key: key, q: quoteNone})
	c.plit = c.plit[:0]
	c.segs = append(c.segs[:w.segStart], seg{ref: true, ctx: true, key: key,
		lit:       c.src[w.refFrom:w.refTo],
		rawPrefix: c.src[w.srcStart:w.refFrom], rawSuffix: c.src[w.refTo:end]})
	c.segsAt = end
}

// endContextWord turns a -X word of plain literal text around several
// replacement strings into one reference whose values are the word for
// each argument, as GNU Parallel repeats it: a{}b{}c with 1 and 2 is a1b1c
// a2b2c. A word none of whose replacements takes one value per argument
// ({1}{#}) is left as it is.
func (c *compiler) endContextWord(w *shellWord, end int) {
	repeats := false
	for _, r := range w.refList {
		repeats = repeats || r.key.index == 0 && r.key.kind.perArg()
	}
	if !repeats {
		return
	}
	var parts []Part
	var raw []seg
	lit, src := 0, w.srcStart
	for _, r := range w.refList {
		if r.litAt > lit {
			parts = append(parts, Part{Lit: string(w.lit[lit:r.litAt])})
		}
		if r.from > src {
			raw = append(raw, seg{lit: c.src[src:r.from]})
		}
		parts = append(parts, Part{Kind: r.key.kind, Index: r.key.index, Params: r.key.params})
		raw = append(raw, seg{lit: c.src[r.from:r.to], ref: true, key: r.key})
		lit, src = r.litAt, r.to
	}
	if lit < len(w.lit) {
		parts = append(parts, Part{Lit: string(w.lit[lit:])})
	}
	if src < end {
		raw = append(raw, seg{lit: c.src[src:end]})
	}
	c.contexts = append(c.contexts, contextWord{parts: parts, raw: raw})
	key := valueKey{kind: KindArg, context: len(c.contexts)}
	c.pieces = append(c.pieces[:w.pieceStart], piece{ref: true, key: key, q: quoteNone})
	c.plit = c.plit[:0]
	c.segs = append(c.segs[:w.segStart], seg{ref: true, ctx: true, key: key, parts: raw,
		lit: c.src[w.srcStart:end]})
	c.segsAt = end
}

// contextValues appends the values of a context word with parts, one per
// argument of j.
func contextValues(dst []string, parts []Part, total uint64, j Job) []string {
	var b strings.Builder
	var vals []string
	for _, a := range j.Args {
		b.Reset()
		one := Job{Seq: j.Seq, Slot: j.Slot, Host: j.Host, Args: []string{a}}
		for _, p := range parts {
			switch {
			case p.Kind == 0:
				b.WriteString(p.Lit)
				continue
			case p.Index == 0 && p.Kind.perArg():
				vals = appendValues(vals[:0], p.Kind, 0, &p.Params, total, one)
			default:
				vals = appendValues(vals[:0], p.Kind, p.Index, &p.Params, total, j)
			}
			b.WriteString(strings.Join(vals, " "))
		}
		dst = append(dst, b.String())
	}
	return dst
}
