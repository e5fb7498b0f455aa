package agent

import (
	"strings"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// A slot resets its interpreter before each job, so that no job sees what
// the last one left: variables, functions, options, the directory, traps,
// $?. Reset costs a fifth of a builtin-only job's time, and most templates
// (`echo {}`, `gzip -c {} > {}.gz`) can leave nothing behind: they run
// commands with words and redirections, and assign, define or change
// nothing. For those, a slot whose last job ended normally runs the next
// one on the interpreter as it is.

// pureBuiltins are the builtins that read the shell's state and change
// none of it. printf is one unless it is given -v (see pureCall).
var pureBuiltins = map[string]bool{
	"echo": true, "printf": true, "true": true, "false": true, ":": true, "test": true, "[": true,
}

// leavesNoState reports whether running file can change nothing in the
// interpreter that a later job would see, nor read anything from it that
// Reset would have set (only $? is of that kind). functions are the
// exported functions every job has: calling one could do anything. It errs
// on the safe side: anything it does not know is taken to change state.
func leavesNoState(file *syntax.File, functions map[string]*syntax.Stmt) bool {
	pure := true
	syntax.Walk(file, func(node syntax.Node) bool {
		if !pure {
			return false
		}
		switch n := node.(type) {
		case nil, *syntax.File, *syntax.Comment, *syntax.Word, *syntax.Lit, *syntax.SglQuoted,
			*syntax.DblQuoted, *syntax.BinaryCmd, *syntax.Block, *syntax.Subshell, *syntax.IfClause,
			*syntax.CaseClause, *syntax.CaseItem, *syntax.CmdSubst, *syntax.ArithmExp, *syntax.ParenArithm,
			*syntax.ExtGlob, *syntax.BraceExp, *syntax.ParenTest,
			*syntax.UnaryTest, *syntax.TestClause, *syntax.TimeClause:
		case *syntax.Stmt:
			pure = !n.Background && !n.Coprocess && !n.Disown
		case *syntax.Redirect:
			// {name}>file assigns the descriptor's number to name.
			pure = n.N == nil || isDigits(n.N.Value)
		case *syntax.CallExpr:
			pure = pureCall(n, functions)
		case *syntax.ParamExp:
			// $? at the start of a job is the last job's status without Reset.
			pure = n.Param == nil || n.Param.Value != "?"
			if pure && n.Exp != nil {
				switch n.Exp.Op {
				case syntax.AssignUnset, syntax.AssignUnsetOrNull, syntax.ErrorUnset, syntax.ErrorUnsetOrNull:
					pure = false
				}
			}
		case *syntax.BinaryArithm:
			pure = !assignsArithm(n.Op)
		case *syntax.UnaryArithm:
			pure = n.Op != syntax.Inc && n.Op != syntax.Dec
		case *syntax.BinaryTest:
			// [[ x =~ re ]] sets BASH_REMATCH.
			pure = n.Op != syntax.TsReMatch
		default:
			// Assignments, declarations, loops, function definitions,
			// process substitution, ((...)) and let, and whatever a later
			// version of the syntax package adds.
			pure = false
		}
		return pure
	})
	return pure
}

// pureCall reports whether a simple command leaves no state: no
// assignments, and a name fixed in the template that is a pure builtin or a
// program, never a function.
func pureCall(call *syntax.CallExpr, functions map[string]*syntax.Stmt) bool {
	if len(call.Assigns) > 0 || len(call.Args) == 0 {
		return false
	}
	name, fixed := fixedWord(call.Args[0])
	if call.Args[0].Lit() == "[" {
		name, fixed = "[", true // a lone [ is the test builtin, not a pattern
	}
	if !fixed || name == "" {
		return false
	}
	if _, ok := functions[name]; ok {
		return false
	}
	if !interp.IsBuiltin(name) {
		return true
	}
	if !pureBuiltins[name] {
		return false
	}
	if name == "printf" {
		// printf -v NAME assigns; only a first argument fixed in the
		// template, and not an option, rules that out.
		if len(call.Args) < 2 {
			return false
		}
		first, fixed := fixedWord(call.Args[1])
		return fixed && first != "" && first[0] != '-'
	}
	return true
}

// fixedWord returns the value of a word that expands to itself alone: made
// of literals and quoted literals, with nothing a pattern would match.
func fixedWord(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if strings.ContainsAny(p.Value, "*?[]{}~\\") {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// assignsArithm reports whether an arithmetic operator assigns to its left
// operand.
func assignsArithm(op syntax.BinAritOperator) bool {
	switch op {
	case syntax.Assgn, syntax.AddAssgn, syntax.SubAssgn, syntax.MulAssgn, syntax.QuoAssgn,
		syntax.RemAssgn, syntax.AndAssgn, syntax.OrAssgn, syntax.XorAssgn, syntax.ShlAssgn,
		syntax.ShrAssgn, syntax.AndBoolAssgn, syntax.OrBoolAssgn, syntax.XorBoolAssgn, syntax.PowAssgn:
		return true
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
