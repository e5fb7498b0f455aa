package agent

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

// TestSlotStartsEveryJobClean runs a job that changes every piece of shell
// state it can, then a job on the same slot that looks at it: a slot reuses
// its interpreter, and nothing of the first job may reach the second.
func TestSlotStartsEveryJobClean(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	home := os.Getenv("HOME")
	tests := []struct {
		name  string
		dirty string // the first job
		check string // the second job, on the same slot
		want  string
	}{
		{name: "variables",
			dirty: `x=1; export y=2; declare -a arr=(a b)`,
			check: `echo "[${x-unset}] [${y-unset}] [${arr[*]-unset}]"; sh -c 'echo "[${y-unset}]"'`,
			want:  "[unset] [unset] [unset]\n[unset]\n"},
		{name: "the environment's variables",
			dirty: `HOME=/elsewhere; export HOME; unset PATH; export PARALLEL_SEQ=x LANG=xx`,
			check: `echo "$HOME ${PATH:+path} $PARALLEL_SEQ"; /bin/sh -c 'echo "$HOME $PARALLEL_SEQ"'`,
			want:  home + " path 2\n" + home + " 2\n"},
		{name: "readonly variables",
			dirty: `readonly r=1; readonly HOME`,
			check: `r=2; HOME=/x; echo "$r $HOME"`,
			want:  "2 /x\n"},
		{name: "the interpreter's own variables",
			dirty: `IFS=:; OPTIND=5; PWD=/nowhere; set -- a b c; false`,
			check: `echo "[$IFS] $OPTIND $PWD $# $?"`,
			want:  "[ \t\n] 1 " + cwd + " 0 0\n"},
		{name: "UID and friends",
			dirty: `unset UID 2>/dev/null; echo $UID > /dev/null`,
			check: `echo "$UID $EUID $GID"; UID=5 2>/dev/null || echo readonly; sh -c 'echo "[${UID-}]"'`,
			want: strconv.Itoa(os.Getuid()) + " " + strconv.Itoa(os.Geteuid()) + " " + strconv.Itoa(os.Getgid()) +
				"\nreadonly\n[]\n"},
		{name: "functions",
			dirty: `f() { echo f; }; g() { :; }`,
			check: `f 2>/dev/null || echo "no f"; type g >/dev/null 2>&1 || echo "no g"`,
			want:  "no f\nno g\n"},
		{name: "options",
			dirty: `set -e -u -f -o pipefail`,
			check: `echo "$-"; false; echo "[$unset_var]"; echo /*/ | grep -q '^/\*/$' || echo globbing; false | true; echo $?`,
			want:  "\n[]\nglobbing\n0\n"},
		{name: "working directory",
			dirty: `cd /; pushd /tmp >/dev/null`,
			check: `pwd; dirs`,
			want:  cwd + "\n" + cwd + "\n"},
		{name: "aliases",
			dirty: `alias ll='echo aliased'`,
			check: `alias; ll 2>/dev/null || echo "no alias"`,
			want:  "no alias\n"},
		{name: "traps",
			dirty: `trap 'echo trapped' EXIT`,
			check: `echo body`,
			want:  "body\n"},
		{name: "replacement values",
			dirty: `A1=changed; ARGS=(x); SEQ=99`,
			check: `[ "$A1" = "${ARGS[*]}" ] && echo "same $SEQ"`,
			want:  "same 2\n"},
	}
	c := startAgent(t, Options{Slots: 1})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			id := uint64(i + 1)
			// The job's words are its script, and they name the replacement
			// variables of script().
			tmpl := script(`eval "$ARGS"`)
			c.send(&wire.Command{ID: id, Template: tmpl, Slots: 1},
				&wire.Input{Command: id, Seq: 1, Args: []string{tt.dirty}},
				&wire.Input{Command: id, Seq: 2, Args: []string{tt.check}})
			res := c.collect(20*time.Second, 1, 2)
			c.send(&wire.Delete{Command: id})
			if r := res[1].result; r.Slot != res[2].result.Slot {
				t.Fatalf("jobs ran on slots %d and %d, want one slot", r.Slot, res[2].result.Slot)
			}
			if got := res[2].stdout.String(); got != tt.want {
				t.Errorf("second job's stdout = %q, want %q (stderr %q)", got, tt.want, res[2].stderr.String())
			}
			if res[2].result.Exit != 0 {
				t.Errorf("second job exit %d, stderr %q", res[2].result.Exit, res[2].stderr.String())
			}
			if strings.Contains(res[1].stdout.String(), "trapped") != (tt.name == "traps") {
				t.Errorf("first job's stdout = %q", res[1].stdout.String())
			}
		})
	}
}
