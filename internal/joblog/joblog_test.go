package joblog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name  string
		entry Entry
		want  string
	}{
		{"success", Entry{Seq: 1, Host: ":", Start: time.Unix(1795726721, 621e6), Runtime: 11 * time.Millisecond, Receive: 2, Command: "echo a"},
			"1\t:\t1795726721.621\t     0.011\t0\t2\t0\t0\techo a\n"},
		{"timed out", Entry{Seq: 2, Host: "node1", Start: time.Unix(1795726909, 320e6), Runtime: 718 * time.Millisecond, Exit: -1, Signal: 15, Command: "sleep 2"},
			"2\tnode1\t1795726909.320\t     0.718\t0\t0\t-1\t15\tsleep 2\n"},
		{"newline in command written as NUL, as GNU Parallel does", Entry{Seq: 3, Host: ":", Start: time.Unix(0, 0), Command: "echo 'a\nb'"},
			"3\t:\t0.000\t     0.000\t0\t0\t0\t0\techo 'a\x00b'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.entry.Format(); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestWriteAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w, err := Create(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Entry{Seq: 1, Host: ":", Start: time.Unix(1, 0), Command: "ok"})
	w.Write(Entry{Seq: 2, Host: ":", Start: time.Unix(1, 0), Exit: 3, Command: "bad"})
	w.Close()
	// A resumed run appends without a second header, and its line wins.
	w, err = Create(path, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Entry{Seq: 2, Host: ":", Start: time.Unix(2, 0), Command: "bad"})
	w.Close()
	// A crash can cut the last line short.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("3\t:\t12")
	f.Close()

	var warnings []error
	got, err := Read(path, func(err error) { warnings = append(warnings, err) })
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings = %v, want one for the torn line", warnings)
	}
	if len(got) != 2 || got[1].Failed() || got[2].Failed() || got[2].Start.Unix() != 2 {
		t.Fatalf("got %+v", got)
	}
	b, _ := os.ReadFile(path)
	if bytes.Count(b, []byte("Seq\tHost")) != 1 {
		t.Fatalf("header written more than once:\n%s", b)
	}
}

func TestRead(t *testing.T) {
	line := func(seq int) string { return fmt.Sprintf("%d\t:\t1.0\t0.1\t0\t0\t0\t0\tx\n", seq) }
	tests := []struct {
		name         string
		content      string
		want         int
		wantWarnings int
		wantErr      bool
	}{
		{"missing file is empty", "", 0, 0, false},
		{"header only", Header, 0, 0, false},
		{"torn last line", Header + line(1) + "2\t:\t1", 1, 1, false},
		{"last line whole but without its newline", Header + line(1) + strings.TrimSuffix(line(2), "\n"), 1, 1, false},
		{"garbage in the middle", Header + "nonsense\n" + line(1), 1, 1, false},
		{"bad number", Header + "x\t:\t1.0\t0.1\t0\t0\t0\t0\tx\n" + line(2), 1, 1, false},
		{"a torn line ended by a resumed run", Header + line(1) + "2\t:\t1\n" + line(2), 2, 1, false},
		{"many bad lines: a few named, the rest counted", Header + strings.Repeat("bad\n", 10) + line(1), 1, namedBadLines + 1, false},
		{"no header and no job line is not a job log", "some\ntext\n", 0, 0, true},
		{"no header but job lines", line(1) + line(2), 2, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			if tt.content != "" {
				os.WriteFile(path, []byte(tt.content), 0o644)
			}
			warnings := 0
			got, err := Read(path, func(error) { warnings++ })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if len(got) != tt.want || warnings != tt.wantWarnings {
				t.Fatalf("got %d entries and %d warnings, want %d and %d", len(got), warnings, tt.want, tt.wantWarnings)
			}
		})
	}
}

// TestAppendEndsTornLine: a resumed run's first line does not join a line
// torn by a crash.
func TestAppendEndsTornLine(t *testing.T) {
	tests := []struct {
		name, before, want string
	}{
		{"torn line", Header + "1\t:\t1", Header + "1\t:\t1\n"},
		{"whole lines", Header, Header},
		{"empty file gets the header", "", Header},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			os.WriteFile(path, []byte(tt.before), 0o644)
			w, err := Create(path, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := Entry{Seq: 2, Host: ":", Start: time.Unix(1, 0), Command: "x"}
			w.Write(e)
			w.Close()
			b, _ := os.ReadFile(path)
			if want := tt.want + e.Format(); string(b) != want {
				t.Fatalf("log = %q, want %q", b, want)
			}
		})
	}
}

func TestInOrder(t *testing.T) {
	entry := func(seq uint64) Entry {
		return Entry{Seq: seq, Host: ":", Start: time.Unix(0, 0), Command: fmt.Sprint("job ", seq)}
	}
	tests := []struct {
		name    string
		writes  []uint64 // entries written, in this order
		skips   []uint64 // skipped before the writes
		before  []uint64 // the lines written before Close
		atClose []uint64 // all lines after Close
	}{
		{"in order already", []uint64{1, 2, 3}, nil, []uint64{1, 2, 3}, []uint64{1, 2, 3}},
		{"reversed", []uint64{3, 2, 1}, nil, []uint64{1, 2, 3}, []uint64{1, 2, 3}},
		{"skipped jobs hold nothing back", []uint64{3, 1}, []uint64{2}, []uint64{1, 3}, []uint64{1, 3}},
		{"a job that never ended holds later ones until Close", []uint64{3, 1}, nil, []uint64{1}, []uint64{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w, err := Create("-", true, &b)
			if err != nil {
				t.Fatal(err)
			}
			w.InOrder()
			for _, seq := range tt.skips {
				if err := w.Skip(seq); err != nil {
					t.Fatal(err)
				}
			}
			for _, seq := range tt.writes {
				if err := w.Write(entry(seq)); err != nil {
					t.Fatal(err)
				}
			}
			want := func(seqs []uint64) string {
				s := Header
				for _, seq := range seqs {
					s += entry(seq).Format()
				}
				return s
			}
			if got := b.String(); got != want(tt.before) {
				t.Fatalf("before Close:\ngot  %q\nwant %q", got, want(tt.before))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != want(tt.atClose) {
				t.Fatalf("after Close:\ngot  %q\nwant %q", got, want(tt.atClose))
			}
		})
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name, existing, want string
	}{
		{"new file gets no header", "", "1\t:\t0.000\t     0.000\t0\t0\t0\t0\tx\n"},
		{"existing lines are kept", "old\n", "old\n1\t:\t0.000\t     0.000\t0\t0\t0\t0\tx\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			if tt.existing != "" {
				if err := os.WriteFile(path, []byte(tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w, err := Append(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(Entry{Seq: 1, Host: ":", Start: time.Unix(0, 0), Command: "x"}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
