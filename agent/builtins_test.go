package agent

import (
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

// bashBuiltinCase is a template that uses a builtin concurr implements,
// with what bash prints and its status.
type bashBuiltinCase struct {
	name   string
	tmpl   string
	args   []string
	stdout string
	stderr string // a substring; "" for none
	exit   uint64
}

func runBashBuiltinCases(t *testing.T, tests []bashBuiltinCase) {
	t.Helper()
	c := startAgent(t, Options{Slots: 1})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			id := uint64(i + 1)
			c.send(&wire.Command{ID: id, Template: script(tt.tmpl), Slots: 1},
				&wire.Input{Command: id, Seq: 1, Args: tt.args})
			r := c.collect(20*time.Second, 1)[1]
			c.send(&wire.Delete{Command: id})
			if got := r.stdout.String(); got != tt.stdout {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
			stderr := r.stderr.String()
			if tt.stderr == "" && stderr != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want %q", stderr, tt.stderr)
			}
			if r.result.Exit != tt.exit {
				t.Errorf("exit %d, want %d", r.result.Exit, tt.exit)
			}
		})
	}
}

func TestPrintfToVariable(t *testing.T) {
	runBashBuiltinCases(t, []bashBuiltinCase{
		{name: "a string", tmpl: `printf -v v %s "$A1"; echo "[$v]"`, args: []string{"x"}, stdout: "[x]\n"},
		{name: "the format repeats", tmpl: `printf -v v '%s-%d|' a 1 b 2; echo "[$v]"`, stdout: "[a-1|b-2|]\n"},
		{name: "quotes and expansions stay literal", tmpl: `printf -v v %s "$A1"; printf '[%s]\n' "$v"`,
			args: []string{"it's \"$(id)\" `id` \\ \n $HOME"}, stdout: "[it's \"$(id)\" `id` \\ \n $HOME]\n"},
		{name: "no output", tmpl: `printf -v v %s x`, stdout: ""},
		{name: "joined option", tmpl: `printf -vv %s x; echo "$v"`, stdout: "x\n"},
		{name: "after --", tmpl: `printf -v v -- %s x; echo "$v"`, stdout: "x\n"},
		{name: "an array element", tmpl: `printf -v 'a[2]' %s x; echo "${a[2]}"`, stdout: "x\n"},
		{name: "a global from a function", tmpl: `f() { printf -v g %s in; }; f; echo "$g"`, stdout: "in\n"},
		{name: "a local stays local", tmpl: `f() { local g; printf -v g %s in; echo "$g"; }; f; echo "[$g]"`, stdout: "in\n[]\n"},
		{name: "ends at NUL", tmpl: `printf -v v 'a\0b'; echo "$v"`, stdout: "a\n"},
		{name: "a bad name", tmpl: `printf -v 1x %s y`, stderr: "printf: `1x': not a valid identifier\n", exit: 2},
		{name: "a subscript that would run code", tmpl: `printf -v 'a[$(id)]' %s y`, stderr: "not a valid identifier\n", exit: 2},
		{name: "no name", tmpl: `printf -v`, stderr: "printf: -v: option requires an argument\n", exit: 2},
		{name: "no format", tmpl: `printf -v v`, stderr: "printf: usage: ", exit: 2},
		{name: "bad format", tmpl: `printf -v v '%z' x`, stderr: "printf: ", exit: 1},
		{name: "plain printf unchanged", tmpl: `printf '%s\n' -v`, stdout: "-v\n"},
	})
}
