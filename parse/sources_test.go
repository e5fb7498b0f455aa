package parse

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSplitCommandLine(t *testing.T) {
	vals := func(linked bool, v ...string) SourceSpec {
		if v == nil {
			v = []string{}
		}
		return SourceSpec{Values: v, Linked: linked}
	}
	file := func(linked bool, path string) SourceSpec {
		return SourceSpec{Files: true, Path: path, Linked: linked}
	}
	tests := []struct {
		name     string
		args     []string
		seps     *Separators
		template []string
		sources  []SourceSpec
		err      string
	}{
		{name: "no sources", args: []string{"echo", "{}"}, template: []string{"echo", "{}"}},
		{name: "empty", args: nil, template: nil},
		{name: "one group", args: []string{"echo", ":::", "a", "b"},
			template: []string{"echo"}, sources: []SourceSpec{vals(false, "a", "b")}},
		{name: "two groups", args: []string{"echo", ":::", "a", "b", ":::", "1", "2"},
			template: []string{"echo"}, sources: []SourceSpec{vals(false, "a", "b"), vals(false, "1", "2")}},
		{name: "colon aliases", args: []string{"echo", ":", "a", "::", "f"},
			template: []string{"echo"}, sources: []SourceSpec{vals(false, "a"), file(false, "f")}},
		{name: "each file its own source", args: []string{"cat", "::::", "f1", "f2"},
			template: []string{"cat"}, sources: []SourceSpec{file(false, "f1"), file(false, "f2")}},
		{name: "stdin file", args: []string{"cat", "::::", "-"},
			template: []string{"cat"}, sources: []SourceSpec{file(false, "-")}},
		{name: "linked args", args: []string{"x", ":::", "a", ":::+", "1"},
			template: []string{"x"}, sources: []SourceSpec{vals(false, "a"), vals(true, "1")}},
		{name: "linked files all linked", args: []string{"x", ":::", "a", "::::+", "f1", "f2"},
			template: []string{"x"}, sources: []SourceSpec{vals(false, "a"), file(true, "f1"), file(true, "f2")}},
		{name: "no template", args: []string{":::", "echo a", "echo b"},
			template: []string{}, sources: []SourceSpec{vals(false, "echo a", "echo b")}},
		{name: "trailing separator reads stdin", args: []string{"echo", ":::"},
			template: []string{"echo"}},
		{name: "only separator", args: []string{":::"}, template: []string{}},
		{name: "trailing file separator reads stdin", args: []string{"echo", "::::"},
			template: []string{"echo"}},
		{name: "empty group between", args: []string{"echo", ":::", "a", ":::"},
			template: []string{"echo"}, sources: []SourceSpec{vals(false, "a"), vals(false)}},
		{name: "two empty groups", args: []string{"echo", ":::", ":::"},
			template: []string{"echo"}, sources: []SourceSpec{vals(false), vals(false)}},
		{name: "empty file group adds nothing", args: []string{"echo", "::::", ":::", "a"},
			template: []string{"echo"}, sources: []SourceSpec{vals(false, "a")}},
		{name: "separator lookalikes are values", args: []string{"echo", ":::", "::::::", ":::++", "a:::"},
			template: []string{"echo"}, sources: []SourceSpec{vals(false, "::::::", ":::++", "a:::")}},
		{name: "custom separators", args: []string{"echo", ":::", "--", "a", "--+", "b", "FF", "f"},
			seps: &Separators{Args: "--", Files: "FF"}, template: []string{"echo", ":::"},
			sources: []SourceSpec{vals(false, "a"), vals(true, "b"), file(false, "f")}},
		{name: "custom separators disable aliases", args: []string{"echo", ":", "--", "a"},
			seps: &Separators{Args: "--"}, template: []string{"echo", ":"},
			sources: []SourceSpec{vals(false, "a")}},
		{name: "empty file name", args: []string{"cat", "::::", ""}, err: "empty file name after ::::"},
		{name: "empty file name after alias", args: []string{"cat", "::", "f", ""}, err: "empty file name after ::"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seps := DefaultSeparators
			if tt.seps != nil {
				seps = *tt.seps
			}
			template, sources, err := SplitCommandLineWith(tt.args, seps)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(template) != len(tt.template) || (len(template) > 0 && !reflect.DeepEqual(template, tt.template)) {
				t.Errorf("template = %q, want %q", template, tt.template)
			}
			if !reflect.DeepEqual(sources, tt.sources) {
				t.Errorf("sources = %+v, want %+v", sources, tt.sources)
			}
		})
	}
}

func TestUnescapePrintf(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "abc", "abc"},
		{"newline", `\n`, "\n"},
		{"tab and cr", `\t\r`, "\t\r"},
		{"nul", `\0`, "\x00"},
		{"octal", `\101`, "A"},
		{"single digit", `\7`, "\a"},
		{"backslash stays", `\\`, `\\`},
		{"hex stays", `\x41`, `\x41`},
		{"octal stops at 8", `\189`, "\x0189"},
		{"no octal digit", `\9`, "9"},
		{"backslash then t", `\\t`, "\\\t"},
		{"multi", `a\nb`, "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnescapePrintf(tt.in); got != tt.want {
				t.Errorf("UnescapePrintf(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// srcCase is one input scenario with GNU Parallel's answer. The expected
// output is what `parallel -k OPTS sh -c 'printf "[%s]" "$@"; echo' sh ARGS`
// prints: one line per job, each value in brackets ("[]" for a job without
// values, as printf prints its format once).
type srcCase struct {
	name  string
	gnu   []string // GNU Parallel's options for the same run
	opts  InputOptions
	args  []string // after the template: ::: groups and :::: files; $D is the fixture folder
	stdin string
	files map[string]string
	want  string
	// diverges marks cases where concurr deliberately differs from GNU
	// Parallel (a crash or a bug there); the differential test skips them.
	diverges string
}

var srcCases = []srcCase{
	{name: "stdin lines", stdin: "a\nb\n", want: "[a]\n[b]\n"},
	{name: "stdin no final newline", stdin: "a\nb", want: "[a]\n[b]\n"},
	{name: "stdin empty", stdin: "", want: ""},
	{name: "stdin empty lines", stdin: "\n\n", want: "[]\n[]\n"},
	{name: "cr kept", stdin: "a\r\nb\r\n", want: "[a\r]\n[b\r]\n"},
	{name: "invalid utf8 kept", stdin: "x\xff\xfe\n", want: "[x\xff\xfe]\n"},
	{name: "args", args: []string{":::", "a", "b", "c"}, want: "[a]\n[b]\n[c]\n"},
	{name: "product", args: []string{":::", "a", "b", ":::", "1", "2"},
		want: "[a][1]\n[a][2]\n[b][1]\n[b][2]\n"},
	{name: "product of three", args: []string{":::", "a", "b", ":::", "1", "2", ":::", "x", "y"},
		want: "[a][1][x]\n[a][1][y]\n[a][2][x]\n[a][2][y]\n[b][1][x]\n[b][1][y]\n[b][2][x]\n[b][2][y]\n"},
	{name: "files", files: map[string]string{"f1": "x\ny\n", "f2": "1\n2\n"},
		args: []string{"::::", "$D/f1", "$D/f2"}, want: "[x][1]\n[x][2]\n[y][1]\n[y][2]\n"},
	{name: "stdin as file source", stdin: "q\nw\n", args: []string{"::::", "-", ":::", "1", "2"},
		want: "[q][1]\n[q][2]\n[w][1]\n[w][2]\n"},
	{name: "stdin as second source", stdin: "q\nw\n", args: []string{":::", "1", "2", "::::", "-"},
		want: "[1][q]\n[1][w]\n[2][q]\n[2][w]\n"},
	{name: "arg holding delimiter splits", args: []string{":::", "a\nb", "c"}, want: "[a]\n[b]\n[c]\n"},
	{name: "arg with final delimiter", args: []string{":::", "a\n", "c"}, want: "[a]\n[]\n[c]\n"},
	{name: "empty arg", args: []string{":::", "", "a"}, want: "[]\n[a]\n"},
	{name: "empty group alone", args: []string{":::", ":::"}, want: ""},
	{name: "empty group second", args: []string{":::", "a", "b", ":::"}, want: "[a][]\n[b][]\n"},
	{name: "empty group first", args: []string{":::", ":::", "a", "b"}, want: "[][a]\n[][b]\n"},
	{name: "empty group middle", args: []string{":::", "a", "b", ":::", ":::", "c"}, want: "[a][][c]\n[b][][c]\n"},
	{name: "empty file alone", files: map[string]string{"e": ""}, args: []string{"::::", "$D/e"}, want: ""},
	{name: "empty file first", files: map[string]string{"e": ""}, args: []string{"::::", "$D/e", ":::", "a", "b"},
		want: "[][a]\n[][b]\n"},
	{name: "empty stdin first", args: []string{"::::", "-", ":::", "a"}, want: "[][a]\n"},
	{name: "linked shorter second", args: []string{":::", "a", "b", "c", ":::+", "1", "2"}, want: "[a][1]\n[b][2]\n"},
	{name: "linked longer second", args: []string{":::", "a", "b", "c", ":::+", "1", "2", "3", "4", "5"},
		want: "[a][1]\n[b][2]\n[c][3]\n"},
	{name: "linked then product", args: []string{":::", "a", "b", ":::+", "1", "2", ":::", "x", "y"},
		want: "[a][1][x]\n[a][1][y]\n[b][2][x]\n[b][2][y]\n"},
	{name: "product then linked", args: []string{":::", "a", "b", "c", ":::", "1", "2", ":::+", "x", "y", "z"},
		want: "[a][1][x]\n[a][2][y]\n[b][1][x]\n[b][2][y]\n[c][1][x]\n[c][2][y]\n"},
	{name: "mixed product and link", args: []string{":::", "a", ":::", "b", ":::+", "c", "d", ":::", "e", "f"},
		want: "[a][b][c][e]\n[a][b][c][f]\n"},
	{name: "linked empty", args: []string{":::", "a", "b", ":::+"}, want: "[a][]\n"},
	{name: "linked to empty", args: []string{":::", ":::+", "a", "b"}, want: "[][a]\n"},
	{name: "linked files", files: map[string]string{"f1": "x\ny\n", "f2": "1\n2\n3\n"},
		args: []string{"::::", "$D/f1", "::::+", "$D/f2"}, want: "[x][1]\n[y][2]\n"},
	{name: "file linked to args", files: map[string]string{"f1": "x\ny\n"},
		args: []string{"::::", "$D/f1", ":::+", "1", "2", "3"}, want: "[x][1]\n[y][2]\n"},
	{name: "stdin linked to args", stdin: "x\ny\nz\n",
		args: []string{"::::", "-", ":::+", "1", "2"}, want: "[x][1]\n[y][2]\n"},
	{name: "link wraps", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{":::", "a", "b", "c", ":::", "1", "2"}, want: "[a][1]\n[b][2]\n[c][1]\n"},
	{name: "link wraps first", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{":::", "a", "b", ":::", "1", "2", "3", "4", "5"},
		want: "[a][1]\n[b][2]\n[a][3]\n[b][4]\n[a][5]\n"},
	{name: "link three", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{":::", "a", "b", ":::", "1", "2", "3", ":::", "x", "y", "z", "w"},
		want: "[a][1][x]\n[b][2][y]\n[a][3][z]\n[b][1][w]\n"},
	{name: "link overrides linked", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{":::", "a", "b", ":::+", "1", "2", "3", ":::", "x", "y", "z", "w"},
		want: "[a][1][x]\n[b][2][y]\n[a][3][z]\n[b][1][w]\n"},
	{name: "link stdin wraps", gnu: []string{"--link"}, opts: InputOptions{Link: true}, stdin: "s\n",
		args: []string{"::::", "-", ":::", "1", "2", "3"}, want: "[s][1]\n[s][2]\n[s][3]\n"},
	{name: "link one source", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{":::", "a", "b"}, want: "[a]\n[b]\n"},
	{name: "link with empty source", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{":::", "a", "b", ":::"}, want: "[a][]\n[b][]\n",
		diverges: "GNU Parallel dies on an empty --link source"},
	{name: "link empty stream", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{"::::", "-", ":::", "a", "b"}, want: "[][a]\n[][b]\n",
		diverges: "GNU Parallel dies on an empty --link source"},
	{name: "link all empty", gnu: []string{"--link"}, opts: InputOptions{Link: true},
		args: []string{":::", ":::"}, want: "", diverges: "GNU Parallel dies on an empty --link source"},
	{name: "N2", gnu: []string{"-N2"}, opts: InputOptions{MaxArgs: 2},
		args: []string{":::", "a", "b", "c"}, want: "[a][b]\n[c]\n"},
	{name: "N3 exact", gnu: []string{"-N3"}, opts: InputOptions{MaxArgs: 3},
		args: []string{":::", "a", "b", "c", "d", "e", "f"}, want: "[a][b][c]\n[d][e][f]\n"},
	{name: "N1", gnu: []string{"-N1"}, opts: InputOptions{MaxArgs: 1},
		args: []string{":::", "a", "b"}, want: "[a]\n[b]\n"},
	{name: "N2 product", gnu: []string{"-N2"}, opts: InputOptions{MaxArgs: 2},
		args: []string{":::", "a", "b", "c", ":::", "1", ""}, want: "[a][1][a][]\n[b][1][b][]\n[c][1][c][]\n"},
	{name: "N2 link", gnu: []string{"-N2", "--link"}, opts: InputOptions{MaxArgs: 2, Link: true},
		args: []string{":::", "a", "b", "c", ":::", "1", "2", "3", "4", "5"},
		want: "[a][1][b][2]\n[c][3][a][4]\n[b][5]\n"},
	{name: "N0", gnu: []string{"-N0"}, opts: InputOptions{NoArgs: true},
		args: []string{":::", "a", "b", "c"}, want: "[]\n[]\n[]\n"},
	{name: "N0 product", gnu: []string{"-N0"}, opts: InputOptions{NoArgs: true},
		args: []string{":::", "a", "b", ":::", "1", "2"}, want: "[]\n[]\n[]\n[]\n"},
	{name: "N0 with N2 set", gnu: []string{"-N0"}, opts: InputOptions{NoArgs: true, MaxArgs: 2},
		args: []string{":::", "a", "b", "c"}, want: "[]\n[]\n[]\n"},
	{name: "delimiter octal stops at 8", gnu: []string{"-d", `\189`}, opts: InputOptions{Delimiter: `\189`},
		stdin: "a\x0189b", want: "[a]\n[b]\n"},
	{name: "N0 empty", gnu: []string{"-N0"}, opts: InputOptions{NoArgs: true}, stdin: "", want: ""},
	{name: "N2 empty", gnu: []string{"-N2"}, opts: InputOptions{MaxArgs: 2}, stdin: "", want: ""},
	{name: "delimiter comma", gnu: []string{"-d", ","}, opts: InputOptions{Delimiter: ","},
		stdin: "a,b,c", want: "[a]\n[b]\n[c]\n"},
	{name: "delimiter keeps newline", gnu: []string{"-d", ","}, opts: InputOptions{Delimiter: ","},
		stdin: "a,b\n", want: "[a]\n[b\n]\n"},
	{name: "delimiter multi byte", gnu: []string{"-d", "XY"}, opts: InputOptions{Delimiter: "XY"},
		stdin: "aXYbXXYcX", want: "[a]\n[bX]\n[cX]\n"},
	{name: "delimiter tab escape", gnu: []string{"-d", `\t`}, opts: InputOptions{Delimiter: `\t`},
		stdin: "a\tb\tc", want: "[a]\n[b]\n[c]\n"},
	{name: "delimiter crlf", gnu: []string{"-d", `\r\n`}, opts: InputOptions{Delimiter: `\r\n`},
		stdin: "a\r\nb\nc\r\n", want: "[a]\n[b\nc]\n"},
	{name: "delimiter octal", gnu: []string{"-d", `\101`}, opts: InputOptions{Delimiter: `\101`},
		stdin: "a,bAc", want: "[a,b]\n[c]\n"},
	{name: "delimiter nul escape", gnu: []string{"-d", `\0`}, opts: InputOptions{Delimiter: `\0`},
		stdin: "a\nb\x00c\x00", want: "[a\nb]\n[c]\n"},
	{name: "null", gnu: []string{"-0"}, opts: InputOptions{Null: true},
		stdin: "a b\x00c\nd\x00\x00", want: "[a b]\n[c\nd]\n[]\n"},
	{name: "delimiter splits args", gnu: []string{"-d", ","}, opts: InputOptions{Delimiter: ","},
		args: []string{":::", "a,b", "c"}, want: "[a]\n[b]\n[c]\n"},
	{name: "nul in line", stdin: "a\x00b\n", want: "[a\x00b]\n",
		diverges: "GNU Parallel replaces NUL with \\0; concurr passes values through"},
	{name: "colsep", gnu: []string{"--colsep", ","}, opts: InputOptions{ColSep: ","},
		args: []string{":::", "a,b", "c", ",", ""}, want: "[a][b]\n[c]\n[][]\n[]\n"},
	{name: "colsep trims", gnu: []string{"--colsep", ","}, opts: InputOptions{ColSep: ","},
		args: []string{":::", " a , b "}, want: "[a][b]\n"},
	{name: "colsep regexp", gnu: []string{"--colsep", "[,;]+"}, opts: InputOptions{ColSep: "[,;]+"},
		args: []string{":::", "a,;b;c"}, want: "[a][b][c]\n"},
	{name: "colsep keeps trailing empty", gnu: []string{"--colsep", ","}, opts: InputOptions{ColSep: ","},
		args: []string{":::", "a,,b,"}, want: "[a][][b][]\n"},
	{name: "colsep cr trimmed", gnu: []string{"--colsep", ","}, opts: InputOptions{ColSep: ","},
		stdin: "1,2\r\n", want: "[1][2]\n"},
	{name: "colsep product", gnu: []string{"--colsep", ","}, opts: InputOptions{ColSep: ","},
		args: []string{":::", "a,b", "c,d", ":::", "1", "2,3"},
		want: "[a][b][1]\n[a][b][2][3]\n[c][d][1]\n[c][d][2][3]\n"},
	{name: "colsep N2", gnu: []string{"--colsep", ",", "-N2"}, opts: InputOptions{ColSep: ",", MaxArgs: 2},
		args: []string{":::", "a,b", "c,d", "e"}, want: "[a][b][c][d]\n[e]\n"},
	{name: "colsep trim n", gnu: []string{"--colsep", ",", "--trim", "n"}, opts: InputOptions{ColSep: ",", Trim: "n"},
		args: []string{":::", " a , b "}, want: "[ a ][ b ]\n"},
	{name: "colsep trim l", gnu: []string{"--colsep", ",", "--trim", "l"}, opts: InputOptions{ColSep: ",", Trim: "l"},
		args: []string{":::", " a , b "}, want: "[a ][b ]\n"},
	{name: "colsep trim r tabs", gnu: []string{"--colsep", ",", "--trim", "r"}, opts: InputOptions{ColSep: ",", Trim: "r"},
		args: []string{":::", " a\t ,\t b \t"}, want: "[ a][\t b]\n"},
	{name: "trim lr", gnu: []string{"--trim", "lr"}, opts: InputOptions{Trim: "lr"},
		args: []string{":::", " a ", "\tb\v"}, want: "[a]\n[b]\n"},
	{name: "trim rl", gnu: []string{"--trim", "rl"}, opts: InputOptions{Trim: "rl"},
		args: []string{":::", " a "}, want: "[a]\n"},
	{name: "trim r", gnu: []string{"--trim", "r"}, opts: InputOptions{Trim: "r"},
		stdin: " a \r\n", want: "[ a]\n"},
	{name: "trim whitespace only", gnu: []string{"--trim", "lr"}, opts: InputOptions{Trim: "lr"},
		args: []string{":::", "  "}, want: "[]\n"},
	{name: "header args", gnu: []string{"--header", ":"}, opts: InputOptions{Header: ":"},
		args: []string{":::", "a", "1", "2", ":::", "b", "x", "y"},
		want: "[1][x]\n[1][y]\n[2][x]\n[2][y]\n"},
	{name: "header csv", gnu: []string{"--header", ":", "--colsep", ","}, opts: InputOptions{Header: ":", ColSep: ","},
		files: map[string]string{"c.csv": "h1,h2\n1,2\n3,4\n"}, args: []string{"::::", "$D/c.csv"},
		want: "[1][2]\n[3][4]\n"},
	{name: "header tab default colsep", gnu: []string{"--header", ":"}, opts: InputOptions{Header: ":"},
		stdin: "h1\th2\n 1\t2 \n", want: "[ 1][2 ]\n"},
	{name: "header only", gnu: []string{"--header", ":"}, opts: InputOptions{Header: ":"},
		stdin: "h\n", want: ""},
	{name: "header only with product", gnu: []string{"--header", ":"}, opts: InputOptions{Header: ":"},
		args: []string{":::", "h", ":::", "g", "1"}, want: "[][1]\n"},
	{name: "header N2", gnu: []string{"--header", ":", "-N2"}, opts: InputOptions{Header: ":", MaxArgs: 2},
		args: []string{":::", "a", "1", "2", "3"}, want: "[1][2]\n[3]\n"},
	{name: "skip empty", gnu: []string{"-r"}, opts: InputOptions{SkipEmpty: true},
		stdin: "a\n\n  \n\t\nb\n", want: "[a]\n[b]\n"},
	{name: "skip empty per source", gnu: []string{"-r"}, opts: InputOptions{SkipEmpty: true},
		args: []string{":::", "", " ", "a", ":::", "1", ""}, want: "[a][1]\n"},
	{name: "eof string", gnu: []string{"-E", "END"}, opts: InputOptions{EOFString: "END"},
		stdin: "a\nEND\nb\n", want: "[a]\n"},
	{name: "eof string per source", gnu: []string{"-E", "END"}, opts: InputOptions{EOFString: "END"},
		args: []string{":::", "a", "END", "b", ":::", "1", "2"}, want: "[a][1]\n[a][2]\n"},
	{name: "eof string first", gnu: []string{"-E", "END"}, opts: InputOptions{EOFString: "END"},
		stdin: "END\nb\n", want: ""},
	{name: "arg files", files: map[string]string{"f1": "x\ny\n", "f2": "1\n2\n"},
		gnu: []string{"-a", "$D/f1", "-a", "$D/f2"}, opts: InputOptions{ArgFiles: []string{"$D/f1", "$D/f2"}},
		want: "[x][1]\n[x][2]\n[y][1]\n[y][2]\n"},
	{name: "arg file stdin", gnu: []string{"-a", "-"}, opts: InputOptions{ArgFiles: []string{"-"}},
		stdin: "a\n", want: "[a]\n"},
	{name: "arg files before args", files: map[string]string{"f1": "x\ny\n"},
		gnu: []string{"-a", "$D/f1"}, opts: InputOptions{ArgFiles: []string{"$D/f1"}},
		args: []string{":::", "1", "2"}, want: "[x][1]\n[x][2]\n[y][1]\n[y][2]\n"},
	{name: "arg file and linked args", files: map[string]string{"f1": "x\ny\n"},
		gnu: []string{"-a", "$D/f1"}, opts: InputOptions{ArgFiles: []string{"$D/f1"}},
		args:     []string{":::", "a", "b", ":::+", "1", "2"},
		want:     "[x][a][1]\n[x][b][2]\n[y][a][1]\n[y][b][2]\n",
		diverges: "GNU Parallel misaligns :::+ after -a and links the -a file instead"},
}

// srcFormat renders jobs as the oracle's printf does.
func srcFormat(jobs [][]string) string {
	var b strings.Builder
	for _, job := range jobs {
		if len(job) == 0 {
			b.WriteString("[]")
		}
		for _, v := range job {
			b.WriteString("[" + v + "]")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func srcFixtures(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func srcSubst(words []string, dir string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = strings.ReplaceAll(w, "$D", dir)
	}
	return out
}

func srcCollect(t *testing.T, in *Inputs) [][]string {
	t.Helper()
	var jobs [][]string
	for {
		args, err := in.Next()
		if errors.Is(err, io.EOF) {
			return jobs
		}
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, args)
		if len(jobs) > 10000 {
			t.Fatal("too many jobs")
		}
	}
}

func TestInputs(t *testing.T) {
	for _, tc := range srcCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := srcFixtures(t, tc.files)
			_, sources, err := SplitCommandLine(append([]string{"cmd"}, srcSubst(tc.args, dir)...))
			if err != nil {
				t.Fatal(err)
			}
			opts := tc.opts
			opts.ArgFiles = srcSubst(opts.ArgFiles, dir)
			in, err := OpenInputs(sources, opts, strings.NewReader(tc.stdin))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if got := srcFormat(srcCollect(t, in)); got != tc.want {
				t.Errorf("jobs:\n%q\nwant:\n%q", got, tc.want)
			}
			// Next keeps saying io.EOF once done.
			if _, err := in.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("Next after the end: %v", err)
			}
		})
	}
}

// TestInputsAgainstGNUParallel checks the table itself against the oracle.
func TestInputsAgainstGNUParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs GNU Parallel")
	}
	if _, err := exec.LookPath("parallel"); err != nil {
		t.Skip("GNU Parallel is not on PATH")
	}
	for _, tc := range srcCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.diverges != "" {
				t.Skip(tc.diverges)
			}
			// Perl starts slowly; overlapping the runs halves the wait.
			t.Parallel()
			dir := srcFixtures(t, tc.files)
			argv := []string{"--will-cite", "-k", "-j1"}
			argv = append(argv, srcSubst(tc.gnu, dir)...)
			argv = append(argv, `sh -c 'printf "[%s]" "$@"; echo' sh`)
			argv = append(argv, srcSubst(tc.args, dir)...)
			cmd := exec.Command("parallel", argv...)
			cmd.Stdin = strings.NewReader(tc.stdin)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("parallel %q: %v\n%s", argv, err, stderr.Bytes())
			}
			if string(out) != tc.want {
				t.Errorf("GNU Parallel:\n%q\ntable:\n%q", out, tc.want)
			}
		})
	}
}

func TestInputsHeader(t *testing.T) {
	tests := []struct {
		name      string
		opts      InputOptions
		args      []string
		files     map[string]string
		stdin     string
		header    []string
		positions int
	}{
		{name: "none", args: []string{":::", "a"}, positions: 1},
		{name: "per source", opts: InputOptions{Header: ":"}, args: []string{":::", "a", "1", ":::", "b", "2"},
			header: []string{"a", "b"}},
		{name: "columns", opts: InputOptions{Header: ":", ColSep: ","}, stdin: "h1,h2\r\n1,2\n",
			header: []string{"h1", "h2"}},
		{name: "tab by default", opts: InputOptions{Header: "1"}, stdin: "h1\th2\n1\t2\n",
			header: []string{"h1", "h2"}},
		{name: "trailing empty names dropped", opts: InputOptions{Header: ":", ColSep: ","},
			args: []string{":::", "a,,b,", "1"}, header: []string{"a", "", "b"}},
		{name: "columns then source", opts: InputOptions{Header: ":", ColSep: ","},
			args: []string{":::", "h1,h2", "1,2", ":::", "c", "5"}, header: []string{"h1", "h2", "c"}},
		{name: "not trimmed", opts: InputOptions{Header: ":", Trim: "lr"}, args: []string{":::", " a ", "1"},
			header: []string{" a "}, positions: 0},
		{name: "file names", opts: InputOptions{Header: "0"}, files: map[string]string{"f1": "x\n"},
			args: []string{":::", "a", "::::", "$D/f1"}, header: []string{"", "$D/f1"}},
		{name: "positions", args: []string{":::", "a", ":::", "b"}, positions: 2},
		{name: "positions N3", opts: InputOptions{MaxArgs: 3}, args: []string{":::", "a", ":::", "b"}, positions: 6},
		{name: "positions N0", opts: InputOptions{NoArgs: true}, args: []string{":::", "a"}, positions: 0},
		{name: "positions colsep", opts: InputOptions{ColSep: ","}, args: []string{":::", "a"}, positions: 0},
		{name: "positions stdin", stdin: "a\n", positions: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := srcFixtures(t, tt.files)
			_, sources, err := SplitCommandLine(append([]string{"cmd"}, srcSubst(tt.args, dir)...))
			if err != nil {
				t.Fatal(err)
			}
			in, err := OpenInputs(sources, tt.opts, strings.NewReader(tt.stdin))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if want := srcSubst(tt.header, dir); !reflect.DeepEqual(in.Header(), want) && (len(want) > 0 || len(in.Header()) > 0) {
				t.Errorf("Header() = %q, want %q", in.Header(), want)
			}
			if got := in.Positions(); got != tt.positions {
				t.Errorf("Positions() = %d, want %d", got, tt.positions)
			}
		})
	}
}

func TestUsesStdin(t *testing.T) {
	tests := []struct {
		name    string
		sources []SourceSpec
		opts    InputOptions
		want    bool
	}{
		{name: "no sources", want: true},
		{name: "args", sources: []SourceSpec{{Values: []string{"a"}}}},
		{name: "file", sources: []SourceSpec{{Files: true, Path: "f"}}},
		{name: "dash file", sources: []SourceSpec{{Values: []string{"a"}}, {Files: true, Path: "-"}}, want: true},
		{name: "arg file", opts: InputOptions{ArgFiles: []string{"f"}}},
		{name: "dash arg file", opts: InputOptions{ArgFiles: []string{"-"}}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UsesStdin(tt.sources, tt.opts); got != tt.want {
				t.Errorf("UsesStdin() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpenInputsErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name    string
		sources []SourceSpec
		opts    InputOptions
		want    string
	}{
		{name: "missing file", sources: []SourceSpec{{Values: []string{"a"}}, {Files: true, Path: missing}},
			want: "cannot open input file: open " + missing},
		{name: "missing arg file", opts: InputOptions{ArgFiles: []string{missing}},
			want: "cannot open input file: open " + missing},
		{name: "directory", sources: []SourceSpec{{Files: true, Path: dir}},
			want: "cannot open input file " + dir + ": is a directory"},
		{name: "bad trim", opts: InputOptions{Trim: "x"}, want: `--trim "x": must be one of`},
		{name: "bad colsep", opts: InputOptions{ColSep: "("}, want: "--colsep"},
		{name: "negative N", opts: InputOptions{MaxArgs: -1}, want: "-N -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := OpenInputs(tt.sources, tt.opts, strings.NewReader(""))
			if err == nil {
				in.Close()
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// srcErrReader fails after its data, as a broken pipe or disk would.
type srcErrReader struct{ data io.Reader }

func (r *srcErrReader) Read(p []byte) (int, error) {
	n, err := r.data.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("device on fire")
	}
	return n, err
}

func TestInputsReadError(t *testing.T) {
	in, err := OpenInputs(nil, InputOptions{}, &srcErrReader{strings.NewReader("a\nb\n")})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	for _, want := range []string{"a", "b"} {
		args, err := in.Next()
		if err != nil || len(args) != 1 || args[0] != want {
			t.Fatalf("Next() = %q, %v; want %q", args, err, want)
		}
	}
	if _, err := in.Next(); err == nil || !strings.Contains(err.Error(), "device on fire") {
		t.Fatalf("Next() error = %v, want the read error", err)
	}
}

func TestInputsLongRecord(t *testing.T) {
	long := strings.Repeat("x", 10<<20)
	tests := []struct {
		name  string
		opts  InputOptions
		input string
	}{
		{name: "newline", input: "a\n" + long + "\nb"},
		{name: "multi byte delimiter", opts: InputOptions{Delimiter: "XY"}, input: "aXY" + long + "XYb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := OpenInputs(nil, tt.opts, strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			jobs := srcCollect(t, in)
			if len(jobs) != 3 || jobs[0][0] != "a" || jobs[1][0] != long || jobs[2][0] != "b" {
				t.Fatalf("got %d jobs", len(jobs))
			}
		})
	}
}

func TestInputsManyEmptyLines(t *testing.T) {
	const n = 1000000
	in, err := OpenInputs(nil, InputOptions{}, bytes.NewReader(bytes.Repeat([]byte{'\n'}, n)))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	count := 0
	for {
		args, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(args) != 1 || args[0] != "" {
			t.Fatalf("job %d = %q", count, args)
		}
		count++
	}
	if count != n {
		t.Fatalf("%d jobs, want %d", count, n)
	}
}

// srcLines produces "1\n2\n..." up to n without holding it in memory.
type srcLines struct {
	n, next int
	pending []byte
}

func (r *srcLines) Read(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		if len(r.pending) == 0 {
			if r.next >= r.n {
				if total == 0 {
					return 0, io.EOF
				}
				break
			}
			r.next++
			r.pending = strconv.AppendInt(r.pending[:0], int64(r.next), 10)
			r.pending = append(r.pending, '\n')
		}
		c := copy(p[total:], r.pending)
		r.pending = r.pending[c:]
		total += c
	}
	return total, nil
}

func TestInputsStreamBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2 million lines")
	}
	const n = 2000000
	in, err := OpenInputs(
		[]SourceSpec{{Files: true, Path: "-"}, {Values: []string{"x", "y"}}},
		InputOptions{}, &srcLines{n: n})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	deadline := time.Now().Add(20 * time.Second)
	count := 0
	for {
		args, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if count == 2*n-1 && (args[0] != strconv.Itoa(n) || args[1] != "x") {
			t.Fatalf("job %d = %q", count, args)
		}
		if count%100000 == 0 && time.Now().After(deadline) {
			t.Fatal("too slow")
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if count != 2*n {
		t.Fatalf("%d jobs, want %d", count, 2*n)
	}
	// The input is about 15 MB; holding it would show as growth well
	// beyond this bound.
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 4<<20 {
		t.Fatalf("heap in use grew by %d bytes while streaming", grown)
	}
}

func BenchmarkInputsNext(b *testing.B) {
	var input bytes.Buffer
	for i := range 100000 {
		input.WriteString(strconv.Itoa(i))
		input.WriteByte('\n')
	}
	data := input.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		in, err := OpenInputs(nil, InputOptions{}, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := in.Next(); err != nil {
				break
			}
		}
		in.Close()
	}
}
