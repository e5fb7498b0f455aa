package agent

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"mvdan.cc/sh/v3/interp"

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
		{name: "background statements' output",
			dirty: `{ while :; do echo zombie; echo zombie >&2; done; } & echo one`,
			check: `echo clean; echo clean >&2`,
			want:  "clean\n"},
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
			if got := res[2].stderr.String(); strings.Contains(got, "zombie") {
				t.Errorf("second job's stderr = %q", got)
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

// TestJobsSeeTheWholeEnvironment checks every way a job lists the
// environment, rather than looking up one name, on several jobs of one
// slot: jobEnviron.Each leaves the command's environment out of one copy
// that the interpreter makes after each job, and of that copy only.
func TestJobsSeeTheWholeEnvironment(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   string
	}{
		{name: "process environment", script: `env | grep '^CONCURR_T_'`, want: "CONCURR_T_ONE=1\n"},
		{name: "prefix expansion", script: `echo ${!CONCURR_T_*}`, want: "CONCURR_T_ONE\n"},
		{name: "background statement", script: `{ echo "$CONCURR_T_ONE"; sh -c 'echo "$CONCURR_T_ONE"'; } & wait`, want: "1\n1\n"},
		{name: "pipeline", script: `sh -c 'echo "$CONCURR_T_ONE"' | cat`, want: "1\n"},
		{name: "subshell", script: `(env | grep -c '^CONCURR_T_ONE=1$')`, want: "1\n"},
		{name: "function", script: `f() { local l=x; env | grep '^CONCURR_T_'; }; f`, want: "CONCURR_T_ONE=1\n"},
		{name: "exit trap", script: `trap 'env | grep "^CONCURR_T_"' EXIT`, want: "CONCURR_T_ONE=1\n"},
	}
	c := startAgent(t, Options{Slots: 1})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			id := uint64(i + 1)
			c.send(&wire.Command{ID: id, Template: script(tt.script), Env: []string{"CONCURR_T_ONE=1"}, Slots: 1})
			const jobs = 3
			for seq := uint64(1); seq <= jobs; seq++ {
				c.send(&wire.Input{Command: id, Seq: seq})
			}
			res := c.collect(20*time.Second, 1, 2, 3)
			c.send(&wire.Delete{Command: id})
			for seq := uint64(1); seq <= jobs; seq++ {
				if got := res[seq].stdout.String(); got != tt.want {
					t.Errorf("job %d: stdout = %q, want %q (stderr %q)", seq, got, tt.want, res[seq].stderr.String())
				}
			}
		})
	}
}

// TestRunLeavesTheEnvironmentOutOfVars checks that the saving jobEnviron.Each
// makes still applies to the interpreter in go.mod, with Reset between jobs
// and without: should it stop applying, jobs stay correct but cost a sixth
// more.
func TestRunLeavesTheEnvironmentOutOfVars(t *testing.T) {
	env := jobEnviron{parent: newBaseEnviron([]string{"BASE=1"}, map[string]bool{})}
	r, err := interp.New(interp.Env(&env), interp.StdIO(nil, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	env.runner = r
	file, err := parseScript(`x=${!BA*}`)
	if err != nil {
		t.Fatal(err)
	}
	// The slot resets the interpreter before the first job, and skips
	// Reset before the later ones of a script that leaves no state.
	sl := &slot{c: &command{leavesNoState: true}, runner: r}
	for job := range 3 {
		env.reset(nil)
		env.setString("PARALLEL_SEQ", strconv.Itoa(job), true)
		sl.interpreter()
		if err := r.Run(context.Background(), file); err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Vars["BASE"]; ok {
			t.Errorf("job %d: Vars has the command's environment", job)
		}
		if got := r.Vars["x"].Str; got != "BASE" {
			t.Errorf("job %d: x = %q, want BASE: the job did not see the environment", job, got)
		}
		if _, ok := r.Vars["PARALLEL_SEQ"]; !ok {
			t.Errorf("job %d: Vars lacks PARALLEL_SEQ", job)
		}
		sl.asReset = true
	}
}

func TestCancelContext(t *testing.T) {
	session, endSession := context.WithCancel(context.WithValue(context.Background(), jobKey{}, "v"))
	defer endSession()
	tests := []struct {
		name       string
		doneBefore bool  // ask for Done before the cancel
		cause      error // what cancel is given
		wantErr    error
	}{
		{name: "done asked before", doneBefore: true, wantErr: context.Canceled},
		{name: "done asked after", wantErr: context.Canceled},
		{name: "session ended", cause: context.DeadlineExceeded, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cancelContext{Context: session}
			if c.Err() != nil || c.Value(jobKey{}) != "v" {
				t.Fatalf("fresh context: err %v, value %v", c.Err(), c.Value(jobKey{}))
			}
			var done <-chan struct{}
			if tt.doneBefore {
				done = c.Done()
				select {
				case <-done:
					t.Fatal("done before cancel")
				default:
				}
			}
			c.cancel(tt.cause)
			c.cancel(errors.New("a second cancel changes nothing"))
			if !tt.doneBefore {
				done = c.Done()
			}
			select {
			case <-done:
			default:
				t.Fatal("not done after cancel")
			}
			if c.Err() != tt.wantErr {
				t.Errorf("err = %v, want %v", c.Err(), tt.wantErr)
			}
			// A context derived from it, as handlers make, ends with it.
			derived, stop := context.WithCancel(c)
			defer stop()
			if derived.Err() == nil {
				t.Error("derived context not done")
			}
		})
	}
}

// TestSessionEndStopsBuiltins ends Serve's context while a job runs only
// builtins, which only the job's context can stop: it no longer derives
// from the session's.
func TestSessionEndStopsBuiltins(t *testing.T) {
	c, cancel, served := startCancellableAgent(t)
	c.send(&wire.Command{ID: 1, Template: script(`echo started; while :; do :; done`)}, &wire.Input{Command: 1, Seq: 1})
	if m, ok := c.recv(5 * time.Second).(*wire.Output); !ok || string(m.Data) != "started\n" {
		t.Fatalf("first message %+v, want the job's output", m)
	}
	cancel()
	waitServed(t, served)
}
