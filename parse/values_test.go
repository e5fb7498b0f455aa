package parse

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/expand"
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
				if got := tplTransform(c.kind, tc.in); got != c.want {
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
	cmd := exec.Command(gnu, "--will-cite", "-0", "-k", "-j1", "--dry-run", "echo", "{.}", "{/}", "{//}", "{/.}")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parallel: %v", err)
	}
	if string(out) != want.String() {
		t.Errorf("GNU Parallel differs:\n got %q\nwant %q", out, want.String())
	}
}

func TestJobEnviron(t *testing.T) {
	tpl, err := Compile([]string{"echo {} {1} {3} {#} {%} {host} {/}"}, TemplateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parent := expand.ListEnviron("HOME=/home/x", "PATH=/bin")
	env := NewJobEnviron(parent)
	env.Bind(tpl, Job{Seq: 12, Slot: 3, Host: "node1", Args: []string{"a/b", "c"}})

	want := map[string]expand.Variable{
		"__concurr_1": {Set: true, Kind: expand.Indexed, List: []string{"a/b", "c"}},
		"__concurr_2": {Set: true, Kind: expand.String, Str: "a/b"},
		"__concurr_3": {Set: true, Kind: expand.Indexed, List: []string{}},
		"__concurr_4": {Set: true, Kind: expand.String, Str: "12"},
		"__concurr_5": {Set: true, Kind: expand.String, Str: "3"},
		"__concurr_6": {Set: true, Kind: expand.String, Str: "node1"},
		"__concurr_7": {Set: true, Kind: expand.Indexed, List: []string{"b", "c"}},
	}
	for name, w := range want {
		got := env.Get(name)
		if got.Kind != w.Kind || got.Str != w.Str || !slices.Equal(got.List, w.List) || !got.Set || got.Exported {
			t.Errorf("Get(%q) = %+v, want %+v", name, got, w)
		}
		if w.Kind == expand.Indexed && got.List == nil {
			t.Errorf("Get(%q) has a nil list, which mvdan.cc/sh expands to one empty word", name)
		}
	}
	if got := env.Get("HOME").String(); got != "/home/x" {
		t.Errorf("Get(HOME) = %q, want the parent's", got)
	}
	if got := env.Get("__concurr_99"); got.IsSet() {
		t.Errorf("Get of an unknown job variable = %+v, want unset", got)
	}
	seen := map[string]bool{}
	env.Each(func(name string, vr expand.Variable) bool {
		seen[name] = true
		return true
	})
	for name := range want {
		if !seen[name] {
			t.Errorf("Each misses %s", name)
		}
	}
	if !seen["HOME"] {
		t.Error("Each misses the parent's variables")
	}
	calls := 0
	env.Each(func(string, expand.Variable) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("Each went on after false: %d calls", calls)
	}

	// The next job replaces every value.
	env.Bind(tpl, Job{Seq: 13, Args: []string{"x"}})
	if got := env.Get("__concurr_1"); got.Kind != expand.String || got.Str != "x" {
		t.Errorf("after the second Bind, {} = %+v", got)
	}
}
