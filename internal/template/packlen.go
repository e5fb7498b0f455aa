package template

import "strings"

// PackLength measures a packed job's command line (-m, -X) as GNU Parallel
// 20221122 does (CommandLine::len), so that the same inputs make the same
// jobs: the template's words without their replacement strings, plus each
// replacement string's shell-quoted values as many times as it occurs, plus
// the spaces between them; under -X each word around a replacement string
// is counted once per argument. The length of a job is Base plus the sum of
// Record over its records, times Factor.
type PackLength struct {
	Base   int
	Factor int // 3 with -q, GNU Parallel's pessimistic allowance for quoting

	context    bool // -X: words around replacement strings repeat
	contextLen int  // the literal text of the words that hold replacement strings
	groups     int  // how many such words
	counts     map[valueKey]int
}

// PackLength returns the measure of t's packed jobs.
func (t *Template) PackLength() (*PackLength, error) {
	l := &PackLength{Factor: 1, context: t.Options.Mode == ModeContext, counts: map[valueKey]int{}}
	if t.Options.Quote {
		l.Factor = 3
	}
	r, err := newRecognizer(t.Options)
	if err != nil {
		return nil, err
	}
	words := t.Words
	if t.FromInput && len(words) > 0 {
		words = nil // the template {} alone
	}
	refs := 0
	nonContext := 0
	for _, w := range words {
		segs, err := r.scanText(w)
		if err != nil {
			return nil, err
		}
		// A shell word (GNU Parallel's \S+) that holds a replacement
		// string is context; everything else, spaces included, is not.
		inWord, wordHasRef, wordLit := false, false, 0
		endWord := func() {
			if wordHasRef {
				l.contextLen += wordLit
				l.groups++
			} else {
				nonContext += wordLit
			}
			inWord, wordHasRef, wordLit = false, false, 0
		}
		for _, s := range segs {
			if s.ref {
				inWord, wordHasRef = true, true
				l.counts[s.key]++
				refs++
				continue
			}
			for i := 0; i < len(s.lit); i++ {
				if isSpace(s.lit[i]) {
					if inWord {
						endWord()
					}
					nonContext++
					continue
				}
				inWord = true
				wordLit++
			}
		}
		endWord()
	}
	elements := len(words)
	if refs == 0 {
		// GNU Parallel appends {} as a word of its own.
		l.counts[valueKey{kind: KindArg}]++
		l.groups++
		elements++
	}
	l.Base = nonContext + elements - 1
	if l.context {
		l.Base -= l.groups
	} else {
		l.Base += l.contextLen
		for _, n := range l.counts {
			l.Base -= n
		}
	}
	return l, nil
}

// Record is what one input record (one value per input source) adds to the
// length of the job with sequence number seq.
func (l *PackLength) Record(seq uint64, args []string) int {
	n := 0
	if l.context {
		n += len(args) * (l.contextLen + l.groups)
	}
	j := Job{Seq: seq, Slot: 1, Args: args}
	var vals []string
	for key, count := range l.counts {
		if !l.context {
			// The spaces between one replacement string's values.
			n += count * len(args)
		}
		vals = appendValues(vals[:0], key.kind, key.index, &key.params, 0, j)
		size := 0
		for _, v := range vals {
			size += quotedLen(v)
		}
		if key.index == 0 && key.kind >= KindSeq {
			// GNU Parallel evaluates {#} and {%} once per argument.
			size *= len(args)
		}
		n += count * size
	}
	return n
}

// quotedLen is len(ShellQuote(s)) without building it.
func quotedLen(s string) int {
	if s == "" {
		return 2
	}
	if isBare(s) {
		return len(s)
	}
	n := len(s) + 2 + 4*strings.Count(s, "'")
	if strings.HasPrefix(s, "'") {
		n -= 2
	}
	if strings.HasSuffix(s, "'") {
		n -= 2
	}
	return n
}
