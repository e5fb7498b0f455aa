package agent

import (
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

func TestImportFuncs(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		defined []string
		bad     []string
	}{
		{name: "none", env: []string{"PATH=/bin"}},
		{name: "one as bash exports it", env: []string{"BASH_FUNC_doit%%=() {  echo \"doing $1\"\n}"}, defined: []string{"doit"}},
		{name: "a subshell body", env: []string{"BASH_FUNC_sub%%=() ( echo in )"}, defined: []string{"sub"}},
		{name: "two", env: []string{"BASH_FUNC_a%%=() { :; }", "BASH_FUNC_b%%=() { a; }"}, defined: []string{"a", "b"}},
		{name: "a command after the function", env: []string{"BASH_FUNC_x%%=() { :; }; echo injected"}, bad: []string{"x"}},
		{name: "not a function", env: []string{"BASH_FUNC_y%%=echo hi"}, bad: []string{"y"}},
		{name: "bad syntax", env: []string{"BASH_FUNC_z%%=() { echo \"; }"}, bad: []string{"z"}},
		{name: "plain variables that look alike", env: []string{"BASH_FUNC_w=() { :; }", "BASH_FUNC_%%=() { :; }"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := importFuncs(newBaseEnviron(tt.env, nil).pairs)
			if len(f.bodies) != len(tt.defined) {
				t.Errorf("defined %d functions, want %v", len(f.bodies), tt.defined)
			}
			for _, name := range tt.defined {
				if f.bodies[name] == nil {
					t.Errorf("function %s not defined", name)
				}
			}
			if len(f.bad) != len(tt.bad) {
				t.Errorf("refused %v, want %v", f.bad, tt.bad)
			}
			for _, name := range tt.bad {
				if f.bad[name] == nil {
					t.Errorf("function %s not refused", name)
				}
			}
		})
	}
}

func TestExportedFuncsInJobs(t *testing.T) {
	doit := "BASH_FUNC_doit%%=() {  echo \"doing $1\"\n}"
	tests := []struct {
		name   string
		env    []string
		tmpl   string
		stdout string
		stderr string
		exit   uint64
	}{
		{name: "called by the template", env: []string{doit}, tmpl: `doit "$A1"`, stdout: "doing a\ndoing b\n"},
		{name: "in a pipeline", env: []string{doit}, tmpl: `doit "$A1" | tr a-z A-Z`, stdout: "DOING A\nDOING B\n"},
		{name: "passed on to bash", env: []string{doit}, tmpl: `bash -c 'doit "$1"' _ "$A1"`, stdout: "doing a\ndoing b\n"},
		{name: "one job redefines it, the next has the original",
			env: []string{doit}, tmpl: `doit "$A1"; doit() { echo changed; }`, stdout: "doing a\ndoing b\n"},
		{name: "one job unsets it, the next has it",
			env: []string{doit}, tmpl: `doit "$A1"; unset -f doit`, stdout: "doing a\ndoing b\n"},
		{name: "calling one another", env: []string{"BASH_FUNC_inner%%=() { echo \"in $1\"; }", "BASH_FUNC_outer%%=() { inner \"$1\"; }"},
			tmpl: `outer "$A1"`, stdout: "in a\nin b\n"},
		{name: "refused definition", env: []string{"BASH_FUNC_bad%%=() { :; }; echo injected"}, tmpl: `bad`,
			stderr: "bad: cannot import the exported function BASH_FUNC_bad%%: ", exit: 127},
	}
	c := startAgent(t, Options{Slots: 1})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			id := uint64(i + 1)
			c.send(&wire.Command{ID: id, Template: script(tt.tmpl), Env: tt.env, Slots: 1},
				&wire.Input{Command: id, Seq: 1, Args: []string{"a"}},
				&wire.Input{Command: id, Seq: 2, Args: []string{"b"}})
			res := c.collect(20*time.Second, 1, 2)
			c.send(&wire.Delete{Command: id})
			var stdout, stderr string
			for seq := uint64(1); seq <= 2; seq++ {
				stdout += res[seq].stdout.String()
				stderr += res[seq].stderr.String()
				if res[seq].result.Exit != tt.exit {
					t.Errorf("job %d: exit %d, want %d; stderr %q", seq, res[seq].result.Exit, tt.exit, res[seq].stderr.String())
				}
			}
			if stdout != tt.stdout {
				t.Errorf("stdout = %q, want %q", stdout, tt.stdout)
			}
			if tt.stderr == "" && stderr != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want %q", stderr, tt.stderr)
			}
		})
	}
}
