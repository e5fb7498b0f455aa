package main

import "strings"

// gnuOptions are GNU Parallel 20221122's option spellings (its
// options_completion_hash), grouped by option. A spelling that concurr's
// own table also registers is concurr's; every other one is refused as "not
// supported" with the group's hint, never as an unknown option, so that a
// GNU Parallel command line that concurr cannot honour says why.
var gnuOptions = []struct {
	names string // spellings separated by |
	hint  string // "" for the general hint
}{
	{names: "debug|D"},
	{names: "xargs|m|X|v"},
	{names: "sql|sql-master|sqlmaster|sql-worker|sqlworker|sql-and-worker|sqlandworker", hint: "concurr keeps no job queue in a database; run concurr on each worker with its share of the inputs"},
	{names: "joblog|jl|results|result|res|resume|resume-failed|resumefailed"},
	{names: "retry-failed|retryfailed", hint: "use --joblog FILE --resume-failed, which reruns the failed jobs and runs the rest"},
	{names: "silent"},
	{names: "keep-order|keeporder|k|no-keep-order|nokeeporder|nok|no-k|group|ungroup|u"},
	{names: "latest-line|latestline|ll", hint: "use --line-buffer, or --bar for progress"},
	{names: "line-buffer|line-buffered|linebuffer|linebuffered|lb"},
	{names: "tmux|tmux-pane|tmuxpane", hint: "concurr prints jobs' output itself; use --results DIR to keep each job's output apart"},
	{names: "null|0|quote|q"},
	{names: "parens|rpl|plus", hint: "write the value's transformation in the command with shell expansions, as in 'f={}; echo ${f%.gz}'"},
	{names: "I|extensionreplace|er|basenamereplace|bnr|dirnamereplace|dnr|basenameextensionreplace|bner|seqreplace|slotreplace"},
	{names: "jobs|j|delay|ssh-delay|sshdelay"},
	{names: "load|noswap|memfree|memsuspend|limit", hint: "lower -j, or use --delay to start jobs more slowly"},
	{names: "max-line-length-allowed|maxlinelengthallowed|number-of-cpus|numberofcpus|number-of-sockets|numberofsockets|number-of-cores|numberofcores|number-of-threads|numberofthreads|show-limits|showlimits", hint: "concurr does not report the machine's limits; nproc and getconf ARG_MAX do"},
	{names: "use-sockets-instead-of-threads|usesocketsinsteadofthreads|use-cores-instead-of-threads|usecoresinsteadofthreads|use-cpus-instead-of-cores|usecpusinsteadofcores", hint: "give the number of jobs with -j N"},
	{names: "shell-quote|shellquote|shell_quote", hint: "use printf '%q ' or let concurr quote values itself, which it always does"},
	{names: "nice", hint: "run the command under nice, as in concurr nice -n 10 CMD"},
	{names: "tag|tag-string|tagstring|ctag|ctag-string|ctagstring|color|colour|color-failed|colour-failed|colorfailed|colourfailed|color-fail|colour-fail|colorfail|colourfail|cf"},
	{names: "onall|nonall|filter-hosts|filterhosts|filter-host|sshlogin|S|sshloginfile|slf|ssh"},
	{names: "transfer-file|transferfile|transfer-files|transferfiles|tf|return|trc|transfer|cleanup|basefile|bf"},
	{names: "rsync-opts|rsyncopts", hint: "concurr moves files over its own connection to the host, not with rsync; it keeps mode bits and mtimes as rsync -a does"},
	{names: "template|tmpl", hint: "generate the files in the command, as in 'sed s/X/{}/ in.tmpl > out{#}'"},
	{names: "work-dir|workdir|wd|tmpdir|tempdir"},
	{names: "use-compress-program|compress-program|usecompressprogram|compressprogram|use-decompress-program|decompress-program|usedecompressprogram|decompressprogram|compress", hint: "concurr spills held output to --tmpdir uncompressed; compress in the command with | gzip"},
	{names: "open-tty|o|tty"},
	{names: "interactive|p", hint: "concurr does not prompt before each job; run it with --tty -j1 and ask in the command"},
	{names: "dry-run|dryrun|dr|progress|eta|bar"},
	{names: "total-jobs|totaljobs|total", hint: "--bar and --eta count the jobs as the input is read"},
	{names: "shuf", hint: "shuffle the input first, as in shuf in.txt | concurr CMD"},
	{names: "arg-sep|argsep|arg-file-sep|argfilesep|trim|env"},
	{names: "recordenv|record-env|session|embed|_parset|shell-completion|shellcompletion", hint: "concurr has no env_parallel; pass variables with --env NAME"},
	{names: "plain|profile|J", hint: "put the options in a file and use --config FILE, or set CONCURR_<NAME> variables"},
	{names: "tollef|gnu|bug|_test|_pipe-means-argfiles"},
	{names: "link|xapply"},
	{names: "linkinputsource|xapplyinputsource", hint: "link the sources with :::+ and ::::+"},
	{names: "halt-on-error|haltonerror|halt|retries|timeout"},
	{names: "term-seq|termseq", hint: "concurr ends a job with SIGTERM, then SIGKILL"},
	{names: "max-procs|maxprocs|P|delimiter|d|max-chars|maxchars|s|arg-file|argfile|a|no-run-if-empty|norunifempty|r|replace|i|E|eof|e"},
	{names: "process-slot-var|processslotvar", hint: "read $PARALLEL_JOBSLOT, or use {%}"},
	{names: "max-args|maxargs|n|max-replace-args|maxreplaceargs|N|col-sep|colsep|C|header"},
	{names: "csv", hint: "split simple lines with --colsep ,"},
	{names: "help|h|version|V|verbose|t"},
	{names: "L|max-lines|maxlines|l", hint: "use -N to give each job several lines"},
	{names: "min-version|minversion", hint: "compare the output of concurr --version"},
	{names: "exit|x", hint: "concurr already refuses an argument too long for one command line"},
	{names: "semaphore|semaphore-timeout|semaphoretimeout|st|semaphore-name|semaphorename|id|fg|bg|wait", hint: "concurr is not a semaphore; use flock(1) to limit concurrent commands"},
	{names: "shebang|hashbang", hint: "write the script's inputs to a file and run concurr CMD :::: FILE"},
	{names: "skip-first-line|skipfirstline", hint: "skip it before concurr, as in tail -n +2 in.txt | concurr CMD"},
	{names: "remove-rec-sep|removerecsep|rrs|block-timeout|blocktimeout|bt|shard|bin", hint: "concurr's --pipe has --block, --recstart, --recend, -N, -L, --header, --round-robin, --cat, --fifo, --tee and --group-by, not this one"},
	{names: "output-as-files|outputasfiles|files", hint: "use --results DIR, which keeps each job's output in files"},
	{names: "hgrp|hostgrp|hostgroup|hostgroups", hint: "run concurr once per group of hosts"},
	{names: "filter", hint: "filter the inputs before concurr, or test in the command: '[ -f {} ] && CMD {}'"},
	// Retired in GNU Parallel itself.
	{names: "g|U|B|T|H|W|Y|ctrl-c|ctrlc|no-ctrl-c|no-ctrlc|noctrlc", hint: "GNU Parallel has retired this option too"},
	// Accepted and ignored by concurr's own table: they change nothing for
	// concurr, which shows no citation notice and always shares one
	// connection per host.
	{names: "will-cite|willcite|nn|nonotice|no-notice|controlmaster|M"},
}

// generalUnsupportedHint is the hint for a GNU Parallel option whose group
// has none of its own.
const generalUnsupportedHint = "see \"Differences from GNU Parallel\" in concurr's README"

// gnuOptionHint reports whether name (without dashes) is a GNU Parallel
// option spelling, and the hint to give when concurr lacks it.
func gnuOptionHint(name string) (string, bool) {
	for _, g := range gnuOptions {
		for _, n := range strings.Split(g.names, "|") {
			if n == name {
				if g.hint == "" {
					return generalUnsupportedHint, true
				}
				return g.hint, true
			}
		}
	}
	return "", false
}

// notSupported is the error for a GNU Parallel option concurr lacks.
func notSupported(name string) error {
	h, _ := gnuOptionHint(name)
	return usagef(h, "%s is not supported", optionName(name))
}
