package template

import (
	"reflect"
	"strings"
	"testing"
)

// fuzzWords splits fuzz input into template words at NUL bytes.
func fuzzWords(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(text, "\x00")
}

func FuzzCompile(f *testing.F) {
	for _, seed := range []struct {
		text, arg, header string
		mode              uint8
		quote             bool
		positions         int
	}{
		{"echo\x00{}", "", "", 0, false, 0},
		{"echo {1} {-2/.} '{}' \"{.}\" $'{#}' {%} {host}", "", "", 0, false, 2},
		{"echo pre{}post \"x{//}y\" --f={/.} X={}", "", "", 2, false, 0},
		{"echo $(printf %s {}) `echo {}` \"${X:-{}}\" $(( {#} + 1 )) # {}", "", "", 1, false, 0},
		{"awk '{print $1}'\x00{name}\x00{size.}", "", "name,size", 0, false, 0},
		{"echo\x00<>\x00<1>", "<>", "", 0, true, 0},
		{"echo 'a", "", "", 0, false, 0},
		{"echo \\{} \"\\{}\" $@ ${#} {", "@", "", 0, false, 0},
		{"", "", "", 0, false, 0},
	} {
		f.Add(seed.text, seed.arg, seed.header, seed.mode, seed.quote, seed.positions)
	}
	f.Fuzz(func(t *testing.T, text, arg, header string, mode uint8, quote bool, positions int) {
		opts := Options{Replacements: Replacements{Arg: arg}, Mode: Mode(mode % 3), Quote: quote, Positions: positions}
		if header != "" {
			opts.Header = strings.Split(header, ",")
		}
		tpl, err := Compile(fuzzWords(text), opts)
		if err != nil {
			return
		}
		if !tpl.FromInput {
			if err := checkSyntax(tpl.Script); err != nil {
				t.Fatalf("compiled script does not parse: %v\n%s", err, tpl.Script)
			}
			for _, v := range tpl.Vars {
				if !strings.Contains(tpl.Script, "${"+v.Name+"[") {
					t.Fatalf("variable %s is not in the script %s", v.Name, tpl.Script)
				}
			}
		}
		b, err := tpl.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalProgram(b)
		if err != nil {
			t.Fatalf("decode what was encoded: %v", err)
		}
		if !programsEqual(&tpl.Program, got) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, tpl.Program)
		}
		for _, j := range []Job{{}, {Seq: 1, Slot: 1, Args: []string{"a b", "", "c/d.e"}}} {
			_ = tpl.Display(j)
			if want, got := boundValues(&tpl.Program, j), boundValues(got, j); !reflect.DeepEqual(got, want) {
				t.Fatalf("Bind differs after decoding: %q vs %q", got, want)
			}
		}
		_, _ = ExpandText(text, opts, Job{Args: []string{"x"}})
	})
}

func FuzzUnmarshalProgram(f *testing.F) {
	for _, words := range [][]string{{"echo", "{}"}, nil, {"echo {1} x{/}y {#}"}} {
		for _, opts := range []Options{{}, {Mode: ModeContext, Header: []string{"a"}, Positions: 2, Quote: true}} {
			tpl, err := Compile(words, opts)
			if err != nil {
				f.Fatal(err)
			}
			b, _ := tpl.MarshalBinary()
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalProgram(b)
		if err != nil {
			return
		}
		again, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		p2, err := UnmarshalProgram(again)
		if err != nil || !programsEqual(p, p2) {
			t.Fatalf("re-encoding is not stable: %v", err)
		}
		p.Bind(Job{Seq: 2, Slot: 1, Host: "h", Args: []string{"a", "b"}}, func(*Var, []string) {})
	})
}
