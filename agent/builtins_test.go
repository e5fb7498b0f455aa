package agent

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
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

func TestUmask(t *testing.T) {
	runBashBuiltinCases(t, []bashBuiltinCase{
		{name: "set and print", tmpl: `umask 027; umask`, stdout: "0027\n"},
		{name: "symbolic print", tmpl: `umask 022; umask -S`, stdout: "u=rwx,g=rx,o=rx\n"},
		{name: "reusable print", tmpl: `umask 077; umask -p`, stdout: "umask 0077\n"},
		{name: "symbolic set", tmpl: `umask u=rwx,g=rx,o=; umask; umask g-x; umask`, stdout: "0027\n0037\n"},
		{name: "children get it", tmpl: `umask 077; sh -c umask`, stdout: "0077\n"},
		{name: "children make files with it",
			tmpl: `d=$(mktemp -d); umask 027; touch "$d/f"; stat -c %a "$d/f"; rm -r "$d"`, stdout: "640\n"},
		{name: "redirections make files with it",
			tmpl:   `d=$(mktemp -d); umask 077; echo x > "$d/f"; stat -c %a "$d/f"; umask 000; echo x > "$d/g"; stat -c %a "$d/g"; rm -r "$d"`,
			stdout: "600\n666\n"},
		{name: "an existing file keeps its mode",
			tmpl: `d=$(mktemp -d); touch "$d/f"; chmod 640 "$d/f"; umask 000; echo x > "$d/f"; stat -c %a "$d/f"; rm -r "$d"`, stdout: "640\n"},
		{name: "out of range", tmpl: `umask 999`, stderr: "umask: 999: octal number out of range\n", exit: 1},
		{name: "bad symbolic mode", tmpl: `umask a=rwx,x`, stderr: "umask: `x': invalid symbolic mode operator\n", exit: 1},
		{name: "bad option", tmpl: `umask -z`, stderr: "umask: -z: invalid option\n", exit: 2},
	})
}

func TestUmaskIsTheJobs(t *testing.T) {
	c := startAgent(t, Options{Slots: 1})
	c.send(&wire.Command{ID: 1, Template: script(`umask; umask 077`), Slots: 1},
		&wire.Input{Command: 1, Seq: 1}, &wire.Input{Command: 1, Seq: 2})
	res := c.collect(20*time.Second, 1, 2)
	if a, b := res[1].stdout.String(), res[2].stdout.String(); a != b {
		t.Errorf("the second job's umask is %q, the first's %q: a job's umask leaked to the next", b, a)
	}
}

func TestUlimit(t *testing.T) {
	runBashBuiltinCases(t, []bashBuiltinCase{
		{name: "set and print", tmpl: `ulimit -n 64; ulimit -n; ulimit -Hn`, stdout: "64\n64\n"},
		{name: "children get it", tmpl: `ulimit -n 64; sh -c 'ulimit -n'`, stdout: "64\n"},
		{name: "soft only", tmpl: `h=$(ulimit -Hn); ulimit -Sn 10; sh -c 'ulimit -Sn'; [ "$(sh -c 'ulimit -Hn')" = "$h" ] && echo hard kept`, stdout: "10\nhard kept\n"},
		{name: "scaled in kbytes", tmpl: `ulimit -v 100000; sh -c 'ulimit -v'`, stdout: "100000\n"},
		{name: "cpu seconds", tmpl: `ulimit -t 5; sh -c 'ulimit -t'`, stdout: "5\n"},
		{name: "file size is the default", tmpl: `ulimit 2048; ulimit; bash -c 'ulimit -f'`, stdout: "2048\n2048\n"},
		{name: "enforced on a child", tmpl: `ulimit -f 1; head -c 4096 /dev/zero > /dev/null && echo fine; sh -c 'head -c 4096 /dev/zero > "$(mktemp -u)"' 2>/dev/null || echo stopped`,
			stdout: "fine\nstopped\n"},
		{name: "all, in bash's layout", tmpl: `ulimit -a | grep -e '-n)' | sed 's/[0-9]*$//'`, stdout: "open files                          (-n) \n"},
		{name: "soft above hard", tmpl: `ulimit -Sn 40; ulimit -Hn 50; ulimit -Sn 60`, stderr: "ulimit: open files: cannot modify limit: Invalid argument\n", exit: 1},
		{name: "not a number", tmpl: `ulimit -n abc`, stderr: "ulimit: abc: invalid number\n", exit: 1},
		{name: "bad option", tmpl: `ulimit -z`, stderr: "ulimit: -z: invalid option\nulimit: usage: ", exit: 2},
		{name: "pipe size cannot change", tmpl: `ulimit -p; ulimit -p 16`, stdout: "8\n", stderr: "ulimit: pipe size: cannot modify limit: Invalid argument\n", exit: 1},
	})
}

func TestExecHelper(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{name: "no command", args: []string{"umask", "18", "--"}, status: 126, stderr: "no command"},
		{name: "bad limit", args: []string{"limit", "x", "--", "/bin/true", "true"}, status: 126, stderr: "bad limit"},
		{name: "missing file", args: []string{"--", "/no/such/file", "f"}, status: 127, stderr: "f: cannot execute: required file not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			if status := execHelper(tt.args, &stderr); status != tt.status || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("execHelper = %d %q, want %d %q", status, stderr.String(), tt.status, tt.stderr)
			}
		})
	}
}

func TestAssignmentBackslashes(t *testing.T) {
	runBashBuiltinCases(t, []bashBuiltinCase{
		{name: "quote idiom", tmpl: `v='it'\''s'; echo "$v"`, stdout: "it's\n"},
		{name: "escaped quote", tmpl: `v=a\'b; echo "$v"`, stdout: "a'b\n"},
		{name: "escaped dollar", tmpl: `v=\$x; echo "$v"`, stdout: "$x\n"},
		{name: "escaped space", tmpl: `v=a\ b; echo "$v"`, stdout: "a b\n"},
		{name: "escaped backslash", tmpl: `v=a\\b; echo "$v"`, stdout: "a\\b\n"},
		{name: "in export and local", tmpl: `export w=a\'b; f() { local l=c\'d; echo "$w $l"; }; f`, stdout: "a'b c'd\n"},
		{name: "in a prefix assignment", tmpl: `v=a\'b sh -c 'echo "$v"'`, stdout: "a'b\n"},
		{name: "double quotes unchanged", tmpl: `v="a\"b\\c\$d"; echo "$v"`, stdout: "a\"b\\c$d\n"},
		{name: "tilde still expands", tmpl: `HOME=/h; v=~; echo "$v"`, stdout: "/h\n"},
		{name: "expansions still expand", tmpl: `x=1; v=\'$x\'; echo "$v"`, stdout: "'1'\n"},
	})
}

// Slots format at the same time; no job's value may run into another's.
func TestPrintfToVariableConcurrently(t *testing.T) {
	const goroutines, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			want := fmt.Sprintf("%05d", g)
			for range rounds {
				got := printfToVar([]string{"printf", "-v", "v", "%05d", strconv.Itoa(g)})
				if len(got) != 2 || got[1] != `v="`+want+`"` {
					errs <- fmt.Sprintf("goroutine %d: got %q", g, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
