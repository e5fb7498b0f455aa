package template

import (
	"fmt"
	"reflect"
	"testing"
)

func TestCompile(t *testing.T) {
	v := func(name string, k Kind, index int) Var { return Var{Name: "__concurr_" + name, Kind: k, Index: index} }
	tests := []struct {
		name   string
		words  []string
		opts   Options
		script string
		vars   []Var
	}{
		{"argument", []string{"echo", "{}"}, Options{}, `echo "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"appended when absent", []string{"echo", "hi"}, Options{}, `echo hi "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"all kinds", []string{"echo {} {.} {/} {//} {/.} {#} {%} {host}"}, Options{},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}" "${__concurr_4[@]}" "${__concurr_5[@]}" "${__concurr_6[@]}" "${__concurr_7[@]}" "${__concurr_8[@]}"`,
			[]Var{v("1", KindArg, 0), v("2", KindNoExt, 0), v("3", KindBase, 0), v("4", KindDir, 0), v("5", KindBaseNoExt, 0), v("6", KindSeq, 0), v("7", KindSlot, 0), v("8", KindHost, 0)}},
		{"shared variable", []string{"cp {} {}.bak"}, Options{}, `cp "${__concurr_1[@]}" "${__concurr_1[@]}".bak`, []Var{v("1", KindArg, 0)}},
		{"positional", []string{"echo {2} {-1} {1.} {2/} {1//} {1/.}"}, Options{Positions: 2},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}" "${__concurr_4[@]}" "${__concurr_5[@]}" "${__concurr_6[@]}"`,
			[]Var{v("1", KindArg, 2), v("2", KindArg, -1), v("3", KindNoExt, 1), v("4", KindBase, 2), v("5", KindDir, 1), v("6", KindBaseNoExt, 1)}},
		{"positional with spaces", []string{"echo {1 }"}, Options{}, `echo "${__concurr_1[@]}"`, []Var{v("1", KindArg, 1)}},
		{"single quotes", []string{"echo 'a{}b'"}, Options{}, `echo 'a'"${__concurr_1[*]}"'b'`, []Var{v("1", KindArg, 0)}},
		{"double quotes", []string{`echo "a {} b"`}, Options{}, `echo "a ${__concurr_1[*]} b"`, []Var{v("1", KindArg, 0)}},
		{"ANSI-C quotes", []string{`echo $'a\'{}'`}, Options{}, `echo $'a\''"${__concurr_1[*]}"$''`, []Var{v("1", KindArg, 0)}},
		{"command substitution in double quotes", []string{`echo "$(echo '{}')"`}, Options{},
			`echo "$(echo ''"${__concurr_1[*]}"'')"`, []Var{v("1", KindArg, 0)}},
		{"backticks", []string{"echo `echo {}`"}, Options{}, "echo `echo \"${__concurr_1[@]}\"`", []Var{v("1", KindArg, 0)}},
		{"arithmetic", []string{"echo $(({#}*2))"}, Options{}, `echo $(("${__concurr_1[@]}"*2))`, []Var{v("1", KindSeq, 0)}},
		{"parameter default", []string{`echo "${X:-{}}"`}, Options{}, `echo "${X:-${__concurr_1[*]}}"`, []Var{v("1", KindArg, 0)}},
		{"parameter expansions stay", []string{"echo ${#} ${1} $# {}"}, Options{}, `echo ${#} ${1} $# "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"escaped braces stay", []string{`echo \{} {}`}, Options{}, `echo \{} "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"backslash before a value in double quotes", []string{`echo "\{}"`}, Options{}, `echo "\\${__concurr_1[*]}"`, []Var{v("1", KindArg, 0)}},
		{"brace text stays", []string{"echo {a,b} {}"}, Options{}, `echo {a,b} "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"awk script stays", []string{"awk '{print $1}'", "{}"}, Options{}, `awk '{print $1}' "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"comment", []string{"echo {} # it's"}, Options{}, `echo "${__concurr_1[@]}" # it's`, []Var{v("1", KindArg, 0)}},
		{"multi-line", []string{"echo {}\necho '{#}'"}, Options{}, "echo \"${__concurr_1[@]}\"\necho ''\"${__concurr_2[*]}\"''", []Var{v("1", KindArg, 0), v("2", KindSeq, 0)}},
		{"-I", []string{"echo <> {}"}, Options{Replacements: Replacements{Arg: "<>"}}, `echo "${__concurr_1[@]}" {}`, []Var{v("1", KindArg, 0)}},
		{"-I has no positional form without {", []string{"echo <1> <>"}, Options{Replacements: Replacements{Arg: "<>"}}, `echo <1> "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-I with braces", []string{"echo {x} {1x} {1}"}, Options{Replacements: Replacements{Arg: "{x}"}}, `echo "${__concurr_1[@]}" "${__concurr_2[@]}" {1}`, []Var{v("1", KindArg, 0), v("2", KindArg, 1)}},
		{"-I @ keeps $@", []string{`echo "$@" @`}, Options{Replacements: Replacements{Arg: "@"}}, `echo "$@" "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"renamed seq and slot", []string{"echo SEQ SLOT"}, Options{Replacements: Replacements{Seq: "SEQ", Slot: "SLOT"}},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}"`, []Var{v("1", KindSeq, 0), v("2", KindSlot, 0)}},
		{"header", []string{"echo {name} {size.} {2}"}, Options{Header: []string{"name", "size"}},
			`echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}"`, []Var{v("1", KindArg, 1), v("2", KindNoExt, 2), v("3", KindArg, 2)}},
		{"header names in quotes stay", []string{"awk '{print}' {name}"}, Options{Header: []string{"name"}},
			`awk '{print}' "${__concurr_1[@]}"`, []Var{v("1", KindArg, 1)}},
		{"-q", []string{"echo", "a b", "x{}y", "it's", ""}, Options{Quote: true},
			`echo 'a b' x"${__concurr_1[@]}"y 'it'"'"'s' ''`, []Var{v("1", KindArg, 0)}},
		{"-q appends", []string{"echo", "a;b"}, Options{Quote: true}, `echo 'a;b' "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-m", []string{"echo pre{}post"}, Options{Mode: ModeXargs}, `echo pre"${__concurr_1[@]}"post`, []Var{v("1", KindArg, 0)}},
		{"-X context", []string{`echo pre{}post "x{/}y" 'a'{.}`}, Options{Mode: ModeContext}, `echo "${__concurr_1[@]}" "${__concurr_2[@]}" "${__concurr_3[@]}"`,
			[]Var{{Name: "__concurr_1", Kind: KindArg, Prefix: "pre", Suffix: "post"}, {Name: "__concurr_2", Kind: KindBase, Prefix: "x", Suffix: "y"}, {Name: "__concurr_3", Kind: KindNoExt, Prefix: "a"}}},
		{"-X plain word", []string{"echo {}"}, Options{Mode: ModeContext}, `echo "${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-X assignment is no context", []string{"X={} env"}, Options{Mode: ModeContext}, `X="${__concurr_1[@]}" env`, []Var{v("1", KindArg, 0)}},
		{"-X option with = is context", []string{"cmd --file={}"}, Options{Mode: ModeContext}, `cmd "${__concurr_1[@]}"`, []Var{{Name: "__concurr_1", Kind: KindArg, Prefix: "--file="}}},
		{"-X glob is no context", []string{"ls *{}"}, Options{Mode: ModeContext}, `ls *"${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-X word of two values repeats whole", []string{"echo {}{#}"}, Options{Mode: ModeContext}, `echo "${__concurr_1[@]}"`,
			[]Var{{Name: "__concurr_1", Kind: KindArg, Parts: []Part{{Kind: KindArg}, {Kind: KindSeq}}}}},
		{"-X positional is no context", []string{"echo x{1}"}, Options{Mode: ModeContext}, `echo x"${__concurr_1[@]}"`, []Var{v("1", KindArg, 1)}},
		{"-X expansion is no context", []string{"echo $HOME{}"}, Options{Mode: ModeContext}, `echo $HOME"${__concurr_1[@]}"`, []Var{v("1", KindArg, 0)}},
		{"-X inside command substitution", []string{"echo $(echo a{}b)"}, Options{Mode: ModeContext}, `echo $(echo "${__concurr_1[@]}")`, []Var{{Name: "__concurr_1", Kind: KindArg, Prefix: "a", Suffix: "b"}}},
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
		tpl, err := Compile(words, Options{})
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
		opts  Options
		want  string
	}{
		{"open quote", []string{"echo 'a"}, Options{}, "template \"echo 'a\": line 1, column 6: reached EOF without closing quote `'`"},
		{"open double quote", []string{`echo "{}`}, Options{}, "template \"echo \\\"{}\": line 1, column 6: reached EOF without closing quote `\"`"},
		{"bad syntax", []string{"echo {} |"}, Options{}, "template \"echo {} |\": line 1, column 9: `|` must be followed by a statement"},
		{"second line", []string{"echo {}\nif true; then echo"}, Options{}, "template \"echo {}\\nif true; then echo\": line 2, column 1: `if` statement must end with `fi`"},
		{"the user's columns, not the script's", []string{"echo {} {} )"}, Options{}, "template \"echo {} {} )\": line 1, column 12: a command can only contain words and redirects; encountered `)`"},
		{"position beyond", []string{"echo {3}"}, Options{Positions: 2}, `template "echo {3}": {3}: there are only 2 argument positions: use {1} to {2}, or {-1} to {-2}`},
		{"negative position beyond", []string{"echo {-2.}"}, Options{Positions: 1}, `template "echo {-2.}": {-2.}: there is only 1 argument position, so use {1} or {-1}`},
		{"position zero", []string{"echo {0}"}, Options{}, `template "echo {0}": {0}: positions count from 1 (or from -1 at the end)`},
		{"position zero in quotes", []string{"echo '{0/}'"}, Options{}, `template "echo '{0/}'": {0/}: positions count from 1 (or from -1 at the end)`},
		{"unknown column", []string{"echo {nmae}"}, Options{Header: []string{"name", "size"}}, `template "echo {nmae}": {nmae} is not a column of the header; the columns are {name} {size}`},
		{"same string twice", []string{"echo {}"}, Options{Replacements: Replacements{Arg: "{.}"}}, `template "echo {}": replacement string "{.}" stands for both {} and {.}`},
		{"unquoted parameter default", []string{"echo ${X:-{}}"}, Options{}, `template "echo ${X:-{}}": {} inside ${...} needs double quotes around the ${...}`},
		{"quoted in unquoted parameter", []string{`echo ${X:-"{}"}`}, Options{}, `template "echo ${X:-\"{}\"}": {} inside ${...} needs double quotes around the ${...}`},
		{"-q position beyond", []string{"echo", "{2}"}, Options{Quote: true, Positions: 1}, `template "echo {2}": {2}: there is only 1 argument position, so use {1} or {-1}`},
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

func ExampleCompile() {
	tpl, _ := Compile([]string{"gzip -9 {} && echo done {#}"}, Options{})
	fmt.Println(tpl.Script)
	fmt.Println(tpl.Display(Job{Seq: 7, Args: []string{"my file.txt"}}))
	// Output:
	// gzip -9 "${__concurr_1[@]}" && echo done "${__concurr_2[@]}"
	// gzip -9 'my file.txt' && echo done 7
}
