package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"concurr/internal/optdoc"
)

// options are the command-line options, named as GNU Parallel names them.
type options struct {
	jobs       string
	keepOrder  bool
	group      bool
	lineBuffer bool
	ungroup    bool
	tag        bool
	tagString  string

	replace        string
	extReplace     string
	baseReplace    string
	dirReplace     string
	baseExtReplace string
	seqReplace     string
	slotReplace    string
	contextReplace bool // -X
	xargs          bool // -m
	quote          bool
	shell          string // --shell: an external shell for every job, else PARALLEL_SHELL
	recordEnv      bool   // --record-env: write the names --env _ ignores
	plus           bool   // --plus
	maxChars       count
	argFiles       stringList
	delimiter      string
	null           bool
	colsep         string
	header         string
	maxArgs        count // -n
	maxReplaceArgs count // -N
	trim           string
	link           bool
	eof            string
	argSep         string
	argFileSep     string
	noRunIfEmpty   bool
	halt           string
	retries        int
	timeout        string
	delay          string
	dryRun         bool
	verbose        bool // -v: each command on stdout, before its output
	verboseStderr  bool // --verbose, -t: each command on stderr as it starts
	ignored        bool // options GNU Parallel has that change nothing here
	jobLog         string
	resume         bool
	resumeFailed   bool
	results        string
	env            stringList
	bar, eta       bool
	progress       bool
	jsonEvents     string
	sshLogins      stringList
	sshLoginFiles  stringList
	filterHosts    bool // --filter-hosts
	sshCommand     string
	sshConfig      string
	sshDelay       string
	schedulerHosts schedulerTransport
	onAll, nonAll  bool
	workdir        string

	transferFiles stringList // --transferfile
	transfer      bool       // --transfer: --transferfile {}
	returns       stringList // --return
	cleanup       bool       // --cleanup
	trc           stringList // --trc: --transfer --return FILE --cleanup
	basefiles     stringList // --basefile
	tmpdir        string
	config        string
	version, help bool

	pipe, pipePart bool      // --pipe, --pipepart
	block          string    // --block: bytes per block, or for --pipepart blocks per slot when negative
	recStart       setString // --recstart
	recEnd         setString // --recend
	regexp         bool      // --regexp: --recstart and --recend are regular expressions
	roundRobin     bool      // --round-robin
	cat, fifo, tee bool      // --cat, --fifo, --tee
	groupBy        string    // --group-by
	tty, openTTY   bool      // --tty, --open-tty: jobs read the terminal

	// Options users reach for from GNU Parallel.
	csv         bool          // --csv
	maxLinesCtx string        // -L N
	maxLines    optionalCount // -l [N], --max-lines [N]
	shuf        bool          // --shuf
	nice        int           // --nice N
	retryFailed bool          // --retry-failed
	ctag        bool          // --ctag
	ctagString  string        // --ctagstring
	color       bool          // --color
	limit       string        // --limit CMD
	memFree     string        // --memfree SIZE
	load        string        // --load MAX
}

// optionalCount is an option whose number may be left out, as GNU
// Parallel's -l: "-l" alone, "-l2", "-l 2", "--max-lines=2".
type optionalCount struct {
	set   bool
	count int // 0 when left out
}

func (c *optionalCount) String() string {
	if !c.set {
		return ""
	}
	return strconv.Itoa(c.count)
}
func (c *optionalCount) IsBoolFlag() bool { return true }
func (c *optionalCount) Set(v string) error {
	switch strings.ToLower(v) {
	case "", "true":
		c.set, c.count = true, 0
		return nil
	case "false":
		c.set, c.count = false, 0
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of lines")
	}
	c.set, c.count = true, int(n)
	return nil
}

// isPlainNumber reports whether an optional value follows: GNU's option
// parser takes the next word as -l's value only when it is a number.
func isPlainNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && s != "" && s[0] >= '0' && s[0] <= '9'
}

// schedulerTransport is --scheduler-hosts: a switch, which may name the
// transport to reach the allocation's nodes with (--scheduler-hosts=ssh).
type schedulerTransport string

const (
	schedulerOff  schedulerTransport = ""
	schedulerAuto schedulerTransport = "auto" // srun under Slurm, pbs_tmrsh under PBS where installed, else SSH
	schedulerSSH  schedulerTransport = "ssh"
)

func (s *schedulerTransport) String() string   { return string(*s) }
func (s *schedulerTransport) IsBoolFlag() bool { return true }
func (s *schedulerTransport) Set(v string) error {
	switch strings.ToLower(v) {
	case "", "true", "1", "yes", "auto":
		*s = schedulerAuto
	case "false", "0", "no":
		*s = schedulerOff
	case "ssh":
		*s = schedulerSSH
	default:
		return fmt.Errorf("want auto or ssh")
	}
	return nil
}

// setString is a string option that records whether it was given, for
// options whose empty value means something: an empty --recend.
type setString struct {
	value string
	set   bool
}

func (s *setString) String() string     { return s.value }
func (s *setString) Set(v string) error { s.value, s.set = v, true; return nil }

// stringList is a repeatable option.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// optionSpec describes one option for the flag set, the argument
// normaliser and the help text.
type optionSpec struct {
	long  []string // long names; the first is the one shown and used for CONCURR_ variables
	short string   // one-letter name, or ""
	arg   string   // the value's name in help; "" for a switch
	// optional is the value of an option whose value may be left out
	// (-i, -e): GNU Parallel then takes the next argument only when it
	// does not look like an option, or with numeric (-l) only when it is a
	// number.
	optional bool
	numeric  bool
	bare     string // an optional option's value when left out
	// group is the heading the option is listed under in --help, the man
	// page and the completions; one of optdoc.Groups.
	group string
	help  string
	bind  func(fs *flag.FlagSet, name string)
}

func (o *options) specs() []optionSpec {
	str := func(p *string, def string) func(*flag.FlagSet, string) {
		*p = def
		return func(fs *flag.FlagSet, name string) { fs.StringVar(p, name, def, "") }
	}
	boolean := func(p *bool) func(*flag.FlagSet, string) {
		return func(fs *flag.FlagSet, name string) { fs.BoolVar(p, name, false, "") }
	}
	integer := func(p *int, def int) func(*flag.FlagSet, string) {
		*p = def
		return func(fs *flag.FlagSet, name string) { fs.IntVar(p, name, def, "") }
	}
	list := func(p *stringList) func(*flag.FlagSet, string) {
		return func(fs *flag.FlagSet, name string) { fs.Var(p, name, "") }
	}
	number := func(p *count, def int) func(*flag.FlagSet, string) {
		*p = count(def)
		return func(fs *flag.FlagSet, name string) { fs.Var(p, name, "") }
	}
	unset := func(p *bool) func(*flag.FlagSet, string) {
		return func(fs *flag.FlagSet, name string) { fs.Var((*falseSwitch)(p), name, "") }
	}
	// The spellings are GNU Parallel's, in its order; the first long name
	// is the one shown and used for CONCURR_ variables.
	return []optionSpec{
		{long: []string{"jobs"}, group: "Job control", short: "j", arg: "N", help: "jobs at once per host: N, N% of cores, +N or -N cores (default: usable cores)", bind: str(&o.jobs, "")},
		{long: []string{"max-procs", "maxprocs"}, group: "Job control", short: "P", arg: "N", help: "same as -j", bind: str(&o.jobs, "")},
		{long: []string{"keep-order", "keeporder"}, group: "Output", short: "k", help: "print jobs' output in input order", bind: boolean(&o.keepOrder)},
		{long: []string{"no-keep-order", "nokeeporder", "nok", "no-k"}, group: "Output", help: "cancel an earlier --keep-order, as from --config", bind: unset(&o.keepOrder)},
		{long: []string{"group"}, group: "Output", help: "print each job's output together when it ends (default)", bind: boolean(&o.group)},
		{long: []string{"line-buffer", "line-buffered", "linebuffer", "linebuffered", "lb"}, group: "Output", help: "print whole lines as jobs produce them", bind: boolean(&o.lineBuffer)},
		{long: []string{"ungroup"}, group: "Output", short: "u", help: "print output as it comes, unbuffered", bind: boolean(&o.ungroup)},
		{long: []string{"tag"}, group: "Output", help: "prefix output lines with the job's arguments", bind: boolean(&o.tag)},
		{long: []string{"tagstring", "tag-string"}, group: "Output", arg: "STR", help: "prefix output lines with STR (replacement strings allowed)", bind: str(&o.tagString, "")},
		{long: []string{"I"}, group: "Command", short: "I", arg: "STR", help: "use STR instead of {}", bind: str(&o.replace, "")},
		{long: []string{"replace"}, group: "Command", short: "i", arg: "STR", optional: true, bare: "{}", help: "as -I; alone, or with a value attached (-iSTR), as xargs -i", bind: str(&o.replace, "")},
		{long: []string{"extensionreplace", "er"}, group: "Command", arg: "STR", help: "use STR instead of {.}", bind: str(&o.extReplace, "")},
		{long: []string{"basenamereplace", "bnr"}, group: "Command", arg: "STR", help: "use STR instead of {/}", bind: str(&o.baseReplace, "")},
		{long: []string{"dirnamereplace", "dnr"}, group: "Command", arg: "STR", help: "use STR instead of {//}", bind: str(&o.dirReplace, "")},
		{long: []string{"basenameextensionreplace", "bner"}, group: "Command", arg: "STR", help: "use STR instead of {/.}", bind: str(&o.baseExtReplace, "")},
		{long: []string{"seqreplace"}, group: "Command", arg: "STR", help: "use STR instead of {#}", bind: str(&o.seqReplace, "")},
		{long: []string{"slotreplace"}, group: "Command", arg: "STR", help: "use STR instead of {%}", bind: str(&o.slotReplace, "")},
		{long: []string{"xargs"}, group: "Command", short: "m", help: "put as many arguments as fit in one command", bind: boolean(&o.xargs)},
		{long: []string{"context-replace"}, group: "Command", short: "X", help: "like -m, repeating each word that holds a replacement string for each argument", bind: boolean(&o.contextReplace)},
		{long: []string{"max-chars", "maxchars"}, group: "Command", short: "s", arg: "N", help: "with -m and -X, limit a command to N characters (k, M, G suffixes)", bind: number(&o.maxChars, 0)},
		{long: []string{"quote"}, group: "Command", short: "q", help: "quote the command so that it is not shell code", bind: boolean(&o.quote)},
		{long: []string{"plus"}, group: "Command", help: "add GNU Parallel's --plus replacement strings: {..} {+.} {%.gz} {/a/b} {:1:2} ...", bind: boolean(&o.plus)},
		{long: []string{"shell"}, group: "Command", arg: "PATH", help: "run each job's command with the POSIX shell PATH -c instead of the embedded shell, on every host (default $PARALLEL_SHELL)", bind: str(&o.shell, "")},
		{long: []string{"arg-file", "argfile"}, group: "Input", short: "a", arg: "FILE", help: "read arguments from FILE (- is stdin); repeatable", bind: list(&o.argFiles)},
		{long: []string{"delimiter"}, group: "Input", short: "d", arg: "DELIM", help: "input items end with DELIM (\\n, \\t, \\0 understood)", bind: str(&o.delimiter, "")},
		{long: []string{"null"}, group: "Input", short: "0", help: "input items end with NUL", bind: boolean(&o.null)},
		{long: []string{"colsep", "col-sep"}, group: "Input", short: "C", arg: "REGEX", help: "split each input line into columns {1} {2} …", bind: str(&o.colsep, "")},
		{long: []string{"header"}, group: "Input", arg: "REGEX", help: "the first input line names the columns, for {name} (use :)", bind: str(&o.header, "")},
		{long: []string{"max-args", "maxargs"}, group: "Input", short: "n", arg: "N", help: "N arguments per job at most, as xargs -n (k, M, G suffixes)", bind: number(&o.maxArgs, -1)},
		{long: []string{"max-replace-args", "maxreplaceargs"}, group: "Input", short: "N", arg: "N", help: "N arguments per job ({1}…{N}), each word around {} repeated for each; -N0 runs once per input with none", bind: number(&o.maxReplaceArgs, -1)},
		{long: []string{"trim"}, group: "Input", arg: "lr", help: "trim white space from arguments: n, l, r, lr", bind: str(&o.trim, "")},
		{long: []string{"E"}, group: "Input", short: "E", arg: "STR", help: "an input item equal to STR ends the input", bind: str(&o.eof, "")},
		{long: []string{"eof"}, group: "Input", short: "e", arg: "STR", optional: true, help: "as -E; alone, it ends nothing", bind: str(&o.eof, "")},
		{long: []string{"no-run-if-empty", "norunifempty"}, group: "Input", short: "r", help: "skip input items that are only white space", bind: boolean(&o.noRunIfEmpty)},
		{long: []string{"arg-sep", "argsep"}, group: "Input", arg: "SEP", help: "use SEP instead of ::: (and disable the : alias)", bind: str(&o.argSep, "")},
		{long: []string{"arg-file-sep", "argfilesep"}, group: "Input", arg: "SEP", help: "use SEP instead of :::: (and disable the :: alias)", bind: str(&o.argFileSep, "")},
		{long: []string{"link", "xapply"}, group: "Input", help: "link input sources instead of combining them", bind: boolean(&o.link)},
		{long: []string{"halt", "halt-on-error", "haltonerror"}, group: "Job control", arg: "WHEN", help: "stop on failures: now|soon,fail|success|done=N|N%", bind: str(&o.halt, "")},
		{long: []string{"retries"}, group: "Job control", arg: "N", help: "run a failing job up to N times, on another host if there is one", bind: integer(&o.retries, 0)},
		{long: []string{"timeout"}, group: "Job control", arg: "SECS", help: "kill jobs running longer than SECS, or N% of the median runtime", bind: str(&o.timeout, "")},
		{long: []string{"delay"}, group: "Job control", arg: "SECS", help: "wait SECS between job starts", bind: str(&o.delay, "")},
		{long: []string{"dry-run", "dryrun", "dr"}, group: "Job control", help: "print the commands instead of running them", bind: boolean(&o.dryRun)},
		{long: []string{"v"}, group: "Output", short: "v", help: "print each command on stdout, before its output", bind: boolean(&o.verbose)},
		{long: []string{"verbose"}, group: "Output", short: "t", help: "print each command on stderr as it starts", bind: boolean(&o.verboseStderr)},
		{long: []string{"joblog", "jl"}, group: "Job control", arg: "FILE", help: "log finished jobs to FILE (- is stdout, +FILE appends)", bind: str(&o.jobLog, "")},
		{long: []string{"resume"}, group: "Job control", help: "with --joblog, skip jobs the log shows as run", bind: boolean(&o.resume)},
		{long: []string{"resume-failed", "resumefailed"}, group: "Job control", help: "with --joblog, skip jobs the log shows as succeeded", bind: boolean(&o.resumeFailed)},
		{long: []string{"results", "result", "res"}, group: "Output", arg: "DIR", help: "save each job's output in files under DIR", bind: str(&o.results, "")},
		{long: []string{"env"}, group: "Remote hosts", arg: "VAR", help: "pass the variable or exported function VAR to remote jobs (_ is all but those --record-env saw); repeatable", bind: list(&o.env)},
		{long: []string{"record-env"}, group: "Remote hosts", help: "record the names in the environment now, for --env _ to leave out, and exit", bind: boolean(&o.recordEnv)},
		{long: []string{"bar"}, group: "Output", help: "show a progress bar on stderr", bind: boolean(&o.bar)},
		{long: []string{"eta"}, group: "Output", help: "show the estimated time left on stderr", bind: boolean(&o.eta)},
		{long: []string{"progress"}, group: "Output", help: "show progress on stderr", bind: boolean(&o.progress)},
		{long: []string{"json-events"}, group: "Output", arg: "FILE", help: "write the run's events to FILE as JSON lines, live (- is stdout)", bind: str(&o.jsonEvents, "")},
		{long: []string{"sshlogin"}, group: "Remote hosts", short: "S", arg: "HOSTS", help: "run on [N/][user@]host[:port] or [N/]ssh OPTIONS host, comma-separated; : is this machine", bind: list(&o.sshLogins)},
		{long: []string{"sshloginfile", "slf"}, group: "Remote hosts", arg: "FILE", help: "read hosts from FILE, one per line", bind: list(&o.sshLoginFiles)},
		{long: []string{"filter-hosts", "filterhosts", "filter-host"}, group: "Remote hosts", help: "leave out the hosts that cannot be reached, all tried at once before the run starts", bind: boolean(&o.filterHosts)},
		{long: []string{"controlmaster"}, group: "Remote hosts", short: "M", help: "accepted: concurr always shares one connection per host", bind: boolean(&o.ignored)},
		{long: []string{"scheduler-hosts"}, group: "Remote hosts", help: "run on the hosts of the Slurm or PBS job this runs in, over srun or pbs_tmrsh where there is one (--scheduler-hosts=ssh for SSH)",
			bind: func(fs *flag.FlagSet, name string) { fs.Var(&o.schedulerHosts, name, "") }},
		{long: []string{"ssh"}, group: "Remote hosts", arg: "CMD", help: "reach hosts with this OpenSSH command instead of the built-in client", bind: str(&o.sshCommand, "")},
		{long: []string{"ssh-config"}, group: "Remote hosts", short: "F", arg: "FILE", help: "ssh_config file to resolve hosts with", bind: str(&o.sshConfig, "")},
		{long: []string{"sshdelay", "ssh-delay"}, group: "Remote hosts", arg: "SECS", help: "wait SECS between starting SSH connections", bind: str(&o.sshDelay, "")},
		{long: []string{"onall"}, group: "Remote hosts", help: "run every job on every host", bind: boolean(&o.onAll)},
		{long: []string{"nonall"}, group: "Remote hosts", help: "run the command, without arguments, on every host", bind: boolean(&o.nonAll)},
		{long: []string{"workdir", "work-dir", "wd"}, group: "Remote hosts", arg: "DIR", help: "run jobs in DIR on each host (... makes a temporary one)", bind: str(&o.workdir, "")},
		{long: []string{"tmpdir", "tempdir"}, group: "Other", arg: "DIR", help: "where held output spills to files", bind: str(&o.tmpdir, "")},
		{long: []string{"config"}, group: "Other", arg: "FILE", help: "read options from FILE (one 'name value' per line, dashes optional)", bind: str(&o.config, "")},
		{long: []string{"will-cite", "willcite", "nn", "nonotice", "no-notice"}, group: "Other", help: "accepted: concurr shows no citation notice", bind: boolean(&o.ignored)},
		{long: []string{"transferfile", "tf", "transfer-file", "transferfiles", "transfer-files"}, group: "Files", arg: "FILE", help: "send FILE (replacement strings allowed) to the remote host before each job", bind: list(&o.transferFiles)},
		{long: []string{"transfer"}, group: "Files", help: "send the input file ({}) to the remote host before each job", bind: boolean(&o.transfer)},
		{long: []string{"return"}, group: "Files", arg: "FILE", help: "bring FILE back from the remote host after each job", bind: list(&o.returns)},
		{long: []string{"cleanup"}, group: "Files", help: "remove transferred and returned files from the remote host after each job", bind: boolean(&o.cleanup)},
		{long: []string{"trc"}, group: "Files", arg: "FILE", help: "--transfer, --return FILE and --cleanup", bind: list(&o.trc)},
		{long: []string{"basefile", "bf"}, group: "Files", arg: "FILE", help: "send FILE to each remote host once, before its first job (cached there by content)", bind: list(&o.basefiles)},
		{long: []string{"pipe", "spreadstdin"}, group: "--pipe", help: "split stdin into blocks, one per job, on the job's stdin", bind: boolean(&o.pipe)},
		{long: []string{"pipepart", "pipe-part"}, group: "--pipe", help: "like --pipe, with blocks of the file named by -a, read in place", bind: boolean(&o.pipePart)},
		{long: []string{"block", "block-size", "blocksize"}, group: "--pipe", arg: "SIZE", help: "with --pipe, bytes per block (K, M, G; default 1M); negative with --pipepart: blocks per slot", bind: str(&o.block, "")},
		{long: []string{"recstart"}, group: "--pipe", arg: "STR", help: "with --pipe, records start with STR", bind: func(fs *flag.FlagSet, name string) { fs.Var(&o.recStart, name, "") }},
		{long: []string{"recend"}, group: "--pipe", arg: "STR", help: "with --pipe, records end with STR (default \\n; '' for none)", bind: func(fs *flag.FlagSet, name string) { fs.Var(&o.recEnd, name, "") }},
		{long: []string{"regexp", "regex"}, group: "--pipe", help: "--recstart and --recend are regular expressions", bind: boolean(&o.regexp)},
		{long: []string{"round-robin", "roundrobin", "round"}, group: "--pipe", help: "with --pipe, one job per slot, blocks spread over them", bind: boolean(&o.roundRobin)},
		{long: []string{"cat"}, group: "--pipe", help: "with --pipe, give each job its block as a temporary file named by {}", bind: boolean(&o.cat)},
		{long: []string{"fifo"}, group: "--pipe", help: "with --pipe, give each job its block through a named pipe named by {}", bind: boolean(&o.fifo)},
		{long: []string{"tee"}, group: "--pipe", help: "with --pipe, give every job (of ::: arguments) the whole input", bind: boolean(&o.tee)},
		{long: []string{"group-by", "groupby"}, group: "--pipe", arg: "COL", help: "with --pipe, records are runs of lines with the same value in column COL (number or --header name)", bind: str(&o.groupBy, "")},
		{long: []string{"tty"}, group: "Job control", help: "give jobs the terminal on stdin, for interactive commands; implies -j1 and -u unless given", bind: boolean(&o.tty)},
		{long: []string{"open-tty"}, group: "Job control", short: "o", help: "as --tty, without implying -j1 and -u", bind: boolean(&o.openTTY)},
		{long: []string{"csv"}, group: "Input", help: "read input records as CSV (RFC 4180), fields split at --colsep (default ,)", bind: boolean(&o.csv)},
		{long: []string{"L"}, group: "Input", arg: "N", help: "N input lines per job, a line ending in a blank going on with the next (as -N, repeating words); with --pipe, records of N lines", bind: str(&o.maxLinesCtx, "")},
		{long: []string{"max-lines"}, group: "Input", short: "l", arg: "[N]", optional: true, numeric: true, help: "N input lines per job (default 1), a line ending in a blank going on with the next (as -n)",
			bind: func(fs *flag.FlagSet, name string) { fs.Var(&o.maxLines, name, "") }},
		{long: []string{"shuf"}, group: "Input", help: "run the jobs in a random order; {#} numbers them in that order", bind: boolean(&o.shuf)},
		{long: []string{"nice"}, group: "Job control", arg: "N", help: "run jobs at niceness N, on every host", bind: integer(&o.nice, 0)},
		{long: []string{"retry-failed"}, group: "Job control", help: "with --joblog, run again the commands the log shows as failed, and only them", bind: boolean(&o.retryFailed)},
		{long: []string{"ctag"}, group: "Output", help: "--tag, with each job's lines in a colour of its own", bind: boolean(&o.ctag)},
		{long: []string{"ctagstring", "ctag-string"}, group: "Output", arg: "STR", help: "--tagstring STR, with each job's lines in a colour of its own", bind: str(&o.ctagString, "")},
		{long: []string{"color", "colour"}, group: "Output", help: "print each job's lines in a colour of its own", bind: boolean(&o.color)},
		{long: []string{"limit"}, group: "Job control", arg: "CMD", help: "run CMD before starting a job: 0 starts it, 1 waits, 2 also kills the youngest job", bind: str(&o.limit, "")},
		{long: []string{"memfree"}, group: "Job control", arg: "SIZE", help: "start a job on a host only while it has SIZE (k, M, G) of memory available", bind: str(&o.memFree, "")},
		{long: []string{"load"}, group: "Job control", arg: "MAX", help: "start a job on a host only while fewer than MAX (or N% of cores) processes run there", bind: str(&o.load, "")},
		{long: []string{"version"}, group: "Other", short: "V", help: "print the version", bind: boolean(&o.version)},
		{long: []string{"help"}, group: "Other", short: "h", help: "print this help", bind: boolean(&o.help)},
	}
}

// count is a number option that takes GNU Parallel's unit suffixes: k, m,
// g, t (powers of 1000), K, M, G, T and ki, Mi, Gi, Ti (powers of 1024), as
// in -N 1k or -s 10K.
type count int

func (c *count) String() string { return strconv.Itoa(int(*c)) }

func (c *count) Set(v string) error {
	n, err := parseCount(v)
	if err != nil {
		return err
	}
	*c = count(n)
	return nil
}

// parseCount reads a whole number with an optional unit suffix.
func parseCount(v string) (int, error) {
	digits := strings.TrimRight(v, "kmgtpKMGTPi")
	suffix := v[len(digits):]
	n, err := strconv.ParseFloat(digits, 64)
	if err != nil || digits == "" || strings.ContainsAny(digits, "eExXpP_") {
		return 0, errors.New("parse error")
	}
	mult := 1.0
	if suffix != "" {
		m, ok := unitSuffixes[suffix]
		if !ok {
			m, ok = unitSuffixes[strings.ToLower(suffix)]
		}
		if !ok || (len(suffix) == 2 && suffix[1] != 'i') {
			return 0, errors.New("parse error")
		}
		mult = m
	}
	total := n * mult
	if total > math.MaxInt32 || total < math.MinInt32 {
		return 0, errors.New("out of range")
	}
	return int(total), nil
}

var unitSuffixes = map[string]float64{
	"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15,
	"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50,
	"ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40, "pi": 1 << 50,
}

// falseSwitch is a switch that turns another off, as --no-keep-order does
// to --keep-order; the later of the two on the command line wins.
type falseSwitch bool

func (f *falseSwitch) String() string   { return "false" }
func (f *falseSwitch) IsBoolFlag() bool { return true }
func (f *falseSwitch) Set(v string) error {
	on, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	if on {
		*f = false
	}
	return nil
}

// newFlagSet registers every spelling of every option on one variable.
func (o *options) newFlagSet() (*flag.FlagSet, []optionSpec) {
	fs := flag.NewFlagSet("concurr", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	specs := o.specs()
	for _, s := range specs {
		for _, name := range s.long {
			s.bind(fs, name)
		}
		if s.short != "" && s.short != s.long[0] {
			s.bind(fs, s.short)
		}
	}
	return fs, specs
}

// normalizeArgs rewrites GNU-style options, which Go's flag package does
// not understand, into "--name=value" and "--name": "-j4" becomes
// "--jobs=4", "-kv" becomes "--keep-order --v", and an option whose value
// is optional (-i, -e) takes the next argument only when that does not look
// like an option, as GNU Parallel's Getopt::Long does. It stops at the first
// argument that is not an option, which starts the command, and returns the
// options and the rest apart (a "--" that ends the options is dropped). A
// GNU Parallel option that concurr lacks is refused here as not supported.
func normalizeArgs(args []string, specs []optionSpec) (options, rest []string, err error) {
	byShort := map[byte]optionSpec{}
	byLong := map[string]optionSpec{}
	for _, s := range specs {
		if s.short != "" {
			byShort[s.short[0]] = s
		}
		for _, l := range s.long {
			byLong[l] = s
			if len(l) == 1 {
				// A one-letter option with no long name, as GNU's -L.
				byShort[l[0]] = s
			}
		}
	}
	out := make([]string, 0, len(args))
	// value returns the value of option s, named name, from the rest of
	// its argument or from the next one.
	value := func(i *int, name string, s optionSpec, rest string, attached bool) (string, error) {
		switch {
		case attached:
			return rest, nil
		case s.optional:
			if next := *i + 1; next < len(args) && (s.numeric && isPlainNumber(args[next]) || !s.numeric && takesOptionalValue(args[next])) {
				*i++
				return args[*i], nil
			}
			return s.bare, nil
		case *i+1 < len(args):
			*i++
			return args[*i], nil
		}
		return "", fmt.Errorf("option %s needs a value", optionName(name))
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return out, args[i+1:], nil
		case strings.HasPrefix(a, "--") || len(a) > 2 && a[0] == '-' && byShort[a[1]].bind == nil && byLong[strings.SplitN(a[1:], "=", 2)[0]].bind != nil:
			// A long option; with one dash only when its first letter is
			// no short option, as Go's flag package accepts.
			name, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			s, ok := byLong[name]
			if !ok {
				if _, gnu := gnuOptionHint(name); gnu {
					return nil, nil, notSupported(name)
				}
				out = append(out, a) // the flag package names it unknown
				continue
			}
			if s.arg == "" {
				out = append(out, a)
				continue
			}
			v, err := value(&i, name, s, v, hasValue)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, "--"+name+"="+v)
		case len(a) > 1 && a[0] == '-':
			// A bundle of short options, the last of which may take a value.
			for k := 1; k < len(a); k++ {
				s, ok := byShort[a[k]]
				if !ok {
					if _, gnu := gnuOptionHint(a[k : k+1]); gnu {
						return nil, nil, notSupported(a[k : k+1])
					}
					if k == 1 {
						if name := strings.SplitN(a[1:], "=", 2)[0]; len(name) > 1 {
							if _, gnu := gnuOptionHint(name); gnu {
								return nil, nil, notSupported(name)
							}
						}
						out = append(out, a) // the flag package names it unknown
						break
					}
					return nil, nil, fmt.Errorf("unknown option -%c in %q", a[k], a)
				}
				if s.arg == "" {
					out = append(out, "--"+s.long[0])
					continue
				}
				v, err := value(&i, a[k:k+1], s, a[k+1:], k+1 < len(a))
				if err != nil {
					return nil, nil, err
				}
				out = append(out, "--"+s.long[0]+"="+v)
				break
			}
		default:
			return out, args[i:], nil
		}
	}
	return out, nil, nil
}

// takesOptionalValue reports whether an optional value may be arg: not an
// option, nor the end of the options.
func takesOptionalValue(arg string) bool {
	return arg != "--" && !(len(arg) > 1 && arg[0] == '-')
}

// usage prints the help text.
func usage(w io.Writer, specs []optionSpec) {
	// The table's groups are checked by a test; a write error to stdout
	// leaves nothing to report to.
	_ = optdoc.WriteHelp(w, docOptions(specs))
}

// docOptions are the documented options of the table, for package optdoc.
func docOptions(specs []optionSpec) []optdoc.Option {
	var opts []optdoc.Option
	for _, s := range specs {
		if s.help == "" {
			continue
		}
		opts = append(opts, optdoc.Option{Long: s.long, Short: s.short, Arg: s.arg, Optional: s.optional, Group: s.group, Help: s.help})
	}
	return opts
}

// flagError turns the flag and ff packages' wording into concurr's, naming
// options as the user spells them.
func flagError(err error) string {
	msg := err.Error()
	for _, prefix := range []string{"error parsing commandline arguments: ", "error parsing environment variables: ", "error parsing config file: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown option " + optionName(name)
	}
	if m := regexp.MustCompile(configUnknown).FindStringSubmatch(msg); m != nil {
		return "unknown option " + optionName(m[1]) + " in the --config file"
	}
	msg = strings.ReplaceAll(msg, "flag needs an argument: ", "option needs a value: ")
	msg = strings.ReplaceAll(msg, "invalid value", "bad value")
	msg = strings.ReplaceAll(msg, "invalid boolean value", "bad value")
	msg = strings.ReplaceAll(msg, ": parse error", "")
	msg = strings.ReplaceAll(msg, " for flag ", " for option ")
	return regexp.MustCompile(flagNames).ReplaceAllStringFunc(msg, optionName)
}

// The expressions are compiled where an error needs them, not at every
// start of the binary, agents' included.
const (
	configUnknown = `config file flag "([^"]+)" not defined`
	// flagNames finds the flag package's one-dash spellings: -jobs, -max-args.
	flagNames = `(^|\s)-[A-Za-z0-9][-A-Za-z0-9]*`
)

// optionName spells a flag name as GNU Parallel's users write it.
func optionName(name string) string {
	lead := name[:len(name)-len(strings.TrimLeft(name, " \t"))]
	name = strings.TrimLeft(strings.TrimSpace(name), "-")
	if len(name) == 1 {
		return lead + "-" + name
	}
	return lead + "--" + name
}
