package template

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// The fixed replacement strings that --plus adds, and the shell text that
// GNU Parallel puts, unquoted, in place of its shorthands for variables.
var plusTokens = []token{
	{"{..}", KindNoExt2},
	{"{...}", KindNoExt3},
	{"{/..}", KindBaseNoExt2},
	{"{/...}", KindBaseNoExt3},
	{"{+/}", KindDirPlus},
	{"{+.}", KindExt},
	{"{+..}", KindExt2},
	{"{+...}", KindExt3},
	{"{##}", KindTotal},
	{"{0#}", KindSeqPadded},
	{"{0%}", KindSlotPadded},
	{"{slot}", KindShell},
	{"{sshlogin}", KindShell},
	{"{hgrp}", KindShell},
	{"{agrp}", KindShell},
	// {choose_k} and {uniq} are {} that also skip some jobs (Template.Skips).
	{"{choose_k}", KindArg},
	{"{uniq}", KindArg},
}

// shellText is what a KindShell token stands for.
var shellText = map[string]string{
	"{slot}":     "${PARALLEL_JOBSLOT}",
	"{sshlogin}": "${PARALLEL_SSHLOGIN}",
	"{hgrp}":     "${PARALLEL_HOSTGROUPS}",
	"{agrp}":     "${PARALLEL_ARGHOSTGROUPS}",
}

// dynamicForm is one of --plus's replacement strings with parameters,
// inspired by bash's parameter expansion: an opening after the {, then
// parameters up to a }.
type dynamicForm struct {
	open string
	kind Kind
	// firstNot, when set, are bytes the parameter's first byte is not,
	// as in GNU Parallel's {#([^#}][^}]*?)}.
	firstNot string
	// slash: the parameter is pattern/with; patternNot are bytes the
	// pattern does not hold ({/([^#%}/]+?)/...}).
	slash      bool
	patternNot string
	digits     bool // {:from} and {:from:len}
}

// dynamicForms are in GNU Parallel's order of precedence: it rewrites its
// replacement strings longest definition first, so {%%a} is {%%...} and
// not {%...} with the pattern %a.
var dynamicForms = []dynamicForm{
	{open: "/", kind: KindSubstFirst, slash: true, patternNot: "#%/"},
	{open: "/#", kind: KindSubstPrefix, slash: true},
	{open: "/%", kind: KindSubstSuffix, slash: true},
	{open: "//", kind: KindSubstAll, slash: true},
	{open: "##", kind: KindTrimPrefixAll, firstNot: "#"},
	{open: ":", kind: KindSubstr, digits: true},
	{open: "#", kind: KindTrimPrefix, firstNot: "#"},
	{open: ":-", kind: KindDefault},
	{open: "%%", kind: KindTrimSuffixAll},
	{open: "^^", kind: KindUpperAll},
	{open: ",,", kind: KindLowerAll},
	{open: "%", kind: KindTrimSuffix},
	{open: "^", kind: KindUpperFirst},
	{open: ",", kind: KindLowerFirst},
}

// matchDynamic matches a dynamic form at rest, which follows the { (and
// any position); n counts the bytes up to and including the closing }.
func matchDynamic(rest string) (kind Kind, p Params, n int, ok bool) {
	for _, f := range dynamicForms {
		if !strings.HasPrefix(rest, f.open) {
			continue
		}
		body := rest[len(f.open):]
		end := strings.IndexByte(body, '}')
		if end < 0 {
			continue
		}
		param := body[:end]
		switch {
		case f.digits:
			from, length, ok := substrParams(param)
			if !ok {
				continue
			}
			p = Params{From: from, Len: length}
		case f.slash:
			// The pattern is at least one byte, up to the next slash.
			k := -1
			if param != "" {
				k = strings.IndexByte(param[1:], '/')
			}
			if k < 0 || strings.ContainsAny(param[:k+1], f.patternNot) {
				continue
			}
			k++
			p = Params{Pattern: param[:k], With: param[k+1:]}
		default:
			if param == "" || f.firstNot != "" && strings.IndexByte(f.firstNot, param[0]) >= 0 {
				continue
			}
			if f.kind == KindDefault {
				p = Params{With: param}
			} else {
				p = Params{Pattern: param}
			}
		}
		return f.kind, p, len(f.open) + end + 1, true
	}
	return 0, Params{}, 0, false
}

// substrParams reads {:from} or {:from:len}'s digits.
func substrParams(s string) (from, length int, ok bool) {
	a, b, two := strings.Cut(s, ":")
	from, ok = atoiDigits(a)
	if !ok {
		return 0, 0, false
	}
	if !two {
		return from, -1, true
	}
	length, ok = atoiDigits(b)
	return from, length, ok
}

func atoiDigits(s string) (int, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	if len(s) > 9 {
		return maxIndex, true
	}
	n, _ := strconv.Atoi(s)
	return n, true
}

// compileParams compiles a dynamic form's pattern as GNU Parallel's Perl
// wraps it, so that Bind only runs it.
func compileParams(k Kind, p *Params, text string) error {
	var expr string
	switch k {
	case KindTrimPrefix:
		expr = "^" + ungreedy(p.Pattern) + "(.*)"
	case KindTrimPrefixAll, KindSubstPrefix:
		expr = "^" + p.Pattern
	case KindTrimSuffix:
		expr = "(.*)" + ungreedy(p.Pattern) + "$"
	case KindTrimSuffixAll, KindSubstSuffix:
		expr = p.Pattern + "$"
	case KindSubstFirst, KindSubstAll, KindUpperAll, KindLowerAll:
		expr = p.Pattern
	case KindUpperFirst, KindLowerFirst:
		expr = "^(?:" + p.Pattern + ")"
	default:
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return &regexpError{text: text, pattern: p.Pattern, err: err}
	}
	p.re = re
	return nil
}

// regexpError is a --plus pattern that Go's regexp package refuses. GNU
// Parallel's patterns are Perl's; the common ones are the same in both.
type regexpError struct {
	text, pattern string
	err           error
}

func (e *regexpError) Error() string {
	msg := e.err.Error()
	var se *syntax.Error
	if errors.As(e.err, &se) {
		msg = fmt.Sprintf("%s: %s", se.Code, se.Expr)
	}
	return fmt.Sprintf("%s: bad pattern %q: %s", e.text, e.pattern, msg)
}

// ungreedy is GNU Parallel's make_regexp_ungreedy: a ? after every *, +
// and {...} quantifier that has none, outside brackets and escapes.
func ungreedy(re string) string {
	var b strings.Builder
	inClass, escaped, found := false, false, false
	for i := 0; i < len(re); i++ {
		c := re[i]
		if found {
			if c != '?' {
				b.WriteByte('?')
			}
			found = false
		}
		b.WriteByte(c)
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '[':
			inClass = true
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '*' || c == '}' || c == '+':
			found = true
		}
	}
	if found {
		b.WriteByte('?')
	}
	return b.String()
}

func (e *regexpError) Hint() string {
	return "patterns are Go's RE2 regexps: Perl's syntax, without backreferences or lookaround"
}
