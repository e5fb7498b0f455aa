package template

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
		plain: true, name: true, lit: f.w.lit[:0]}
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
	if c.mode != ModeContext || !w.plain || w.refs != 1 || w.refKey.index != 0 || !w.refKey.kind.perArg() {
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
