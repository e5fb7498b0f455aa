package transfer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenCache holds the basefile cache to StrictModes: its folders are
// the user's and writable by no one else.
func TestOpenCache(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, root string) string // returns the cache dir
		refusal string                                 // "" when the cache is fine
	}{
		{"made fresh", func(t *testing.T, root string) string { return filepath.Join(root, "concurr", "base") }, ""},
		{"writable by others", func(t *testing.T, root string) string {
			dir := filepath.Join(root, "concurr", "base")
			os.MkdirAll(dir, 0o700)
			os.Chmod(dir, 0o777)
			return dir
		}, "is writable by others"},
		{"concurr folder writable by the group", func(t *testing.T, root string) string {
			dir := filepath.Join(root, "concurr", "base")
			os.MkdirAll(dir, 0o700)
			os.Chmod(filepath.Dir(dir), 0o770)
			return dir
		}, "is writable by others"},
		{"a folder above writable by others", func(t *testing.T, root string) string {
			os.Chmod(root, 0o777)
			return filepath.Join(root, "concurr", "base")
		}, "above the basefile cache, is writable by others"},
		{"a sticky folder above", func(t *testing.T, root string) string {
			os.Chmod(root, 0o777|os.ModeSticky)
			return filepath.Join(root, "concurr", "base")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "home")
			os.Mkdir(root, 0o700)
			dir := tt.prepare(t, root)
			_, err := OpenCache(dir)
			switch {
			case tt.refusal == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refusal != "" && (err == nil || !strings.Contains(err.Error(), tt.refusal)):
				t.Errorf("error %v, want one with %q", err, tt.refusal)
			}
		})
	}
}

// TestOpenCached trusts only the user's own regular files, writable by no
// one else, named by a valid sum.
func TestOpenCached(t *testing.T) {
	dir := t.TempDir()
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		prepare func(path string)
		name2   string
		ok      bool
	}{
		{"a good entry", func(p string) { os.WriteFile(p, []byte("x"), 0o600) }, sum, true},
		{"writable by others", func(p string) { os.WriteFile(p, []byte("x"), 0o600); os.Chmod(p, 0o666) }, sum, false},
		{"a symlink", func(p string) { os.WriteFile(p+".real", []byte("x"), 0o600); os.Symlink(p+".real", p) }, sum, false},
		{"not a sum", func(p string) {}, "../etc/passwd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(dir)
			os.Mkdir(dir, 0o700)
			tt.prepare(filepath.Join(dir, sum))
			f, ok := OpenCached(dir, tt.name2)
			if f != nil {
				f.Close()
			}
			if ok != tt.ok {
				t.Errorf("OpenCached = %v, want %v", ok, tt.ok)
			}
		})
	}
}
