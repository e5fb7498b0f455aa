package template

import (
	"reflect"
	"slices"
	"testing"
)

func TestBind(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		opts  Options
		job   Job
		want  [][]string // per variable
	}{
		{"argument", []string{"{}"}, Options{Quote: true}, Job{Args: []string{"a b"}}, [][]string{{"a b"}}},
		{"several arguments", []string{"echo {}"}, Options{}, Job{Args: []string{"a", "", "c"}}, [][]string{{"a", "", "c"}}},
		{"empty argument", []string{"echo {}"}, Options{}, Job{Args: []string{""}}, [][]string{{""}}},
		{"no arguments", []string{"echo {}"}, Options{}, Job{}, [][]string{nil}},
		{"path kinds", []string{"echo {.} {/} {//} {/.}"}, Options{}, Job{Args: []string{"a/b.c/d.e", ".bashrc"}},
			[][]string{{"a/b.c/d", ""}, {"d.e", ".bashrc"}, {"a/b.c", "."}, {"d", ""}}},
		{"sequence slot host", []string{"echo {#} {%} {host}"}, Options{}, Job{Seq: 18446744073709551615, Slot: 4, Host: "n1"},
			[][]string{{"18446744073709551615"}, {"4"}, {"n1"}}},
		{"positions", []string{"echo {1} {2} {3} {-1} {-3} {-4} {2.} {-1/}"}, Options{}, Job{Args: []string{"x/a.b", "y/c.d", "z/e"}},
			[][]string{{"x/a.b"}, {"y/c.d"}, {"z/e"}, {"z/e"}, {"x/a.b"}, nil, {"y/c"}, {"e"}}},
		{"position beyond the job", []string{"echo {5} {5.}"}, Options{}, Job{Args: []string{"a"}}, [][]string{nil, nil}},
		{"context", []string{"echo pre{}post"}, Options{Mode: ModeContext}, Job{Args: []string{"a", "b c"}}, [][]string{{"preapost", "preb cpost"}}},
		{"context word of several references", []string{"echo a{}b{.}c{1}d{#}"}, Options{Mode: ModeContext}, Job{Seq: 7, Args: []string{"1.x", "2"}},
			[][]string{{"a1.xb1c1.xd7", "a2b2c1.xd7"}}},
		{"context word of positions only is not repeated", []string{"echo a{1}b{#}"}, Options{Mode: ModeContext}, Job{Seq: 7, Args: []string{"1", "2"}},
			[][]string{{"1"}, {"7"}}},
		{"context of a kind", []string{"echo --x={/}"}, Options{Mode: ModeContext}, Job{Args: []string{"d/a", "b"}}, [][]string{{"--x=a", "--x=b"}}},
		{"bytes", []string{"echo {} {.}"}, Options{}, Job{Args: []string{"\xff\xfe.\n", "a\x00b"}}, [][]string{{"\xff\xfe.\n", "a\x00b"}, {"\xff\xfe", "a\x00b"}}},
		{"newline", []string{"echo {/}"}, Options{}, Job{Args: []string{"a/b\nc/d"}}, [][]string{{"b\nc/d"}}},
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

func BenchmarkBind(b *testing.B) {
	for _, bc := range []struct {
		name  string
		words []string
		opts  Options
		args  []string
	}{
		{"echo {}", []string{"echo", "{}"}, Options{}, []string{"some/file.txt"}},
		{"echo {} {.} {/} {#}", []string{"echo {} {.} {/} {#}"}, Options{}, []string{"some/file.txt"}},
		{"-X pre{}post", []string{"echo pre{}post"}, Options{Mode: ModeContext}, []string{"a", "b", "c"}},
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
	}
}
