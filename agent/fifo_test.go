package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"concurr/internal/wire"
)

// TestFIFODirectoryOnlyWhenNeeded checks that a slot makes its directory
// for FIFOs only for jobs that may make process substitutions, which still
// work wherever they come from, and that the directory goes with the slot.
func TestFIFODirectoryOnlyWhenNeeded(t *testing.T) {
	scripts := t.TempDir()
	noShebang := filepath.Join(scripts, "substitutes")
	if err := os.WriteFile(noShebang, []byte("cat <(echo \"from a script $1\")\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(scripts, "plain")
	if err := os.WriteFile(plain, []byte("echo \"from a script $1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tmpl    []byte
		env     []string
		args    []string
		want    string
		wantDir bool
	}{
		{name: "no substitution", tmpl: script(`echo "$A1"`), args: []string{"x"}, want: "x\n"},
		{name: "process substitution", tmpl: script(`cat <(echo "$A1")`), args: []string{"x"}, want: "x\n", wantDir: true},
		{name: "output substitution", tmpl: script(`echo "$A1" > >(cat); wait`), args: []string{"x"}, want: "x\n", wantDir: true},
		{name: "in eval", tmpl: script(`eval 'cat <(echo "$A1")'`), args: []string{"x"}, want: "x\n", wantDir: true},
		{name: "exported function that substitutes", tmpl: script(`f "$A1"`),
			env: []string{"BASH_FUNC_f%%=() { cat <(echo \"in f $1\"); }"}, args: []string{"x"}, want: "in f x\n", wantDir: true},
		{name: "exported function that does not", tmpl: script(`f "$A1"`),
			env: []string{"BASH_FUNC_f%%=() { echo \"in f $1\"; }"}, args: []string{"x"}, want: "in f x\n"},
		{name: "command from the input that substitutes", tmpl: fromInput(), args: []string{`cat <(echo in)`}, want: "in\n", wantDir: true},
		{name: "command from the input that does not", tmpl: fromInput(), args: []string{`echo in`}, want: "in\n"},
		{name: "script without #! that substitutes", tmpl: script(noShebang + ` "$A1"`), args: []string{"x"}, want: "from a script x\n", wantDir: true},
		{name: "script without #! that does not", tmpl: script(plain + ` "$A1"`), args: []string{"x"}, want: "from a script x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			c := startAgent(t, Options{Slots: 2})
			c.send(&wire.Command{ID: 1, Template: tt.tmpl, Slots: 2, Env: append([]string{"TMPDIR=" + tmp}, tt.env...)})
			for seq := uint64(1); seq <= 4; seq++ {
				c.send(&wire.Input{Command: 1, Seq: seq, Args: tt.args})
			}
			res := c.collect(20*time.Second, 1, 2, 3, 4)
			for seq, r := range res {
				if r.result.Exit != 0 || r.stdout.String() != tt.want || r.stderr.Len() != 0 {
					t.Errorf("job %d: exit %d, stdout %q, stderr %q; want exit 0, stdout %q", seq, r.result.Exit, r.stdout.String(), r.stderr.String(), tt.want)
				}
			}
			// The command's slots are still there: so are their directories.
			dirs, _ := filepath.Glob(filepath.Join(tmp, fifoDirPrefix+"*"))
			if tt.wantDir && (len(dirs) == 0 || len(dirs) > 2) {
				t.Errorf("%d FIFO directories for 2 slots whose jobs substitute, want 1 or 2", len(dirs))
			}
			if !tt.wantDir && len(dirs) != 0 {
				t.Errorf("FIFO directories %q for jobs that make no FIFOs", dirs)
			}
			c.send(&wire.Delete{Command: 1})
			if err := c.close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
				t.Errorf("left in TMPDIR: %q", left)
			}
		})
	}
}

// TestFIFODirectoryNameTaken checks that a slot whose chosen name for its
// FIFO directory was taken before it made it uses another directory, and
// never what it found there.
func TestFIFODirectoryNameTaken(t *testing.T) {
	tmp := t.TempDir()
	taken := filepath.Join(tmp, fifoDirPrefix+"taken")
	// A file, not a directory: FIFOs made under it would fail the job.
	if err := os.WriteFile(taken, []byte("someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(name func() string) { fifoDirName = name }(fifoDirName)
	fifoDirName = func() string { return fifoDirPrefix + "taken" }

	c := startAgent(t, Options{Slots: 1})
	c.send(&wire.Command{ID: 1, Template: script(`cat <(echo "$A1")`), Slots: 1, Env: []string{"TMPDIR=" + tmp}},
		&wire.Input{Command: 1, Seq: 1, Args: []string{"one"}},
		&wire.Input{Command: 1, Seq: 2, Args: []string{"two"}})
	res := c.collect(20*time.Second, 1, 2)
	for seq, want := range map[uint64]string{1: "one\n", 2: "two\n"} {
		if r := res[seq]; r.result.Exit != 0 || r.stdout.String() != want {
			t.Errorf("job %d: exit %d, stdout %q, stderr %q; want %q", seq, r.result.Exit, r.stdout.String(), r.stderr.String(), want)
		}
	}
	c.send(&wire.Delete{Command: 1})
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "*"))
	if len(left) != 1 || left[0] != taken {
		t.Errorf("left in TMPDIR: %q, want only %s", left, taken)
	}
	if b, err := os.ReadFile(taken); err != nil || string(b) != "someone else's\n" {
		t.Errorf("the file that took the name: %q, %v", b, err)
	}
}
