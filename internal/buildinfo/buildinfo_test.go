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
