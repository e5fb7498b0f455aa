package output

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// event is one step of a scenario: begin, chunk or finish of a job.
type event struct {
	begin, finish, discard bool
	seq                    uint64
	stream                 int
	data                   string
	tag                    string
}

func begin(seq uint64) event                   { return event{begin: true, seq: seq} }
func beginTagged(seq uint64, tag string) event { return event{begin: true, seq: seq, tag: tag} }
func out(seq uint64, data string) event        { return event{seq: seq, stream: Stdout, data: data} }
func errOut(seq uint64, data string) event     { return event{seq: seq, stream: Stderr, data: data} }
func finish(seq uint64) event                  { return event{finish: true, seq: seq} }
func discard(seq uint64) event                 { return event{discard: true, seq: seq} }

func play(t *testing.T, opts Options, events []event) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	w := New(&stdout, &stderr, opts)
	jobs := map[uint64]*Job{}
	for _, e := range events {
		switch {
		case e.begin:
			var tag []byte
			if e.tag != "" {
				tag = []byte(e.tag)
			}
			jobs[e.seq] = w.Begin(e.seq, tag, "")
		case e.finish:
			w.Finish(jobs[e.seq])
		case e.discard:
			w.Discard(jobs[e.seq])
		default:
			w.Chunk(jobs[e.seq], e.stream, []byte(e.data))
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String()
}

func TestModes(t *testing.T) {
	interleaved := []event{begin(1), begin(2), out(1, "a1\na"), out(2, "b1\n"), errOut(1, "e1\n"), out(1, "2\n"), finish(2), finish(1)}
	tests := []struct {
		name       string
		opts       Options
		events     []event
		wantStdout string
		wantStderr string
	}{
		{"group keeps each job together", Options{}, interleaved, "b1\na1\na2\n", "e1\n"},
		{"keep order", Options{KeepOrder: true}, interleaved, "a1\na2\nb1\n", "e1\n"},
		{"line buffer", Options{Mode: LineBuffer}, interleaved, "a1\nb1\na2\n", "e1\n"},
		{"ungroup", Options{Mode: Ungroup}, interleaved, "a1\nab1\n2\n", "e1\n"},
		{"tags every line, partial last line too", Options{},
			[]event{beginTagged(1, "x\t"), out(1, "a\nb"), finish(1), beginTagged(2, "y\t"), out(2, "a\nb"), finish(2)},
			"x\ta\nx\tby\ta\ny\tb", ""},
		{"tags in line-buffer mode", Options{Mode: LineBuffer},
			[]event{beginTagged(1, "x\t"), out(1, "a"), out(1, "b\nc"), finish(1)},
			"x\tab\nx\tc", ""},
		{"discarded attempt prints nothing", Options{},
			[]event{begin(1), out(1, "try\n"), discard(1), out(1, "again\n"), finish(1)},
			"again\n", ""},
		{"keep order waits for the first job", Options{KeepOrder: true},
			[]event{begin(1), begin(2), begin(3), out(3, "c\n"), finish(3), out(2, "b\n"), finish(2), out(1, "a\n"), finish(1)},
			"a\nb\nc\n", ""},
		{"keep order with line buffer streams the head job", Options{KeepOrder: true, Mode: LineBuffer},
			[]event{begin(1), out(1, "a"), begin(2), out(2, "b\n"), finish(2), out(1, "a\n"), finish(1)},
			"aa\nb\n", ""},
		{"empty output", Options{KeepOrder: true}, []event{begin(1), finish(1)}, "", ""},
		{"binary data passes unchanged", Options{},
			[]event{begin(1), out(1, "\x00\xff\xfe\n\\n"), finish(1)}, "\x00\xff\xfe\n\\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr := play(t, tt.opts, tt.events)
			if stdout != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout, tt.wantStdout)
			}
			if stderr != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestSkipInKeepOrder(t *testing.T) {
	var stdout bytes.Buffer
	w := New(&stdout, &bytes.Buffer{}, Options{KeepOrder: true})
	j3 := w.Begin(3, nil, "")
	w.Chunk(j3, Stdout, []byte("three\n"))
	w.Finish(j3)
	w.Skip(2)
	w.Skip(1)
	w.Flush()
	if stdout.String() != "three\n" {
		t.Fatalf("stdout = %q", stdout.String())
	}
}

// TestSpill holds more output than the memory limit: it goes to a file and
// comes back complete, and memory accounting returns to zero.
func TestSpill(t *testing.T) {
	var stdout bytes.Buffer
	w := New(&stdout, &bytes.Buffer{}, Options{MemoryLimit: 1 << 10, TempDir: t.TempDir()})
	j := w.Begin(1, nil, "")
	piece := strings.Repeat("x", 300) + "\n"
	for range 100 {
		w.Chunk(j, Stdout, []byte(piece))
	}
	if len(j.held[0].spilled) == 0 {
		t.Fatal("output beyond the limit was not spilled to a file")
	}
	w.Finish(j)
	w.Flush()
	if stdout.String() != strings.Repeat(piece, 100) {
		t.Fatalf("got %d bytes, want %d", stdout.Len(), 100*len(piece))
	}
	if w.memory != 0 {
		t.Fatalf("memory accounting = %d after finish", w.memory)
	}
}

// TestSpillShared holds many jobs behind a slow first one, past the memory
// limit: they share one spill file, not one each, and their output comes
// back whole and in order.
func TestSpillShared(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		stderr bool
	}{
		{"keep order", Options{KeepOrder: true}, false},
		{"keep order, both streams", Options{KeepOrder: true}, true},
		{"keep order with line buffer", Options{KeepOrder: true, Mode: LineBuffer}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr, want bytes.Buffer
			tt.opts.MemoryLimit = 1 << 10
			tt.opts.TempDir = t.TempDir()
			w := New(&stdout, &stderr, tt.opts)
			jobs := make([]*Job, 2000)
			for i := range jobs {
				jobs[i] = w.Begin(uint64(i+1), nil, "")
			}
			for i := len(jobs) - 1; i >= 0; i-- {
				line := fmt.Sprintf("%0100d\n", i+1)
				w.Chunk(jobs[i], Stdout, []byte(line[:50]))
				if tt.stderr {
					w.Chunk(jobs[i], Stderr, []byte("e\n"))
				}
				w.Chunk(jobs[i], Stdout, []byte(line[50:]))
				if i > 0 {
					w.Finish(jobs[i])
				}
			}
			if n := w.spill.files(jobs); n != 1 {
				t.Fatalf("%d spill files open, want 1", n)
			}
			w.Finish(jobs[0])
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			for i := range jobs {
				fmt.Fprintf(&want, "%0100d\n", i+1)
			}
			if stdout.String() != want.String() {
				t.Fatalf("stdout differs: got %d bytes, want %d", stdout.Len(), want.Len())
			}
			if tt.stderr && stderr.String() != strings.Repeat("e\n", len(jobs)) {
				t.Fatalf("stderr = %d bytes", stderr.Len())
			}
			if w.memory != 0 || w.spill.current.live != 0 {
				t.Fatalf("memory = %d, spilled = %d after all is printed", w.memory, w.spill.current.live)
			}
		})
	}
}

func TestResults(t *testing.T) {
	root := t.TempDir()
	var stdout bytes.Buffer
	w := New(&stdout, &bytes.Buffer{}, Options{Results: root})
	dir := ResultsDir(root, nil, []string{"a/b", `c\d`})
	j := w.Begin(7, nil, dir)
	if err := j.ResultsErr(); err != nil {
		t.Fatal(err)
	}
	w.Chunk(j, Stdout, []byte("out\n"))
	w.Chunk(j, Stderr, []byte("err\n"))
	w.Finish(j)
	w.Flush()
	if stdout.Len() != 0 {
		t.Fatalf("--results printed %q", stdout.String())
	}
	want := filepath.Join(root, "1", `a\_b`, "2", `c\\d`)
	if dir != want {
		t.Fatalf("dir = %q, want %q", dir, want)
	}
	for name, content := range map[string]string{"stdout": "out\n", "stderr": "err\n", "seq": "7"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != content {
			t.Errorf("%s = %q, %v; want %q", name, b, err, content)
		}
	}
}

func TestResultsDir(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		args  []string
		want  string
	}{
		{"positions name the levels", nil, []string{"a", "b"}, "1/a/2/b"},
		{"slash and backslash in a value", nil, []string{`a/b\c`}, `1/a\_b\\c`},
		{"tab and NUL in a value", nil, []string{"a\tb\x00"}, `1/a\tb\0`},
		{"a header name is escaped as a value", []string{"../../x"}, []string{"v"}, `..\_..\_x/v`},
		{"empty value", nil, []string{""}, `1/\empty`},
		{"dot and dot-dot values", nil, []string{".", ".."}, `1/\./2/\.\.`},
		{"empty, dot and dot-dot names", []string{"", ".", ".."}, []string{"a", "b", "c"}, `\empty/a/\./b/\.\./c`},
		{"a value that looks like an escape is escaped", nil, []string{`\.`}, `1/\\.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResultsDir("out", tt.names, tt.args)
			if want := filepath.Join("out", tt.want); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

// TestResultsFolderProblems: a job whose folder cannot be made fails alone,
// with its reason; the Writer goes on.
func TestResultsFolderProblems(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(root, "file"), nil, 0o644)
	os.Symlink(outside, filepath.Join(root, "link"))
	tests := []struct {
		name    string
		dir     string
		wantErr string // "" for none
	}{
		{"a folder outside the root", filepath.Join(root, ".."), "not under the results folder"},
		{"a file in the way", filepath.Join(root, "file", "x"), "not a directory"},
		{"a link out of the root", filepath.Join(root, "link", "x"), "outside the results folder"},
		{"a name too long is shortened", filepath.Join(root, "1", strings.Repeat("v", 300)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(&bytes.Buffer{}, &bytes.Buffer{}, Options{Results: root})
			j := w.Begin(1, nil, tt.dir)
			err := j.ResultsErr()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
			}
			w.Finish(j)
			if err := w.Flush(); err != nil {
				t.Fatalf("the Writer failed: %v", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Error("a folder was made through the link")
	}
}

// TestSpillFails: when the spill folder goes away during a run, held output
// stays in memory, the run is warned once, and every job's output comes
// out whole and in order, with none lost.
func TestSpillFails(t *testing.T) {
	tests := []struct {
		name        string
		spillBefore bool // some output was spilled before the folder went
	}{
		{"no file could ever be made", false},
		{"the file in use is fine, the next cannot be made", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "spill")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			var warnings []error
			w := New(&stdout, &bytes.Buffer{}, Options{KeepOrder: true, MemoryLimit: 1 << 10, TempDir: dir,
				Warn: func(err error) { warnings = append(warnings, err) }})
			first := w.Begin(1, nil, "")
			piece := strings.Repeat("x", 300) + "\n"
			var later []*Job
			if tt.spillBefore {
				j := w.Begin(2, nil, "")
				for range 10 {
					w.Chunk(j, Stdout, []byte(piece))
				}
				later = append(later, j)
				w.spill.current.size = spillFileSize // the next write needs a new file
			}
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			for seq := uint64(len(later) + 2); seq <= 4; seq++ {
				j := w.Begin(seq, nil, "")
				for range 10 {
					w.Chunk(j, Stdout, []byte(piece))
				}
				later = append(later, j)
			}
			if tt.spillBefore {
				// Job 2 goes on after its spilled part.
				w.Chunk(later[0], Stdout, []byte("end\n"))
			}
			for _, j := range later {
				w.Finish(j)
			}
			w.Chunk(first, Stdout, []byte("first\n"))
			w.Finish(first)
			if err := w.Flush(); err != nil {
				t.Fatalf("flush: %v", err)
			}
			want := "first\n"
			for i := range later {
				want += strings.Repeat(piece, 10)
				if tt.spillBefore && i == 0 {
					want += "end\n"
				}
			}
			if stdout.String() != want {
				t.Errorf("got %d bytes, want %d", stdout.Len(), len(want))
			}
			if len(warnings) != 1 {
				t.Errorf("warnings = %v, want one", warnings)
			}
			if w.memory != 0 {
				t.Errorf("memory accounting = %d after finish", w.memory)
			}
		})
	}
}
