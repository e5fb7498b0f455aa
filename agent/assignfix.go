package agent

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// unescapeAssignments works around the interpreter keeping the backslashes
// of an assignment's unquoted value: v=it\'s gave "it\'s" where bash
// gives "it's". Each unquoted literal with a backslash in an assignment's
// value becomes the single-quoted text it stands for, which the
// interpreter takes as it is. A literal that starts with ~ is left alone,
// so that its tilde is still expanded.
func unescapeAssignments(file *syntax.File) {
	syntax.Walk(file, func(node syntax.Node) bool {
		as, ok := node.(*syntax.Assign)
		if !ok || as.Value == nil {
			return true
		}
		for i, part := range as.Value.Parts {
			lit, ok := part.(*syntax.Lit)
			if !ok || !strings.Contains(lit.Value, `\`) || strings.HasPrefix(lit.Value, "~") {
				continue
			}
			as.Value.Parts[i] = &syntax.SglQuoted{Left: lit.ValuePos, Right: lit.ValueEnd, Value: unescapeLiteral(lit.Value)}
		}
		return true
	})
}

// unescapeLiteral removes the shell's quoting backslashes from unquoted
// text: \x is x, and a backslash before a newline joins the lines.
func unescapeLiteral(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
