package buildinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHashFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{name: "empty", content: "", want: "e3b0c44298fc1c14"},
		{name: "abc", content: "abc", want: "ba7816bf8f01cfea"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := HashFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("HashFile() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestID(t *testing.T) {
	p, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := HashFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := ID(); got != want || len(got) != idLen {
		t.Errorf("ID() = %q, want %q", got, want)
	}
	if again := ID(); again != want {
		t.Errorf("ID() changed to %q", again)
	}
}

func TestHashFileMissing(t *testing.T) {
	if _, err := HashFile(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("HashFile of a missing file succeeded")
	}
}

func TestIDFromPath(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		want   string
		wantOK bool
	}{
		{name: "cache", path: "/home/u/.cache/concurr/" + Version + "-0123456789abcdef/concurr", want: "0123456789abcdef", wantOK: true},
		{name: "fallback cache", path: "/home/u/.concurr/" + Version + "-fedcba9876543210/concurr", want: "fedcba9876543210", wantOK: true},
		{name: "installed elsewhere", path: "/usr/local/bin/concurr"},
		{name: "other version", path: "/c/9.9.9-0123456789abcdef/concurr"},
		{name: "short hash", path: "/c/" + Version + "-0123456789abcde/concurr"},
		{name: "long hash", path: "/c/" + Version + "-0123456789abcdef0/concurr"},
		{name: "upper case hex", path: "/c/" + Version + "-0123456789ABCDEF/concurr"},
		{name: "not hex", path: "/c/" + Version + "-0123456789abcdeg/concurr"},
		{name: "no folder", path: "concurr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := idFromPath(tt.path)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("idFromPath(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestInstalledIDOfATestBinary(t *testing.T) {
	// A test binary lives in a go-build folder, not in a build cache.
	if id, ok := InstalledID(); ok {
		t.Errorf("InstalledID() = %q, true for %s", id, os.Args[0])
	}
}
