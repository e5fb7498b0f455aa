package parse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
)

func TestCompile(t *testing.T) {
	v := func(name string, k Kind, index int) Var { return Var{Name: "__concurr_" + name, Kind: k, Index: index} }
	tests := []struct {
		name   string
		words  []string
		opts   TemplateOptions
		script string
		vars   []Var
	}{
		{"argument", []string{"echo", "{}"}, TemplateOptions{}, `echo "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"appended when absent", []string{"echo", "hi"}, TemplateOptions{}, `echo hi "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"all kinds", []string{"echo {} {.} {/} {//} {/.} {#} {%} {host}"}, TemplateOptions{},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}" "${__concurr_4[@]}" "${__concurr_5[@]}" "${__concurr_6[@]}" "${__concurr_7[@]}" "${__concurr_8[@]}"`,
			[]Var{v("1", KindArg, 0), v("2", KindNoExt, 0), v("3", KindBase, 0), v("4", KindDir, 0), v("5", KindBaseNoExt, 0), v("6", KindSeq, 0), v("7", KindSlot, 0), v("8", KindHost, 0)}},
		{"shared variable", []string{"cp {} {}.bak"}, TemplateOptions{}, `cp "${__concurr_1[@]}" "${__concurr_1[@]}".bak`, []Var{v("1", KindArg, 0)}},
		{"positional", []string{"echo {2} {-1} {1.} {2/} {1//} {1/.}"}, TemplateOptions{Positions: 2},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}" "${__concurr_4[@]}" "${__concurr_5[@]}" "${__concurr_6[@]}"`,
			[]Var{v("1", KindArg, 2), v("2", KindArg, -1), v("3", KindNoExt, 1), v("4", KindBase, 2), v("5", KindDir, 1), v("6", KindBaseNoExt, 1)}},
		{"positional with spaces", []string{"echo {1 }"}, TemplateOptions{}, `echo "${__concurr_1[@]}"`, []Var{v("1", KindArg, 1)}},
		{"single quotes", []string{"echo 'a{}b'"}, TemplateOptions{}, `echo 'a'"${__concurr_1[*]}"'b'`, []Var{v("1", KindArg, 0)}},
		{"double quotes", []string{`echo "a {} b"`}, TemplateOptions{}, `echo "a ${__concurr_1[*]} b"`, []Var{v("1", KindArg, 0)}},
		{"ANSI-C quotes", []string{`echo $'a\'{}'`}, TemplateOptions{}, `echo $'a\''"${__concurr_1[*]}"$''`, []Var{v("1", KindArg, 0)}},
		{"command substitution in double quotes", []string{`echo "$(echo '{}')"`}, TemplateOptions{},
			`echo "$(echo ''"${__concurr_1[*]}"'')"`, []Var{v("1", KindArg, 0)}},
		{"backticks", []string{"echo `echo {}`"}, TemplateOptions{}, "echo `echo \"${__concurr_1[@]}\"`", []Var{v("1", KindArg, 0)}},
		{"arithmetic", []string{"echo $(({#}*2))"}, TemplateOptions{}, `echo $(("${__concurr_1[@]}"*2))`, []Var{v("1", KindSeq, 0)}},
		{"parameter default", []string{`echo "${X:-{}}"`}, TemplateOptions{}, `echo "${X:-${__concurr_1[*]}}"`, []Var{v("1", KindArg, 0)}},
		{"parameter expansions stay", []string{"echo ${#} ${1} $# {}"}, TemplateOptions{}, `echo ${#} ${1} $# "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"escaped braces stay", []string{`echo \{} {}`}, TemplateOptions{}, `echo \{} "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"backslash before a value in double quotes", []string{`echo "\{}"`}, TemplateOptions{}, `echo "\\${__concurr_1[*]}"`, []Var{v("1", KindArg, 0)}},
		{"brace text stays", []string{"echo {a,b} {}"}, TemplateOptions{}, `echo {a,b} "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"awk script stays", []string{"awk '{print $1}'", "{}"}, TemplateOptions{}, `awk '{print $1}' "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"comment", []string{"echo {} # it's"}, TemplateOptions{}, `echo "${__concurr_1[@]}" # it's`, []Var{v("1", KindArg, 0)}},
		{"multi-line", []string{"echo {}\necho '{#}'"}, TemplateOptions{}, "echo \"${__concurr_1[@]}\"\necho ''\"${__concurr_2[*]}\"''", []Var{v("1", KindArg, 0), v("2", KindSeq, 0)}},
		{"-I", []string{"echo <> {}"}, TemplateOptions{Replacements: Replacements{Arg: "<>"}}, `echo "${__concurr_1[@]}" {}`, []Var{v("1", KindArg, 0)}},
		{"-I has no positional form without {", []string{"echo <1> <>"}, TemplateOptions{Replacements: Replacements{Arg: "<>"}}, `echo <1> "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-I with braces", []string{"echo {x} {1x} {1}"}, TemplateOptions{Replacements: Replacements{Arg: "{x}"}}, `echo "${__concurr_1[@]}" "${__concurr_2[@]}" {1}`, []Var{v("1", KindArg, 0), v("2", KindArg, 1)}},
		{"-I @ keeps $@", []string{`echo "$@" @`}, TemplateOptions{Replacements: Replacements{Arg: "@"}}, `echo "$@" "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"renamed seq and slot", []string{"echo SEQ SLOT"}, TemplateOptions{Replacements: Replacements{Seq: "SEQ", Slot: "SLOT"}},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}"`, []Var{v("1", KindSeq, 0), v("2", KindSlot, 0)}},
		{"header", []string{"echo {name} {size.} {2}"}, TemplateOptions{Header: []string{"name", "size"}},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}"`, []Var{v("1", KindArg, 1), v("2", KindNoExt, 2), v("3", KindArg, 2)}},
		{"header names in quotes stay", []string{"awk '{print}' {name}"}, TemplateOptions{Header: []string{"name"}},
			`awk '{print}' "${__concurr_1[@]}"`, []Var{v("1", KindArg, 1)}},
		{"-q", []string{"echo", "a b", "x{}y", "it's", ""}, TemplateOptions{Quote: true},
			`echo 'a b' x"${__concurr_1[@]}"y 'it'"'"'s' ''`, []Var{v("1", KindArg, 0)}},
		{"-q appends", []string{"echo", "a;b"}, TemplateOptions{Quote: true}, `echo 'a;b' "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-m", []string{"echo pre{}post"}, TemplateOptions{Mode: ModeXargs}, `echo pre"${__concurr_1[@]}"post`, []Var{v("1", KindArg, 0)}},
		{"-X context", []string{`echo pre{}post "x{/}y" 'a'{.}`}, TemplateOptions{Mode: ModeContext}, `echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}"`,
			[]Var{{Name: "__concurr_1", Kind: KindArg, Prefix: "pre", Suffix: "post"}, {Name: "__concurr_2", Kind: KindBase, Prefix: "x", Suffix: "y"}, {Name: "__concurr_3", Kind: KindNoExt, Prefix: "a"}}},
		{"-X plain word", []string{"echo {}"}, TemplateOptions{Mode: ModeContext}, `echo "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-X assignment is no context", []string{"X={} env"}, TemplateOptions{Mode: ModeContext}, `X="${__concurr_1[@]}" env`, []Var{v("1", KindArg, 0)}},
		{"-X option with = is context", []string{"cmd --file={}"}, TemplateOptions{Mode: ModeContext}, `cmd "${__concurr_1[@]}"`, []Var{{Name: "__concurr_1", Kind: KindArg, Prefix: "--file="}}},
		{"-X glob is no context", []string{"ls *{}"}, TemplateOptions{Mode: ModeContext}, `ls *"${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-X two values is no context", []string{"echo {}{#}"}, TemplateOptions{Mode: ModeContext}, `echo "${__concurr_1[@]}""${__concurr_2[@]}"`, []Var{v("1", KindArg, 0), v("2", KindSeq, 0)}},
		{"-X positional is no context", []string{"echo x{1}"}, TemplateOptions{Mode: ModeContext}, `echo x"${__concurr_1[@]}"`, []Var{v("1", KindArg, 1)}},
		{"-X expansion is no context", []string{"echo $HOME{}"}, TemplateOptions{Mode: ModeContext}, `echo $HOME"${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-X inside command substitution", []string{"echo $(echo a{}b)"}, TemplateOptions{Mode: ModeContext}, `echo $(echo "${__concurr_1[@]}")`, []Var{{Name: "__concurr_1", Kind: KindArg, Prefix: "a", Suffix: "b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.words, err)
			}
			if tpl.Script != tc.script {
				t.Errorf("script\n got %s\nwant %s", tpl.Script, tc.script)
			}
			if !reflect.DeepEqual(tpl.Vars, tc.vars) {
				t.Errorf("vars\n got %+v\nwant %+v", tpl.Vars, tc.vars)
			}
			if tpl.FromInput {
				t.Error("FromInput is set")
			}
		})
	}
}

func TestCompileFromInput(t *testing.T) {
	for _, words := range [][]string{nil, {}, {"{}"}, {" {} "}} {
		tpl, err := Compile(words, TemplateOptions{})
		if err != nil {
			t.Fatalf("Compile(%q): %v", words, err)
		}
		if !tpl.FromInput || tpl.Script != "" || len(tpl.Vars) != 0 {
			t.Errorf("Compile(%q) = %+v, want FromInput", words, tpl)
		}
		if got := tpl.Display(Job{Args: []string{"echo a;", "b"}}); got != "echo a; b" {
			t.Errorf("Display = %q", got)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		opts  TemplateOptions
		want  string
	}{
		{"open quote", []string{"echo 'a"}, TemplateOptions{}, "template \"echo 'a\": reached EOF without closing quote `'`"},
		{"open double quote", []string{`echo "{}`}, TemplateOptions{}, "template \"echo \\\"{}\": reached EOF without closing quote `\"`"},
		{"bad syntax", []string{"echo {} |"}, TemplateOptions{}, "template \"echo {} |\": `|` must be followed by a statement"},
		{"position beyond", []string{"echo {3}"}, TemplateOptions{Positions: 2}, `template "echo {3}": {3}: there are only 2 argument positions: use {1} to {2}, or {-1} to {-2}`},
		{"negative position beyond", []string{"echo {-2.}"}, TemplateOptions{Positions: 1}, `template "echo {-2.}": {-2.}: there is only 1 argument position, so use {1} or {-1}`},
		{"position zero", []string{"echo {0}"}, TemplateOptions{}, `template "echo {0}": {0}: positions count from 1 (or from -1 at the end)`},
		{"position zero in quotes", []string{"echo '{0/}'"}, TemplateOptions{}, `template "echo '{0/}'": {0/}: positions count from 1 (or from -1 at the end)`},
		{"unknown column", []string{"echo {nmae}"}, TemplateOptions{Header: []string{"name", "size"}}, `template "echo {nmae}": {nmae} is not a column of the header; the columns are {name} {size}`},
		{"same string twice", []string{"echo {}"}, TemplateOptions{Replacements: Replacements{Arg: "{.}"}}, `template "echo {}": replacement string "{.}" stands for both {} and {.}`},
		{"unquoted parameter default", []string{"echo ${X:-{}}"}, TemplateOptions{}, `template "echo ${X:-{}}": {} inside ${...} needs double quotes around the ${...}`},
		{"quoted in unquoted parameter", []string{`echo ${X:-"{}"}`}, TemplateOptions{}, `template "echo ${X:-\"{}\"}": {} inside ${...} needs double quotes around the ${...}`},
		{"-q position beyond", []string{"echo", "{2}"}, TemplateOptions{Quote: true, Positions: 1}, `template "echo {2}": {2}: there is only 1 argument position, so use {1} or {-1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err == nil {
				t.Fatalf("Compile(%q) = %q, want an error", tc.words, tpl.Script)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestBind(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		opts  TemplateOptions
		job   Job
		want  [][]string // per variable
	}{
		{"argument", []string{"{}"}, TemplateOptions{Quote: true}, Job{Args: []string{"a b"}}, [][]string{{"a b"}}},
		{"several arguments", []string{"echo {}"}, TemplateOptions{}, Job{Args: []string{"a", "", "c"}}, [][]string{{"a", "", "c"}}},
		{"empty argument", []string{"echo {}"}, TemplateOptions{}, Job{Args: []string{""}}, [][]string{{""}}},
		{"no arguments", []string{"echo {}"}, TemplateOptions{}, Job{}, [][]string{nil}},
		{"path kinds", []string{"echo {.} {/} {//} {/.}"}, TemplateOptions{}, Job{Args: []string{"a/b.c/d.e", ".bashrc"}},
			[][]string{{"a/b.c/d", ""}, {"d.e", ".bashrc"}, {"a/b.c", "."}, {"d", ""}}},
		{"sequence slot host", []string{"echo {#} {%} {host}"}, TemplateOptions{}, Job{Seq: 18446744073709551615, Slot: 4, Host: "n1"},
			[][]string{{"18446744073709551615"}, {"4"}, {"n1"}}},
		{"positions", []string{"echo {1} {2} {3} {-1} {-3} {-4} {2.} {-1/}"}, TemplateOptions{}, Job{Args: []string{"x/a.b", "y/c.d", "z/e"}},
			[][]string{{"x/a.b"}, {"y/c.d"}, {"z/e"}, {"z/e"}, {"x/a.b"}, nil, {"y/c"}, {"e"}}},
		{"position beyond the job", []string{"echo {5} {5.}"}, TemplateOptions{}, Job{Args: []string{"a"}}, [][]string{nil, nil}},
		{"context", []string{"echo pre{}post"}, TemplateOptions{Mode: ModeContext}, Job{Args: []string{"a", "b c"}}, [][]string{{"preapost", "preb cpost"}}},
		{"context of a kind", []string{"echo --x={/}"}, TemplateOptions{Mode: ModeContext}, Job{Args: []string{"d/a", "b"}}, [][]string{{"--x=a", "--x=b"}}},
		{"bytes", []string{"echo {} {.}"}, TemplateOptions{}, Job{Args: []string{"\xff\xfe.\n", "a\x00b"}}, [][]string{{"\xff\xfe.\n", "a\x00b"}, {"\xff\xfe", "a\x00b"}}},
		{"newline", []string{"echo {/}"}, TemplateOptions{}, Job{Args: []string{"a/b\nc/d"}}, [][]string{{"b\nc/d"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]string
			i := 0
			tpl.Bind(tc.job, func(v *Var, values []string) {
				if v != &tpl.Vars[i] {
					t.Errorf("call %d is for %s, want %s", i, v.Name, tpl.Vars[i].Name)
				}
				i++
				if len(values) == 0 {
					values = nil
				}
				got = append(got, slices.Clone(values))
			})
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Bind\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// displayCases hold GNU Parallel 20221122's --dry-run output for jobs made
// of the given argument lists.
var displayCases = []struct {
	name   string
	words  []string
	opts   TemplateOptions
	gnu    []string // GNU Parallel's options and sources, for the oracle test
	jobs   [][]string
	want   []string
	noGNU  bool // the oracle cannot produce these jobs with these options
	seq0   uint64
	header []string
}{
	{name: "argument", words: []string{"echo", "{}"}, gnu: []string{":::", "a", "b c", "", "it's"},
		jobs: [][]string{{"a"}, {"b c"}, {""}, {"it's"}},
		want: []string{"echo a", "echo 'b c'", "echo ''", `echo 'it'"'"'s'`}},
	{name: "appended", words: []string{"echo"}, gnu: []string{":::", "x y"}, jobs: [][]string{{"x y"}}, want: []string{"echo 'x y'"}},
	{name: "two sources", words: []string{"echo"}, gnu: []string{":::", "a", "b", ":::", "c d"},
		jobs: [][]string{{"a", "c d"}, {"b", "c d"}}, want: []string{"echo a 'c d'", "echo b 'c d'"}},
	{name: "positional", words: []string{"echo", "{2}", "{1}", "{-1}", "{1.}", "{2/}", "{1//}", "{1/.}"}, opts: TemplateOptions{Positions: 2},
		gnu: []string{":::", "a.x/b.y", ":::", "c.z/d.w"}, jobs: [][]string{{"a.x/b.y", "c.z/d.w"}},
		want: []string{"echo c.z/d.w a.x/b.y c.z/d.w a.x/b d.w a.x b"}},
	{name: "path kinds", words: []string{"echo", "{.}", "{/}", "{//}", "{/.}"}, gnu: []string{":::", "a/b.c/d", ".bashrc", "file"},
		jobs: [][]string{{"a/b.c/d"}, {".bashrc"}, {"file"}}, want: []string{"echo a/b.c/d d a/b.c d", "echo '' .bashrc . ''", "echo file file . file"}},
	{name: "sequence and slot", words: []string{"echo", "{#}-{%}"}, gnu: []string{":::", "a", "b"}, jobs: [][]string{{"a"}, {"b"}},
		want: []string{"echo 1-1", "echo 2-1"}},
	{name: "quotes are not understood", words: []string{"echo", "'{}'", `"{}"`}, gnu: []string{":::", "p q"}, jobs: [][]string{{"p q"}},
		want: []string{`echo ''p q'' "'p q'"`}},
	{name: "pipe", words: []string{"echo {} | wc -c"}, gnu: []string{":::", "x"}, jobs: [][]string{{"x"}}, want: []string{"echo x | wc -c"}},
	{name: "assignment", words: []string{"X={}", "env"}, gnu: []string{":::", "a b"}, jobs: [][]string{{"a b"}}, want: []string{"X='a b' env"}},
	{name: "-m", words: []string{"echo", "pre{}post"}, opts: TemplateOptions{Mode: ModeXargs}, gnu: []string{"-m", ":::", "a", "b c", "d"},
		jobs: [][]string{{"a", "b c", "d"}}, want: []string{"echo prea 'b c' dpost"}},
	{name: "-X", words: []string{"echo", "pre{}post"}, opts: TemplateOptions{Mode: ModeContext}, gnu: []string{"-X", ":::", "a", "b c", "d"},
		jobs: [][]string{{"a", "b c", "d"}}, want: []string{"echo preapost pre'b c'post predpost"}},
	{name: "-X in double quotes", words: []string{"echo", `"x{}y"`}, opts: TemplateOptions{Mode: ModeContext}, gnu: []string{"-X", ":::", "a", "b"},
		jobs: [][]string{{"a", "b"}}, want: []string{`echo "xay" "xby"`}},
	{name: "-X positional", words: []string{"echo", "{1}", "{-1}", "{2}", "x{2.}y"}, opts: TemplateOptions{Mode: ModeContext}, gnu: []string{"-X", ":::", "a.1", "b c", "d.2"},
		jobs: [][]string{{"a.1", "b c", "d.2"}}, want: []string{"echo a.1 d.2 'b c' x'b c'y"}},
	{name: "-m positional", words: []string{"echo", "{1}", "{-1}", "{2}", "x{2.}y"}, opts: TemplateOptions{Mode: ModeXargs}, gnu: []string{"-m", ":::", "a.1", "b c", "d.2"},
		jobs: [][]string{{"a.1", "b c", "d.2"}}, want: []string{"echo a.1 d.2 'b c' x'b c'y"}},
	{name: "-X position beyond the job", words: []string{"echo", "{}", "{3}"}, opts: TemplateOptions{Mode: ModeContext}, gnu: []string{"-X", "-N2", ":::", "a", "b", "c"},
		jobs: [][]string{{"a", "b"}, {"c"}}, want: []string{"echo a b ", "echo c "}},
	{name: "-q", words: []string{"echo", "a b", "{}", "x{}", "it's"}, opts: TemplateOptions{Quote: true}, gnu: []string{"-q", ":::", "p q", "pq", "it's", ""},
		jobs: [][]string{{"p q"}, {"pq"}, {"it's"}, {""}},
		want: []string{`echo 'a b' 'p q' 'xp q' 'it'"'"'s'`, `echo 'a b' pq xpq 'it'"'"'s'`, `echo 'a b' 'it'"'"'s' 'xit'"'"'s' 'it'"'"'s'`, `echo 'a b' '' x 'it'"'"'s'`}},
	{name: "-I", words: []string{"echo", "<>", "<1>", "{}"}, opts: TemplateOptions{Replacements: Replacements{Arg: "<>"}}, gnu: []string{"-I", "<>", ":::", "a", ":::", "b"},
		jobs: [][]string{{"a", "b"}}, want: []string{"echo a b <1> {}"}},
	{name: "-I with braces", words: []string{"echo", "{x}", "{1x}", "{x1}", "{1}"}, opts: TemplateOptions{Replacements: Replacements{Arg: "{x}"}}, gnu: []string{"-I", "{x}", ":::", "a", ":::", "b"},
		jobs: [][]string{{"a", "b"}}, want: []string{"echo a b a {x1} {1}"}},
	{name: "header", words: []string{"echo", "{b}", "{a.}", "'{x}'"}, opts: TemplateOptions{Header: []string{"a", "b"}}, gnu: []string{"--header", ":", ":::", "a", "a.1", ":::", "b", "b.2"},
		jobs: [][]string{{"a.1", "b.2"}}, want: []string{"echo b.2 a '{x}'"}},
}

func TestDisplay(t *testing.T) {
	for _, tc := range displayCases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, args := range tc.jobs {
				if got := tpl.Display(Job{Seq: uint64(i + 1), Slot: 1, Args: args}); got != tc.want[i] {
					t.Errorf("Display(%q)\n got %s\nwant %s", args, got, tc.want[i])
				}
			}
		})
	}
}

func TestDisplayAgainstGNUParallel(t *testing.T) {
	gnu := gnuParallel(t)
	for _, tc := range displayCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // GNU Parallel takes most of a second to start
			args := append([]string{"--will-cite", "-k", "-j1", "--dry-run"}, tc.gnu[:slices.Index(tc.gnu, ":::")]...)
			args = append(args, tc.words...)
			args = append(args, tc.gnu[slices.Index(tc.gnu, ":::"):]...)
			out, err := exec.Command(gnu, args...).Output()
			if err != nil {
				t.Fatalf("parallel %q: %v", args, err)
			}
			want := strings.Join(tc.want, "\n") + "\n"
			if string(out) != want {
				t.Errorf("parallel %q\n got %q\nwant %q", args, out, want)
			}
		})
	}
}

func TestExpandText(t *testing.T) {
	tests := []struct {
		name, text string
		opts       TemplateOptions
		job        Job
		want       string
	}{
		{"tag", "{}", TemplateOptions{}, Job{Args: []string{"a b", "c"}}, "a b c"},
		{"kinds", "{#}/{%}@{host}: {1/.} {2} {3}", TemplateOptions{}, Job{Seq: 3, Slot: 2, Host: "h", Args: []string{"d/f.x", "'q'"}}, "3/2@h: f 'q' "},
		{"no shell", `$'{}' "{}"`, TemplateOptions{}, Job{Args: []string{"v"}}, `$'v' "v"`},
		{"header", "{name}={size}", TemplateOptions{Header: []string{"name", "size"}}, Job{Args: []string{"n", "s"}}, "n=s"},
		{"renamed", "<>{}", TemplateOptions{Replacements: Replacements{Arg: "<>"}}, Job{Args: []string{"v"}}, "v{}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandText(tc.text, tc.opts, tc.job)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ExpandText(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
	if _, err := ExpandText("{0}", TemplateOptions{}, Job{}); err == nil {
		t.Error("ExpandText({0}) succeeded")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words []string
		opts  TemplateOptions
	}{
		{"plain", []string{"echo", "{}"}, TemplateOptions{}},
		{"from input", nil, TemplateOptions{}},
		{"everything", []string{"echo", "x{}y", "{-2/.}", "{n}"}, TemplateOptions{
			Replacements: Replacements{Arg: "{}", NoExt: "N", Base: "B", Dir: "D", BaseNoExt: "E", Seq: "S", Slot: "L"},
			Header:       []string{"n", "m"}, Positions: 2, Mode: ModeContext, Quote: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tpl.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalTemplate(b)
			if err != nil {
				t.Fatal(err)
			}
			if !templatesEqual(tpl, got) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, tpl)
			}
			job := Job{Seq: 1, Args: []string{"a b", "c"}}
			if tpl.Display(job) != got.Display(job) {
				t.Errorf("Display after decoding = %q, want %q", got.Display(job), tpl.Display(job))
			}
			// Every truncation is an error, never a panic.
			for n := range len(b) {
				if _, err := UnmarshalTemplate(b[:n]); err == nil {
					t.Errorf("decoding %d of %d bytes succeeded", n, len(b))
				}
			}
		})
	}
}

// templatesEqual compares the exported fields, with nil and empty lists
// alike.
func templatesEqual(a, b *Template) bool {
	norm := func(t *Template) Template {
		c := *t
		c.display = nil
		if len(c.Words) == 0 {
			c.Words = nil
		}
		if len(c.Vars) == 0 {
			c.Vars = nil
		}
		if len(c.Options.Header) == 0 {
			c.Options.Header = nil
		}
		c.Options.Positions = max(c.Options.Positions, 0)
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// hostileValues must each reach a command as one literal argument.
var hostileValues = []string{
	"a b; rm -rf ~", "$(id)", "`id`", "*", "~", "'", `"`, "\n", "", "\xff\xfe", "$HOME", "${HOME}",
	"-n", "{}", `\`, "a\nb", "  lead and trail  ", "x'y\"z", "$((1+1))", "!!", "a\tb", "; exit 3", "<in >out | tee",
}

// runCapture runs a compiled template the way the agent does and returns
// the argument lists of each "capture" command; any other command that
// reaches exec fails the test.
func runCapture(t *testing.T, tpl *Template, j Job) [][]string {
	t.Helper()
	file, err := ParseScript(tpl.Script)
	if err != nil {
		t.Fatalf("ParseScript(%s): %v", tpl.Script, err)
	}
	var calls [][]string
	env := NewJobEnviron(expand.ListEnviron("HOME=/nonexistent", "PATH=/nonexistent"))
	env.Bind(tpl, j)
	var stdout bytes.Buffer
	r, err := interp.New(interp.Env(env), interp.StdIO(nil, &stdout, &stdout),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc {
			return func(ctx context.Context, args []string) error {
				if args[0] == "capture" {
					calls = append(calls, slices.Clone(args[1:]))
					return nil
				}
				t.Errorf("script %s ran %q", tpl.Script, args)
				return interp.ExitStatus(127)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background(), file); err != nil {
		var status interp.ExitStatus
		if !errors.As(err, &status) {
			t.Fatalf("run %s: %v", tpl.Script, err)
		}
		t.Errorf("run %s: exit status %d, output %q", tpl.Script, status, stdout.String())
	}
	return calls
}

func TestInjectionSafety(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		opts  TemplateOptions
		want  func(args []string) []string // the one capture call's arguments
	}{
		{"unquoted", []string{"capture", "{}"}, TemplateOptions{}, func(a []string) []string { return a }},
		{"appended", []string{"capture"}, TemplateOptions{}, func(a []string) []string { return a }},
		{"around", []string{"capture", "x{}y"}, TemplateOptions{}, func(a []string) []string { return []string{"x" + a[0] + "y"} }},
		{"double quotes", []string{"capture", `"<{}>"`}, TemplateOptions{}, func(a []string) []string { return []string{"<" + a[0] + ">"} }},
		{"single quotes", []string{"capture", "'<{}>'"}, TemplateOptions{}, func(a []string) []string { return []string{"<" + a[0] + ">"} }},
		{"ANSI-C quotes", []string{"capture", `$'\t{}'`}, TemplateOptions{}, func(a []string) []string { return []string{"\t" + a[0]} }},
		{"command substitution", []string{`capture "$(printf %s {})"`}, TemplateOptions{}, func(a []string) []string { return []string{strings.TrimRight(a[0], "\n")} }},
		{"backticks in double quotes", []string{"capture \"`printf %s {}`\""}, TemplateOptions{}, func(a []string) []string { return []string{strings.TrimRight(a[0], "\n")} }},
		{"parameter default", []string{`capture "${UNSET:-{}}"`}, TemplateOptions{}, func(a []string) []string { return a }},
		{"pipeline and variable", []string{"X={} && capture \"$X\" {/}"}, TemplateOptions{}, func(a []string) []string { return []string{a[0], tplBase(a[0])} }},
		{"-q", []string{"capture", "{}", "a;b"}, TemplateOptions{Quote: true}, func(a []string) []string { return []string{a[0], "a;b"} }},
		{"path kinds", []string{"capture {.} {/} {//} {/.}"}, TemplateOptions{}, func(a []string) []string {
			return []string{tplNoExt(a[0]), tplBase(a[0]), tplDir(a[0]), tplNoExt(tplBase(a[0]))}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, value := range hostileValues {
				calls := runCapture(t, tpl, Job{Seq: 1, Args: []string{value}})
				want := [][]string{tc.want([]string{value})}
				if !reflect.DeepEqual(calls, want) {
					t.Errorf("value %q: script %s captured %q, want %q", value, tpl.Script, calls, want)
				}
			}
		})
	}
}

func TestInjectionSafetyManyArguments(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		opts  TemplateOptions
		want  func(args []string) []string
	}{
		{"-m", []string{"capture", "{}"}, TemplateOptions{Mode: ModeXargs}, func(a []string) []string { return a }},
		{"-m in double quotes", []string{"capture", `"{}"`}, TemplateOptions{Mode: ModeXargs}, func(a []string) []string { return []string{strings.Join(a, " ")} }},
		{"-X", []string{"capture", "pre{}post"}, TemplateOptions{Mode: ModeContext}, func(a []string) []string {
			var w []string
			for _, s := range a {
				w = append(w, "pre"+s+"post")
			}
			return w
		}},
		{"positions", []string{"capture", "{-1}", "{1}", "{99}"}, TemplateOptions{}, func(a []string) []string { return []string{a[len(a)-1], a[0]} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			calls := runCapture(t, tpl, Job{Seq: 1, Args: hostileValues})
			want := [][]string{tc.want(hostileValues)}
			if !reflect.DeepEqual(calls, want) {
				t.Errorf("script %s captured %q, want %q", tpl.Script, calls, want)
			}
		})
	}
}

func BenchmarkBind(b *testing.B) {
	for _, bc := range []struct {
		name  string
		words []string
		opts  TemplateOptions
		args  []string
	}{
		{"echo {}", []string{"echo", "{}"}, TemplateOptions{}, []string{"some/file.txt"}},
		{"echo {} {.} {/} {#}", []string{"echo {} {.} {/} {#}"}, TemplateOptions{}, []string{"some/file.txt"}},
		{"-X pre{}post", []string{"echo pre{}post"}, TemplateOptions{Mode: ModeContext}, []string{"a", "b", "c"}},
	} {
		tpl, err := Compile(bc.words, bc.opts)
		if err != nil {
			b.Fatal(err)
		}
		job := Job{Seq: 12345, Slot: 2, Args: bc.args}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			set := func(v *Var, values []string) { n += len(values) }
			for b.Loop() {
				tpl.Bind(job, set)
			}
		})
		b.Run(bc.name+" JobEnviron", func(b *testing.B) {
			b.ReportAllocs()
			env := NewJobEnviron(expand.ListEnviron())
			for b.Loop() {
				env.Bind(tpl, job)
			}
		})
	}
}

func ExampleCompile() {
	tpl, _ := Compile([]string{"gzip -9 {} && echo done {#}"}, TemplateOptions{})
	fmt.Println(tpl.Script)
	fmt.Println(tpl.Display(Job{Seq: 7, Args: []string{"my file.txt"}}))
	// Output:
	// gzip -9 "${__concurr_1[@]}" && echo done "${__concurr_2[@]}"
	// gzip -9 'my file.txt' && echo done 7
}
