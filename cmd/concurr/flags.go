package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
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
	plus           bool // --plus
	maxChars       int
	argFiles       stringList
	delimiter      string
	null           bool
	colsep         string
	header         string
	maxArgs        int
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
	verbose        bool
	jobLog         string
	resume         bool
	resumeFailed   bool
	results        string
	env            stringList
	bar, eta       bool
	progress       bool
	sshLogins      stringList
	sshLoginFiles  stringList
	sshCommand     string
	sshConfig      string
	sshDelay       string
	schedulerHosts schedulerTransport
	onAll, nonAll  bool
	workdir        string
	tmpdir         string
	config         string
	version, help  bool

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
	// optional marks a value that may be left out (-l, -l2, -l 2): the
	// next word is its value only when it is a number.
	optional bool
	help     string
	bind     func(fs *flag.FlagSet, name string)
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
	return []optionSpec{
		{long: []string{"jobs"}, short: "j", arg: "N", help: "jobs at once per host: N, N% of cores, +N or -N cores (default: usable cores)", bind: str(&o.jobs, "")},
		{long: []string{"max-procs"}, short: "P", arg: "N", help: "same as -j", bind: str(&o.jobs, "")},
		{long: []string{"keep-order"}, short: "k", help: "print jobs' output in input order", bind: boolean(&o.keepOrder)},
		{long: []string{"group"}, help: "print each job's output together when it ends (default)", bind: boolean(&o.group)},
		{long: []string{"line-buffer", "lb"}, help: "print whole lines as jobs produce them", bind: boolean(&o.lineBuffer)},
		{long: []string{"ungroup"}, short: "u", help: "print output as it comes, unbuffered", bind: boolean(&o.ungroup)},
		{long: []string{"tag"}, help: "prefix output lines with the job's arguments", bind: boolean(&o.tag)},
		{long: []string{"tagstring"}, arg: "STR", help: "prefix output lines with STR (replacement strings allowed)", bind: str(&o.tagString, "")},
		{long: []string{"replace"}, short: "I", arg: "STR", help: "use STR instead of {}", bind: str(&o.replace, "")},
		{long: []string{"extensionreplace", "er"}, arg: "STR", help: "use STR instead of {.}", bind: str(&o.extReplace, "")},
		{long: []string{"basenamereplace", "bnr"}, arg: "STR", help: "use STR instead of {/}", bind: str(&o.baseReplace, "")},
		{long: []string{"dirnamereplace", "dnr"}, arg: "STR", help: "use STR instead of {//}", bind: str(&o.dirReplace, "")},
		{long: []string{"basenameextensionreplace", "bner"}, arg: "STR", help: "use STR instead of {/.}", bind: str(&o.baseExtReplace, "")},
		{long: []string{"seqreplace"}, arg: "STR", help: "use STR instead of {#}", bind: str(&o.seqReplace, "")},
		{long: []string{"slotreplace"}, arg: "STR", help: "use STR instead of {%}", bind: str(&o.slotReplace, "")},
		{long: []string{"xargs"}, short: "m", help: "put as many arguments as fit in one command", bind: boolean(&o.xargs)},
		{long: []string{"context-replace"}, short: "X", help: "like -m, repeating the word around {} for each argument", bind: boolean(&o.contextReplace)},
		{long: []string{"max-chars"}, short: "s", arg: "N", help: "with -m and -X, limit a command to N characters", bind: integer(&o.maxChars, 0)},
		{long: []string{"quote"}, short: "q", help: "quote the command so that it is not shell code", bind: boolean(&o.quote)},
		{long: []string{"plus"}, help: "add GNU Parallel's --plus replacement strings: {..} {+.} {%.gz} {/a/b} {:1:2} ...", bind: boolean(&o.plus)},
		{long: []string{"arg-file"}, short: "a", arg: "FILE", help: "read arguments from FILE (- is stdin); repeatable", bind: list(&o.argFiles)},
		{long: []string{"delimiter"}, short: "d", arg: "DELIM", help: "input items end with DELIM (\\n, \\t, \\0 understood)", bind: str(&o.delimiter, "")},
		{long: []string{"null"}, short: "0", help: "input items end with NUL", bind: boolean(&o.null)},
		{long: []string{"colsep"}, short: "C", arg: "REGEX", help: "split each input line into columns {1} {2} …", bind: str(&o.colsep, "")},
		{long: []string{"header"}, arg: "REGEX", help: "the first input line names the columns, for {name} (use :)", bind: str(&o.header, "")},
		{long: []string{"max-args"}, short: "n", arg: "N", help: "N arguments per job at most, as xargs -n", bind: integer(&o.maxArgs, -1)},
		{long: []string{"max-replace-args"}, short: "N", arg: "N", help: "N arguments per job ({1}…{N}); -N0 runs once per input with none", bind: integer(&o.maxArgs, -1)},
		{long: []string{"trim"}, arg: "lr", help: "trim white space from arguments: n, l, r, lr", bind: str(&o.trim, "")},
		{long: []string{"eof"}, short: "E", arg: "STR", help: "an input item equal to STR ends the input", bind: str(&o.eof, "")},
		{long: []string{"no-run-if-empty"}, short: "r", help: "skip input items that are only white space", bind: boolean(&o.noRunIfEmpty)},
		{long: []string{"arg-sep"}, arg: "SEP", help: "use SEP instead of ::: (and disable the : alias)", bind: str(&o.argSep, "")},
		{long: []string{"arg-file-sep"}, arg: "SEP", help: "use SEP instead of :::: (and disable the :: alias)", bind: str(&o.argFileSep, "")},
		{long: []string{"link", "xapply"}, help: "link input sources instead of combining them", bind: boolean(&o.link)},
		{long: []string{"halt"}, arg: "WHEN", help: "stop on failures: now|soon,fail|success|done=N|N%", bind: str(&o.halt, "")},
		{long: []string{"retries"}, arg: "N", help: "run a failing job up to N times, on another host if there is one", bind: integer(&o.retries, 0)},
		{long: []string{"timeout"}, arg: "SECS", help: "kill jobs running longer than SECS, or N% of the median runtime", bind: str(&o.timeout, "")},
		{long: []string{"delay"}, arg: "SECS", help: "wait SECS between job starts", bind: str(&o.delay, "")},
		{long: []string{"dry-run"}, help: "print the commands instead of running them", bind: boolean(&o.dryRun)},
		{long: []string{"verbose"}, short: "v", help: "print each command before its output", bind: boolean(&o.verbose)},
		{long: []string{"joblog"}, arg: "FILE", help: "log finished jobs to FILE (- is stdout)", bind: str(&o.jobLog, "")},
		{long: []string{"resume"}, help: "with --joblog, skip jobs the log shows as run", bind: boolean(&o.resume)},
		{long: []string{"resume-failed"}, help: "with --joblog, skip jobs the log shows as succeeded", bind: boolean(&o.resumeFailed)},
		{long: []string{"results", "res"}, arg: "DIR", help: "save each job's output in files under DIR", bind: str(&o.results, "")},
		{long: []string{"env"}, arg: "VAR", help: "pass the variable VAR to remote jobs; repeatable", bind: list(&o.env)},
		{long: []string{"bar"}, help: "show a progress bar on stderr", bind: boolean(&o.bar)},
		{long: []string{"eta"}, help: "show the estimated time left on stderr", bind: boolean(&o.eta)},
		{long: []string{"progress"}, help: "show progress on stderr", bind: boolean(&o.progress)},
		{long: []string{"sshlogin"}, short: "S", arg: "HOSTS", help: "run on [N/][user@]host[:port], comma-separated; : is this machine", bind: list(&o.sshLogins)},
		{long: []string{"sshloginfile", "slf"}, arg: "FILE", help: "read hosts from FILE, one per line", bind: list(&o.sshLoginFiles)},
		{long: []string{"scheduler-hosts"}, help: "run on the hosts of the Slurm or PBS job this runs in, over srun or pbs_tmrsh where there is one (--scheduler-hosts=ssh for SSH)",
			bind: func(fs *flag.FlagSet, name string) { fs.Var(&o.schedulerHosts, name, "") }},
		{long: []string{"ssh"}, arg: "CMD", help: "reach hosts with this OpenSSH command instead of the built-in client", bind: str(&o.sshCommand, "")},
		{long: []string{"ssh-config"}, short: "F", arg: "FILE", help: "ssh_config file to resolve hosts with", bind: str(&o.sshConfig, "")},
		{long: []string{"sshdelay"}, arg: "SECS", help: "wait SECS between starting SSH connections", bind: str(&o.sshDelay, "")},
		{long: []string{"onall"}, help: "run every job on every host", bind: boolean(&o.onAll)},
		{long: []string{"nonall"}, help: "run the command, without arguments, on every host", bind: boolean(&o.nonAll)},
		{long: []string{"workdir", "wd"}, arg: "DIR", help: "run jobs in DIR on each host (... makes a temporary one)", bind: str(&o.workdir, "")},
		{long: []string{"tmpdir"}, arg: "DIR", help: "where held output spills to files", bind: str(&o.tmpdir, "")},
		{long: []string{"config"}, arg: "FILE", help: "read options from FILE (one 'name value' per line)", bind: str(&o.config, "")},
		{long: []string{"csv"}, help: "read input records as CSV (RFC 4180), fields split at --colsep (default ,)", bind: boolean(&o.csv)},
		{long: []string{"L"}, arg: "N", help: "N input lines per job, a line ending in a blank going on with the next (as -N, repeating words)", bind: str(&o.maxLinesCtx, "")},
		{long: []string{"max-lines"}, short: "l", arg: "[N]", optional: true, help: "N input lines per job (default 1), a line ending in a blank going on with the next (as -n)",
			bind: func(fs *flag.FlagSet, name string) { fs.Var(&o.maxLines, name, "") }},
		{long: []string{"shuf"}, help: "run the jobs in a random order; {#} numbers them in that order", bind: boolean(&o.shuf)},
		{long: []string{"nice"}, arg: "N", help: "run jobs at niceness N, on every host", bind: integer(&o.nice, 0)},
		{long: []string{"retry-failed"}, help: "with --joblog, run again the commands the log shows as failed, and only them", bind: boolean(&o.retryFailed)},
		{long: []string{"ctag"}, help: "--tag, with each job's lines in a colour of its own", bind: boolean(&o.ctag)},
		{long: []string{"ctagstring", "ctag-string"}, arg: "STR", help: "--tagstring STR, with each job's lines in a colour of its own", bind: str(&o.ctagString, "")},
		{long: []string{"color", "colour"}, help: "print each job's lines in a colour of its own", bind: boolean(&o.color)},
		{long: []string{"limit"}, arg: "CMD", help: "run CMD before starting a job: 0 starts it, 1 waits, 2 also kills the youngest job", bind: str(&o.limit, "")},
		{long: []string{"memfree"}, arg: "SIZE", help: "start a job on a host only while it has SIZE (k, M, G) of memory available", bind: str(&o.memFree, "")},
		{long: []string{"load"}, arg: "MAX", help: "start a job on a host only while fewer than MAX (or N% of cores) processes run there", bind: str(&o.load, "")},
		{long: []string{"version"}, help: "print the version", bind: boolean(&o.version)},
		{long: []string{"help"}, short: "h", help: "print this help", bind: boolean(&o.help)},
	}
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
		if s.short != "" {
			s.bind(fs, s.short)
		}
	}
	return fs, specs
}

// normalizeArgs rewrites GNU-style short options, which Go's flag package
// does not understand, into long ones: "-j4" becomes "--jobs=4" and "-kv"
// becomes "--keep-order --verbose". It stops at the first argument that is
// not an option, which starts the command.
func normalizeArgs(args []string, specs []optionSpec) ([]string, error) {
	byShort := map[byte]optionSpec{}
	takesArg := map[string]bool{}
	optional := map[string]bool{}
	for _, s := range specs {
		if s.short != "" {
			byShort[s.short[0]] = s
		}
		for _, l := range s.long {
			takesArg[l] = s.arg != "" && !s.optional
			optional[l] = s.optional
			if len(l) == 1 {
				// A one-letter option with no long name, as GNU's -L.
				byShort[l[0]] = s
			}
		}
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...), nil
		case strings.HasPrefix(a, "--"):
			out = append(out, a)
			name, _, hasValue := strings.Cut(a[2:], "=")
			if takesArg[name] && !hasValue && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			if optional[name] && !hasValue && i+1 < len(args) && isPlainNumber(args[i+1]) {
				i++
				out[len(out)-1] += "=" + args[i]
			}
		case len(a) > 1 && a[0] == '-':
			// A bundle of short options, the last of which may take a value.
			for k := 1; k < len(a); k++ {
				s, ok := byShort[a[k]]
				if !ok {
					if k == 1 {
						// Not a short option: maybe a long one with one dash,
						// which Go's flag package accepts.
						out = append(out, a)
						if takesArg[strings.SplitN(a[1:], "=", 2)[0]] && !strings.Contains(a, "=") && i+1 < len(args) {
							i++
							out = append(out, args[i])
						}
						break
					}
					return nil, fmt.Errorf("unknown option -%c in %q", a[k], a)
				}
				if s.optional {
					value := a[k+1:]
					if value == "" && i+1 < len(args) && isPlainNumber(args[i+1]) {
						i++
						value = args[i]
					}
					if value == "" {
						out = append(out, "--"+s.long[0])
					} else {
						out = append(out, "--"+s.long[0]+"="+value)
					}
					break
				}
				if s.arg == "" {
					out = append(out, "--"+s.long[0])
					continue
				}
				if k+1 < len(a) {
					out = append(out, "--"+s.long[0]+"="+a[k+1:])
				} else if i+1 < len(args) {
					i++
					out = append(out, "--"+s.long[0]+"="+args[i])
				} else {
					return nil, fmt.Errorf("option -%c needs a value", a[k])
				}
				break
			}
		default:
			return append(out, args[i:]...), nil
		}
	}
	return out, nil
}

// usage prints the help text.
func usage(w io.Writer, specs []optionSpec) {
	fmt.Fprint(w, `usage: concurr [options] [command [args with {}]] [::: args | :::: files]...

Run a command for every input, concurrently, on this machine and on hosts
reached over SSH. Options and replacement strings follow GNU Parallel.

  concurr 'echo job {#} on slot {%}: {}' ::: a b c
  find . -name '*.log' | concurr -k --tag 'wc -l {}'
  concurr -S node1,4/node2 'gzip -9 {}' :::: files.txt

Options:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	sorted := append([]optionSpec(nil), specs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].long[0] < sorted[j].long[0] })
	for _, s := range sorted {
		if s.help == "" {
			continue
		}
		names := ""
		if s.short != "" {
			names = "-" + s.short + ", "
		}
		for i, l := range s.long {
			if i > 0 {
				names += ", "
			}
			if len(l) == 1 {
				names += "-" + l
			} else {
				names += "--" + l
			}
		}
		if s.arg != "" {
			names += " " + s.arg
		}
		fmt.Fprintf(tw, "  %s\t%s\n", names, s.help)
	}
	tw.Flush()
	fmt.Fprint(w, `
Replacement strings: {} {.} {/} {//} {/.} {#} {%} {host}, and {n} {n.} {n/}
{n//} {n/.} for input position n (negative n counts from the end).

Options can also be set as CONCURR_<NAME> environment variables (for example
CONCURR_JOBS=4) or in the file named by --config.

Exit status: 0 when every job succeeded; 1-100 the number of failed jobs;
101 more than 100 failed; with --halt ...fail, the failing job's status;
130 or 143 when interrupted; 255 for a usage or setup error.
`)
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
	if m := configUnknown.FindStringSubmatch(msg); m != nil {
		return "unknown option " + optionName(m[1]) + " in the --config file"
	}
	msg = strings.ReplaceAll(msg, "flag needs an argument: ", "option needs a value: ")
	msg = strings.ReplaceAll(msg, "invalid value", "bad value")
	msg = strings.ReplaceAll(msg, "invalid boolean value", "bad value")
	msg = strings.ReplaceAll(msg, ": parse error", "")
	msg = strings.ReplaceAll(msg, " for flag ", " for option ")
	return flagNames.ReplaceAllStringFunc(msg, optionName)
}

var (
	configUnknown = regexp.MustCompile(`config file flag "([^"]+)" not defined`)
	// flagNames finds the flag package's one-dash spellings: -jobs, -max-args.
	flagNames = regexp.MustCompile(`(^|\s)-[A-Za-z0-9][-A-Za-z0-9]*`)
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
