package difftest

import "strings"

// A counter file in the job's working directory makes a job fail on its first
// attempt and succeed on its second.
const failOnce = `n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo attempt $n {}; [ $n -ge 2 ]`

// retryLog is a job log in which jobs 2 and 4 failed, job 4 by a signal.
const retryLog = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n" +
	"1\t:\t1.000\t0.001\t0\t2\t0\t0\techo a\n" +
	"2\t:\t1.000\t0.001\t0\t2\t1\t0\techo b; exit 1\n" +
	"4\t:\t1.000\t0.001\t0\t0\t0\t9\techo d\n" +
	"3\t:\t1.000\t0.001\t0\t2\t0\t0\techo c\n"

func cases() []diffCase {
	return append(append(baseCases(), pipeCases()...), hostFilterAndLimitCases()...)
}

func baseCases() []diffCase {
	return []diffCase{
		// Input sources.
		{name: "args/colons", args: []string{"echo", ":::", "a", "b", "c"}},
		{name: "args/file", args: []string{"echo", "::::", "in.txt"}, files: map[string]string{"in.txt": "a\nb c\nd\n"}},
		{name: "args/stdin", args: []string{"echo"}, stdin: "a\nb c\nd\n"},
		{name: "args/stdin-dash-file", args: []string{"echo", "::::", "-"}, stdin: "a\nb\n"},
		{name: "args/stdin-no-final-newline", args: []string{"echo"}, stdin: "a\nb"},
		{name: "args/stdin-empty-lines", args: []string{"echo", "[{}]"}, stdin: "a\n\nb\n"},
		{name: "args/dash-a", args: []string{"-a", "in.txt", "echo"}, files: map[string]string{"in.txt": "a\nb\n"}},
		{name: "args/dash-a-twice", args: []string{"-a", "x.txt", "-a", "y.txt", "echo", "{1}-{2}"},
			files: map[string]string{"x.txt": "a\nb\n", "y.txt": "1\n2\n"}},
		{name: "args/two-files", args: []string{"echo", "{1}-{2}", "::::", "x.txt", "y.txt"},
			files: map[string]string{"x.txt": "a\nb\n", "y.txt": "1\n2\n"}},
		{name: "args/cartesian", args: []string{"echo", "{1}{2}{3}", ":::", "a", "b", ":::", "1", "2", ":::", "x", "y"}},
		{name: "args/cartesian-default-template", args: []string{"echo", ":::", "a", "b", ":::", "1", "2"}},
		{name: "args/linked-colons", args: []string{"echo", "{1}-{2}", ":::", "a", "b", "c", ":::+", "1", "2", "3"}},
		{name: "args/linked-file", args: []string{"echo", "{1}-{2}", ":::", "a", "b", "::::+", "y.txt"},
			files: map[string]string{"y.txt": "1\n2\n"}},
		{name: "args/linked-then-product", args: []string{"echo", "{1}{2}{3}", ":::", "a", "b", ":::+", "1", "2", ":::", "x", "y"}},
		{name: "args/link-flag-wraps", args: []string{"--link", "echo", "{1}-{2}", ":::", "a", "b", "c", "d", ":::", "1", "2"}},
		{name: "args/colons-then-file", args: []string{"echo", ":::", "a", "b", "::::", "y.txt"}, files: map[string]string{"y.txt": "1\n2\n"}},
		{name: "args/delimiter", args: []string{"-d", ",", "echo", "[{}]", "::::", "in.csv"}, files: map[string]string{"in.csv": "a,b c,d"}},
		{name: "args/delimiter-stdin", args: []string{"-d", ":", "echo", "[{}]"}, stdin: "a:b:"},
		{name: "args/null", args: []string{"-0", "echo", "[{}]"}, stdin: "a\x00b c\x00"},
		{name: "args/null-newline-in-value", args: []string{"-0", "printf", "'[%s]\\n'"}, stdin: "a\nb\x00c\x00"},
		{name: "args/empty-stdin", args: []string{"echo"}},
		{name: "args/empty-file", args: []string{"echo", "::::", "empty.txt"}, files: map[string]string{"empty.txt": ""}},
		{name: "args/hundreds-of-jobs", args: []string{"echo", "{#}:{}"}, stdin: lines(150)},
		{name: "args/thousands-of-lines-N500", args: []string{"-N500", "echo", "{#}", "{1}", "{500}"}, stdin: lines(3000)},
		{name: "args/thousands-of-lines-X", args: []string{"-j1", "-X", "echo", "n{}"}, stdin: lines(2000)},

		// Replacement strings.
		{name: "repl/all-path-forms", args: []string{"echo", "{}", "{.}", "{/}", "{//}", "{/.}", ":::", "dir/sub/file.tar.gz"}},
		{name: "repl/bare-name", args: []string{"echo", "{}", "{.}", "{/}", "{//}", "{/.}", ":::", "file"}},
		{name: "repl/dot-in-directory", args: []string{"echo", "{.}", "{/.}", "{//}", ":::", "a.b/c", ".bashrc", "/abs/x.y"}},
		{name: "repl/seq", args: []string{"echo", "{#}", "{}", ":::", "a", "b", "c"}},
		{name: "repl/seq-only-no-append", args: []string{"echo", "{#}", ":::", "a", "b"}},
		{name: "repl/slot-j1", args: []string{"-j1", "echo", "{%}", "{}", ":::", "a", "b"}},
		{name: "repl/positional", args: []string{"echo", "{2}", "{1}", ":::", "a", "b", ":::", "x", "y"}},
		{name: "repl/positional-forms", args: []string{"echo", "{1.}", "{2/}", "{2//}", "{2/.}", ":::", "a.txt", ":::", "d/e.f"}},
		{name: "repl/negative-positional", args: []string{"echo", "{-1}", "{-2}", ":::", "a", ":::", "b", ":::", "c"}},
		{name: "repl/inside-word", args: []string{"echo", "pre{}post", "{}{}", ":::", "a", "b"}},
		{name: "repl/I", args: []string{"-I", "<>", "echo", "<>", "{}", ":::", "a", "b"}},
		{name: "repl/extensionreplace", args: []string{"--er", "XX", "echo", "XX", ":::", "a.txt"}},
		{name: "repl/basenamereplace", args: []string{"--bnr", "BB", "echo", "BB", ":::", "d/a.txt"}},
		{name: "repl/dirnamereplace", args: []string{"--dnr", "DD", "echo", "DD", ":::", "d/a.txt"}},
		{name: "repl/basenameextensionreplace", args: []string{"--bner", "BE", "echo", "BE", ":::", "d/a.txt"}},
		{name: "repl/seqreplace", args: []string{"--seqreplace", "NN", "echo", "NN", "{}", ":::", "a", "b"}},
		{name: "repl/appended-when-missing", args: []string{"echo", "x", ":::", "a", "b"}},
		{name: "repl/template-is-shell", args: []string{"echo {} | tr a-z A-Z", ":::", "abc"}},
		{name: "repl/template-compound", args: []string{"{ echo {}; echo {.}; } | wc -l && test -n \"$PATH\" || echo never", ":::", "a.b"}},
		{name: "repl/job-environment", args: []string{"-j1", "echo $PARALLEL_SEQ $PARALLEL_JOBSLOT {}", ":::", "a", "b"}},
		{name: "repl/no-template-stdin", stdin: "echo one\necho two | tr a-z A-Z\n"},
		{name: "repl/no-template-colons", args: []string{":::", "echo a", "echo b; echo c"}},

		// Values are quoted, so they reach the command as one literal word.
		{name: "quote/spaces", args: []string{"printf", "'[%s]\\n'", ":::", "a b", "  c  "}},
		{name: "quote/semicolon", args: []string{"echo", ":::", "a; echo INJECTED"}},
		{name: "quote/command-substitution", args: []string{"echo", ":::", "$(echo INJECTED)"}},
		{name: "quote/backticks", args: []string{"echo", ":::", "`echo INJECTED`"}},
		{name: "quote/glob", args: []string{"echo", ":::", "*", "?.txt"}, files: map[string]string{"a.txt": "", "b.txt": ""}},
		{name: "quote/tilde", args: []string{"echo", ":::", "~", "~/x", "~root"}},
		{name: "quote/quotes", args: []string{"printf", "'[%s]\\n'", ":::", "it's", `"dq"`, `'`}},
		{name: "quote/backslashes", args: []string{"printf", "'[%s]\\n'", ":::", `a\b`, `c\\`, `\n`}},
		{name: "quote/newline", args: []string{"printf", "'[%s]\\n'", ":::", "a\nb"}},
		{name: "quote/empty", args: []string{"printf", "'[%s]\\n'", ":::", "", "x"}},
		{name: "quote/variables", args: []string{"echo", ":::", "$HOME", "${PATH}", "$1"}},
		{name: "quote/redirections", args: []string{"echo", ":::", ">out", "|cat", "&&", "2>&1"}},
		{name: "quote/non-utf8", args: []string{"printf", "'[%s]\\n'", "::::", "bytes.txt"}, files: map[string]string{"bytes.txt": "\xff\xfe\n\xc3\x28 x\n"}},
		{name: "quote/leading-dashes", args: []string{"printf", "'[%s]\\n'", ":::", "-n", "--help"}},
		{name: "quote/positional", args: []string{"printf", "'[%s]\\n'", "{1}{2}", ":::", "a b", ":::", ";c"}},
		{name: "quote/path-forms", args: []string{"printf", "'[%s]\\n'", "{/}", "{//}", ":::", "my dir/$(x).txt"}},
		{name: "quote/q-template", args: []string{"-q", "printf", "%s|\\n", ":::", "a b", "c"}},
		{name: "quote/q-sh-c", args: []string{"-q", "sh", "-c", `echo "[$0]"`, "{}", ":::", "x y"}},
		// GNU Parallel pastes the quoted value into the template text, so in a
		// single-quoted template word the value's quotes cancel and its $(...)
		// runs. concurr keeps values as data wherever they appear.
		{name: "quote/inside-single-quotes", args: []string{"echo", "'{}'", ":::", "$(echo INJECTED)"},
			want: &outcome{stdout: "$(echo INJECTED)\n"}},
		// The same in double quotes: GNU Parallel prints 'INJECTED' with the
		// value's single quotes shown and its command run.
		{name: "quote/inside-double-quotes", args: []string{"echo", `"{}"`, ":::", "$(echo INJECTED)"},
			want: &outcome{stdout: "$(echo INJECTED)\n"}},
		// GNU Parallel shows the quotes it added: <'a b'>.
		{name: "quote/inside-double-quotes-plain", args: []string{"echo", `"<{}>"`, ":::", "a b"},
			want: &outcome{stdout: "<a b>\n"}},

		// --plus replacement strings and quoting, from GNU Parallel's man
		// page (--plus, --rpl) and its examples.
		{name: "plus/path-forms", args: []string{"--plus", "echo", "{}", "{..}", "{...}", "{/..}", "{/...}", "{+/}", "{+.}", "{+..}", "{+...}",
			":::", "dir/sub/file.tar.gz.bz2", "file", "a.b/c", "noext/", ".x.y"}},
		{name: "plus/identities", args: []string{"--plus", "echo", "{+/}/{/}", "{.}.{+.}", "{+/}/{/.}.{+.}", "{..}.{+..}", "{+/}/{/..}.{+..}",
			"{...}.{+...}", "{+/}/{/...}.{+...}", ":::", "a/b.c.d.e"}},
		{name: "plus/positional", args: []string{"--plus", "echo", "{1..}", "{2+.}", "{-1/...}", "{2%.z}", "{1:1}", ":::", "a.b.c", ":::", "x/y.z"}},
		{name: "plus/total-and-padded-seq", args: []string{"--plus", "echo", "{#}/{##}", "{0#}"}, stdin: lines(12)},
		{name: "plus/padded-slot", args: []string{"--plus", "-j1", "echo", "{0%}", ":::", "a", "b"}},
		{name: "plus/padded-slot-j12", args: []string{"--plus", "-j12", "--dry-run", "echo", "{0%}", ":::", "a"}},
		{name: "plus/trim-prefix", args: []string{"--plus", "echo", "{#z.*z.}", "{##z.*z.}", "{#a+}", "{##a*}", ":::", "z.z.z.foo", "aab"}},
		{name: "plus/trim-suffix", args: []string{"--plus", "echo", "{%.z.*z}", "{%%.z.*z}", "{%.gz}", "{%%.*}", ":::", "foo.z.z.z", "a.tar.gz"}},
		{name: "plus/substitute", args: []string{"--plus", "echo", "{/a/X}", "{//a/X}", "{/#a/X}", "{/%b/X}", "{/.tar/}", ":::", "aabbaabb", "x.tar.gz"}},
		{name: "plus/substitute-regexp", args: []string{"--plus", "echo", `{/\.(gz|bz2)$/.xz}`, "{//[0-9]/#}", ":::", "f.tar.gz", "a1b22"}},
		{name: "plus/case", args: []string{"--plus", "echo", "{^a}", "{^^a}", "{,A}", "{,,A}", "{^^.}", ":::", "abcabc", "ABCABC"}},
		{name: "plus/default", args: []string{"--plus", "echo", "{:-none}", "{2:-none}", ":::", "", "0", "x", ":::", ""}},
		{name: "plus/substrings", args: []string{"--plus", "echo", "{:2}", "{:1:2}", "{:9}", "{:2:9}", ":::", "abcdef", ""}},
		{name: "plus/quoted-values", args: []string{"--plus", "printf", "'[%s]\n'", "{/a/ }", "{..}", ":::", "xay.b.c", "it's $x.y.z"}},
		{name: "plus/slot-shorthand", args: []string{"--plus", "-j1", "echo", "{slot}", "{#}", ":::", "a", "b"}},
		{name: "plus/shorthands-dry-run", args: []string{"--plus", "--dry-run", "echo", "{slot}", "{sshlogin}", "{hgrp}", ":::", "a"}},
		{name: "plus/not-without-plus", args: []string{"echo", "{..}", "{+.}", "{%x}", "{:2}", ":::", "a.b.c"}},
		{name: "plus/X-context", args: []string{"--plus", "-j1", "-X", "echo", "x{..}y", ":::", "a.b.c", "d.e.f"}},
		{name: "plus/tagstring", args: []string{"--plus", "--tagstring", "{+.}:", "echo", "{..}", ":::", "a.b.c"}},
		// GNU Parallel's --dry-run prints the jobs that {choose_k} and {uniq}
		// skip, and then exits with their number; concurr's prints the jobs
		// that would run.
		{name: "plus/choose-k-dry-run", args: []string{"--plus", "--dry-run", "echo", "{#}", "{choose_k}", ":::", "a", "b", "c", ":::", "a", "b", "c"},
			want: &outcome{stdout: "echo 2 a b\necho 3 a c\necho 6 b c\n"}},
		{name: "plus/uniq-dry-run", args: []string{"--plus", "--dry-run", "echo", "{uniq}", ":::", "a", "b", ":::", "a", "b"},
			want: &outcome{stdout: "echo a b\necho b a\n"}},
		// GNU Parallel exits with the number of jobs that {choose_k} and
		// {uniq} skip, as if they had failed; concurr does not count a job
		// that was never meant to run as a failure.
		{name: "plus/choose-k-status", args: []string{"--plus", "echo", "{#}", "{choose_k}", ":::", "a", "b", "c", ":::", "a", "b", "c"},
			want: &outcome{stdout: "2 a b\n3 a c\n6 b c\n", status: 0}},
		{name: "plus/uniq-status", args: []string{"--plus", "echo", "{uniq}", ":::", "a", "b", ":::", "a", "b"},
			want: &outcome{stdout: "a b\nb a\n", status: 0}},
		// GNU Parallel runs {= perl =} in Perl. concurr has no Perl and
		// refuses the template before any job runs; the hint names the
		// --plus form.
		{name: "plus/perl-refused", args: []string{"echo", "{= s/a/b/ =}", ":::", "a"}, want: &outcome{status: 255}},
		{name: "plus/perl-refused-split-words", args: []string{"echo", "{=", "$_=uc($_)", "=}", ":::", "a"}, want: &outcome{status: 255}},
		{name: "plus/unbalanced-perl-parens-literal", args: []string{"echo", "{=", ":::", "a"}},
		{name: "quote/non-utf8-template", args: []string{"echo", "a\xffb", "'\xfe'", "\"\xfd\"", "{}", ":::", "x"}},
		{name: "quote/non-utf8-q-template", args: []string{"-q", "printf", "%s\xff\\n", ":::", "x"}},
		// End of the --plus block.

		// --results: its three forms, from GNU Parallel's man page.
		{name: "results/name-with-replacement-strings", args: []string{"--results", "out_{}.txt", "echo {}; echo err {} >&2", ":::", "a", "b"}, results: "."},
		{name: "results/name-with-seq-and-slash", args: []string{"--results", "r/{#}/{}", "echo", ":::", "a", "b/c"}, results: "r"},
		{name: "results/name-ending-in-slash", args: []string{"--results", "d/{}/", "echo", ":::", "a", "b"}, results: "d"},
		{name: "results/csv", args: []string{"--results", "x.csv", "echo {}; echo err >&2", ":::", "a", "b,c", `d"e`, "f g", "h\ti"}, table: "x.csv"},
		{name: "results/tsv", args: []string{"--results", "x.tsv", "echo", ":::", "a", "b\tc", "d,e"}, table: "x.tsv"},
		{name: "results/json", args: []string{"--results", "x.json", "echo {}; echo err {} >&2", ":::", "a", `b"c`, `d\e`, "f\x01"}, table: "x.json"},
		{name: "results/csv-two-sources", args: []string{"--results", "x.csv", "echo", ":::", "a", "b", ":::", "1", "2"}, table: "x.csv"},
		{name: "results/csv-header", args: []string{"--header", ":", "--results", "x.csv", "echo", "{x}", ":::", "x", "1", "2"}, table: "x.csv"},
		{name: "results/csv-failure", args: []string{"--results", "x.csv", "echo {}; exit {}", ":::", "0", "3"}, table: "x.csv"},
		{name: "results/csv-upper-case-suffix", args: []string{"--results", "x.CSV", "echo", ":::", "a"}, table: "x.CSV"},
		{name: "results/escaped-values", args: []string{"--results", "out", "echo", ":::", "a/b", "c\td", `e\f`}, results: "out"},
		{name: "results/long-value", args: []string{"--results", "out", "echo", ":::", strings.Repeat("x", 300), "y"}, results: "out"},
		// End of the --results block.

		// Options users reach for that concurr lacked: --csv, -L, -l,
		// --shuf, --nice, --retry-failed, --tagstring {%}, --ctag, --color,
		// --limit, --memfree, --load. From GNU Parallel's man page and its
		// tests (parallel-local-*).
		{name: "gnuopts/csv", args: []string{"--csv", "echo", "[{1}/{2}/{3}]", "::::", "in.csv"},
			files: map[string]string{"in.csv": "a,\"b,c\",d\n\"multi\nline\",x,\"q\"\"uote\"\n,empty,\n"}},
		{name: "gnuopts/csv-untrimmed", args: []string{"--csv", "echo", "[{1}][{2}]"}, stdin: "  a , b \n"},
		{name: "gnuopts/csv-colsep-trims", args: []string{"--csv", "--colsep", ";", "echo", "[{1}/{2}]"}, stdin: "a;\" b;c \"\n"},
		{name: "gnuopts/csv-short-and-empty-lines", args: []string{"--csv", "echo", "[{1}/{2}]"}, stdin: "a,b\n\nc\n"},
		{name: "gnuopts/csv-header", args: []string{"--csv", "--header", ":", "echo", "{n1}-{n2}"}, stdin: "n1,n2\n1,\"2,3\"\n"},
		{name: "gnuopts/csv-command-line", args: []string{"--csv", "echo", "{1}={2}", ":::", "a,b", "\"x,y\",z"}},
		{name: "gnuopts/csv-default-template", args: []string{"--csv", "echo"}, stdin: "a,\"b c\"\n"},
		{name: "gnuopts/csv-malformed", args: []string{"--csv", "echo", "{1}"}, stdin: "x\"y,z\n", anyFailure: true},
		{name: "gnuopts/csv-unterminated", args: []string{"--csv", "echo", "{1}"}, stdin: "a,\"open\n", anyFailure: true},
		// RFC 4180 ends records with CRLF; GNU Parallel's Text::CSV refuses
		// them, concurr reads them.
		{name: "gnuopts/csv-crlf", args: []string{"--csv", "echo", "[{1}/{2}]"}, stdin: "a,b\r\n", want: &outcome{stdout: "[a/b]\n"}},
		// GNU Parallel hands Text::CSV the two characters \t as the
		// separator, which never matches; concurr reads \t as -d does.
		{name: "gnuopts/csv-tab", args: []string{"--csv", "--colsep", "\\t", "echo", "[{1}/{2}]"}, stdin: "a\tb\n", want: &outcome{stdout: "[a/b]\n"}},
		{name: "gnuopts/L2-positional", args: []string{"-L2", "echo", "{1}-{2}"}, stdin: "a b\nc d \ne\nf\ng\n"},
		{name: "gnuopts/L-space-value", args: []string{"-L", "2", "echo", "{1}-{2}"}, stdin: "a\nb\nc\n"},
		{name: "gnuopts/L1-continuation", args: []string{"-L1", "echo", "[{}]"}, stdin: "a b\nc d \ne\nf\n"},
		{name: "gnuopts/l-alone", args: []string{"-l", "echo", "x{}y"}, stdin: "a b\nc d \ne\nf\n"},
		{name: "gnuopts/l2-glued", args: []string{"-l2", "echo", "x{}y"}, stdin: "a b\nc d \ne\nf\ng\n"},
		{name: "gnuopts/l-space-value", args: []string{"-l", "2", "echo", "x{}y"}, stdin: "a\nb\nc\n"},
		{name: "gnuopts/max-lines", args: []string{"--max-lines", "2", "echo", "x{}y"}, stdin: "a\nb\nc\n"},
		{name: "gnuopts/max-lines-equals", args: []string{"--max-lines=2", "echo"}, stdin: "a\nb\nc\n"},
		{name: "gnuopts/L-command-line", args: []string{"-L2", "echo", ":::", "a", "b ", "c", "d", "e"}},
		{name: "gnuopts/L-skips-empty-continued", args: []string{"-r", "-L1", "echo", "[{}]"}, stdin: "a \n\n  \nb\n"},
		// --shuf: the order is random, so the cases look at what each job
		// did, not at the order: {#} numbers the jobs as they run.
		{name: "gnuopts/shuf-seq", args: []string{"--shuf", "echo", "{#}"}, stdin: lines(20)},
		{name: "gnuopts/shuf-files", args: []string{"--shuf", "echo {1}{2} > {1}{2}.out", ":::", "a", "b", "c", ":::", "1", "2"}, results: "."},
		{name: "gnuopts/shuf-dry-run-count", args: []string{"--shuf", "-N2", "echo", "{#}"}, stdin: lines(7)},
		{name: "gnuopts/nice", args: []string{"--nice", "7", "nice; sh -c nice | cat; echo {}", ":::", "a"}},
		{name: "gnuopts/nice-exit-status", args: []string{"--nice", "3", "exit {}", ":::", "0", "4"}},
		{name: "gnuopts/nice-missing-command", args: []string{"--nice", "3", "no-such-command-concurr", ":::", "a"}},
		{name: "gnuopts/memfree-enough", args: []string{"--memfree", "1k", "echo", ":::", "a", "b"}},
		{name: "gnuopts/memfree-binary-prefix", args: []string{"--memfree", "1M", "echo", "{#}"}, stdin: lines(3)},
		{name: "gnuopts/load-high-limit", args: []string{"--load", "100000", "echo", ":::", "a", "b"}},
		{name: "gnuopts/load-percent", args: []string{"--load", "100000%", "echo", ":::", "a"}},
		// GNU Parallel evaluates a --memfree it cannot read as 0 and runs;
		// concurr refuses it before any job runs.
		{name: "gnuopts/memfree-bad", args: []string{"--memfree", "lots", "echo", ":::", "a"}, want: &outcome{status: 255}},
		{name: "gnuopts/tagstring-slot", args: []string{"-j2", "--tagstring", "{%}", "sleep 0.{}; echo {}", ":::", "6", "1", "1"}},
		{name: "gnuopts/ctag", args: []string{"--ctag", "echo", ":::", "a", "b"}},
		{name: "gnuopts/color", args: []string{"--color", "printf", "'1\n2\n'", ":::", "a", "b"}},
		{name: "gnuopts/color-tag", args: []string{"--color", "--tag", "echo", ":::", "a", "b c"}},
		{name: "gnuopts/color-no-final-newline", args: []string{"--color", "printf", "x", ":::", "a"}},
		{name: "gnuopts/color-many-jobs", args: []string{"--color", "echo"}, stdin: lines(320)},
		{name: "gnuopts/ctagstring", args: []string{"--ctagstring", "X{}", "echo", ":::", "a"}},
		{name: "gnuopts/colour-spelling", args: []string{"--colour", "echo", ":::", "a"}},
		{name: "gnuopts/color-stderr", args: []string{"--color", "echo out; echo err >&2", ":::", "a"}},
		// --retry-failed runs the failed commands of a job log, ignoring
		// the command line's template and inputs, and appends to the log.
		{name: "gnuopts/retry-failed", args: []string{"--joblog", "jobs.log", "--retry-failed", "ignored", ":::", "ignored"},
			files: map[string]string{"jobs.log": retryLog}, joblog: "jobs.log"},
		{name: "gnuopts/retry-failed-no-template", args: []string{"-j1", "--joblog", "jobs.log", "--retry-failed"},
			files: map[string]string{"jobs.log": retryLog}, joblog: "jobs.log"},
		{name: "gnuopts/retry-failed-all-succeeded", args: []string{"--joblog", "jobs.log", "--retry-failed"},
			files: map[string]string{"jobs.log": "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n1\t:\t1.000\t0.001\t0\t2\t0\t0\techo a\n"}, joblog: "jobs.log"},
		// GNU Parallel ignores --retry-failed without --joblog and runs the
		// command line; concurr says that the log is missing.
		{name: "gnuopts/retry-failed-needs-joblog", args: []string{"--retry-failed", "echo"}, want: &outcome{status: 255}},
		{name: "gnuopts/limit-allows", args: []string{"--limit", "true", "echo", ":::", "a", "b"}},
		{name: "gnuopts/limit-waits", args: []string{"--limit", `n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 3 ]`, "echo", ":::", "a", "b"}},
		{name: "gnuopts/limit-sshlogin", args: []string{"-j1", "--limit", `echo "$SSHLOGIN" > who`, "true", ":::", "a"}, results: "."},
		// End of the options block.

		// Output.
		{name: "output/tag", args: []string{"--tag", "echo", ":::", "a", "b c"}},
		{name: "output/tag-multiline", args: []string{"--tag", "printf", "1\\n2\\n", ":::", "a"}},
		{name: "output/tag-no-final-newline", args: []string{"--tag", "printf", "x", ":::", "a"}},
		{name: "output/tag-two-sources", args: []string{"--tag", "echo", ":::", "a", "b", ":::", "1"}},
		{name: "output/tagstring", args: []string{"--tagstring", "{#}-{}:", "echo", ":::", "a", "b"}},
		{name: "output/verbose", args: []string{"-v", "echo", ":::", "a", "b c"}},
		{name: "output/keep-order-despite-finish-order", args: []string{"-j2", "sleep {}; echo {}", ":::", "0.3", "0"}},
		{name: "output/tag-colsep", args: []string{"--tag", "--colsep", ",", "echo", "{2}", ":::", "a,b"}},
		{name: "output/no-final-newline", args: []string{"printf", ":::", "a", "b"}},
		{name: "output/large", args: []string{"seq", ":::", "200000"}},
		{name: "output/stderr-not-on-stdout", args: []string{"echo out {}; echo err {} >&2", ":::", "a", "b"}},
		{name: "output/binary", args: []string{"cat", ":::", "bytes.bin"}, files: map[string]string{"bytes.bin": "\x00\xff\x01\r\n\x00"}},

		// Columns and headers.
		{name: "columns/colsep", args: []string{"--colsep", ",", "echo", "{2}", "{1}", "::::", "pairs.csv"},
			files: map[string]string{"pairs.csv": "a,1\nb,2\n"}},
		{name: "columns/colsep-regexp", args: []string{"--colsep", " +", "echo", "{2}", ":::", "a   b", "c d"}},
		{name: "columns/colsep-default-template", args: []string{"--colsep", ",", "echo", "::::", "pairs.csv"},
			files: map[string]string{"pairs.csv": "a,1\nb,2\n"}},
		{name: "columns/header", args: []string{"--header", ":", "--colsep", ",", "echo", "{name}={age}", "::::", "people.csv"},
			files: map[string]string{"people.csv": "name,age\nann,3\nbob,4\n"}},
		{name: "columns/header-tab", args: []string{"--header", ":", "--colsep", "\t", "echo", "{2}/{name}"},
			stdin: "name\tage\nann\t3\n"},
		{name: "columns/trim", args: []string{"--trim", "lr", "--colsep", ",", "echo", "x{1}y", "x{2}y", "::::", "sp.csv"},
			files: map[string]string{"sp.csv": " a , b \n"}},

		// Several arguments per job.
		{name: "multi/N2", args: []string{"-N2", "echo", "{1}-{2}", ":::", "1", "2", "3", "4", "5"}},
		{name: "multi/N2-default-template", args: []string{"-N2", "echo", ":::", "1", "2", "3", "4"}},
		{name: "multi/n2", args: []string{"-n2", "echo", ":::", "1", "2", "3"}},
		{name: "multi/N0", args: []string{"-N0", "echo", "x", ":::", "1", "2", "3"}},
		{name: "multi/X-j1", args: []string{"-j1", "-X", "echo", "pre{}post", ":::", "a", "b", "c"}},
		{name: "multi/m-j1", args: []string{"-j1", "-m", "echo", "pre{}post", ":::", "a", "b", "c"}},
		{name: "multi/m-j1-quoting", args: []string{"-j1", "-m", "printf", "'[%s]\\n'", ":::", "a b", "c;d"}},

		// Exit status.
		{name: "status/all-succeed", args: []string{"true", ":::", "a", "b"}},
		{name: "status/count-failures", args: []string{"exit {}", ":::", "0", "1", "0", "2", "3"}},
		{name: "status/high-job-status-counts-once", args: []string{"exit {}", ":::", "255"}},
		{name: "status/more-than-hundred-failures", args: []string{"false"}, stdin: lines(101)},
		{name: "status/job-killed-by-signal", args: []string{`sh -c 'kill -9 $$'`, ":::", "a"}},
		{name: "status/missing-command", args: []string{"no-such-command-concurr", ":::", "a"}},
		{name: "status/usage-error", args: []string{"--no-such-option", "echo", ":::", "a"}, anyFailure: true},

		// Job control.
		{name: "jobs/j1", args: []string{"-j1", "echo", ":::", "a", "b", "c"}},
		{name: "jobs/j2", args: []string{"-j2", "echo", ":::", "a", "b", "c"}},
		{name: "jobs/j-percent", args: []string{"-j", "50%", "echo", ":::", "a", "b", "c"}},
		{name: "jobs/halt-now-fail", args: []string{"-j1", "--halt", "now,fail=1", "echo {}; exit {}", ":::", "0", "1", "2"}},
		{name: "jobs/halt-soon-fail", args: []string{"-j1", "--halt", "soon,fail=1", "echo {}; exit {}", ":::", "0", "3", "0"}},
		{name: "jobs/halt-now-success", args: []string{"-j1", "--halt", "now,success=1", "echo {}; exit {}", ":::", "1", "0", "2"}},
		{name: "jobs/halt-now-fail-kills-running", args: []string{"-j2", "--halt", "now,fail=1", "sleep {}; echo {}; exit 1", ":::", "3", "0.2"}},
		{name: "jobs/halt-numeric", args: []string{"-j1", "--halt", "1", "exit {}", ":::", "0", "4", "0"}},
		{name: "jobs/halt-status-of-failed-job", args: []string{"-j1", "--halt", "now,fail=1", "exit {}", ":::", "0", "200", "0"}},
		{name: "jobs/j0", args: []string{"-j0", "echo", ":::", "a", "b"}},
		{name: "jobs/dry-run-X", args: []string{"--dry-run", "-j1", "-X", "echo", ":::", "a", "b c"}},
		{name: "jobs/timeout", args: []string{"--timeout", "1", "sleep {}; echo {}", ":::", "0", "3", "0.1"}},
		{name: "jobs/retries", args: []string{"--retries", "3", failOnce, ":::", "x"}},
		{name: "jobs/retries-exhausted", args: []string{"--retries", "2", "echo try {}; false", ":::", "x"}},
		{name: "jobs/dry-run", args: []string{"--dry-run", "echo", ":::", "a b", "it's", "$x", ""}},
		{name: "jobs/dry-run-positional", args: []string{"--dry-run", "cp", "{1}", "{2}/{1/}", ":::", "a b.txt", ":::", "out dir"}},
		{name: "jobs/results", args: []string{"--results", "out", "echo {}; echo err {} >&2", ":::", "a", "b c"}, results: "out"},
		{name: "jobs/results-two-sources", args: []string{"--results", "out", "echo", ":::", "a", "b", ":::", "1"}, results: "out"},
		{name: "jobs/joblog", args: []string{"--joblog", "jobs.log", "exit {}", ":::", "0", "1", "2"}, joblog: "jobs.log"},
		{name: "jobs/joblog-signal", args: []string{"--joblog", "jobs.log", `sh -c 'kill -9 $$'`, ":::", "a"}, joblog: "jobs.log"},
		{name: "jobs/joblog-quoting", args: []string{"--joblog", "jobs.log", "echo", ":::", "a b", "it's"}, joblog: "jobs.log"},
	}
}

// dropInCases are GNU Parallel command lines, from its man page and
// tutorial, that a user swapping parallel for concurr relies on: every
// spelling of an option concurr has, the packing rules of -m, -X, -N and
// -s, the job log's details and the jobs' environment.
func dropInCases() []diffCase {
	const joblogHeader = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
	// GNU Parallel's profile for -J and concurr's --config file, with the
	// same options; concurr's lines name options with dashes or without.
	profiles := map[string]string{"gnu.prof": "--tag\n-j1 --keep-order\n", "concurr.conf": "--tag\nj 1\nkeep-order\n"}
	return []diffCase{
		// Spellings: GNU Parallel's aliases for options concurr has.
		{name: "spell/halt-on-error", args: []string{"-j1", "--halt-on-error", "now,fail=1", "echo {}; exit {}", ":::", "0", "1", "2"}},
		{name: "spell/haltonerror", args: []string{"-j1", "--haltonerror", "1", "exit {}", ":::", "0", "4", "0"}},
		{name: "spell/dryrun", args: []string{"--dryrun", "echo", ":::", "a b"}},
		{name: "spell/dr", args: []string{"--dr", "echo", ":::", "a"}},
		{name: "spell/jl", args: []string{"--jl", "jobs.log", "exit {}", ":::", "0", "1"}, joblog: "jobs.log"},
		{name: "spell/argsep", args: []string{"--argsep", ",,", "echo", ",,", "a", "b"}},
		{name: "spell/argfilesep", args: []string{"--argfilesep", "%%", "echo", "%%", "in.txt"}, files: map[string]string{"in.txt": "a\nb\n"}},
		{name: "spell/result", args: []string{"--result", "out", "echo", ":::", "a", "b"}, results: "out"},
		{name: "spell/res", args: []string{"--res", "out", "echo", ":::", "a"}, results: "out"},
		{name: "spell/i-before-option", args: []string{"-i", "-j1", "echo", "x{}y", ":::", "a"}},
		{name: "spell/i-attached", args: []string{"-ifoo", "echo", "xfooy", ":::", "a"}},
		// -i's value is optional, and Getopt::Long takes the next argument
		// for it: here the replacement string is "echo".
		{name: "spell/i-takes-next-word", args: []string{"-i", "echo", "printf", "'[%s]\\n'", "echo", ":::", "a"}},
		{name: "spell/replace-long", args: []string{"--replace=foo", "echo", "foo", ":::", "a"}},
		{name: "spell/e", args: []string{"-e", "STOP", "echo", ":::", "a", "STOP", "b"}},
		{name: "spell/e-attached", args: []string{"-eSTOP", "echo", ":::", "a", "STOP", "b"}},
		{name: "spell/eof-long", args: []string{"--eof=STOP", "echo", ":::", "a", "STOP", "b"}},
		{name: "spell/E", args: []string{"-E", "STOP", "echo", ":::", "a", "STOP", "b"}},
		{name: "spell/t-on-stderr", args: []string{"-t", "echo", ":::", "a", "b c"}, stderr: true},
		{name: "spell/verbose-on-stderr", args: []string{"--verbose", "echo", ":::", "a"}, stderr: true},
		{name: "spell/t-dry-run", args: []string{"-t", "--dry-run", "echo", ":::", "a"}, stderr: true},
		{name: "spell/v-and-t", args: []string{"-v", "-t", "echo", ":::", "a"}, stderr: true},
		{name: "spell/v-tag", args: []string{"-v", "--tag", "echo", ":::", "a", "b c"}},
		{name: "spell/v-tagstring", args: []string{"-v", "--tagstring", "X{}", "echo", ":::", "a"}},
		{name: "spell/N-k-suffix", args: []string{"-N", "1k", "echo", ":::", "a", "b", "c"}},
		{name: "spell/n-k-suffix", args: []string{"-n1k", "echo", ":::", "a", "b", "c"}},
		{name: "spell/s-k-suffix", args: []string{"-j1", "-s", "10k", "-m", "echo", ":::", "a", "b", "c"}},
		{name: "spell/s-K-suffix", args: []string{"-j1", "-s", "1K", "-X", "echo", "x{}"}, stdin: lines(300)},
		{name: "spell/will-cite", args: []string{"--will-cite", "echo", ":::", "a"}},
		{name: "spell/no-notice", args: []string{"--no-notice", "echo", ":::", "a"}},
		{name: "spell/nonotice", args: []string{"--nonotice", "echo", ":::", "a"}},
		{name: "spell/M", args: []string{"-M", "echo", ":::", "a"}},
		{name: "spell/controlmaster", args: []string{"--controlmaster", "echo", ":::", "a"}},
		{name: "spell/keeporder", args: []string{"--keeporder", "-j2", "sleep {}; echo {}", ":::", "0.3", "0"}},
		{name: "spell/no-keep-order", args: []string{"--no-keep-order", "-j1", "echo", ":::", "a", "b"}},
		{name: "spell/linebuffer", args: []string{"--linebuffer", "echo", ":::", "a", "b"}},
		{name: "spell/line-buffered", args: []string{"--line-buffered", "echo", ":::", "a"}},
		{name: "spell/tag-string", args: []string{"--tag-string", "<{}>", "echo", ":::", "a"}},
		{name: "spell/col-sep", args: []string{"--col-sep", ",", "echo", "{2}", ":::", "a,b"}},
		{name: "spell/maxargs", args: []string{"--maxargs", "2", "echo", ":::", "1", "2", "3"}},
		{name: "spell/maxreplaceargs", args: []string{"--maxreplaceargs", "2", "echo", "{2}", ":::", "1", "2", "3", "4"}},
		{name: "spell/maxchars", args: []string{"-j1", "--maxchars", "20", "-m", "echo", ":::", "aaaa", "bbbb", "cccc", "dddd"}},
		{name: "spell/maxprocs", args: []string{"--maxprocs", "1", "echo", "{%}", ":::", "a", "b"}},
		{name: "spell/argfile", args: []string{"--argfile", "in.txt", "echo"}, files: map[string]string{"in.txt": "a\nb\n"}},
		{name: "spell/norunifempty", args: []string{"--norunifempty", "echo", "[{}]"}, stdin: "a\n \nb\n"},
		{name: "spell/xapply", args: []string{"--xapply", "echo", ":::", "a", "b", ":::", "1", "2"}},
		{name: "spell/tempdir", args: []string{"--tempdir", ".", "echo", ":::", "a"}},
		{name: "spell/ssh-delay", args: []string{"--ssh-delay", "0", "echo", ":::", "a"}},
		{name: "spell/PARALLEL-options", args: []string{"echo", ":::", "a", "b"}, env: []string{"PARALLEL=--tag -j1"}},
		{name: "spell/PARALLEL-command", args: []string{":::", "a", "b"}, env: []string{"PARALLEL=-j1 'echo x'"}},
		{name: "spell/PARALLEL-overridden", args: []string{"--tagstring", "B", "echo", ":::", "a"}, env: []string{"PARALLEL=--tagstring A"}},
		// GNU Parallel reads a profile with -J; concurr reads --config, whose
		// lines may leave out the dashes. The same options give the same run.
		{name: "spell/config-lines-with-and-without-dashes", args: []string{"--config", "concurr.conf", "echo", ":::", "a", "b"},
			gnuArgs: []string{"-J", "./gnu.prof", "echo", ":::", "a", "b"}, files: profiles},
		// GNU Parallel options concurr cannot honour are refused by name,
		// with a hint, never as unknown.
		{name: "spell/unsupported-tmux", args: []string{"--tmux", "echo", ":::", "a"},
			want: &outcome{status: 255}, oursError: "concurr: error: --tmux is not supported"},
		{name: "spell/unsupported-short", args: []string{"-p", "echo", ":::", "a"}, want: &outcome{status: 255},
			oursError: "concurr: error: -p is not supported"},
		{name: "spell/unsupported-shellquote", args: []string{"--shellquote", "echo", "a b"}, want: &outcome{status: 255},
			oursError: "concurr: error: --shellquote is not supported"},

		// Packing: -X and -N repeat every word that holds a replacement
		// string, words with several included.
		{name: "pack/X-word-with-two-refs", args: []string{"-X", "echo", "a{}b{}c", ":::", "1", "2"}},
		{name: "pack/X-word-with-two-refs-j1", args: []string{"-j1", "-X", "echo", "a{}b{}c", ":::", "1", "2"}},
		{name: "pack/X-word-with-two-kinds-j1", args: []string{"-j1", "-X", "echo", "a{}b{.}c", ":::", "1.x", "2.y"}},
		{name: "pack/X-quoted-word-j1", args: []string{"-j1", "-X", "echo x{}y'{}'", ":::", "1", "2"}},
		{name: "pack/X-two-words-j1", args: []string{"-j1", "-X", "echo", "x{}y", "{}", ":::", "1", "2"}},
		{name: "pack/N-repeats-the-word", args: []string{"-N2", "echo", "a{}b", ":::", "1", "2", "3", "4"}},
		{name: "pack/N-two-refs", args: []string{"-N2", "echo", "a{}b{}c", ":::", "1", "2", "3", "4"}},
		{name: "pack/N-ref-and-positional", args: []string{"-N2", "echo", "a{}b{1}c", ":::", "1", "2", "3", "4"}},
		{name: "pack/N-seq-in-word", args: []string{"-N3", "echo", "{#}x{}y", ":::", "1", "2", "3", "4"}},
		{name: "pack/N-two-sources", args: []string{"-N2", "echo", "a{}b", ":::", "1", "2", ":::", "x", "y"}},
		{name: "pack/N-dry-run", args: []string{"-N3", "--dry-run", "echo", "a{}b", "c{#}", ":::", "1", "2", "3", "4"}},
		{name: "pack/N-with-m", args: []string{"-N2", "-m", "echo", "a{}b", ":::", "1", "2", "3", "4"}},
		{name: "pack/n-with-X", args: []string{"-n2", "-X", "echo", "a{}b", ":::", "1", "2", "3", "4"}},
		{name: "pack/n-without-packing", args: []string{"-n2", "echo", "a{}b", ":::", "1", "2", "3", "4"}},
		// Command length as GNU Parallel counts it.
		{name: "pack/m-s20", args: []string{"-j1", "-s", "20", "-m", "echo", ":::", "aaaa", "bbbb", "cccc", "dddd", "eeee"}},
		{name: "pack/m-s20-literal-words", args: []string{"-j1", "-s", "20", "-m", "echo", "a b", ":::", "aaaa", "bbbb", "cccc", "dddd", "eeee"}},
		{name: "pack/m-s20-quoted-values", args: []string{"-j1", "-s", "20", "-m", "echo", ":::", "a a", "b b", "c c", "d d", "e e", "f f"}},
		{name: "pack/X-s20", args: []string{"-j1", "-s", "20", "-X", "echo", "x{}y", ":::", "aaaa", "bbbb", "cccc", "dddd", "eeee"}},
		{name: "pack/X-s30-two-words", args: []string{"-j1", "-s", "30", "-X", "echo", "x{}y", "x{}y", ":::", "aaaa", "bbbb", "cccc", "dddd", "eeee"}},
		{name: "pack/q-triples-the-length", args: []string{"-j1", "-q", "-s", "60", "-m", "echo", ":::", "aaaa", "bbbb", "cccc", "dddd", "eeee"}},
		{name: "pack/too-long-for-one-command", args: []string{"-j1", "-s", "10", "-m", "echo", ":::", "aaaaaaaaaaaaaaaaaaaa"}},
		{name: "pack/s-above-the-limit-is-ignored", args: []string{"-j1", "-s", "1000000", "-m", "echo"}, stdin: lines(20000)},
		{name: "pack/default-limit-m", args: []string{"-j1", "-m", "echo"}, stdin: lines(30000)},
		{name: "pack/default-limit-X", args: []string{"-j1", "-X", "echo", "n{}"}, stdin: lines(20000)},
		// Never beyond the kernel's limit, whatever the number of {} words.
		{name: "pack/many-ref-words-X", args: []string{"-j1", "-X", "echo {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} | wc -c"}, stdin: lines(5000)},
		{name: "pack/many-ref-words-m", args: []string{"-j1", "-m", "echo {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} | wc -c"}, stdin: lines(5000)},
		// GNU Parallel refuses any job whose command is longer than its
		// limit; concurr limits only packed jobs, since it hands values to
		// the command as arguments rather than through sh -c.
		{name: "pack/long-single-value-runs", args: []string{"printf %s {} | wc -c"}, stdin: strings.Repeat("a", 70000) + "\n",
			want: &outcome{stdout: "70000\n"}},
		// -m and -X spread the last job over the slots.
		{name: "pack/j2-m-spread", args: []string{"-j2", "-m", "echo", ":::", "1", "2", "3", "4", "5"}},
		{name: "pack/j3-m-spread", args: []string{"-j3", "-m", "echo", ":::", "1", "2", "3", "4", "5", "6", "7"}},
		{name: "pack/j2-X-spread", args: []string{"-j2", "-X", "echo", "x{}y", ":::", "1", "2", "3", "4", "5"}},
		{name: "pack/j4-m-fewer-args-than-slots", args: []string{"-j4", "-m", "echo", ":::", "1", "2"}},

		// Job log.
		{name: "joblog/append", args: []string{"--joblog", "+jobs.log", "exit {}", ":::", "0", "1"}, joblog: "jobs.log",
			files: map[string]string{"jobs.log": joblogHeader + "9\t:\t0\t0\t0\t0\t0\t0\tearlier run\n"}, joblogInOrder: true},
		{name: "joblog/append-new-file", args: []string{"--joblog", "+jobs.log", "echo", ":::", "a"}, joblog: "jobs.log", joblogInOrder: true},
		{name: "joblog/keep-order-writes-input-order", args: []string{"--joblog", "jobs.log", "-j2", "sleep {}", ":::", "0.4", "0.1"},
			joblog: "jobs.log", joblogInOrder: true},
		{name: "joblog/dry-run-writes-nothing", args: []string{"--dry-run", "--joblog", "jobs.log", "echo", ":::", "a", "b"}, joblog: "jobs.log"},
		{name: "joblog/newline-in-command", args: []string{"--joblog", "jobs.log", "echo a\necho {}", ":::", "b", "c"}, joblog: "jobs.log"},

		// The jobs' environment.
		{name: "env/sshlogin-local", args: []string{"echo $PARALLEL_SSHLOGIN $PARALLEL_SSHHOST {}", ":::", "a"}},
		{name: "env/pid-is-alive", args: []string{`[ -d "/proc/$PARALLEL_PID" ] && echo alive {}`, ":::", "a"}},
		{name: "env/tmp-in-tmpdir-not-created", args: []string{`case $PARALLEL_TMP in "$TMPDIR"/?*) echo in tmpdir;; esac; [ -e "$PARALLEL_TMP" ] || echo absent {}`, ":::", "a"}},
		{name: "env/tmp-differs-between-jobs", args: []string{"-j1", `echo $PARALLEL_TMP >> names; sort -u names | wc -l`, ":::", "a", "b", "c"}},
		{name: "env/exported", args: []string{"-j1", `sh -c 'echo $PARALLEL_SEQ $PARALLEL_JOBSLOT $PARALLEL_SSHHOST' {}`, ":::", "a", "b"}},

		// A value that completes the command word stays unquoted.
		{name: "quote/value-completes-command-word", args: []string{"l{}", ":::", "s /bin/ls"}},
		{name: "quote/value-completes-command-word-with-args", args: []string{"l{} -d /", ":::", "s"}},
		{name: "quote/value-after-command-word-quoted", args: []string{"echo l{}", ":::", "s /bin/ls"}},
	}
}

// --- --filter-hosts, ssh command-line logins and --limit's answer 2 ---

// closedPort is a loopback port nothing listens on, for hosts that cannot
// be reached.
const closedPort = "24198"

// limitTwiceThenGo answers --limit with 2 on its third call, and 0 else.
const limitTwiceThenGo = "n=$(cat cnt 2>/dev/null || echo 0); n=$((n+1)); echo $n > cnt; [ $n -eq 3 ] && exit 2; exit 0"

func hostFilterAndLimitCases() []diffCase {
	return []diffCase{
		// A host written as an ssh command line that cannot be reached is
		// removed, and the run goes on here.
		{name: "filter-hosts/unreachable-removed", args: []string{"--filter-hosts", "-S", "ssh -p " + closedPort + " 127.0.0.1", "-S", ":", "-k", "echo", ":::", "a", "b"}},
		// No host left: both refuse to run (GNU Parallel exits 255).
		{name: "filter-hosts/none-left", args: []string{"--filter-hosts", "-S", "ssh -p " + closedPort + " 127.0.0.1", "echo", ":::", "a"},
			oursError: "concurr: error: --filter-hosts: no host can be reached (ssh -p " + closedPort + " 127.0.0.1): cannot run any jobs"},
		// GNU Parallel logs the job --limit killed as failed (exit -1,
		// signal 15) and exits 1; concurr runs it again, as the README
		// says, so every job succeeds once.
		{name: "limit/2-kills-youngest-and-requeues", args: []string{"-j2", "-k", "--limit", limitTwiceThenGo, "sleep {}; echo done {}", ":::", "1", "2", "3"},
			want: &outcome{stdout: "done 1\ndone 2\ndone 3\n"}},
	}
}
