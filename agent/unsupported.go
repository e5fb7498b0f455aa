package agent

import (
	"fmt"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// What the embedded shell cannot do fails the job with a message that names
// the feature and the way out, rather than doing something else: the
// interpreter would print a warning and carry on.

// unsupportedHint is the way out for every unsupported feature.
const unsupportedHint = "run the template with --shell bash"

// unsupportedSyntax finds the first construct in file that the embedded
// shell cannot run: coproc, and redirections of descriptors above 2.
func unsupportedSyntax(file *syntax.File) error {
	var found error
	syntax.Walk(file, func(n syntax.Node) bool {
		if found != nil {
			return false
		}
		switch n := n.(type) {
		case *syntax.CoprocClause:
			found = fmt.Errorf("line %d: coproc is not supported by the embedded shell; %s", n.Pos().Line(), unsupportedHint)
		case *syntax.Redirect:
			if fd, ok := highFD(n); ok {
				found = fmt.Errorf("line %d: redirecting file descriptor %s is not supported by the embedded shell; %s", n.Pos().Line(), fd, unsupportedHint)
			}
		}
		return true
	})
	return found
}

// highFD reports a redirection that names a descriptor above 2, as in 3>f,
// >&3 or {fd}>f.
func highFD(r *syntax.Redirect) (string, bool) {
	if r.N != nil {
		if n, err := strconv.Atoi(r.N.Value); err != nil || n > 2 {
			return r.N.Value, true
		}
	}
	if r.Op == syntax.DplIn || r.Op == syntax.DplOut {
		if w := r.Word.Lit(); w != "" && w != "-" {
			if n, err := strconv.Atoi(strings.TrimSuffix(w, "-")); err == nil && n > 2 {
				return w, true
			}
		}
	}
	return "", false
}

// bashRead adapts a read's arguments to the interpreter's read, which knows
// -r, -a and -s: -p's prompt is dropped, as bash shows it only when its
// input is a terminal, which a job's never is; the flags it lacks are
// refused by name.
func bashRead(args []string) ([]string, error) {
	out := args[:1:1]
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return append(out, args[i:]...), nil
		}
		var keep strings.Builder
		for k := 1; k < len(a); k++ {
			switch f := a[k]; f {
			case 'r', 's':
				keep.WriteByte(f)
			case 'a':
				// -a takes the next word, or the rest of this one.
				keep.WriteByte(f)
				if k+1 < len(a) {
					keep.WriteString(a[k+1:])
					k = len(a)
				}
			case 'p':
				if k+1 == len(a) {
					i++ // the prompt is the next word
				}
				k = len(a)
			default:
				return nil, fmt.Errorf("read -%c is not supported by the embedded shell; %s", f, unsupportedHint)
			}
		}
		if keep.Len() > 0 {
			out = append(out, "-"+keep.String())
		}
	}
	return out, nil
}
