package difftest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// commandTimeout bounds one run of either tool, so that a hang fails its
// case instead of the whole test binary.
const commandTimeout = 30 * time.Second

// diffCase is one command line run through both tools. Every run gets -k
// prepended, so output order is deterministic, and runs in a fresh working
// directory holding files, so relative paths, counter files and --results
// directories never collide.
type diffCase struct {
	name  string
	args  []string // after the program name; GNU Parallel also gets --will-cite
	stdin string   // the tool's stdin; /dev/null when empty
	// stdinFile gives stdin as a regular file rather than a pipe, as
	// `< FILE` does: --pipe then sends its blocks from the file.
	stdinFile bool
	files     map[string]string // created in the working directory before the run

	results string // a --results directory to compare file by file ("." for the working directory)
	table   string // a --results table (x.csv, x.tsv, x.json) to compare with its times masked
	joblog  string // a --joblog file to compare on its deterministic columns
	// joblogInOrder compares the job log's lines in the order written,
	// rather than sorted by sequence number.
	joblogInOrder bool

	env       []string // NAME=value added to both tools' environment
	gnuArgs   []string // GNU Parallel's own spelling of args, where it has another
	stderr    bool     // compare stderr too, for what the tools print there
	oursError string   // a line concurr's stderr must hold

	// anyFailure compares only that both tools fail: usage errors are 255 in
	// GNU Parallel, and concurr has its own documented codes for them.
	anyFailure bool

	// want, when set, is what concurr must print and return instead of what
	// GNU Parallel does; the case's comment says why the behaviour is not
	// copied. GNU Parallel still runs, and its output is logged.
	want *outcome
}

type outcome struct {
	stdout string
	status int
}

func TestGNUParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("the differential test runs two programs per case; skipped under -short")
	}
	parallel, err := exec.LookPath("parallel")
	if err != nil {
		t.Skip("GNU Parallel is not on PATH; install it (apt-get install parallel) to compare concurr against it")
	}
	concurr := concurrBinary(t)
	verbose := os.Getenv("CONCURR_DIFFTEST_VERBOSE") != ""

	all := slices.Concat(cases(), dropInCases())
	for _, tc := range all {
		if strings.HasPrefix(tc.name, "pipe/") && tc.stdin != "" {
			tc.name += "/stdin-file"
			tc.stdinFile = true
			all = append(all, tc)
		}
	}
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			gnuDir, oursDir := workDir(t, tc), workDir(t, tc)
			stdin := tc.stdin
			if tc.stdinFile {
				stdin = fileStdinPrefix + filepath.Join(home, "stdin")
				if err := os.WriteFile(stdin[len(fileStdinPrefix):], []byte(tc.stdin), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			// Both run at once: the cases that sleep then cost their sleep once.
			var gnu, ours run
			var gnuErr, oursErr error
			var wg sync.WaitGroup
			gnuArgs := tc.args
			if tc.gnuArgs != nil {
				gnuArgs = tc.gnuArgs
			}
			wg.Go(func() {
				gnu, gnuErr = runTool(gnuDir, home, append([]string{parallel, "--will-cite", "-k"}, gnuArgs...), stdin, tc.env)
			})
			wg.Go(func() {
				ours, oursErr = runTool(oursDir, home, append([]string{concurr, "-k"}, tc.args...), stdin, tc.env)
			})
			wg.Wait()
			if err := errors.Join(gnuErr, oursErr); err != nil {
				t.Fatal(err)
			}
			if verbose || tc.want != nil {
				t.Logf("parallel: status %d, stdout %q, stderr %q", gnu.status, gnu.stdout, gnu.stderr)
			}
			if verbose {
				t.Logf("concurr:  status %d, stdout %q, stderr %q", ours.status, ours.stdout, ours.stderr)
			}

			command := "concurr -k " + shellJoin(tc.args)
			if tc.stdin != "" {
				command += " <<< " + clip(tc.stdin)
			}
			expect := outcome{stdout: gnu.stdout, status: gnu.status}
			source := "GNU Parallel"
			if tc.want != nil {
				expect, source = *tc.want, "the case's deliberate expectation"
			}
			// A usage error's stdout is GNU Parallel's usage text.
			if ours.stdout != expect.stdout && !tc.anyFailure {
				t.Errorf("%s\nstdout differs from %s\n  want %s\n  got  %s\n%s\nconcurr stderr: %s",
					command, source, clip(expect.stdout), clip(ours.stdout),
					firstDifference(expect.stdout, ours.stdout), clip(ours.stderr))
			}
			switch {
			case tc.anyFailure:
				if gnu.status == 0 {
					t.Errorf("%s\nGNU Parallel succeeded, but the case expects a failure", command)
				}
				if ours.status == 0 {
					t.Errorf("%s\nexit status 0, want non-zero (GNU Parallel: %d)\nconcurr stderr: %q",
						command, gnu.status, ours.stderr)
				}
			case ours.status != expect.status:
				t.Errorf("%s\nexit status %d, want %d from %s\nconcurr stderr: %q",
					command, ours.status, expect.status, source, ours.stderr)
			}
			if tc.stderr && ours.stderr != gnu.stderr {
				t.Errorf("%s\nstderr differs from GNU Parallel\n  want %s\n  got  %s", command, clip(gnu.stderr), clip(ours.stderr))
			}
			if tc.oursError != "" && !strings.Contains(ours.stderr, tc.oursError+"\n") {
				t.Errorf("%s\nstderr does not hold %q\n  got %s", command, tc.oursError, clip(ours.stderr))
			}
			if strings.Contains(ours.stderr, "WARNING: DATA RACE") {
				t.Errorf("%s\nthe race detector found a data race in concurr:\n%s", command, ours.stderr)
			}
			if tc.results != "" {
				compareTrees(t, command, filepath.Join(gnuDir, tc.results), filepath.Join(oursDir, tc.results))
			}
			if tc.table != "" {
				compareTables(t, command, filepath.Join(gnuDir, tc.table), filepath.Join(oursDir, tc.table))
			}
			if tc.joblog != "" {
				compareJoblogs(t, command, filepath.Join(gnuDir, tc.joblog), filepath.Join(oursDir, tc.joblog), tc.joblogInOrder)
			}
		})
	}
}

var (
	buildOnce   sync.Once
	builtBinary string
	buildErr    error
)

// concurrBinary builds ./cmd/concurr once per test binary, into a directory
// that outlives every test, or returns CONCURR_DIFFTEST_BIN.
func concurrBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("CONCURR_DIFFTEST_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatalf("CONCURR_DIFFTEST_BIN: %v", err)
		}
		return abs
	}
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("find the module root with go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			buildErr = errors.New("go env GOMOD: not inside the concurr module")
			return
		}
		dir, err := os.MkdirTemp("", "concurr-difftest-")
		if err != nil {
			buildErr = fmt.Errorf("make a directory for the binary: %w", err)
			return
		}
		builtBinary = filepath.Join(dir, "concurr")
		args := []string{"build", "-o", builtBinary}
		if raceEnabled {
			args = append(args, "-race")
		}
		build := exec.Command("go", append(args, "./cmd/concurr")...)
		build.Dir = filepath.Dir(gomod)
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/concurr: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBinary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary != "" {
		os.RemoveAll(filepath.Dir(builtBinary))
	}
	os.Exit(code)
}

func workDir(t *testing.T, tc diffCase) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range tc.files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type run struct {
	stdout, stderr string
	status         int
}

// runTool runs argv in dir with a small fixed environment, so that neither
// tool picks up the developer's configuration (~/.parallel, CONCURR_*).
// fileStdinPrefix marks a runTool stdin that names a file to open as the
// tool's stdin, rather than the text to pipe to it.
const fileStdinPrefix = "\x00file:"

func runTool(dir, home string, argv []string, stdin string, env []string) (run, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"SHELL=/bin/bash",
		"LC_ALL=C",
		"TMPDIR=" + home,
	}
	cmd.Env = append(cmd.Env, env...)
	if path, ok := strings.CutPrefix(stdin, fileStdinPrefix); ok {
		f, err := os.Open(path)
		if err != nil {
			return run{}, err
		}
		defer f.Close()
		cmd.Stdin = f
	} else if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	// Jobs left behind by a broken run must not keep the pipes open forever.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := run{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s: timed out after %v\nstdout: %q\nstderr: %q", shellJoin(argv), commandTimeout, r.stdout, r.stderr)
	case errors.As(err, &exitErr):
		r.status = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.status = 128 + int(ws.Signal())
		}
	case err != nil:
		return r, fmt.Errorf("%s: %w", shellJoin(argv), err)
	}
	return r, nil
}

// compareTrees compares two --results directories: the same paths, and the
// same contents in every file.
func compareTrees(t *testing.T, command, gnuRoot, oursRoot string) {
	t.Helper()
	gnu, ours := readTree(t, gnuRoot), readTree(t, oursRoot)
	for path, content := range gnu {
		got, ok := ours[path]
		switch {
		case !ok:
			t.Errorf("%s\n--results: %s is missing (GNU Parallel wrote %q)", command, path, content)
		case got != content:
			t.Errorf("%s\n--results: %s holds %q, want %q", command, path, got, content)
		}
	}
	for path, content := range ours {
		if _, ok := gnu[path]; !ok {
			t.Errorf("%s\n--results: %s (%q) is not written by GNU Parallel", command, path, content)
		}
	}
}

// readTree maps each path under root to its content; directories map to "/".
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		if d.IsDir() {
			tree[rel+"/"] = "/"
			return nil
		}
		b, err := os.ReadFile(path)
		tree[rel] = string(b)
		return err
	})
	if err != nil {
		t.Errorf("read --results directory: %v", err)
	}
	return tree
}

// tableTimes matches a --results table's Starttime and JobRuntime, in a
// CSV or TSV row (after Seq and Host) or a JSON object.
var tableTimes = regexp.MustCompile(`(?m)^(\d+[,\t][^,\t\n]*[,\t])\d+\.\d{3}([,\t])\d+\.\d{3}([,\t])|("Starttime": )\d+\.\d{3}(, "JobRuntime": )\d+\.\d{3}`)

// compareTables compares two --results tables byte for byte, but for the
// times, which no two runs share.
func compareTables(t *testing.T, command, gnuPath, oursPath string) {
	t.Helper()
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s\n--results table: %v", command, err)
		}
		return tableTimes.ReplaceAllString(string(b), "${1}${4}START${2}${5}RUNTIME${3}")
	}
	if gnu, ours := read(gnuPath), read(oursPath); gnu != ours {
		t.Errorf("%s\n--results table differs from GNU Parallel's\n  want %s\n  got  %s\n%s",
			command, clip(gnu), clip(ours), firstDifference(gnu, ours))
	}
}

// joblogColumns are the job log columns that do not depend on timing.
var joblogColumns = []string{"Seq", "Host", "Exitval", "Signal", "Command"}

func compareJoblogs(t *testing.T, command, gnuPath, oursPath string, inOrder bool) {
	t.Helper()
	_, gnuErr := os.Stat(gnuPath)
	_, oursErr := os.Stat(oursPath)
	switch {
	case errors.Is(gnuErr, fs.ErrNotExist) && errors.Is(oursErr, fs.ErrNotExist):
		return
	case errors.Is(gnuErr, fs.ErrNotExist):
		t.Errorf("%s\n--joblog: GNU Parallel writes no %s, concurr does", command, filepath.Base(gnuPath))
		return
	}
	gnu, ours := readJoblog(t, gnuPath, inOrder), readJoblog(t, oursPath, inOrder)
	if gnu != ours {
		t.Errorf("%s\n--joblog columns %v differ\n  want %q\n  got  %q",
			command, joblogColumns, gnu, ours)
	}
}

// readJoblog projects a job log on joblogColumns, header included, with the
// job lines sorted by sequence number since they are written as jobs end,
// or as written with inOrder.
func readJoblog(t *testing.T, path string, inOrder bool) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read --joblog: %v", err)
		return ""
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	header := strings.Split(lines[0], "\t")
	index := map[string]int{}
	for i, name := range header {
		index[name] = i
	}
	var rows [][]string
	for _, line := range lines {
		fields := strings.SplitN(line, "\t", len(header))
		var row []string
		for _, name := range joblogColumns {
			i, ok := index[name]
			if !ok || i >= len(fields) {
				row = append(row, "<missing "+name+">")
				continue
			}
			row = append(row, strings.TrimSpace(fields[i]))
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows[1:], func(i, j int) bool {
		if inOrder {
			return false
		}
		a, _ := strconv.Atoi(rows[1+i][0])
		b, _ := strconv.Atoi(rows[1+j][0])
		return a < b
	})
	var out strings.Builder
	for _, row := range rows {
		out.WriteString(strings.Join(row, "\t") + "\n")
	}
	return out.String()
}

// shellJoin renders argv as a command line a reader can paste into a shell.
func shellJoin(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:%+@") == "" {
			quoted[i] = a
		} else {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// clip quotes s, eliding the middle of long values so that a failure with
// thousands of lines stays readable.
func clip(s string) string {
	const head, tail = 200, 80
	if len(s) <= head+tail+40 {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q ... %q (%d bytes)", s[:head], s[len(s)-tail:], len(s))
}

// firstDifference shows where two outputs part, with a little context.
func firstDifference(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := strings.LastIndexByte(want[:i], '\n') + 1
	window := func(s string) string { return clip(s[from:min(len(s), i+40)]) }
	return fmt.Sprintf("  first difference at byte %d: want %s, got %s", i, window(want), window(got))
}

// lines returns "1\n2\n...n\n".
func lines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.String()
}
