package agent

import (
	"fmt"
	"os"
	"testing"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"concurr/internal/template"
	"concurr/internal/wire"
)

func TestLeavesNoState(t *testing.T) {
	functions := map[string]*syntax.Stmt{"exported": nil}
	tests := []struct {
		script string
		want   bool
	}{
		{`echo "$A1"`, true},
		{`gzip -c "$A1" > "$A1".gz 2>/dev/null`, true},
		{`printf '%s\n' "$A1" | sort | uniq -c`, true},
		{`[ -f "$A1" ] && wc -l < "$A1" || echo missing >&2`, true},
		{`if test -d "$A1"; then ls "$A1"; else :; fi`, true},
		{`echo "$(basename "$A1")" ${A1%.*} ${A1/x/y} ${#A1} ${A1:-d} $((SEQ * 2 + 1))`, true},
		{`case $A1 in *.gz) zcat "$A1";; *) cat "$A1";; esac`, true},
		{`{ echo a; echo b; } > out; (echo sub) 2>&1; [[ $A1 == x* ]]`, true},
		{`cat <<EOF
$A1
EOF`, true},

		{`x=1`, false},
		{`x=1 env`, false},
		{`echo ${x:=1}`, false},
		{`echo ${x=1}`, false},
		{`echo ${x:?unset}`, false},
		{`echo $?`, false},
		{`echo "${?}"`, false},
		{`echo $((x++))`, false},
		{`echo $((x = 2))`, false},
		{`echo $((x += 2))`, false},
		{`((x++))`, false},
		{`let x=1`, false},
		{`cd /tmp && ls`, false},
		{`export A1`, false},
		{`local x`, false},
		{`declare -a a=(1)`, false},
		{`read line`, false},
		{`set -e; echo`, false},
		{`shift`, false},
		{`trap 'echo x' EXIT`, false},
		{`eval "$A1"`, false},
		{`. ./lib.sh`, false},
		{`source ./lib.sh`, false},
		{`exec 3>out`, false},
		{`exit 3`, false},
		{`f() { :; }; f`, false},
		{`exported "$A1"`, false},
		{`"$A1" x`, false},
		{`$A1 x`, false},
		{`ec* x`, false},
		{`printf -v x %s "$A1"`, false},
		{`printf "$A1"`, false},
		{`printf`, false},
		{`sleep 1 &`, false},
		{`for f in a b; do echo "$f"; done`, false},
		{`while false; do :; done`, false},
		{`[[ $A1 =~ (x) ]]`, false},
		{`echo {fd}>out`, false}, // bash assigns the descriptor's number to fd
		{`echo 2>out`, true},
		{`cat <(echo x)`, false},
		{`alias x=y`, false},
		{`getopts ab o`, false},
		{`umask 077; touch f`, false},
	}
	for _, tt := range tests {
		file, err := parseScript(tt.script)
		if err != nil {
			t.Errorf("%q: %v", tt.script, err)
			continue
		}
		if got := leavesNoState(file, functions); got != tt.want {
			t.Errorf("leavesNoState(%q) = %v, want %v", tt.script, got, tt.want)
		}
	}
}

// TestCompiledTemplatesLeaveNoState checks that the templates users write
// most compile to scripts that run without a Reset between jobs.
func TestCompiledTemplatesLeaveNoState(t *testing.T) {
	for _, words := range [][]string{
		{"echo", "{}"},
		{"gzip -c {} > {.}.gz"},
		{"echo", "{/}", "{//}", "{#}", "{%}", "{/.}"},
		{"convert", "{}", "{.}.png"},
		{"echo {1} {2}"},
	} {
		tmpl, err := template.Compile(words, template.Options{})
		if err != nil {
			t.Fatal(err)
		}
		file, err := parseScript(tmpl.Script)
		if err != nil {
			t.Fatal(err)
		}
		if !leavesNoState(file, nil) {
			t.Errorf("template %q compiles to %q, which is taken to change state", words, tmpl.Script)
		}
	}
}

// TestStatelessJobsStayApart runs jobs of a script that leaves no state on
// one slot, with jobs that are killed or fail among them: each job sees its
// own values and a fresh interpreter, whether the one before it ended by
// itself or not.
func TestStatelessJobsStayApart(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	const src = `case $A1 in hang) sleep 10;; fail) false;; *) echo "$A1 $SEQ $SLOT $PARALLEL_SEQ $PWD [$IFS] $OPTIND";; esac`
	if file, err := parseScript(src); err != nil || !leavesNoState(file, nil) {
		t.Fatalf("the test's script is taken to change state (%v): it would not test running without Reset", err)
	}
	c := startAgent(t, Options{Slots: 1})
	c.send(&wire.Command{ID: 1, Template: script(src), Slots: 1})
	args := []string{"a", "fail", "b", "hang", "c", "d"}
	seqs := make([]uint64, len(args))
	for i, arg := range args {
		seqs[i] = uint64(i + 1)
		in := &wire.Input{Command: 1, Seq: seqs[i], Args: []string{arg}}
		if arg == "hang" {
			in.Timeout = 200 // ms
		}
		c.send(in)
	}
	res := c.collect(20*time.Second, seqs...)
	for i, arg := range args {
		r := res[seqs[i]]
		switch arg {
		case "fail":
			if r.result.Exit != 1 {
				t.Errorf("job %d: exit %d, want 1", seqs[i], r.result.Exit)
			}
		case "hang":
			if r.result.Flags&wire.ResultTimedOut == 0 {
				t.Errorf("job %d: not timed out: %+v", seqs[i], r.result)
			}
		default:
			want := fmt.Sprintf("%s %d 1 %d %s [ \t\n] 1\n", arg, seqs[i], seqs[i], cwd)
			if got := r.stdout.String(); got != want || r.result.Exit != 0 {
				t.Errorf("job %d: stdout %q exit %d, want %q (stderr %q)", seqs[i], got, r.result.Exit, want, r.stderr.String())
			}
		}
	}
}
