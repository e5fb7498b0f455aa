package difftest

// A counter file in the job's working directory makes a job fail on its first
// attempt and succeed on its second.
const failOnce = `n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo attempt $n {}; [ $n -ge 2 ]`

func cases() []diffCase {
	return append(baseCases(), pipeCases()...)
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
