package agent

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"concurr/internal/template"
)

// The escape hatch: with a shell named (--shell, PARALLEL_SHELL), each job's
// command runs as `SHELL -c 'command'`, the replacement values pasted into
// the command quoted for a POSIX shell, as GNU Parallel pastes them. The
// embedded interpreter still starts the shell, so that limits, umask, nice,
// process groups and output capture are the same as for any other job.

// nonPOSIXShells are shells whose quoting differs from sh's: a value quoted
// for sh would reach them as something else, so they are refused rather
// than given commands they would misread.
var nonPOSIXShells = []string{"csh", "tcsh", "fish", "rc", "es", "nu", "elvish", "xonsh", "pwsh", "powershell", "cmd", "cmd.exe"}

// CheckShell refuses a shell whose quoting is not sh's. The client calls it
// on --shell and PARALLEL_SHELL before any node is contacted.
func CheckShell(shell string) error {
	if shell == "" {
		return fmt.Errorf("the shell is an empty path")
	}
	base := filepath.Base(shell)
	if slices.Contains(nonPOSIXShells, base) {
		return fmt.Errorf("%s does not quote as a POSIX shell does, so replacement values would not reach the command intact; use sh, bash, dash, ksh or zsh", base)
	}
	return nil
}

// resolveShell finds the command's shell on this node, as the job's PATH
// would; the error names the host, since a shell present on one host may
// be missing on another.
func resolveShell(host, dir string, env *baseEnviron, shell string) (string, error) {
	pairs := make([]string, 0, len(env.pairs))
	for _, kv := range env.pairs {
		pairs = append(pairs, kv)
	}
	path, err := interp.LookPathDir(dir, expand.ListEnviron(pairs...), shell)
	if err != nil {
		if host == "" || host == ":" {
			host = "local"
		}
		return "", fmt.Errorf("%s: %s: no such file (the shell that --shell or PARALLEL_SHELL names is not on this host)", host, shell)
	}
	return path, nil
}

// externalScript is the job's script for an external shell: src (whose
// parsed form is file) with every reference to a replacement variable
// replaced by the variable's values, quoted for where the reference stands.
func externalScript(src string, file *syntax.File, program *template.Program, job template.Job) string {
	if len(program.Vars) == 0 || file == nil {
		return src
	}
	values := make(map[string][]string, len(program.Vars))
	program.Bind(job, func(v *template.Var, vals []string) { values[v.Name] = slices.Clone(vals) })
	type edit struct {
		from, to int
		text     string
	}
	var edits []edit
	var stack []syntax.Node
	var prelude []string
	assigned := map[string]bool{}
	syntax.Walk(file, func(n syntax.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		pe, ok := n.(*syntax.ParamExp)
		if ok && pe.Param != nil && strings.HasPrefix(pe.Param.Value, "__concurr_") {
			vals := values[pe.Param.Value]
			joined := strings.Join(vals, " ")
			parent, _ := parentOf(stack).(*syntax.DblQuoted)
			switch {
			case parent != nil && len(parent.Parts) == 1 && !parent.Dollar:
				// "${v[@]}" is one word per value; "${v[*]}" alone in
				// double quotes (the form of a reference within single
				// quotes) is one word.
				text := template.ShellQuote(joined)
				if pe.Index != nil && isAtIndex(pe.Index) {
					quoted := make([]string, len(vals))
					for i, v := range vals {
						quoted[i] = template.ShellQuote(v)
					}
					text = strings.Join(quoted, " ")
				}
				edits = append(edits, edit{int(parent.Pos().Offset()), int(parent.End().Offset()), text})
			case insideParam(stack):
				// Within ${x:-...} no quoting holds every value in every
				// shell (bash wants its single quotes paired there): the
				// value goes in a plain variable, set before the command.
				name := pe.Param.Value
				if !assigned[name] {
					assigned[name] = true
					prelude = append(prelude, name+"="+template.ShellQuote(joined)+"; ")
				}
				edits = append(edits, edit{int(pe.Pos().Offset()), int(pe.End().Offset()), "${" + name + "}"})
			default:
				// Within double quotes among other text: escaped for them.
				edits = append(edits, edit{int(pe.Pos().Offset()), int(pe.End().Offset()), escapeDouble(joined)})
			}
		}
		stack = append(stack, n)
		return true
	})
	if len(edits) == 0 {
		return src
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.from - b.from })
	var b strings.Builder
	for _, p := range prelude {
		b.WriteString(p)
	}
	last := 0
	for _, e := range edits {
		if e.from < last {
			continue // nested within an edit already made
		}
		b.WriteString(src[last:e.from])
		b.WriteString(e.text)
		last = e.to
	}
	b.WriteString(src[last:])
	return b.String()
}

func parentOf(stack []syntax.Node) syntax.Node {
	if len(stack) == 0 {
		return nil
	}
	return stack[len(stack)-1]
}

func isAtIndex(w syntax.ArithmExpr) bool {
	word, ok := w.(*syntax.Word)
	return ok && word.Lit() == "@"
}

// insideParam reports whether the innermost double quotes around the
// reference lie within a parameter expansion's word, as in "${x:-{}}".
func insideParam(stack []syntax.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		switch stack[i].(type) {
		case *syntax.ParamExp:
			return true
		case *syntax.CmdSubst, *syntax.Stmt:
			return false
		}
	}
	return false
}

func escapeDouble(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '"', '$', '`':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// shellCall is the script that runs command in shell, as `shell -c
// 'command'`.
func shellCall(shell, command string) (*syntax.File, error) {
	return parseScript(template.ShellQuote(shell) + " -c " + template.ShellQuote(command))
}
