package template

import (
	"bytes"
	"strings"
	"testing"
)

// pathCases hold GNU Parallel 20221122's {.} {/} {//} {/.} of each input.
var pathCases = []struct {
	name, in                    string
	noExt, base, dir, baseNoExt string
}{
	{"nested", "a/b.c/d", "a/b.c/d", "d", "a/b.c", "d"},
	{"dot file", ".bashrc", "", ".bashrc", ".", ""},
	{"plain file", "file", "file", "file", ".", "file"},
	{"two extensions", "a.tar.gz", "a.tar", "a.tar.gz", ".", "a.tar"},
	{"trailing slash", "/x/y.z/", "/x/y.z/", "", "/x", ""},
	{"root", "/", "/", "", "/", ""},
	{"empty", "", "", "", ".", ""},
	{"directory", "dir/", "dir/", "", ".", ""},
	{"dot file in dir", "a/.b", "a/", ".b", "a", ""},
	{"trailing dot", "a/b.", "a/b", "b.", "a", "b"},
	{"dot slash", "./x", "./x", "x", ".", "x"},
	{"dot dot", "..", ".", "..", ".", "."},
	{"dot", ".", "", ".", ".", ""},
	{"dotted dir", "a.b/", "a.b/", "", ".", ""},
	{"absolute", "/a", "/a", "a", "/", "a"},
	{"double slash", "a//b", "a//b", "b", "a", "b"},
	{"double trailing slash", "a//", "a//", "", ".", ""},
	{"two slashes", "//", "//", "", "/", ""},
	{"dotted dir trailing slash", "a/b.c/", "a/b.c/", "", "a", ""},
	{"dot file two dots", ".a.b", ".a", ".a.b", ".", ".a"},
	{"dot file two dots in dir", "x/.a.b", "x/.a", ".a.b", "x", ".a"},
	// Perl's . stops at a newline in s:.*/:: but not in dirname.
	{"newline", "a\nb", "a\nb", "a\nb", ".", "a\nb"},
	{"newline between slashes", "a/b\nc/d", "a/b\nc/d", "b\nc/d", "a/b\nc", "b\nc/d"},
	{"newline before slash", "x\ny/z", "x\ny/z", "x\nz", "x\ny", "x\nz"},
	{"trailing newline", "a.b\n", "a", "a.b\n", ".", "a"},
	{"invalid utf-8", "\xff/\xfe.\xfd", "\xff/\xfe", "\xfe.\xfd", "\xff", "\xfe"},
}

func TestPathTransforms(t *testing.T) {
	for _, tc := range pathCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				kind Kind
				want string
			}{{KindArg, tc.in}, {KindNoExt, tc.noExt}, {KindBase, tc.base}, {KindDir, tc.dir}, {KindBaseNoExt, tc.baseNoExt}} {
				if got := transformArg(c.kind, tc.in); got != c.want {
					t.Errorf("%s of %q = %q, want %q", c.kind, tc.in, got, c.want)
				}
			}
		})
	}
}

func TestPathTransformsAgainstGNUParallel(t *testing.T) {
	gnu := gnuParallel(t)
	var in bytes.Buffer
	var want strings.Builder
	for _, tc := range pathCases {
		in.WriteString(tc.in + "\x00")
		want.WriteString("echo " + strings.Join([]string{ShellQuote(tc.noExt), ShellQuote(tc.base),
			ShellQuote(tc.dir), ShellQuote(tc.baseNoExt)}, " ") + "\n")
	}
	if out := gnuDryRun(t, gnu, &in, "echo", "{.}", "{/}", "{//}", "{/.}"); out != want.String() {
		t.Errorf("GNU Parallel differs:\n got %q\nwant %q", out, want.String())
	}
}
