package template

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// frameKind is a shell context the scanner can be in.
type frameKind uint8

const (
	frameTop      frameKind = iota
	frameCmdSubst           // $( ... )
	frameBacktick           // ` ... `
	frameArith              // $(( ... ))
	frameParamExp           // ${ ... }
	frameDQ                 // " ... "
	frameSQ                 // ' ... '
	frameANSIQ              // $' ... '
	frameComment            // # ... to the end of the line
)

type frame struct {
	kind  frameKind
	depth int
	owner int // the frame whose word this text belongs to, or -1
	w     shellWord
}

// compiler turns template text into a script and display segments.
type compiler struct {
	src    string
	r      *recognizer
	mode   Mode
	frames []frame
	pieces []piece
	plit   []byte // literal script text not yet in pieces
	segs   []seg
	segsAt int // source offset of literal text not yet in segs
	nRefs  int
	pos    int

	badBytes map[int]bool // offsets of bytes that are not UTF-8, once asked
	// contexts are the -X words that hold several replacement strings.
	contexts []contextWord
}

func (c *compiler) top() *frame { return &c.frames[len(c.frames)-1] }

func (c *compiler) tracksWords(k frameKind) bool {
	return k == frameTop || k == frameCmdSubst || k == frameBacktick
}

func (c *compiler) push(k frameKind) {
	owner := -1
	parent := c.top()
	switch k {
	case frameDQ, frameSQ, frameANSIQ:
		owner = parent.owner
	case frameCmdSubst, frameBacktick:
		owner = len(c.frames)
	}
	if k != frameDQ && k != frameSQ {
		c.taint(parent)
	}
	c.frames = append(c.frames, frame{kind: k, owner: owner})
}

func (c *compiler) pop() {
	if c.tracksWords(c.top().kind) {
		c.endWord()
	}
	c.frames = c.frames[:len(c.frames)-1]
}

// word returns the word that text in frame f belongs to, or nil.
func (c *compiler) word(f *frame) *shellWord {
	if f.owner < 0 || !c.frames[f.owner].w.active {
		return nil
	}
	return &c.frames[f.owner].w
}

func (c *compiler) taint(f *frame) {
	if w := c.word(f); w != nil {
		w.plain = false
		w.name = false
	}
}

func (c *compiler) flushLit() {
	if len(c.plit) > 0 {
		c.pieces = append(c.pieces, piece{lit: string(c.plit)})
		c.plit = c.plit[:0]
	}
}

func (c *compiler) flushSeg(to int) {
	if to > c.segsAt {
		c.segs = append(c.segs, seg{lit: c.src[c.segsAt:to]})
	}
	c.segsAt = to
}

func (c *compiler) emit(s string) { c.plit = append(c.plit, s...) }

// unquotedParam reports whether the current position is inside a ${...}
// that is not itself in double quotes. mvdan.cc/sh splits such an
// expansion's result into words even where its text was quoted, so a
// replacement there cannot be kept one word.
func (c *compiler) unquotedParam() bool {
	for i := len(c.frames) - 1; i >= 0; i-- {
		switch c.frames[i].kind {
		case frameCmdSubst, frameBacktick, frameArith, frameTop:
			return false
		case frameParamExp:
			for k := i - 1; k >= 0; k-- {
				switch c.frames[k].kind {
				case frameParamExp:
					continue
				case frameDQ:
					return false
				}
				return true
			}
		}
	}
	return false
}

func (c *compiler) ref(f *frame, m tokenMatch, at int) error {
	key, err := c.r.key(c.src[at:at+m.n], m)
	if err != nil {
		return err
	}
	if m.kind == KindShell {
		// GNU Parallel's shorthand for a variable is shell text, unquoted.
		c.taint(f)
		c.emit(m.params.With)
		c.addLit(f, m.params.With, false)
		c.flushSeg(at)
		c.segs = append(c.segs, seg{lit: m.params.With})
		c.segsAt = at + m.n
		c.nRefs++
		return nil
	}
	q := quoteNone
	switch f.kind {
	case frameDQ:
		q = quoteDouble
	case frameSQ:
		q = quoteSingle
	case frameANSIQ:
		q = quoteANSI
	case frameParamExp:
		q = quoteParam
	}
	if w := c.word(f); w != nil {
		w.refs++
		w.name = false
		if w.refs == 1 {
			w.refAt, w.refKey, w.refFrom, w.refTo = len(w.lit), key, at, at+m.n
		}
		w.refList = append(w.refList, wordRef{litAt: len(w.lit), key: key, from: at, to: at + m.n})
	}
	c.flushLit()
	c.flushSeg(at)
	c.pieces = append(c.pieces, piece{ref: true, key: key, q: q})
	c.segs = append(c.segs, seg{lit: c.src[at : at+m.n], ref: true, key: key})
	c.segsAt = at + m.n
	c.nRefs++
	return nil
}

func (c *compiler) lit1(f *frame, bare bool) {
	ch := c.src[c.pos : c.pos+1]
	if c.notUTF8(c.pos) {
		c.emitByte(f.kind, ch[0])
	} else {
		c.emit(ch)
	}
	c.addLit(f, ch, bare)
	c.pos++
}

// notUTF8 reports whether the byte at i is not part of valid UTF-8. The
// shell parser takes only UTF-8 source, so such bytes of a template reach
// the script as $'\xHH' escapes, which the shell turns back into the byte.
func (c *compiler) notUTF8(i int) bool {
	if c.badBytes == nil {
		c.badBytes = make(map[int]bool)
		for k := 0; k < len(c.src); {
			r, n := utf8.DecodeRuneInString(c.src[k:])
			if r == utf8.RuneError && n == 1 {
				c.badBytes[k] = true
			}
			k += n
		}
	}
	return c.badBytes[i]
}

// emitByte writes a byte that is not UTF-8 as an escape that means the
// byte itself where it stands.
func (c *compiler) emitByte(k frameKind, b byte) {
	esc := fmt.Sprintf(`\x%02x`, b)
	switch k {
	case frameANSIQ:
		c.emit(esc)
	case frameDQ:
		c.emit(`"$'` + esc + `'"`)
	case frameSQ:
		c.emit(`'$'` + esc + `''`)
	case frameComment:
		// Nothing runs it.
	default:
		c.emit(`$'` + esc + `'`)
	}
}

// tryRef turns a replacement string at the current position into a
// reference.
func (c *compiler) tryRef(f *frame) (bool, error) {
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
	if err := c.ref(f, m, c.pos); err != nil {
		return false, err
	}
	c.pos += m.n
	return true, nil
}

// dollar copies a $ expansion's opening, entering its context.
func (c *compiler) dollar(f *frame, unquoted bool) {
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
		c.push(frameANSIQ)
	case n == '"' && unquoted:
		c.emit(`$"`)
		c.pos += 2
		c.push(frameDQ)
	case n == '(' && i+2 < len(s) && s[i+2] == '(':
		c.emit("$((")
		c.pos += 3
		c.push(frameArith)
	case n == '(':
		c.emit("$(")
		c.pos += 2
		c.push(frameCmdSubst)
	case n == '{':
		c.emit("${")
		c.pos += 2
		c.push(frameParamExp)
	case strings.IndexByte("@*#?-$!0123456789", n) >= 0:
		// Special parameters: with -I @, $@ stays the shell's.
		c.emit(s[i : i+2])
		c.pos += 2
	case n == '_' || 'a' <= n && n <= 'z' || 'A' <= n && n <= 'Z':
		k := i + 2
		for k < len(s) && isName(s[k:k+1]) {
			k++
		}
		c.emit(s[i:k])
		c.pos = k
	default:
		c.emit("$")
		c.pos++
	}
}

func isBlank(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\n' }

func isMeta(ch byte) bool {
	switch ch {
	case ';', '&', '|', '(', ')', '<', '>':
		return true
	}
	return false
}

// run scans the source once, tracking the shell's quoting, and fills
// pieces and segs.
func (c *compiler) run() error {
	c.frames = append(c.frames[:0], frame{kind: frameTop, owner: 0})
	s := c.src
	for c.pos < len(s) {
		f := c.top()
		ch := s[c.pos]
		var next byte
		if c.pos+1 < len(s) {
			next = s[c.pos+1]
		}
		var err error
		switch f.kind {
		case frameSQ:
			if ch == '\'' {
				c.closeFrame("'")
				continue
			}
			err = c.refOrLit(f)
		case frameANSIQ:
			switch {
			case ch == '\\' && c.pos+1 < len(s) && c.notUTF8(c.pos+1):
				c.emit(`\\`)
				c.pos++
			case ch == '\\' && c.pos+1 < len(s):
				c.emit(s[c.pos : c.pos+2])
				c.pos += 2
			case ch == '\'':
				c.closeFrame("'")
			default:
				err = c.refOrLit(f)
			}
		case frameDQ:
			switch ch {
			case '"':
				c.closeFrame(`"`)
			case '\\':
				c.taint(f)
				if strings.IndexByte("$`\"\\\n", next) >= 0 && c.pos+1 < len(s) {
					c.emit(s[c.pos : c.pos+2])
					c.pos += 2
					continue
				}
				// A backslash that escapes nothing is literal; before a
				// replacement it must not escape the reference's $.
				if _, ok := c.r.match(s, c.pos+1); ok && c.pos+1 < len(s) || c.notUTF8(c.pos+1) {
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
				c.push(frameBacktick)
			default:
				err = c.refOrLit(f)
			}
		case frameComment:
			if ch == '\n' {
				c.pop()
				continue
			}
			err = c.refOrLit(f)
		default:
			err = c.unquoted(f, ch, next)
		}
		if err != nil {
			return err
		}
	}
	for len(c.frames) > 0 {
		c.pop()
	}
	c.flushLit()
	c.flushSeg(len(s))
	return nil
}

// closeFrame copies the quote that ends the top frame and leaves it.
func (c *compiler) closeFrame(quote string) {
	c.emit(quote)
	c.pos += len(quote)
	c.pop()
}

// refOrLit copies one step of quoted or commented text: a replacement
// string as a reference, else one literal byte. In a comment the byte
// belongs to no word, so it is only copied.
func (c *compiler) refOrLit(f *frame) error {
	if ok, err := c.tryRef(f); err != nil || ok {
		return err
	}
	c.lit1(f, false)
	return nil
}

// unquoted handles one step in a context of unquoted shell words: the top
// level, $(...), `...`, $((...)) and ${...}.
func (c *compiler) unquoted(f *frame, ch, next byte) error {
	s := c.src
	tracks := c.tracksWords(f.kind)
	if tracks && !f.w.active && !isBlank(ch) && !isMeta(ch) {
		if ch == '#' {
			c.emit("#")
			c.pos++
			c.frames = append(c.frames, frame{kind: frameComment, owner: -1})
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
		if c.notUTF8(c.pos + 1) {
			c.emitByte(frameTop, next)
		} else {
			c.emit(s[c.pos : c.pos+2])
		}
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
		c.push(frameSQ)
		return nil
	case '"':
		c.emit(`"`)
		c.pos++
		c.push(frameDQ)
		return nil
	case '$':
		c.dollar(f, true)
		return nil
	case '`':
		c.emit("`")
		c.pos++
		if f.kind == frameBacktick {
			c.pop()
		} else {
			c.push(frameBacktick)
		}
		return nil
	}
	if ok, err := c.tryRef(f); err != nil || ok {
		return err
	}
	switch f.kind {
	case frameCmdSubst:
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
	case frameArith:
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
	case frameParamExp:
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
	if tracks && (isBlank(ch) || isMeta(ch)) {
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
