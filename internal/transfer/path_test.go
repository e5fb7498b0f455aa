package transfer

import "testing"

func TestSplit(t *testing.T) {
	cases := []struct {
		name, in      string
		local, remote string
		refused       bool
	}{
		{"plain", "f.txt", "f.txt", "f.txt", false},
		{"subdir", "gz/f1.txt", "gz/f1.txt", "gz/f1.txt", false},
		{"leading dot slash", "./a/b", "a/b", "a/b", false},
		{"marker", "data/./sub/f", "data/sub/f", "sub/f", false},
		{"absolute with marker", "/home/u/./x/y", "/home/u/x/y", "x/y", false},
		{"last marker wins", "a/./b/./c", "a/b/c", "c", false},
		{"dotdot before marker", "../in/./f", "../in/f", "f", false},
		{"absolute", "/etc/passwd", "", "", true},
		{"dotdot", "../f", "", "", true},
		{"dotdot inside", "a/../../f", "", "", true},
		{"dotdot after marker", "a/./../f", "", "", true},
		{"empty", "", "", "", true},
		{"only marker", "a/./", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			local, remote, err := Split(c.in)
			if c.refused {
				if err == nil {
					t.Fatalf("Split(%q) = %q, %q; want refused", c.in, local, remote)
				}
				return
			}
			if err != nil || local != c.local || remote != c.remote {
				t.Fatalf("Split(%q) = %q, %q, %v; want %q, %q", c.in, local, remote, err, c.local, c.remote)
			}
		})
	}
}
