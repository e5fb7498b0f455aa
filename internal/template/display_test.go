package template

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// displayCases hold GNU Parallel 20221122's --dry-run output for jobs made
// of the given argument lists.
var displayCases = []struct {
	name   string
	words  []string
	opts   Options
	gnu    []string // GNU Parallel's options and sources, for the oracle test
	jobs   [][]string
	want   []string
	noGNU  bool // the oracle cannot produce these jobs with these options
	seq0   uint64
	header []string
}{
	{name: "argument", words: []string{"echo", "{}"}, gnu: []string{":::", "a", "b c", "", "it's"},
		jobs: [][]string{{"a"}, {"b c"}, {""}, {"it's"}},
		want: []string{"echo a", "echo 'b c'", "echo ''", `echo 'it'"'"'s'`}},
	{name: "appended", words: []string{"echo"}, gnu: []string{":::", "x y"}, jobs: [][]string{{"x y"}}, want: []string{"echo 'x y'"}},
	{name: "two sources", words: []string{"echo"}, gnu: []string{":::", "a", "b", ":::", "c d"},
		jobs: [][]string{{"a", "c d"}, {"b", "c d"}}, want: []string{"echo a 'c d'", "echo b 'c d'"}},
	{name: "positional", words: []string{"echo", "{2}", "{1}", "{-1}", "{1.}", "{2/}", "{1//}", "{1/.}"}, opts: Options{Positions: 2},
		gnu: []string{":::", "a.x/b.y", ":::", "c.z/d.w"}, jobs: [][]string{{"a.x/b.y", "c.z/d.w"}},
		want: []string{"echo c.z/d.w a.x/b.y c.z/d.w a.x/b d.w a.x b"}},
	{name: "path kinds", words: []string{"echo", "{.}", "{/}", "{//}", "{/.}"}, gnu: []string{":::", "a/b.c/d", ".bashrc", "file"},
		jobs: [][]string{{"a/b.c/d"}, {".bashrc"}, {"file"}}, want: []string{"echo a/b.c/d d a/b.c d", "echo '' .bashrc . ''", "echo file file . file"}},
	{name: "sequence and slot", words: []string{"echo", "{#}-{%}"}, gnu: []string{":::", "a", "b"}, jobs: [][]string{{"a"}, {"b"}},
		want: []string{"echo 1-1", "echo 2-1"}},
	{name: "quotes are not understood", words: []string{"echo", "'{}'", `"{}"`}, gnu: []string{":::", "p q"}, jobs: [][]string{{"p q"}},
		want: []string{`echo ''p q'' "'p q'"`}},
	{name: "pipe", words: []string{"echo {} | wc -c"}, gnu: []string{":::", "x"}, jobs: [][]string{{"x"}}, want: []string{"echo x | wc -c"}},
	{name: "assignment", words: []string{"X={}", "env"}, gnu: []string{":::", "a b"}, jobs: [][]string{{"a b"}}, want: []string{"X='a b' env"}},
	{name: "-m", words: []string{"echo", "pre{}post"}, opts: Options{Mode: ModeXargs}, gnu: []string{"-m", ":::", "a", "b c", "d"},
		jobs: [][]string{{"a", "b c", "d"}}, want: []string{"echo prea 'b c' dpost"}},
	{name: "-X", words: []string{"echo", "pre{}post"}, opts: Options{Mode: ModeContext}, gnu: []string{"-X", ":::", "a", "b c", "d"},
		jobs: [][]string{{"a", "b c", "d"}}, want: []string{"echo preapost pre'b c'post predpost"}},
	{name: "-X word of several references", words: []string{"echo", "a{}b{.}c{#}"}, opts: Options{Mode: ModeContext},
		gnu: []string{"-j1", "-X", ":::", "1.x", "y z"}, jobs: [][]string{{"1.x", "y z"}}, want: []string{"echo a1.xb1c1 a'y z'b'y z'c1"}},
	{name: "-X in double quotes", words: []string{"echo", `"x{}y"`}, opts: Options{Mode: ModeContext}, gnu: []string{"-X", ":::", "a", "b"},
		jobs: [][]string{{"a", "b"}}, want: []string{`echo "xay" "xby"`}},
	{name: "-X positional", words: []string{"echo", "{1}", "{-1}", "{2}", "x{2.}y"}, opts: Options{Mode: ModeContext}, gnu: []string{"-X", ":::", "a.1", "b c", "d.2"},
		jobs: [][]string{{"a.1", "b c", "d.2"}}, want: []string{"echo a.1 d.2 'b c' x'b c'y"}},
	{name: "-m positional", words: []string{"echo", "{1}", "{-1}", "{2}", "x{2.}y"}, opts: Options{Mode: ModeXargs}, gnu: []string{"-m", ":::", "a.1", "b c", "d.2"},
		jobs: [][]string{{"a.1", "b c", "d.2"}}, want: []string{"echo a.1 d.2 'b c' x'b c'y"}},
	{name: "-X position beyond the job", words: []string{"echo", "{}", "{3}"}, opts: Options{Mode: ModeContext}, gnu: []string{"-X", "-N2", ":::", "a", "b", "c"},
		jobs: [][]string{{"a", "b"}, {"c"}}, want: []string{"echo a b ", "echo c "}},
	{name: "-q", words: []string{"echo", "a b", "{}", "x{}", "it's"}, opts: Options{Quote: true}, gnu: []string{"-q", ":::", "p q", "pq", "it's", ""},
		jobs: [][]string{{"p q"}, {"pq"}, {"it's"}, {""}},
		want: []string{`echo 'a b' 'p q' 'xp q' 'it'"'"'s'`, `echo 'a b' pq xpq 'it'"'"'s'`, `echo 'a b' 'it'"'"'s' 'xit'"'"'s' 'it'"'"'s'`, `echo 'a b' '' x 'it'"'"'s'`}},
	{name: "-I", words: []string{"echo", "<>", "<1>", "{}"}, opts: Options{Replacements: Replacements{Arg: "<>"}}, gnu: []string{"-I", "<>", ":::", "a", ":::", "b"},
		jobs: [][]string{{"a", "b"}}, want: []string{"echo a b <1> {}"}},
	{name: "-I with braces", words: []string{"echo", "{x}", "{1x}", "{x1}", "{1}"}, opts: Options{Replacements: Replacements{Arg: "{x}"}}, gnu: []string{"-I", "{x}", ":::", "a", ":::", "b"},
		jobs: [][]string{{"a", "b"}}, want: []string{"echo a b a {x1} {1}"}},
	{name: "header", words: []string{"echo", "{b}", "{a.}", "'{x}'"}, opts: Options{Header: []string{"a", "b"}}, gnu: []string{"--header", ":", ":::", "a", "a.1", ":::", "b", "b.2"},
		jobs: [][]string{{"a.1", "b.2"}}, want: []string{"echo b.2 a '{x}'"}},
}

func TestDisplay(t *testing.T) {
	for _, tc := range displayCases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, args := range tc.jobs {
				if got := tpl.Display(Job{Seq: uint64(i + 1), Slot: 1, Args: args}); got != tc.want[i] {
					t.Errorf("Display(%q)\n got %s\nwant %s", args, got, tc.want[i])
				}
			}
		})
	}
}

func TestDisplayAgainstGNUParallel(t *testing.T) {
	gnu := gnuParallel(t)
	for _, tc := range displayCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // GNU Parallel takes most of a second to start
			args := append([]string{"--will-cite", "-k", "-j1", "--dry-run"}, tc.gnu[:slices.Index(tc.gnu, ":::")]...)
			args = append(args, tc.words...)
			args = append(args, tc.gnu[slices.Index(tc.gnu, ":::"):]...)
			out, err := exec.Command(gnu, args...).Output()
			if err != nil {
				t.Fatalf("parallel %q: %v", args, err)
			}
			want := strings.Join(tc.want, "\n") + "\n"
			if string(out) != want {
				t.Errorf("parallel %q\n got %q\nwant %q", args, out, want)
			}
		})
	}
}

func TestExpandText(t *testing.T) {
	tests := []struct {
		name, text string
		opts       Options
		job        Job
		want       string
	}{
		{"tag", "{}", Options{}, Job{Args: []string{"a b", "c"}}, "a b c"},
		{"kinds", "{#}/{%}@{host}: {1/.} {2} {3}", Options{}, Job{Seq: 3, Slot: 2, Host: "h", Args: []string{"d/f.x", "'q'"}}, "3/2@h: f 'q' "},
		{"no shell", `$'{}' "{}"`, Options{}, Job{Args: []string{"v"}}, `$'v' "v"`},
		{"header", "{name}={size}", Options{Header: []string{"name", "size"}}, Job{Args: []string{"n", "s"}}, "n=s"},
		{"renamed", "<>{}", Options{Replacements: Replacements{Arg: "<>"}}, Job{Args: []string{"v"}}, "v{}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandText(tc.text, tc.opts, tc.job)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ExpandText(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
	if _, err := ExpandText("{0}", Options{}, Job{}); err == nil {
		t.Error("ExpandText({0}) succeeded")
	}
}
