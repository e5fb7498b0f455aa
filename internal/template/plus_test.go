package template

import (
	"errors"
	"strings"
	"testing"
)

// The expected values are GNU Parallel 20221122's, with --plus.
func TestPlusDisplay(t *testing.T) {
	tests := []struct {
		name string
		word string
		args []string
		want string
	}{
		{"path forms", "{..} {...} {/..} {/...} {+/} {+.} {+..} {+...}", []string{"d/s/f.tar.gz.bz2"},
			"d/s/f.tar d/s/f f.tar f d/s bz2 gz.bz2 tar.gz.bz2"},
		{"path forms without extensions", "{..} {+/} {+.} {+..}", []string{"file"}, "file '' '' ''"},
		{"dotted directory", "{..} {+.} {+..}", []string{"a.b/c"}, "a.b/c b/c ''"},
		{"positional path forms", "{2..} {-1+.} {1+/}", []string{"x/y", "a.b.c"}, "a c x"},
		{"trim prefix", "{#a*} {##a*} {#a+}", []string{"aabbaabb"}, "aabbaabb bbaabb abbaabb"},
		{"trim suffix", "{%b*} {%%b*} {%b+}", []string{"aabbaabb"}, "aabbaabb aabbaa aabbaab"},
		{"trim an extension", "{%.gz} {%%.*} {#*/}", []string{"a/b.tar.gz"}, "a/b.tar '' ab.tar.gz"},
		{"substitute", "{/a/X} {//a/X} {/#a/X} {/%b/X}", []string{"aabbaabb"}, "Xabbaabb XXbbXXbb Xabbaabb aabbaabX"},
		{"substitute with nothing", "{/.tar/}", []string{"a.tar.gz"}, "a.gz"},
		{"upper and lower case", "{^a} {^^a} {,A} {,,A}", []string{"abab"}, "Abab AbAb abab abab"},
		{"default", "{:-none}", []string{"", "0", "x"}, "none none x"},
		{"substrings", "{:2} {:1:2} {:9} {:3:9}", []string{"abcdef"}, "cdef bc '' def"},
		{"seq and total", "{#}/{##} {0#}", []string{"a"}, "3/12 03"},
		{"padded slot", "{0%}", []string{"a"}, "02"},
		{"shell shorthands", "{slot} {sshlogin}", []string{"a"}, "${PARALLEL_JOBSLOT} ${PARALLEL_SSHLOGIN}"},
		// s/^(a)b(.*)/$1/: the first group is the pattern's own.
		{"pattern with a group", "{#(a)b}", []string{"abc"}, "a"},
		{"quoted values", "{/a/ }", []string{"xay"}, "'x y'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile([]string{"echo", tc.word}, Options{Plus: true})
			if err != nil {
				t.Fatal(err)
			}
			tpl.Total = 12
			got := tpl.Display(Job{Seq: 3, Slot: 2, Slots: 16, Args: tc.args})
			if want := "echo " + tc.want; got != want {
				t.Errorf("Display\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestPlusOnlyWithPlus(t *testing.T) {
	tpl, err := Compile([]string{"echo", "{..}", "{+.}", "{%.gz}", "{:2}", "{}"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tpl.Display(Job{Args: []string{"a.gz"}}), "echo {..} {+.} {%.gz} {:2} a.gz"; got != want {
		t.Errorf("Display without --plus\n got %q\nwant %q", got, want)
	}
}

func TestUngreedy(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"star", "a*", "a*?"},
		{"plus", "a+b", "a+?b"},
		{"braces", "a{2,3}", "a{2,3}?"},
		{"already lazy", "a*?", "a*?"},
		{"in brackets", "[*+]x", "[*+]x"},
		{"escaped", `\*a`, `\*a`},
		{"question mark stays greedy", "a?", "a?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ungreedy(tc.in); got != tc.want {
				t.Errorf("ungreedy(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSkips(t *testing.T) {
	tests := []struct {
		name string
		word string
		args []string
		skip bool
	}{
		{"choose_k increasing", "{choose_k}", []string{"a", "b", "c"}, false},
		{"choose_k equal", "{choose_k}", []string{"a", "a"}, true},
		{"choose_k decreasing", "{choose_k}", []string{"b", "a"}, true},
		{"uniq distinct", "{uniq}", []string{"b", "a"}, false},
		{"uniq repeated", "{uniq}", []string{"a", "b", "a"}, true},
		{"neither", "{}", []string{"a", "a"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile([]string{"echo", tc.word}, Options{Plus: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := tpl.Skips(tc.args); got != tc.skip {
				t.Errorf("Skips(%q) = %v, want %v", tc.args, got, tc.skip)
			}
		})
	}
}

func TestPerlRefused(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		hint  string // a part of the hint
	}{
		{"substitution", []string{"echo", "{= s/a/b/ =}"}, "{/a/b}"},
		{"global substitution", []string{"echo", "{=s:a:b:g=}"}, "{//a/b}"},
		{"suffix", []string{"echo", `{= s/\.gz$// =}`}, `{%%\.gz}`},
		{"prefix", []string{"echo", `{= s/^x// =}`}, `{##x}`},
		{"upper case", []string{"echo", "{=", "$_=uc($_)", "=}"}, "{^^.}"},
		{"substr", []string{"echo", "{= $_=substr($_,2,3) =}"}, "{:2:3}"},
		{"sequence", []string{"echo", "{= $_=$job->seq() =}"}, "{#} does"},
		{"anything else", []string{"echo", "{= $_ .= 'x' =}"}, "shell expansion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.words, Options{Plus: true})
			var pe *PerlError
			if !errors.As(err, &pe) {
				t.Fatalf("Compile: %v, want a PerlError", err)
			}
			if !strings.Contains(pe.Hint(), tc.hint) {
				t.Errorf("hint %q does not name %q", pe.Hint(), tc.hint)
			}
		})
	}
}

func TestNotUTF8(t *testing.T) {
	for _, word := range []string{"a\xffb{}", "'\xfe'{}", "\"\xfd\"{}", "\\\xfc{}", "$'\xfb'{}", "\"\\\xfa\"{}"} {
		t.Run(word, func(t *testing.T) {
			tpl, err := Compile([]string{"echo", word}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := checkSyntax(tpl.Script); err != nil {
				t.Errorf("script %q: %v", tpl.Script, err)
			}
			if got, want := tpl.Display(Job{Args: []string{"x"}}), "echo "+strings.Replace(word, "{}", "x", 1); got != want {
				t.Errorf("Display = %q, want %q", got, want)
			}
		})
	}
}
