package difftest

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// bashCase is a template that users write in bash. GNU Parallel runs it with
// PARALLEL_SHELL=bash, concurr in its embedded shell; both run inside a
// bash that first runs prelude (to export functions).
type bashCase struct {
	name     string
	prelude  string
	template string
	args     []string
	files    map[string]string
	// unsupported, when set, is a documented difference: concurr's embedded
	// shell fails the job with this message, and --shell bash must then
	// give GNU Parallel's outcome.
	unsupported string
}

// A replacement string inside double quotes is left out of these templates:
// GNU Parallel pastes its value quoted there too, a difference the README
// lists and cases_test.go covers.
func bashCases() []bashCase {
	return []bashCase{
		{name: "function", prelude: `doit() { echo "doing $1"; return 3; }; export -f doit`, template: `doit`, args: []string{"a", "b"}},
		{name: "function-in-child-bash", prelude: `doit() { echo "doing $1"; }; export -f doit`, template: `bash -c "doit {}"`, args: []string{"a"}},
		{name: "arrays", template: `arr=(x {} z); echo ${#arr[@]} "${arr[1]}" "${arr[@]: -1}"; declare -A m; m[k]={}; echo ${m[k]}`, args: []string{"a b", "c"}},
		{name: "double-brackets", template: `[[ {} == a* && -n {} ]] && echo yes {} || echo no {}`, args: []string{"ab", "ba"}},
		{name: "arithmetic", template: `echo $(( {} * 4 + {#} )); ((x = {} % 2)); echo $x`, args: []string{"3", "10"}},
		{name: "brace-expansion", template: `echo {1..3}{x,y} pre{a,b}post {}`, args: []string{"v"}},
		{name: "here-string", template: `cat <<< {}; tr a-z A-Z <<< {}`, args: []string{"a b"}},
		{name: "pipefail", template: `false | true; echo $?; set -o pipefail; false | true; echo $? {}`, args: []string{"a"}},
		{name: "trap-exit", template: `trap 'echo bye {}' EXIT; echo hi; exit 4`, args: []string{"a"}},
		{name: "ulimit", template: `ulimit -n {}; ulimit -n; sh -c 'ulimit -n'`, args: []string{"64"}},
		{name: "umask", template: `umask {}; umask; sh -c umask`, args: []string{"027"}},
		{name: "printf-v", template: `printf -v padded %05d {}; echo "$padded"`, args: []string{"7", "42"}},
		{name: "read", template: `read -r x y <<< '1 \2 {}'; echo "$y"; read -a arr <<< "p q {}"; echo ${arr[2]}; read -rp 'prompt> ' z <<< 'v'; echo $z`, args: []string{"a"}},
		{name: "redirections", template: `echo {} > f; echo more >> f; cat < f; echo err >&2 2>/dev/null; ls nosuch 2>/dev/null || echo gone; cat f 1>&2 2>&1`, args: []string{"a"}},
		{name: "subshell", template: `(cd /; x=in; echo "$PWD $x"); echo "[${x}]" {}`, args: []string{"a"}},
		{name: "cd", template: `mkdir -p d{}; cd d{} && basename "$PWD"`, args: []string{"1"}},
		{name: "missing-command", template: `nosuchcmd-here {}; echo "status $?"`, args: []string{"a"}},
		{name: "missing-command-fails-job", template: `nosuchcmd-here`, args: []string{"a"}},
		{name: "not-executable", template: `./plain {}; echo "status $?"`, args: []string{"a"}, files: map[string]string{"plain": "echo never\n"}},
		{name: "wait", template: `(sleep 0.2; echo late {}) & echo early; wait; echo after`, args: []string{"a"}},
		{name: "set-e", template: `set -e; echo one {}; false; echo never`, args: []string{"a"}},
		{name: "set-u", template: `set -u; echo "$undefined_here" {}; echo never`, args: []string{"a"}},
		{name: "function-status", template: `f() { return {}; }; f; echo $?`, args: []string{"3"}},

		// Documented differences: the embedded shell refuses by name.
		{name: "unsupported/coproc", template: `coproc cat; echo {}`, args: []string{"a"},
			unsupported: "concurr: line 1: coproc is not supported by the embedded shell; run the template with --shell bash"},
		{name: "unsupported/high-fd", template: `exec 3>f; echo {} >&3; cat f`, args: []string{"a"},
			unsupported: "concurr: line 1: redirecting file descriptor 3 is not supported by the embedded shell; run the template with --shell bash"},
		{name: "unsupported/read-n", template: `read -n 1 c <<< "xyz"; echo $c {}`, args: []string{"a"},
			unsupported: "concurr: read -n is not supported by the embedded shell; run the template with --shell bash"},
		{name: "unsupported/read-d", template: `read -d , c <<< "x,y"; echo $c {}`, args: []string{"a"},
			unsupported: "concurr: read -d is not supported by the embedded shell; run the template with --shell bash"},
	}
}

// bashPrefix is what bash -c puts before its messages, which the embedded
// shell, writing the job's own stderr as a script's bash would not,
// leaves out.
var bashPrefix = regexp.MustCompile(`^(/[^:]*/)?bash: (line \d+: )?`)

// stderrWords is the first word of each line of stderr, without bash's
// prefix and concurr's summary.
func stderrWords(stderr string) []string {
	var words []string
	for line := range strings.SplitSeq(strings.TrimSuffix(stderr, "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "concurr: summary:") {
			continue
		}
		line = bashPrefix.ReplaceAllString(line, "")
		words = append(words, strings.Fields(line + " .")[0])
	}
	return words
}

func TestBashHabits(t *testing.T) {
	if testing.Short() {
		t.Skip("the differential test runs two programs per case; skipped under -short")
	}
	parallel, err := exec.LookPath("parallel")
	if err != nil {
		t.Skip("GNU Parallel is not on PATH; install it (apt-get install parallel) to compare concurr against it")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not on PATH")
	}
	concurr := concurrBinary(t)
	for _, tc := range bashCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			dc := diffCase{files: tc.files}
			in := func(argv ...string) []string {
				// bash -c 'prelude; "$@"' bash argv...
				return append([]string{bash, "-c", tc.prelude + "\n" + `"$@"`, "bash"}, argv...)
			}
			tail := append([]string{tc.template, ":::"}, tc.args...)
			var gnu, ours, hatch run
			var gnuErr, oursErr, hatchErr error
			var wg sync.WaitGroup
			wg.Go(func() {
				gnu, gnuErr = runTool(workDir(t, dc), home, in(append([]string{parallel, "--will-cite", "-k"}, tail...)...), "", []string{"PARALLEL_SHELL=bash"})
			})
			wg.Go(func() {
				ours, oursErr = runTool(workDir(t, dc), home, in(append([]string{concurr, "-k"}, tail...)...), "", nil)
			})
			wg.Go(func() {
				hatch, hatchErr = runTool(workDir(t, dc), home, in(append([]string{concurr, "-k", "--shell", "bash"}, tail...)...), "", nil)
			})
			wg.Wait()
			if err := errors.Join(gnuErr, oursErr, hatchErr); err != nil {
				t.Fatal(err)
			}
			compare := func(who string, got run) {
				t.Helper()
				if got.stdout != gnu.stdout {
					t.Errorf("%s: stdout differs from GNU Parallel's\n  want %q\n  got  %q\n  stderr %q", who, gnu.stdout, got.stdout, got.stderr)
				}
				if got.status != gnu.status {
					t.Errorf("%s: exit status %d, GNU Parallel's %d\n  stderr %q", who, got.status, gnu.status, got.stderr)
				}
				if w, g := stderrWords(gnu.stderr), stderrWords(got.stderr); strings.Join(w, " ") != strings.Join(g, " ") {
					t.Errorf("%s: stderr's first words %q, GNU Parallel's %q\n  stderr %q", who, g, w, got.stderr)
				}
			}
			// The escape hatch runs every case, supported or not, as GNU
			// Parallel with bash does.
			compare("concurr --shell bash", hatch)
			if tc.unsupported == "" {
				compare("concurr", ours)
				return
			}
			if !strings.Contains(ours.stderr, tc.unsupported+"\n") {
				t.Errorf("concurr: stderr does not name the unsupported feature\n  want %q\n  got  %q", tc.unsupported, ours.stderr)
			}
			if ours.status == 0 {
				t.Errorf("concurr: an unsupported feature must fail the job; exit status 0")
			}
		})
	}
}
