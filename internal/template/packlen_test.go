package template

import (
	"strings"
	"testing"
)

func TestPackLength(t *testing.T) {
	// The lengths GNU Parallel 20221122's CommandLine::len gives a job of
	// these records: for one record, what its "Command line too long (N >=
	// 1)" error with -s 1 reports.
	tests := []struct {
		name    string
		words   []string
		opts    Options
		records [][]string
		want    int
	}{
		{"-m appended", []string{"echo"}, Options{Mode: ModeXargs}, [][]string{{"aaaaaaaaaaaaaaaaaaaa"}}, 25},
		{"-m appended, several", []string{"echo"}, Options{Mode: ModeXargs}, [][]string{{"aaaa"}, {"bbbb"}, {"cccc"}}, 19},
		{"-m with a literal word", []string{"echo", "a b"}, Options{Mode: ModeXargs}, [][]string{{"aaaa"}, {"bbbb"}}, 18},
		{"-m quoted values", []string{"echo"}, Options{Mode: ModeXargs}, [][]string{{"a a"}, {"b b"}}, 16},
		{"-X context word", []string{"echo", "x{}y"}, Options{Mode: ModeContext}, [][]string{{"aaaa"}, {"bbbb"}}, 18},
		{"-X two context words", []string{"echo", "x{}y", "x{}y"}, Options{Mode: ModeContext}, [][]string{{"aaaa"}, {"bbbb"}}, 32},
		{"-q triples", []string{"echo"}, Options{Mode: ModeXargs, Quote: true}, [][]string{{"aaaa"}}, 27},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			l, err := tpl.PackLength()
			if err != nil {
				t.Fatal(err)
			}
			got := l.Base
			for _, r := range tc.records {
				got += l.Record(1, r)
			}
			if got*l.Factor != tc.want {
				t.Fatalf("length %d, want %d", got*l.Factor, tc.want)
			}
		})
	}
}

func TestQuotedLen(t *testing.T) {
	for _, s := range []string{"", "a", "a b", "'", "a'", "'a", "''", "it's", "a'b'c", "$x", "\n"} {
		t.Run(strings.ReplaceAll(s, "'", "q"), func(t *testing.T) {
			if got, want := quotedLen(s), len(ShellQuote(s)); got != want {
				t.Fatalf("quotedLen(%q) = %d, want %d", s, got, want)
			}
		})
	}
}
