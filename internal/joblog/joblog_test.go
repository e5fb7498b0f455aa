package joblog

import (
	"bytes"
	"os"
	"path/filepath"
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
		{"newline in command kept on one line", Entry{Seq: 3, Host: ":", Start: time.Unix(0, 0), Command: "echo 'a\nb'"},
			"3\t:\t0.000\t     0.000\t0\t0\t0\t0\techo 'a\\nb'\n"},
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

	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
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
	tests := []struct {
		name    string
		content string
		want    int
		wantErr bool
	}{
		{"missing file is empty", "", 0, false},
		{"header only", Header, 0, false},
		{"garbage in the middle", Header + "nonsense\n1\t:\t1.0\t0.1\t0\t0\t0\t0\tx\n", 0, true},
		{"bad number", Header + "x\t:\t1.0\t0.1\t0\t0\t0\t0\tx\n2\t:\t1.0\t0.1\t0\t0\t0\t0\tx\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			if tt.content != "" {
				os.WriteFile(path, []byte(tt.content), 0o644)
			}
			got, err := Read(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && len(got) != tt.want {
				t.Fatalf("got %d entries", len(got))
			}
		})
	}
}
