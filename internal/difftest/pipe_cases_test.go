package difftest

import (
	"fmt"
	"strings"
)

// numbered is n lines "line 1" ... "line n".
func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

// uneven is n lines of lengths that vary, so that blocks end at many
// different places.
func uneven(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d %s\n", i, strings.Repeat("x", i*7%23))
	}
	return b.String()
}

// show prints a job's block so that its every byte is compared, marking
// where it ends.
const show = `echo "job {#}"; cat; echo "<end>"`

// pipeCases compare --pipe and --pipepart with GNU Parallel: every block's
// bytes, in order under -k, show where both tools cut the input.
func pipeCases() []diffCase {
	csv := "id,name\n1,a\n1,b\n2,c\n3,d\n3,e\n3,f\n"
	records := "BEGIN\na\nb\nEND\nBEGIN\nc\nEND\nBEGIN\nd\ne\nf\nEND\n"
	multi := "rec1;;\nrec2 has ; inside;;\nrec3;;\nrec4;;"
	return []diffCase{
		{name: "pipe/default-block", args: []string{"--pipe", "wc -l"}, stdin: numbered(300000)},
		{name: "pipe/block", args: []string{"--pipe", "--block", "100", show}, stdin: uneven(60)},
		{name: "pipe/block-k-unit", args: []string{"--pipe", "--block", "1k", "wc"}, stdin: uneven(500)},
		{name: "pipe/block-decimal-unit", args: []string{"--pipe", "--block", "2k", "md5sum"}, stdin: uneven(900)},
		{name: "pipe/spreadstdin", args: []string{"--spreadstdin", "--block", "300", "wc -c"}, stdin: uneven(100)},
		{name: "pipe/block-1", args: []string{"--pipe", "--block", "1", show}, stdin: "a\nbb\nccc\n"},
		{name: "pipe/record-larger-than-block", args: []string{"--pipe", "--block", "10", show}, stdin: "short\n" + strings.Repeat("long", 30) + "\nshort again\n"},
		{name: "pipe/no-final-newline", args: []string{"--pipe", "--block", "8", show}, stdin: "one\ntwo\nthree\nfour"},
		{name: "pipe/empty-input", args: []string{"--pipe", "echo ran"}},
		{name: "pipe/nul-bytes", args: []string{"--pipe", "--block", "5", "od -c"}, stdin: "a\x00b\nc\x00\x00d\n\x00\n\x00\x00\x00\x00\x00\x00\n"},
		{name: "pipe/recend-multibyte", args: []string{"--pipe", "--block", "10", "--recend", ";;\n", show}, stdin: multi},
		{name: "pipe/recend-empty", args: []string{"--pipe", "--block", "7", "--recend", "", show}, stdin: "abcdefghijklmnopqrstuvwxyz"},
		{name: "pipe/recstart", args: []string{"--pipe", "--block", "12", "--recstart", "BEGIN", show}, stdin: records},
		{name: "pipe/recstart-recend", args: []string{"--pipe", "--block", "12", "--recstart", "BEGIN\n", "--recend", "END\n", show}, stdin: records},
		{name: "pipe/regexp", args: []string{"--pipe", "--block", "12", "--regexp", "--recstart", "B[A-Z]+\n", "--recend", "E.D\n", show}, stdin: records},
		{name: "pipe/regexp-recend", args: []string{"--pipe", "--block", "20", "--regexp", "--recend", "[0-9]\n", show}, stdin: uneven(40)},
		{name: "pipe/N", args: []string{"--pipe", "-N", "3", show}, stdin: numbered(10)},
		{name: "pipe/N-recstart", args: []string{"--pipe", "-N", "2", "--recstart", "BEGIN", show}, stdin: records},
		{name: "pipe/N-multibyte", args: []string{"--pipe", "-N1", "--recend", ";;\n", show}, stdin: multi},
		{name: "pipe/N-regexp", args: []string{"--pipe", "-N1", "--regexp", "--recstart", "BEG[I]N", show}, stdin: records},
		{name: "pipe/N-recend-empty", args: []string{"--pipe", "-N", "4", "--recend", "", show}, stdin: "abcdefghij"},
		{name: "pipe/L", args: []string{"--pipe", "-L", "3", "--block", "20", show}, stdin: numbered(20)},
		{name: "pipe/L-N", args: []string{"--pipe", "-L", "2", "-N", "2", show}, stdin: numbered(11)},
		{name: "pipe/header", args: []string{"--pipe", "--block", "10", "--header", ":", show}, stdin: csv},
		{name: "pipe/header-lines", args: []string{"--pipe", "-N2", "--header", "2", show}, stdin: "h1\nh2\n" + numbered(5)},
		{name: "pipe/header-regexp", args: []string{"--pipe", "-N1", "--header", "#.*\\n", show}, stdin: "# comment\n" + numbered(3)},
		{name: "pipe/seq-and-slot", args: []string{"--pipe", "-N1", "-j1", "echo {#} {%}; cat"}, stdin: "a\nb\nc\n"},
		{name: "pipe/cat", args: []string{"--pipe", "--cat", "-N2", `wc -l < {}; cat {}`}, stdin: numbered(5)},
		{name: "pipe/cat-implies-pipe", args: []string{"--cat", "--block", "10", `cat {}`}, stdin: uneven(10)},
		{name: "pipe/fifo", args: []string{"--pipe", "--fifo", "-N2", `cat {}`}, stdin: numbered(5)},
		{name: "pipe/tee", args: []string{"--pipe", "--tee", "-j3", "grep {}", ":::", "1", "2", "3"}, stdin: numbered(40)},
		{name: "pipe/tee-needs-slots", args: []string{"--pipe", "--tee", "-j1", "grep {}", ":::", "1", "2"}, stdin: "1\n2\n", anyFailure: true},
		{name: "pipe/round-robin-one-slot", args: []string{"--pipe", "--round-robin", "-j1", "--block", "10", show}, stdin: uneven(30)},
		{name: "pipe/job-fails", args: []string{"--pipe", "-N1", "grep 2"}, stdin: "1\n2\n3\n"},
		// A job that does not read its block: GNU Parallel's exit status
		// then depends on whether its write of the block met the closed
		// pipe (sometimes 1); concurr's is the job's own, 0.
		{name: "pipe/job-reads-nothing", args: []string{"--pipe", "-N1", "echo {#}"}, stdin: "1\n2\n3\n",
			want: &outcome{stdout: "1\n2\n3\n"}},
		{name: "pipe/group-by-N1", args: []string{"--pipe", "--colsep", ",", "--group-by", "1", "-N1", show}, stdin: "1,a\n1,b\n2,c\n3,d\n3,e\n3,f\n"},
		{name: "pipe/group-by-N2", args: []string{"--pipe", "--colsep", ",", "--group-by", "2", "-N2", show}, stdin: "a,1\nb,1\nc,2\nd,3\ne,3\nf,4\n"},
		{name: "pipe/group-by-name", args: []string{"--pipe", "--colsep", ",", "--header", ":", "--group-by", "id", "-N1", show}, stdin: csv},
		{name: "pipe/group-by-tab", args: []string{"--pipe", "--group-by", "1", "-N1", "wc -l"}, stdin: "x\t1\nx\t2\ny\t3\n"},
		{name: "pipe/bad-block", args: []string{"--pipe", "--block", "x", "cat"}, stdin: "a\n", anyFailure: true},

		{name: "pipepart/block", args: []string{"--pipepart", "-a", "in.txt", "--block", "100", show}, files: map[string]string{"in.txt": uneven(80)}},
		{name: "pipepart/default-block", args: []string{"--pipepart", "-a", "in.txt", "-j2", "wc -l"}, files: map[string]string{"in.txt": numbered(1000)}},
		{name: "pipepart/negative-block", args: []string{"--pipepart", "-a", "in.txt", "--block", "-3", "-j2", "wc -l"}, files: map[string]string{"in.txt": numbered(1000)}},
		{name: "pipepart/recend", args: []string{"--pipepart", "-a", "in.txt", "--block", "10", "--recend", ";;\n", show}, files: map[string]string{"in.txt": multi}},
		{name: "pipepart/recstart", args: []string{"--pipepart", "-a", "in.txt", "--block", "12", "--recstart", "BEGIN", show}, files: map[string]string{"in.txt": records}},
		{name: "pipepart/regexp", args: []string{"--pipepart", "-a", "in.txt", "--block", "12", "--regexp", "--recstart", "B.GIN", show}, files: map[string]string{"in.txt": records}},
		{name: "pipepart/header", args: []string{"--pipepart", "-a", "in.txt", "--block", "5", "--header", ":", show}, files: map[string]string{"in.txt": csv}},
		{name: "pipepart/arg-file-sep", args: []string{"--pipepart", "--block", "30", show, "::::", "in.txt"}, files: map[string]string{"in.txt": uneven(20)}},
		{name: "pipepart/no-final-newline", args: []string{"--pipepart", "-a", "in.txt", "--block", "4", show}, files: map[string]string{"in.txt": "ab\ncd\nef"}},
		{name: "pipepart/empty-file", args: []string{"--pipepart", "-a", "in.txt", "echo ran"}, files: map[string]string{"in.txt": ""}},
		{name: "pipepart/cat", args: []string{"--pipepart", "-a", "in.txt", "--block", "20", "--cat", "wc -c < {}"}, files: map[string]string{"in.txt": uneven(20)}},
		{name: "pipepart/tee", args: []string{"--pipepart", "-a", "in.txt", "--tee", "-j2", "grep -c {}", ":::", "1", "2"}, files: map[string]string{"in.txt": numbered(100)}},
	}
}
