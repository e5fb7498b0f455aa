package template

import (
	"fmt"
	"strings"
)

// PerlError is a {= perl expression =} in a template. GNU Parallel runs such
// expressions in Perl; concurr has no Perl to run them in, and passing the
// text through would run a different command, so it refuses the template.
type PerlError struct {
	Expr string // the expression, without {= and =}
}

func (e *PerlError) Error() string {
	return fmt.Sprintf("{=%s=}: Perl expressions are not supported", e.Expr)
}

// Hint names the --plus replacement string or the shell expansion that does
// what the expression does.
func (e *PerlError) Hint() string {
	expr := strings.TrimSpace(e.Expr)
	if s, plus, ok := perlEquivalent(strings.TrimSuffix(expr, ";")); ok {
		if plus {
			return "with --plus, " + s + " does the same"
		}
		return s + " does the same"
	}
	return `use a --plus replacement string such as {%.gz}, {#prefix}, {/re/with}, {//re/with}, {:start:len} or {^^re}, ` +
		`or a shell expansion in the template, as in 'f={}; echo "${f%.*}"'`
}

// findPerl finds {= ... =} in text as GNU Parallel does: the first {= and
// the =} nearest after it.
func findPerl(text string) error {
	i := strings.Index(text, "{=")
	if i < 0 {
		return nil
	}
	k := strings.Index(text[i+2:], "=}")
	if k < 0 {
		return nil
	}
	return &PerlError{Expr: text[i+2 : i+2+k]}
}

var (
	perlSubst  = lazyRegexp(`^s([/:|#,!])(.*)([/:|#,!])(.*)([/:|#,!])(g?)$`)
	perlSubstr = lazyRegexp(`^\$_\s*=\s*substr\(\s*\$_\s*,\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$`)
	perlCase   = lazyRegexp(`^\$_\s*=\s*(uc|lc)(?:\(\s*\$_\s*\)|\s*\$_)?$`)
	perlJob    = lazyRegexp(`^\$_\s*=\s*(?:\$job->(seq|slot)\(\)|(total_jobs)\(\))$`)
)

// perlEquivalent recognises the Perl expressions most often written in GNU
// Parallel templates and names their --plus equivalents.
func perlEquivalent(expr string) (equivalent string, plus, ok bool) {
	if m := perlSubst().FindStringSubmatch(expr); m != nil && m[1] == m[3] && m[3] == m[5] &&
		!strings.Contains(m[2], m[1]) && !strings.Contains(m[4], m[1]) && !strings.Contains(m[2]+m[4], "}") {
		pattern, with, all := m[2], m[4], m[6] == "g"
		switch {
		case with == "" && strings.HasPrefix(pattern, "^") && len(pattern) > 1 && pattern[1] != '#':
			return "{##" + pattern[1:] + "}", true, true
		case with == "" && strings.HasSuffix(pattern, "$") && len(pattern) > 1:
			return "{%%" + strings.TrimSuffix(pattern, "$") + "}", true, true
		case all && pattern != "":
			return "{//" + pattern + "/" + with + "}", true, true
		case pattern != "" && !strings.ContainsAny(pattern, "/#%"):
			return "{/" + pattern + "/" + with + "}", true, true
		}
	}
	if m := perlSubstr().FindStringSubmatch(expr); m != nil {
		if m[2] == "" {
			return "{:" + m[1] + "}", true, true
		}
		return "{:" + m[1] + ":" + m[2] + "}", true, true
	}
	if m := perlCase().FindStringSubmatch(expr); m != nil {
		if m[1] == "uc" {
			return "{^^.}", true, true
		}
		return "{,,.}", true, true
	}
	if m := perlJob().FindStringSubmatch(expr); m != nil {
		switch {
		case m[1] == "seq":
			return "{#}", false, true
		case m[1] == "slot":
			return "{%}", false, true
		}
		return "{##}", true, true
	}
	return "", false, false
}
