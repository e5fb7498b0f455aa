package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peterbourgon/ff/v3"
	"golang.org/x/term"

	"concurr/agent"
	"concurr/internal/buildinfo"
	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/sched"
	"concurr/internal/wire"
	"concurr/parse"
)

const helpHint = "run 'concurr --help' for the options"

// run is concurr's whole command line: it returns nil when every job
// succeeded, an ExitStatus for failed jobs, or an error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var o options
	fs, specs := o.newFlagSet()
	norm, err := normalizeArgs(args, specs)
	if err != nil {
		return usagef(helpHint, "%v", err)
	}
	err = ff.Parse(fs, norm, ff.WithEnvVarPrefix("CONCURR"),
		ff.WithConfigFileFlag("config"), ff.WithConfigFileParser(ff.PlainParser))
	if err != nil {
		return usagef(helpHint, "%s", flagError(err))
	}
	if o.help {
		usage(stdout, specs)
		return nil
	}
	if o.version {
		fmt.Fprintf(stdout, "concurr %s\n", buildinfo.Version)
		return nil
	}
	p, err := plan(&o, fs.Args(), stdin, stdout, stderr)
	if err != nil {
		return err
	}
	defer p.close()
	var sum sched.Summary
	if o.onAll || o.nonAll {
		sum, err = runOnAll(ctx, p, p.outputOptions, stdout, stderr)
	} else {
		sum, err = sched.Run(ctx, p.cfg, p.nodes, p.source)
	}
	if ferr := p.cfg.Output.Flush(); ferr != nil && err == nil && !isBrokenPipe(ferr) {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if p.progress != nil {
		p.progress.finish()
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		if errors.Is(err, sched.ErrNoNodes) {
			return usageError{err: err, hint: "check the hosts with 'ssh HOST true', or run locally without -S"}
		}
		return err
	}
	switch {
	case sum.Halted:
		if sum.HaltExit == 0 {
			return nil
		}
		return ExitStatus(sum.HaltExit)
	case sum.Failed > 100:
		return statusMaxFailed
	case sum.Failed > 0:
		return ExitStatus(sum.Failed)
	}
	return nil
}

func isBrokenPipe(err error) bool {
	return err != nil && strings.Contains(err.Error(), "broken pipe")
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

// runPlan is a run made ready from the command line.
type runPlan struct {
	tagHost       bool // --tag with --onall or --nonall
	cfg           sched.Config
	outputOptions output.Options
	nodes         []sched.Node
	source        sched.Source
	progress      *progressMeter
	closers       []func()
}

func (p *runPlan) close() {
	for _, c := range p.closers {
		c()
	}
}

// plan checks the whole command line and prepares the run. Every usage
// error is found here, before any job starts.
func plan(o *options, rest []string, stdin io.Reader, stdout, stderr io.Writer) (*runPlan, error) {
	p := &runPlan{}
	jobs, err := parseJobs(o.jobs)
	if err != nil {
		return nil, usagef("use N, N%, +N or -N, as in -j4, -j50% or -j+1", "bad -j value %q: %v", o.jobs, err)
	}
	halt, err := parseHalt(o.halt)
	if err != nil {
		return nil, usagef("use --halt now|soon,fail|success|done=N|N%, as in --halt now,fail=1", "bad --halt value %q: %v", o.halt, err)
	}
	timeout, timeoutPercent, err := parseTimeout(o.timeout)
	if err != nil {
		return nil, usagef("use seconds or a percentage of the median runtime, as in --timeout 30 or --timeout 200%", "bad --timeout value %q: %v", o.timeout, err)
	}
	delay, err := parseSeconds(o.delay)
	if err != nil {
		return nil, usagef("", "bad --delay value %q: %v", o.delay, err)
	}
	sshDelay, err := parseSeconds(o.sshDelay)
	if err != nil {
		return nil, usagef("", "bad --sshdelay value %q: %v", o.sshDelay, err)
	}
	if o.retries < 0 {
		return nil, usagef("", "bad --retries value %d: must not be negative", o.retries)
	}
	if (o.resume || o.resumeFailed) && o.jobLog == "" {
		return nil, usagef("add --joblog FILE naming the log of the run to resume", "--resume needs --joblog")
	}
	if o.contextReplace && o.xargs {
		return nil, usagef("", "-X and -m cannot be used together")
	}

	seps := parse.DefaultSeparators
	if o.argSep != "" {
		seps.Args = o.argSep
	}
	if o.argFileSep != "" {
		seps.Files = o.argFileSep
	}
	words, sources, err := parse.SplitCommandLineWith(rest, seps)
	if err != nil {
		return nil, usagef("", "%v", err)
	}
	inOpts := parse.InputOptions{Delimiter: o.delimiter, Null: o.null, ColSep: o.colsep,
		Header: o.header, Trim: o.trim, Link: o.link, ArgFiles: o.argFiles,
		EOFString: o.eof, SkipEmpty: o.noRunIfEmpty}
	if !o.nonAll && parse.UsesStdin(sources, inOpts) && stdinIsTerminal(stdin) {
		fmt.Fprintln(stderr, "concurr: hint: reading arguments from the terminal; end them with Ctrl-D")
	}
	switch {
	case o.maxArgs == 0:
		inOpts.NoArgs = true
	case o.maxArgs > 0:
		inOpts.MaxArgs = o.maxArgs
	}
	if o.nonAll {
		p.source = &sliceSource{jobs: [][]string{nil}}
		p.cfg.Template, err = compileTemplate(o, words, nil, 0)
	} else {
		var inputs *parse.Inputs
		inputs, err = parse.OpenInputs(sources, inOpts, stdin)
		if err != nil {
			return nil, err
		}
		p.closers = append(p.closers, func() { inputs.Close() })
		p.source = inputs
		p.cfg.Template, err = compileTemplate(o, words, inputs.Header(), inputs.Positions())
	}
	if err != nil {
		p.close()
		hint := ""
		if strings.Contains(err.Error(), "quote") {
			hint = "quote the template in single quotes so that your shell passes it whole"
		}
		return nil, usagef(hint, "%v", err)
	}
	tmpl := p.cfg.Template

	// Output.
	mode := output.Group
	switch {
	case o.ungroup:
		mode = output.Ungroup
	case o.lineBuffer:
		mode = output.LineBuffer
	}
	p.outputOptions = output.Options{Mode: mode, KeepOrder: o.keepOrder,
		TempDir: o.tmpdir, Results: o.results != ""}
	p.cfg.Output = output.New(stdout, stderr, p.outputOptions)
	if o.results != "" {
		names := tmpl.Options.Header
		p.cfg.ResultsDir = func(args []string) string { return output.ResultsDir(o.results, names, args) }
	}
	switch {
	case o.tagString != "":
		text, err := parse.CompileText(parse.UnescapePrintf(o.tagString), tmpl.Options)
		if err != nil {
			return nil, usagef("", "bad --tagstring: %v", err)
		}
		p.cfg.Tag = func(args []string, seq uint64, host string) []byte {
			return []byte(text.Expand(parse.Job{Seq: seq, Host: host, Args: args}) + "\t")
		}
	case o.tag:
		p.cfg.Tag = func(args []string, _ uint64, _ string) []byte {
			return []byte(strings.Join(args, " ") + "\t")
		}
	}
	p.tagHost = o.tag && o.tagString == "" && (o.onAll || o.nonAll)
	p.cfg.Verbose = o.verbose
	p.cfg.DryRun = o.dryRun
	p.cfg.Warn = func(format string, args ...any) {
		fmt.Fprintf(stderr, "concurr: warning: "+format+"\n", args...)
	}
	p.cfg.Hint = func(hint string) {
		fmt.Fprintf(stderr, "concurr: hint: %s\n", hint)
	}

	// Job control.
	p.cfg.Timeout, p.cfg.TimeoutPercent = timeout, timeoutPercent
	p.cfg.Retries = o.retries
	p.cfg.Halt = halt
	p.cfg.Delay = delay
	if o.xargs || o.contextReplace {
		p.cfg.Pack = 5000
		p.cfg.PackSpread = true
		p.cfg.PackChars = 128 << 10
		if o.maxChars > 0 {
			p.cfg.PackChars = o.maxChars
		}
	}
	if o.jobLog != "" {
		if o.resume || o.resumeFailed {
			done, err := joblog.Read(o.jobLog)
			if err != nil {
				return nil, err
			}
			failedToo := o.resumeFailed
			p.cfg.Skip = func(seq uint64) bool {
				e, ok := done[seq]
				return ok && !(failedToo && e.Failed())
			}
		}
		log, err := joblog.Create(o.jobLog, !(o.resume || o.resumeFailed), stdout)
		if err != nil {
			return nil, err
		}
		p.cfg.JobLog = log
		p.closers = append(p.closers, func() { log.Close() })
	}
	for _, name := range o.env {
		if v, ok := os.LookupEnv(name); ok {
			p.cfg.Env = append(p.cfg.Env, name+"="+v)
		}
	}
	p.cfg.Workdir = o.workdir

	// Nodes.
	hosts, err := collectHosts(o)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		hosts = []parse.Host{{Spec: ":", Local: true}}
	}
	sshOpts, err := sshOptions(o, stderr)
	if err != nil {
		return nil, err
	}
	for i, h := range hosts {
		n := sched.Node{Name: h.String(), Slots: slotsFunc(jobs, h.Slots)}
		if h.Local {
			n.Dial = dialLocal
			n.Prefetch = 2
		} else {
			n.Dial = dialRemote(sshOpts, h, time.Duration(i)*sshDelay)
			n.Prefetch = 16
			n.PingEvery, n.PingMisses = 2*time.Second, 3
		}
		p.nodes = append(p.nodes, n)
	}
	if o.bar || o.eta || o.progress {
		p.progress = newProgressMeter(stderr, o.bar, o.eta, o.progress)
		p.cfg.Progress = p.progress
	}
	return p, nil
}

func compileTemplate(o *options, words, header []string, positions int) (*parse.Template, error) {
	topts := parse.TemplateOptions{
		Replacements: parse.Replacements{Arg: o.replace, NoExt: o.extReplace, Base: o.baseReplace,
			Dir: o.dirReplace, BaseNoExt: o.baseExtReplace, Seq: o.seqReplace, Slot: o.slotReplace},
		Header:    header,
		Positions: positions,
		Quote:     o.quote,
	}
	switch {
	case o.xargs:
		topts.Mode = parse.ModeXargs
		topts.Positions = 0
	case o.contextReplace:
		topts.Mode = parse.ModeContext
		topts.Positions = 0
	}
	return parse.Compile(words, topts)
}

func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// sliceSource yields jobs held in memory.
type sliceSource struct{ jobs [][]string }

func (s *sliceSource) Next() ([]string, error) {
	if len(s.jobs) == 0 {
		return nil, io.EOF
	}
	j := s.jobs[0]
	s.jobs = s.jobs[1:]
	return j, nil
}

// jobsSpec is a parsed -j value.
type jobsSpec struct {
	fixed   int     // N
	percent float64 // N% of the cores
	delta   int     // +N or -N cores
	kind    byte    // 0: cores, 'n', '%', '+'
}

func parseJobs(s string) (jobsSpec, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return jobsSpec{}, nil
	case strings.HasSuffix(s, "%"):
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return jobsSpec{}, errors.New("want a positive percentage of the cores")
		}
		return jobsSpec{kind: '%', percent: f}, nil
	case s[0] == '+' || s[0] == '-':
		n, err := strconv.Atoi(s)
		if err != nil {
			return jobsSpec{}, errors.New("want +N or -N cores")
		}
		return jobsSpec{kind: '+', delta: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return jobsSpec{}, errors.New("want a number of jobs")
	}
	if n == 0 {
		// GNU Parallel's "as many as possible".
		n = 256
	}
	return jobsSpec{kind: 'n', fixed: n}, nil
}

// slots applies the spec to a node's core count.
func (j jobsSpec) slots(cores int) int {
	switch j.kind {
	case 'n':
		return j.fixed
	case '%':
		return max(1, int(math.Ceil(float64(cores)*j.percent/100-1e-9)))
	case '+':
		return max(1, cores+j.delta)
	}
	return max(1, cores)
}

func slotsFunc(j jobsSpec, forced int) func(wire.Hello) int {
	return func(h wire.Hello) int {
		if forced > 0 {
			return forced
		}
		return j.slots(int(h.Slots))
	}
}

// parseHalt parses --halt: never, now|soon,fail|success|done=N|N%, or GNU
// Parallel's older 0, 1 and 2.
func parseHalt(s string) (sched.Halt, error) {
	switch s {
	case "", "never", "0":
		return sched.Halt{}, nil
	case "1":
		return sched.Halt{When: sched.HaltOnFail, Count: 1}, nil
	case "2":
		return sched.Halt{When: sched.HaltOnFail, Now: true, Count: 1}, nil
	}
	when, cond, ok := strings.Cut(s, ",")
	if !ok {
		return sched.Halt{}, errors.New("want when,condition")
	}
	var h sched.Halt
	switch when {
	case "now":
		h.Now = true
	case "soon":
	default:
		return sched.Halt{}, fmt.Errorf("%q is neither now nor soon", when)
	}
	what, count, ok := strings.Cut(cond, "=")
	if !ok {
		return sched.Halt{}, errors.New("want a condition such as fail=1")
	}
	switch what {
	case "fail":
		h.When = sched.HaltOnFail
	case "success":
		h.When = sched.HaltOnSuccess
	case "done":
		h.When = sched.HaltOnDone
	default:
		return sched.Halt{}, fmt.Errorf("%q is not fail, success or done", what)
	}
	if p, ok := strings.CutSuffix(count, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || f > 100 {
			return sched.Halt{}, errors.New("want a percentage above 0 and at most 100")
		}
		h.Percent = f
		return h, nil
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 {
		return sched.Halt{}, errors.New("want a count of at least 1")
	}
	h.Count = n
	return h, nil
}

// parseTimeout parses --timeout: seconds (fractions allowed), a duration
// such as 1m30s, or a percentage of the median runtime.
func parseTimeout(s string) (time.Duration, float64, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			return 0, 0, errors.New("want a positive percentage")
		}
		return 0, f, nil
	}
	d, err := parseSeconds(s)
	if err == nil && d == 0 && s != "" {
		return 0, 0, errors.New("want a positive time")
	}
	return d, 0, err
}

// parseSeconds parses seconds with fractions, or a Go duration.
func parseSeconds(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e9 {
			return 0, errors.New("want a positive number of seconds")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want seconds, as in 2.5, or a duration, as in 1m30s")
	}
	return d, nil
}

// collectHosts gathers the hosts from -S, --slf and --scheduler-hosts.
func collectHosts(o *options) ([]parse.Host, error) {
	var hosts []parse.Host
	if len(o.sshLogins) > 0 {
		h, err := parse.ParseSSHLogins(o.sshLogins)
		if err != nil {
			return nil, usagef("write hosts as [N/][user@]host[:port], comma-separated", "bad -S value: %v", err)
		}
		hosts = append(hosts, h...)
	}
	for _, f := range o.sshLoginFiles {
		h, err := parse.ReadSSHLoginFile(f)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, h...)
	}
	if o.schedulerHosts {
		h, err := parse.HostsFromScheduler(os.Getenv)
		if err != nil {
			return nil, usagef("--scheduler-hosts works inside a Slurm or PBS job", "%v", err)
		}
		hosts = append(hosts, h...)
	}
	return hosts, nil
}

// localAgents are the in-process agents of this run, for killNow.
var localAgents struct {
	sync.Mutex
	closers []func()
}

// dialLocal starts an agent in this process, connected by pipes: local
// jobs run through the same agent and protocol as remote ones.
func dialLocal(ctx context.Context) (*sched.Conn, error) {
	toAgent, fromClient := io.Pipe()
	toClient, fromAgent := io.Pipe()
	// The agent outlives ctx on purpose: after an interrupt the client
	// cancels jobs through the protocol and waits for their results.
	agentCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		agent.Serve(agentCtx, toAgent, fromAgent, agent.Options{Stderr: os.Stderr,
			Debug: os.Getenv("CONCURR_DEBUG") == "protocol"})
		fromAgent.Close()
	}()
	closer := closerFunc(func() error {
		stop()
		fromClient.Close()
		toClient.Close()
		<-done
		return nil
	})
	localAgents.Lock()
	localAgents.closers = append(localAgents.closers, func() { stop(); <-done })
	localAgents.Unlock()
	return sched.Handshake(ctx, toClient, fromClient, closer)
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// killNow ends every local agent, which kills its jobs' process groups,
// for a second interrupt.
func killNow() {
	localAgents.Lock()
	defer localAgents.Unlock()
	for _, c := range localAgents.closers {
		c()
	}
}
