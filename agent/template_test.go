package agent

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"

	"concurr/internal/template"
	"concurr/internal/wire"
)

// TestRealTemplates runs templates as the client compiles and encodes them.
func TestRealTemplates(t *testing.T) {
	tests := []struct {
		name   string
		words  []string
		args   []string
		stdout string
	}{
		{name: "argument, sequence and slot", words: []string{"echo", "{}", "{#}", "{%}"}, args: []string{"x"}, stdout: "x 1 1\n"},
		{name: "injection stays literal", words: []string{"printf", "'[%s]\\n'", "{}"}, args: []string{"a b; echo pwned $(id) `id` *"}, stdout: "[a b; echo pwned $(id) `id` *]\n"},
		{name: "basename without extension", words: []string{"echo", "{/.}"}, args: []string{"/tmp/dir/file.tar.gz"}, stdout: "file.tar\n"},
	}
	c := startAgent(t, Options{Slots: 1})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			tmpl, err := template.Compile(tt.words, template.Options{})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			b, err := tmpl.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			id := uint64(i + 1)
			c.send(&wire.Command{ID: id, Template: b, Slots: 1}, &wire.Input{Command: id, Seq: id, Args: tt.args})
			r := c.collect(10*time.Second, id)[id]
			c.send(&wire.Delete{Command: id})
			if r.stdout.String() != tt.stdout || r.result.Exit != 0 {
				t.Errorf("stdout %q stderr %q exit %d, want %q", r.stdout.String(), r.stderr.String(), r.result.Exit, tt.stdout)
			}
		})
	}
}

// hostileValues must each reach a command as one literal argument.
var hostileValues = []string{
	"a b; rm -rf ~", "$(id)", "`id`", "*", "~", "'", `"`, "\n", "", "\xff\xfe", "$HOME", "${HOME}",
	"-n", "{}", `\`, "a\nb", "  lead and trail  ", "x'y\"z", "$((1+1))", "!!", "a\tb", "; exit 3", "<in >out | tee",
}

// runCapture runs a compiled template in a slot's environment, as the agent
// does, and returns the argument lists of each "capture" command; any other
// command that reaches exec fails the test.
func runCapture(t *testing.T, tpl *template.Template, j template.Job) [][]string {
	t.Helper()
	file, err := parseScript(tpl.Script)
	if err != nil {
		t.Fatalf("parseScript(%s): %v", tpl.Script, err)
	}
	var calls [][]string
	env := jobEnviron{parent: newBaseEnviron([]string{"HOME=/nonexistent", "PATH=/nonexistent"}, nil)}
	env.reset(nil)
	tpl.Bind(j, func(v *template.Var, values []string) { env.setValues(v.Name, values) })
	var stdout bytes.Buffer
	r, err := interp.New(interp.Env(&env), interp.StdIO(nil, &stdout, &stdout),
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
	env.runner = r
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
		opts  template.Options
		want  func(args []string) []string // the one capture call's arguments
	}{
		{"unquoted", []string{"capture", "{}"}, template.Options{}, func(a []string) []string { return a }},
		{"appended", []string{"capture"}, template.Options{}, func(a []string) []string { return a }},
		{"around", []string{"capture", "x{}y"}, template.Options{}, func(a []string) []string { return []string{"x" + a[0] + "y"} }},
		{"double quotes", []string{"capture", `"<{}>"`}, template.Options{}, func(a []string) []string { return []string{"<" + a[0] + ">"} }},
		{"single quotes", []string{"capture", "'<{}>'"}, template.Options{}, func(a []string) []string { return []string{"<" + a[0] + ">"} }},
		{"ANSI-C quotes", []string{"capture", `$'\t{}'`}, template.Options{}, func(a []string) []string { return []string{"\t" + a[0]} }},
		{"command substitution", []string{`capture "$(printf %s {})"`}, template.Options{}, func(a []string) []string { return []string{strings.TrimRight(a[0], "\n")} }},
		{"backticks in double quotes", []string{"capture \"`printf %s {}`\""}, template.Options{}, func(a []string) []string { return []string{strings.TrimRight(a[0], "\n")} }},
		{"parameter default", []string{`capture "${UNSET:-{}}"`}, template.Options{}, func(a []string) []string { return a }},
		{"pipeline and variable", []string{"X={} && capture \"$X\" {/}"}, template.Options{}, func(a []string) []string { return []string{a[0], transformed(t, "{/}", a[0])} }},
		{"-q", []string{"capture", "{}", "a;b"}, template.Options{Quote: true}, func(a []string) []string { return []string{a[0], "a;b"} }},
		{"path kinds", []string{"capture {.} {/} {//} {/.}"}, template.Options{}, func(a []string) []string {
			return []string{transformed(t, "{.}", a[0]), transformed(t, "{/}", a[0]), transformed(t, "{//}", a[0]), transformed(t, "{/.}", a[0])}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := template.Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, value := range hostileValues {
				calls := runCapture(t, tpl, template.Job{Seq: 1, Args: []string{value}})
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
		opts  template.Options
		want  func(args []string) []string
	}{
		{"-m", []string{"capture", "{}"}, template.Options{Mode: template.ModeXargs}, func(a []string) []string { return a }},
		{"-m in double quotes", []string{"capture", `"{}"`}, template.Options{Mode: template.ModeXargs}, func(a []string) []string { return []string{strings.Join(a, " ")} }},
		{"-X", []string{"capture", "pre{}post"}, template.Options{Mode: template.ModeContext}, func(a []string) []string {
			var w []string
			for _, s := range a {
				w = append(w, "pre"+s+"post")
			}
			return w
		}},
		{"positions", []string{"capture", "{-1}", "{1}", "{99}"}, template.Options{}, func(a []string) []string { return []string{a[len(a)-1], a[0]} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := template.Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			calls := runCapture(t, tpl, template.Job{Seq: 1, Args: hostileValues})
			want := [][]string{tc.want(hostileValues)}
			if !reflect.DeepEqual(calls, want) {
				t.Errorf("script %s captured %q, want %q", tpl.Script, calls, want)
			}
		})
	}
}

// transformed returns the value of the replacement string rpl for a job of one
// argument, as the template package computes it.
func transformed(t *testing.T, rpl, arg string) string {
	t.Helper()
	s, err := template.ExpandText(rpl, template.Options{}, template.Job{Args: []string{arg}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJobEnviron checks the variables a slot's environment gives a job's
// replacement values, bound as the slot binds them.
func TestJobEnviron(t *testing.T) {
	tpl, err := template.Compile([]string{"echo {} {1} {3} {#} {%} {host} {/}"}, template.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := jobEnviron{parent: newBaseEnviron([]string{"HOME=/home/x", "PATH=/bin"}, nil)}
	bind := func(j template.Job) {
		env.reset(nil)
		tpl.Bind(j, func(v *template.Var, values []string) { env.setValues(v.Name, values) })
	}
	bind(template.Job{Seq: 12, Slot: 3, Host: "node1", Args: []string{"a/b", "c"}})

	want := map[string][]string{
		"__concurr_1": {"a/b", "c"},
		"__concurr_2": {"a/b"},
		"__concurr_3": {},
		"__concurr_4": {"12"},
		"__concurr_5": {"3"},
		"__concurr_6": {"node1"},
		"__concurr_7": {"b", "c"},
	}
	for name, w := range want {
		got := env.Get(name)
		if got.Kind != expand.Indexed || !slices.Equal(got.List, w) || !got.Set || got.Exported {
			t.Errorf("Get(%q) = %+v, want the unexported list %q", name, got, w)
		}
		if got.List == nil {
			t.Errorf("Get(%q) has a nil list, which mvdan.cc/sh expands to one empty word", name)
		}
	}
	if got := env.Get("HOME").String(); got != "/home/x" {
		t.Errorf("Get(HOME) = %q, want the parent's", got)
	}
	if got := env.Get("__concurr_99"); got.IsSet() {
		t.Errorf("Get of an unknown job variable = %+v, want unset", got)
	}
	seen := map[string]bool{}
	env.Each(func(name string, vr expand.Variable) bool {
		seen[name] = true
		return true
	})
	for name := range want {
		if !seen[name] {
			t.Errorf("Each misses %s", name)
		}
	}
	if !seen["HOME"] {
		t.Error("Each misses the parent's variables")
	}
	calls := 0
	env.Each(func(string, expand.Variable) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("Each went on after false: %d calls", calls)
	}

	// The next job replaces every value.
	bind(template.Job{Seq: 13, Args: []string{"x"}})
	if got := env.Get("__concurr_1"); !slices.Equal(got.List, []string{"x"}) {
		t.Errorf("after the second Bind, {} = %+v", got)
	}
}

// BenchmarkBindJobEnviron measures binding a job's values into a slot's
// environment.
func BenchmarkBindJobEnviron(b *testing.B) {
	for _, bc := range []struct {
		name  string
		words []string
		opts  template.Options
		args  []string
	}{
		{"echo {}", []string{"echo", "{}"}, template.Options{}, []string{"some/file.txt"}},
		{"echo {} {.} {/} {#}", []string{"echo {} {.} {/} {#}"}, template.Options{}, []string{"some/file.txt"}},
		{"-X pre{}post", []string{"echo pre{}post"}, template.Options{Mode: template.ModeContext}, []string{"a", "b", "c"}},
	} {
		tpl, err := template.Compile(bc.words, bc.opts)
		if err != nil {
			b.Fatal(err)
		}
		job := template.Job{Seq: 12345, Slot: 2, Args: bc.args}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			env := jobEnviron{parent: newBaseEnviron(nil, nil)}
			set := func(v *template.Var, values []string) { env.setValues(v.Name, values) }
			var values []string
			for b.Loop() {
				env.reset(values[:0])
				tpl.Bind(job, set)
				values = env.values
			}
		})
	}
}
