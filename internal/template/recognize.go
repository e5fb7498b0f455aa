package template

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// token is one replacement string.
type token struct {
	text string
	kind Kind
}

// recognizer finds replacement strings in template text.
type recognizer struct {
	fixed     []token // longest first
	pos       []token // positional forms: {n followed by text; longest first
	header    []string
	arg       string
	positions int
	plus      bool
	chooseK   bool // {choose_k} was seen
	uniq      bool // {uniq} was seen
	regexps   map[regexpID]*regexp.Regexp
}

// regexpID names a compiled pattern: each kind wraps its pattern its way.
type regexpID struct {
	kind    Kind
	pattern string
}

type tokenMatch struct {
	kind   Kind
	index  int
	n      int  // length in the text
	posed  bool // written with a position, as in {2} or {-1.}
	params Params
}

func newRecognizer(opts Options) (*recognizer, error) {
	rp := opts.Replacements
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	all := []token{
		{or(rp.Arg, defaultArg), KindArg},
		{or(rp.NoExt, defaultNoExt), KindNoExt},
		{or(rp.Base, defaultBase), KindBase},
		{or(rp.Dir, defaultDir), KindDir},
		{or(rp.BaseNoExt, defaultBaseNoExt), KindBaseNoExt},
		{or(rp.Seq, defaultSeq), KindSeq},
		{or(rp.Slot, defaultSlot), KindSlot},
	}
	if opts.Plus {
		all = append(all, plusTokens...)
	}
	r := &recognizer{arg: all[0].text, header: opts.Header, positions: max(opts.Positions, 0), plus: opts.Plus}
	seen := make(map[string]Kind, len(all)+1)
	for _, x := range all {
		if k, dup := seen[x.text]; dup {
			if x.kind > KindSlot {
				// A --plus string that -I and the like have taken.
				continue
			}
			return nil, fmt.Errorf("replacement string %q stands for both %s and %s", x.text, k, x.kind)
		}
		seen[x.text] = x.kind
		r.fixed = append(r.fixed, x)
		// GNU Parallel's positional forms exist for replacement strings
		// that start with {: {} gives {3}, {.} gives {3.}, -I {x} gives {3x}.
		if x.kind.perArg() && len(x.text) >= 2 && x.text[0] == '{' && x.text != "{choose_k}" && x.text != "{uniq}" {
			r.pos = append(r.pos, token{x.text[1:], x.kind})
		}
	}
	if _, taken := seen[hostToken]; !taken {
		r.fixed = append(r.fixed, token{hostToken, KindHost})
	}
	byLength := func(a, b token) int { return len(b.text) - len(a.text) }
	slices.SortStableFunc(r.fixed, byLength)
	slices.SortStableFunc(r.pos, byLength)
	return r, nil
}

// String names a kind by its default replacement string.
func (k Kind) String() string {
	switch k {
	case KindArg:
		return defaultArg
	case KindNoExt:
		return defaultNoExt
	case KindBase:
		return defaultBase
	case KindDir:
		return defaultDir
	case KindBaseNoExt:
		return defaultBaseNoExt
	case KindSeq:
		return defaultSeq
	case KindSlot:
		return defaultSlot
	case KindHost:
		return hostToken
	}
	for _, t := range plusTokens {
		if t.kind == k && k != KindShell && k != KindArg {
			return t.text
		}
	}
	for _, f := range dynamicForms {
		if f.kind == k {
			return "{" + f.open + "...}"
		}
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// match returns the longest replacement string at s[i:]. Header names win
// ties, as GNU Parallel rewrites them first.
func (r *recognizer) match(s string, i int) (tokenMatch, bool) {
	var best tokenMatch
	rest := s[i:]
	if r.plus && len(rest) > 1 && rest[0] == '{' {
		// GNU Parallel rewrites the dynamic forms before any other.
		if kind, p, n, ok := matchDynamic(rest[1:]); ok {
			return tokenMatch{kind: kind, n: 1 + n, params: p}, true
		}
	}
	for _, f := range r.fixed {
		if strings.HasPrefix(rest, f.text) {
			best = tokenMatch{kind: f.kind, n: len(f.text)}
			if f.kind == KindShell {
				best.params.With = shellText[f.text]
			}
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
		for k < len(rest) && isSpace(rest[k]) {
			k++
		}
		position := func() int {
			index := maxIndex
			if len(digits) <= 9 {
				index, _ = strconv.Atoi(digits)
			}
			if rest[1] == '-' {
				index = -index
			}
			return index
		}
		if r.plus {
			if kind, p, n, ok := matchDynamic(rest[k:]); ok {
				return tokenMatch{kind: kind, index: position(), n: k + n, posed: true, params: p}, true
			}
		}
		for _, p := range r.pos {
			if strings.HasPrefix(rest[k:], p.text) {
				if n := k + len(p.text); n > best.n {
					best = tokenMatch{kind: p.kind, index: position(), n: n, posed: true}
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
					best = tokenMatch{kind: p.kind, index: col + 1, n: n}
				}
				break
			}
		}
	}
	return best, best.n > 0
}

// check refuses a position that no job can have.
func (r *recognizer) check(s string, m tokenMatch) error {
	text := s[:m.n]
	switch {
	case !m.kind.perArg():
		return nil
	case m.index == 0 && m.posed:
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

// unknownColumn reports a {name} that looks like a header column but is
// none, when there is a header.
func (r *recognizer) unknownColumn(s string, i int) error {
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
func (r *recognizer) scanText(s string) ([]seg, error) {
	var segs []seg
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
			segs = append(segs, seg{lit: s[from:i]})
		}
		key, err := r.key(s[i:i+m.n], m)
		if err != nil {
			return nil, err
		}
		if m.kind == KindShell {
			segs = append(segs, seg{lit: m.params.With})
		} else {
			segs = append(segs, seg{lit: s[i : i+m.n], ref: true, key: key})
		}
		i += m.n
		from = i
	}
	if from < len(s) {
		segs = append(segs, seg{lit: s[from:]})
	}
	return segs, nil
}

// key makes a match's value key, compiling its pattern once per
// recognizer.
func (r *recognizer) key(text string, m tokenMatch) (valueKey, error) {
	switch {
	case m.kind == KindArg && text == "{choose_k}":
		r.chooseK = true
	case m.kind == KindArg && text == "{uniq}":
		r.uniq = true
	}
	key := valueKey{kind: m.kind, index: m.index, params: m.params}
	if m.params.Pattern == "" {
		return key, nil
	}
	id := regexpID{m.kind, m.params.Pattern}
	if re, ok := r.regexps[id]; ok {
		key.params.re = re
		return key, nil
	}
	if err := compileParams(m.kind, &key.params, text); err != nil {
		return key, err
	}
	if r.regexps == nil {
		r.regexps = make(map[regexpID]*regexp.Regexp)
	}
	r.regexps[id] = key.params.re
	return key, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
