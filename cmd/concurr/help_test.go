package main

import (
	"bufio"
	"strings"
	"testing"
	"unicode/utf8"

	"concurr/internal/optdoc"
)

// TestHelp checks that --help fits 80 columns, lists every option under a
// known group and ends by saying where to read more.
func TestHelp(t *testing.T) {
	var o options
	specs := o.specs()
	var out strings.Builder
	if err := optdoc.WriteHelp(&out, docOptions(specs)); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	t.Run("fits 80 columns", func(t *testing.T) {
		lines := bufio.NewScanner(strings.NewReader(help))
		for n := 1; lines.Scan(); n++ {
			if width := utf8.RuneCountInString(lines.Text()); width > optdoc.HelpWidth {
				t.Errorf("line %d is %d columns wide: %q", n, width, lines.Text())
			}
		}
	})
	t.Run("every option appears", func(t *testing.T) {
		for _, s := range specs {
			if s.help == "" {
				continue
			}
			shown := "  " + optdoc.Dashed(s.long[0])
			if s.short != "" && s.short != s.long[0] {
				shown = "  -" + s.short + ", " + optdoc.Dashed(s.long[0])
			}
			if !strings.Contains(help, shown+" ") && !strings.Contains(help, shown+"\n") {
				t.Errorf("%s is not in --help", shown)
			}
		}
	})
	t.Run("every group is a heading", func(t *testing.T) {
		for _, g := range optdoc.Groups {
			if !strings.Contains(help, "\n"+g+":\n") {
				t.Errorf("group %q has no heading", g)
			}
		}
	})
	t.Run("ends with where to read more", func(t *testing.T) {
		last := strings.TrimSpace(help[strings.LastIndex(strings.TrimSpace(help), "\n"):])
		if !strings.Contains(last, "man concurr") || !strings.Contains(last, "README") {
			t.Errorf("last line %q names neither the man page nor the README", last)
		}
	})
}
