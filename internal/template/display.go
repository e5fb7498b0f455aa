package template

import (
	"fmt"
	"strings"
)

// seg is part of the displayed command: literal template text, or a
// replacement shown as its quoted values. A context segment (-X) repeats
// its raw prefix and suffix around each value.
type seg struct {
	lit                  string // literal text, or for a reference its replacement string
	ref                  bool
	key                  valueKey
	ctx                  bool
	rawPrefix, rawSuffix string
	parts                []seg // a context word of several references: its source text and references
}

// displayForm is how a template shows a job's command line.
type displayForm struct {
	segs       []seg
	quoteWords [][]seg // with -q: each word, shown quoted as a whole
	raw        bool    // values completing the command word: all shown unquoted, as run
}

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
			b = AppendShellQuote(b, expandSegs(w, t.Total, j))
		}
		return string(b)
	}
	if d.raw {
		return expandSegs(d.segs, t.Total, j)
	}
	var vals []string
	total := t.Total
	for _, s := range d.segs {
		if !s.ref {
			b = append(b, s.lit...)
			continue
		}
		if s.parts != nil {
			b = appendContextWord(b, s.parts, total, j)
			continue
		}
		vals = appendValues(vals[:0], s.key.kind, s.key.index, &s.key.params, total, j)
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

// appendContextWord shows a context word of several references once per
// argument, its source text as written and its values quoted.
func appendContextWord(b []byte, parts []seg, total uint64, j Job) []byte {
	var vals []string
	for i, a := range j.Args {
		if i > 0 {
			b = append(b, ' ')
		}
		one := Job{Seq: j.Seq, Slot: j.Slot, Host: j.Host, Args: []string{a}}
		for _, p := range parts {
			if !p.ref {
				b = append(b, p.lit...)
				continue
			}
			if p.key.index == 0 && p.key.kind.perArg() {
				vals = appendValues(vals[:0], p.key.kind, 0, &p.key.params, total, one)
			} else {
				vals = appendValues(vals[:0], p.key.kind, p.key.index, &p.key.params, total, j)
			}
			for k, v := range vals {
				if k > 0 {
					b = append(b, ' ')
				}
				b = AppendShellQuote(b, v)
			}
		}
	}
	return b
}

// expandSegs replaces references with their raw values, several joined by
// spaces.
func expandSegs(segs []seg, total uint64, j Job) string {
	var b strings.Builder
	var vals []string
	for _, s := range segs {
		if !s.ref {
			b.WriteString(s.lit)
			continue
		}
		vals = appendValues(vals[:0], s.key.kind, s.key.index, &s.key.params, total, j)
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
type Text struct {
	segs  []seg
	Total uint64 // the number of jobs, for {##}
}

// CompileText finds the replacement strings in text.
func CompileText(text string, opts Options) (*Text, error) {
	if err := findPerl(text); err != nil {
		return nil, err
	}
	r, err := newRecognizer(opts)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	segs, err := r.scanText(text)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	return &Text{segs: segs}, nil
}

// HasReplacements reports whether the text holds any replacement string.
func (x *Text) HasReplacements() bool {
	for _, s := range x.segs {
		if s.ref {
			return true
		}
	}
	return false
}

// UsesTotal reports whether the text needs the number of jobs, in Total.
func (x *Text) UsesTotal() bool {
	for _, s := range x.segs {
		if s.ref && (s.key.kind == KindTotal || s.key.kind == KindSeqPadded) {
			return true
		}
	}
	return false
}

// UsesSlot reports whether the text needs the job's slot, {%} or {0%},
// which is known only once the job has started.
func (x *Text) UsesSlot() bool {
	for _, s := range x.segs {
		if s.ref && (s.key.kind == KindSlot || s.key.kind == KindSlotPadded) {
			return true
		}
	}
	return false
}

// Expand returns the text with job j's raw values in place; several values
// are joined by spaces.
func (x *Text) Expand(j Job) string { return expandSegs(x.segs, x.Total, j) }

// ExpandText replaces the replacement strings in text with their unquoted
// values, as --tagstring does.
func ExpandText(text string, opts Options, j Job) (string, error) {
	x, err := CompileText(text, opts)
	if err != nil {
		return "", err
	}
	return x.Expand(j), nil
}
