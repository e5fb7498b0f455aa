package template

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
)

var shellQuoteCases = []struct {
	name, in, want string
}{
	{"empty", "", "''"},
	{"bare word", "abc", "abc"},
	{"bare punctuation", "-_.+/", "-_.+/"},
	{"digits and capitals", "A.9", "A.9"},
	{"space", "a b", "'a b'"},
	{"dollar", "x$y", "'x$y'"},
	{"apostrophe inside", "it's", `'it'"'"'s'`},
	{"leading apostrophe", "'x", `"'"'x'`},
	{"trailing apostrophes", "a'b'", `'a'"'"'b'"'"`},
	{"only apostrophes", "''", `"'"''"'"`},
	{"one apostrophe", "'", `"'"`},
	{"newline", "a\nb", "'a\nb'"},
	{"tab", "\t", "'\t'"},
	{"utf-8", "é", "'é'"},
	{"invalid utf-8", "\xff\xfe", "'\xff\xfe'"},
	{"tilde", "~", "'~'"},
	{"equals", "a=b", "'a=b'"},
	{"comma", "a,b", "'a,b'"},
	{"colon", "a:b", "'a:b'"},
	{"at", "a@b", "'a@b'"},
	{"percent", "%", "'%'"},
	{"hash", "#a", "'#a'"},
	{"backslash", `\`, `'\'`},
	{"double quote", `"`, `'"'`},
	{"glob", "*", "'*'"},
	{"command substitution", "$(id)", "'$(id)'"},
	{"nul", "a\x00b", "'a\x00b'"},
}

func TestShellQuote(t *testing.T) {
	for _, tc := range shellQuoteCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ShellQuote(tc.in); got != tc.want {
				t.Errorf("ShellQuote(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := string(AppendShellQuote([]byte("x"), tc.in)); got != "x"+tc.want {
				t.Errorf("AppendShellQuote(%q) = %q, want %q", tc.in, got, "x"+tc.want)
			}
		})
	}
}

// TestShellQuoteAgainstGNUParallel checks the table against the oracle when
// GNU Parallel is installed.
func TestShellQuoteAgainstGNUParallel(t *testing.T) {
	gnu := gnuParallel(t)
	var in bytes.Buffer
	var want strings.Builder
	for _, tc := range shellQuoteCases {
		if strings.Contains(tc.in, "\x00") {
			continue
		}
		in.WriteString(tc.in + "\x00")
		want.WriteString("echo " + tc.want + "\n")
	}
	if out := gnuDryRun(t, gnu, &in, "echo"); out != want.String() {
		t.Errorf("GNU Parallel quotes differently:\n got %q\nwant %q", out, want.String())
	}
}

// gnuDryRun returns GNU Parallel's --dry-run output for the template words
// over the NUL-separated inputs in.
func gnuDryRun(t *testing.T, gnu string, in io.Reader, words ...string) string {
	t.Helper()
	cmd := exec.Command(gnu, append([]string{"--will-cite", "-0", "-k", "-j1", "--dry-run"}, words...)...)
	cmd.Stdin = in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parallel: %v", err)
	}
	return string(out)
}

// gnuParallel returns GNU Parallel's path, or skips the test.
func gnuParallel(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("GNU Parallel comparison skipped in -short mode")
	}
	path, err := exec.LookPath("parallel")
	if err != nil {
		t.Skip("GNU Parallel is not installed")
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil || !bytes.Contains(out, []byte("GNU parallel")) {
		t.Skip("parallel on PATH is not GNU Parallel")
	}
	return path
}
