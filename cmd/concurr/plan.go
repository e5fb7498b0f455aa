package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"concurr/agent"
	"concurr/internal/events"
	"concurr/internal/hint"
	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/sched"
	"concurr/internal/template"
	"concurr/parse"
)

// runPlan is a run made ready from the command line.
type runPlan struct {
	onAll         bool // --onall or --nonall: every job on every node
	tagHost       bool // --tag with --onall or --nonall
	cfg           sched.Config
	outputOptions output.Options
	nodes         []sched.Node
	source        sched.Source
	progress      *progressMeter
	report        *runReport
	events        *events.Writer
	stdout        io.Writer // where the jobs' output goes, past the progress line
	stderr        io.Writer
	closers       []func()
	tagText       *template.Text // --tagstring, which may need the number of jobs too
}

func (p *runPlan) close() {
	for _, c := range p.closers {
		c()
	}
}

// plan checks the whole command line and prepares the run. Every usage
// error is found here, before any job starts.
func plan(o *options, rest []string, stdin io.Reader, stdout, stderr io.Writer, say *messages) (_ *runPlan, err error) {
	if err := planTerminal(o); err != nil {
		return nil, err
	}
	values, err := parseValues(o)
	if err != nil {
		return nil, err
	}
	p := &runPlan{onAll: o.onAll || o.nonAll}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if o.bar || o.eta || o.progress {
		// The jobs' output is printed past the progress line, not on it.
		stderr = asideWriter{say, stderr}
		if isTerminal(stdout) {
			stdout = asideWriter{say, stdout}
		}
	}
	p.stdout, p.stderr = stdout, stderr
	if err := p.planInputs(o, rest, stdin, say); err != nil {
		return nil, err
	}
	if err := p.planOutput(o, stdout, stderr, say); err != nil {
		return nil, err
	}
	if err := p.planJobControl(o, values, stdout, say); err != nil {
		return nil, err
	}
	if err := p.planPlus(o); err != nil {
		return nil, err
	}
	if err := p.planNodes(o, values, stderr, say); err != nil {
		return nil, err
	}
	p.planLimitNodes()
	if err := p.planFollowers(o, stdout, say); err != nil {
		return nil, err
	}
	return p, nil
}

// planFollowers sets up what follows the run as it goes: the summary at
// its end, always; --bar, --eta and --progress; --json-events.
func (p *runPlan) planFollowers(o *options, stdout io.Writer, say *messages) error {
	p.report = newRunReport(len(p.nodes))
	followers := progressTee{p.report}
	if o.bar || o.eta || o.progress {
		names := make([]string, len(p.nodes))
		for i, n := range p.nodes {
			names[i] = n.Name
		}
		p.progress = newProgressMeter(say, names, o.bar, o.eta)
		if _, skips := p.source.(*skippingSource); (o.bar || o.eta) && !p.onAll && !skips {
			// As GNU Parallel, read every input first, to know how many
			// jobs there are.
			total, err := p.readAllInputs()
			if err != nil {
				return err
			}
			if p.cfg.Pack <= 1 {
				p.progress.setTotal(total)
			}
		}
		followers = append(followers, p.progress)
	}
	if o.jsonEvents != "" {
		var w io.Writer = stdout
		if o.jsonEvents != "-" {
			f, err := os.Create(o.jsonEvents)
			if err != nil {
				return fmt.Errorf("--json-events: %w", err)
			}
			p.closers = append(p.closers, func() { f.Close() })
			w = f
		}
		p.events = events.New(w)
		followers = append(followers, p.events)
	}
	p.cfg.Progress = followers
	return nil
}

// readAllInputs reads the inputs into memory, once, and says how many
// records they hold.
func (p *runPlan) readAllInputs() (uint64, error) {
	if s, ok := p.source.(*sliceSource); ok {
		return uint64(len(s.jobs)), nil
	}
	var jobs [][]string
	for {
		args, err := p.source.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read input: %w", err)
		}
		jobs = append(jobs, args)
	}
	p.source = &sliceSource{jobs: jobs}
	return uint64(len(jobs)), nil
}

// optionValues are the options whose values have a grammar of their own.
type optionValues struct {
	jobs           parse.Jobs
	halt           sched.Halt
	timeout        time.Duration
	timeoutPercent float64
	delay          time.Duration
	sshDelay       time.Duration
}

// parseValues checks the option values and the options' combinations.
func parseValues(o *options) (optionValues, error) {
	var v optionValues
	var err error
	if v.jobs, err = parse.ParseJobs(o.jobs); err != nil {
		return v, usagef("use N, N%, +N or -N, as in -j4, -j50% or -j+1", "bad -j value %q: %v", o.jobs, err)
	}
	halt, err := parse.ParseHalt(o.halt)
	if err != nil {
		return v, usagef("use --halt now|soon,fail|success|done=N|N%, as in --halt now,fail=1", "bad --halt value %q: %v", o.halt, err)
	}
	v.halt = schedHalt(halt)
	if v.timeout, v.timeoutPercent, err = parse.ParseTimeout(o.timeout); err != nil {
		return v, usagef("use seconds or a percentage of the median runtime, as in --timeout 30 or --timeout 200%", "bad --timeout value %q: %v", o.timeout, err)
	}
	if v.delay, err = parse.ParseSeconds(o.delay); err != nil {
		return v, usagef("", "bad --delay value %q: %v", o.delay, err)
	}
	if v.sshDelay, err = parse.ParseSeconds(o.sshDelay); err != nil {
		return v, usagef("", "bad --sshdelay value %q: %v", o.sshDelay, err)
	}
	if o.retries < 0 {
		return v, usagef("", "bad --retries value %d: must not be negative", o.retries)
	}
	if (o.resume || o.resumeFailed) && o.jobLog == "" {
		return v, usagef("add --joblog FILE naming the log of the run to resume", "--resume needs --joblog")
	}
	if o.retryFailed && o.jobLog == "" {
		return v, usagef("add --joblog FILE naming the log whose failed jobs to run again", "--retry-failed needs --joblog")
	}
	if o.contextReplace && o.xargs {
		return v, usagef("", "-X and -m cannot be used together")
	}
	return v, nil
}

// schedHalt turns the --halt the user wrote into the scheduler's policy.
func schedHalt(h parse.Halt) sched.Halt {
	when := map[parse.HaltOn]sched.HaltWhen{
		parse.HaltNever:     sched.HaltNever,
		parse.HaltOnFail:    sched.HaltOnFail,
		parse.HaltOnSuccess: sched.HaltOnSuccess,
		parse.HaltOnDone:    sched.HaltOnDone,
	}[h.On]
	return sched.Halt{When: when, Now: h.Now, Count: h.Count, Percent: h.Percent}
}

// planInputs opens the input sources and compiles the command template,
// which needs to know the sources' column names and positions.
func (p *runPlan) planInputs(o *options, rest []string, stdin io.Reader, say *messages) error {
	if o.retryFailed {
		return p.planRetryFailed(o, say)
	}
	if o.pipeMode() {
		return p.planPipe(o, rest, stdin, say)
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
		return usagef("", "%v", err)
	}
	if p.onAll && len(words) == 0 {
		name := "--onall"
		if o.nonAll {
			name = "--nonall"
		}
		return usagef("give the command to run on every host, as in "+name+" -S node1,node2 uptime", "%s needs a command", name)
	}
	inOpts := parse.InputOptions{Delimiter: o.delimiter, Null: o.null, ColSep: o.colsep,
		Header: o.header, Trim: o.trim, Link: o.link, ArgFiles: o.argFiles,
		EOFString: o.eof, SkipEmpty: o.noRunIfEmpty, CSV: o.csv, Shuffle: o.shuf}
	maxArgs, err := planLines(o, &inOpts, o.argsPerJob())
	if err != nil {
		return err
	}
	if !o.nonAll && parse.UsesStdin(sources, inOpts) && stdinIsTerminal(stdin) {
		say.hint("reading arguments from the terminal; end them with Ctrl-D")
	}
	// Packing (-m, -X) reads records one by one and packs them itself, up
	// to -n or -N of them.
	switch {
	case maxArgs == 0:
		inOpts.NoArgs = true
	case maxArgs > 0 && !o.packs():
		inOpts.MaxArgs = maxArgs
	}
	if o.nonAll {
		p.source = &sliceSource{jobs: [][]string{nil}}
		p.cfg.Template, err = compileTemplate(o, words, nil, 0)
	} else {
		var inputs *parse.Inputs
		inputs, err = parse.OpenInputs(sources, inOpts, stdin)
		if err != nil {
			return err
		}
		p.closers = append(p.closers, func() { inputs.Close() })
		p.source = inputs
		p.cfg.Template, err = compileTemplate(o, words, inputs.Header(), inputs.Positions())
	}
	if err != nil {
		advice := hint.Of(err)
		if advice == "" && strings.Contains(err.Error(), "quote") {
			advice = "quote the template in single quotes so that your shell passes it whole"
		}
		return usagef(advice, "%v", err)
	}
	return nil
}

func compileTemplate(o *options, words, header []string, positions int) (*template.Template, error) {
	topts := template.Options{
		Replacements: template.Replacements{Arg: o.replace, NoExt: o.extReplace, Base: o.baseReplace,
			Dir: o.dirReplace, BaseNoExt: o.baseExtReplace, Seq: o.seqReplace, Slot: o.slotReplace},
		Header:    header,
		Positions: positions,
		Quote:     o.quote,
		Plus:      o.plus,
	}
	switch {
	case o.xargs && o.maxReplaceArgs < 0:
		topts.Mode = template.ModeXargs
		topts.Positions = 0
	case o.packs():
		topts.Mode = template.ModeContext
		topts.Positions = 0
	case o.maxReplaceArgs > 0:
		// GNU Parallel's -N repeats the words around {} for each
		// argument, as -X does.
		topts.Mode = template.ModeContext
	}
	return template.Compile(words, topts)
}

// packs reports whether jobs take as many records as fit (-m, -X).
func (o *options) packs() bool { return o.xargs || o.contextReplace }

// argsPerJob is -N's count, else -n's, else -1: GNU Parallel reads -N
// after -n.
func (o *options) argsPerJob() int {
	if o.maxReplaceArgs >= 0 {
		return int(o.maxReplaceArgs)
	}
	return int(o.maxArgs)
}

func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
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

// planOutput sets how jobs' output is held, tagged and saved, and where
// concurr's own warnings go.
func (p *runPlan) planOutput(o *options, stdout, stderr io.Writer, say *messages) error {
	tmpl := p.cfg.Template
	mode := output.Group
	switch {
	case o.ungroup:
		mode = output.Ungroup
	case o.lineBuffer:
		mode = output.LineBuffer
	}
	if o.tmpdir != "" {
		if err := checkTempDir(o.tmpdir); err != nil {
			return err
		}
	}
	applyColorSpellings(o)
	p.outputOptions = output.Options{Mode: mode, KeepOrder: o.keepOrder, TempDir: o.tmpdir, Warn: say.warning, LineEnd: colorLineEnd(o)}
	if err := p.planResults(o, stdout); err != nil {
		return err
	}
	p.cfg.Output = output.New(stdout, stderr, p.outputOptions)
	switch {
	case o.tagString != "":
		text, err := template.CompileText(parse.UnescapePrintf(o.tagString), tmpl.Options)
		if err != nil {
			return usagef(hint.Of(err), "bad --tagstring: %v", err)
		}
		p.tagText = text
		p.cfg.Tag = func(args []string, seq uint64, host string) []byte {
			return []byte(text.Expand(template.Job{Seq: seq, Host: host, Args: args}) + "\t")
		}
	case o.tag:
		p.cfg.Tag = func(args []string, _ uint64, _ string) []byte {
			return []byte(strings.Join(args, " ") + "\t")
		}
	}
	if err := p.planTagExtras(o, mode); err != nil {
		return err
	}
	p.tagHost = o.tag && o.tagString == "" && p.onAll
	p.cfg.Verbose = o.verbose
	if o.verboseStderr {
		p.cfg.Started = func(command string) { say.write(command + "\n") }
	}
	p.cfg.DryRun = o.dryRun
	p.cfg.Warn = say.warning
	return nil
}

// checkTempDir makes sure that held output can spill into dir, before any
// job runs: found out halfway, the run would have to stop.
func checkTempDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usagef("create it, or name another folder", "--tmpdir %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("--tmpdir: %w", err)
	case !fi.IsDir():
		return usagef("name a folder", "--tmpdir %s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, "concurr-check-*")
	if err != nil {
		return usagef("name a folder you can write to", "--tmpdir %s is not writable: %v", dir, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// planJobControl sets when jobs start, stop, retry and are logged.
func (p *runPlan) planJobControl(o *options, v optionValues, stdout io.Writer, say *messages) error {
	p.cfg.Timeout, p.cfg.TimeoutPercent = v.timeout, v.timeoutPercent
	p.cfg.Retries = o.retries
	p.cfg.Halt = v.halt
	p.cfg.Delay = v.delay
	if err := planNodeLimits(o, &p.cfg, stdout, say.w, say); err != nil {
		return err
	}
	if o.packs() {
		p.cfg.Pack = maxPack
		if n := o.argsPerJob(); n > 0 {
			p.cfg.Pack = n
		}
		p.cfg.PackSpread = true
		length, err := p.cfg.Template.PackLength()
		if err != nil {
			return usagef("", "%v", err)
		}
		p.cfg.PackLength = length
		p.cfg.PackChars = usableCommandLength()
		switch {
		case o.maxChars > 0 && int(o.maxChars) <= p.cfg.PackChars:
			p.cfg.PackChars = int(o.maxChars)
		case o.maxChars > 0:
			say.warningf("value for option -s should be < %d", p.cfg.PackChars)
		}
	}
	// GNU Parallel's --joblog +FILE appends to FILE.
	logPath, appending := o.jobLog, false
	if rest, ok := strings.CutPrefix(logPath, "+"); ok && rest != "" {
		logPath, appending = rest, true
	}
	resume := o.resume || o.resumeFailed || o.retryFailed
	if logPath != "" && resume {
		done, err := joblog.Read(logPath, say.warning)
		if err != nil {
			return err
		}
		failedToo := o.resumeFailed || o.retryFailed
		p.cfg.Skip = func(seq uint64) bool {
			e, ok := done[seq]
			return ok && !(failedToo && e.Failed())
		}
	}
	if logPath != "" && !o.dryRun {
		// A dry run logs nothing, and leaves the file alone.
		create := func() (*joblog.Writer, error) { return joblog.Create(logPath, !resume, stdout) }
		if appending {
			create = func() (*joblog.Writer, error) { return joblog.Append(logPath, stdout) }
		}
		log, err := create()
		if err != nil {
			return err
		}
		if o.keepOrder {
			log.InOrder()
		}
		p.cfg.JobLog = log
		p.closers = append(p.closers, func() { log.Close() })
	}
	// GNU Parallel's jobs know its process, here the client's, on every
	// host.
	p.cfg.Env = append(p.cfg.Env, "PARALLEL_PID="+strconv.Itoa(os.Getpid()))
	names, err := envNames(o)
	if err != nil {
		return err
	}
	if err := planShell(o, &p.cfg); err != nil {
		return err
	}
	for _, name := range names {
		if v, ok := os.LookupEnv(name); ok {
			p.cfg.Env = append(p.cfg.Env, name+"="+v)
		}
		// A function that bash exported goes with the name too, as in
		// GNU Parallel: --env doit sends the function doit.
		fn := agent.BashFuncVar(name)
		if v, ok := os.LookupEnv(fn); ok {
			p.cfg.Env = append(p.cfg.Env, fn+"="+v)
		}
	}
	p.cfg.Workdir = o.workdir
	if o.workdir == "." {
		p.cfg.Workdir = workdirHere()
	}
	if err := planTransfer(o, p, p.cfg.Template.Options); err != nil {
		return err
	}
	return nil
}

// planPlus prepares what --plus's replacement strings need before the run:
// the number of jobs for {##} and {0#}, which means reading every input
// first, as GNU Parallel does, and the jobs that {choose_k} and {uniq} skip.
func (p *runPlan) planPlus(o *options) error {
	tmpl := p.cfg.Template
	if tmpl.UsesTotal() || p.tagText != nil && p.tagText.UsesTotal() {
		var jobs [][]string
		for {
			args, err := p.source.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			jobs = append(jobs, args)
		}
		p.source = &sliceSource{jobs: jobs}
		tmpl.Total = uint64(len(jobs))
		if p.tagText != nil {
			p.tagText.Total = tmpl.Total
		}
	}
	if tmpl.SkipsJobs() {
		if o.xargs || o.contextReplace {
			return usagef("", "{choose_k} and {uniq} skip whole jobs, so they cannot be used with -X or -m")
		}
		src := &skippingSource{Source: p.source, skips: tmpl.Skips}
		p.source = src
		resumed := p.cfg.Skip
		p.cfg.Skip = func(seq uint64) bool {
			return src.skipLast || resumed != nil && resumed(seq)
		}
	}
	return nil
}

// skippingSource marks the jobs that the template skips. The scheduler asks
// Config.Skip about each job right after reading it, so a skipped job still
// takes its sequence number, as in GNU Parallel.
type skippingSource struct {
	sched.Source
	skips    func(args []string) bool
	skipLast bool
}

func (s *skippingSource) Next() ([]string, error) {
	args, err := s.Source.Next()
	s.skipLast = err == nil && s.skips(args)
	return args, err
}

// planResults sets where --results puts each job's output, in GNU
// Parallel's three forms: a table (x.csv, x.tsv, x.json; -.csv and the like
// for stdout), a file per job when the name holds replacement strings
// (out_{}.txt), or else a folder of folders named by the arguments.
func (p *runPlan) planResults(o *options, stdout io.Writer) error {
	if o.results == "" {
		return nil
	}
	tmpl := p.cfg.Template
	opts := &p.outputOptions
	if table := output.TableOf(o.results); table != output.NoTable {
		opts.Table, opts.TableNames = table, tmpl.Options.Header
		if strings.TrimSuffix(strings.ToLower(o.results), output.TableSuffix(table)) == "-" {
			// The table is the only output: the jobs' own goes nowhere else.
			opts.TableOut = stdout
			return nil
		}
		f, err := os.Create(o.results)
		if err != nil {
			return fmt.Errorf("--results: %w", err)
		}
		opts.TableOut = f
		p.closers = append(p.closers, func() { f.Close() })
		return nil
	}
	name, err := template.CompileText(o.results, tmpl.Options)
	if err != nil {
		return usagef(hint.Of(err), "bad --results: %v", err)
	}
	if name.HasReplacements() {
		opts.Results, opts.ResultsFiles = o.results, true
		p.cfg.ResultsDir = func(args []string, seq uint64) string {
			return name.Expand(template.Job{Seq: seq, Args: args})
		}
		return nil
	}
	opts.Results = o.results
	names := tmpl.Options.Header
	p.cfg.ResultsDir = func(args []string, _ uint64) string { return output.ResultsDir(o.results, names, args) }
	return nil
}
