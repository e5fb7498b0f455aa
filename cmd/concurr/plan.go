package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

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
	if o.bar || o.eta || o.progress {
		p.progress = newProgressMeter(say, o.bar, o.eta, o.progress)
		p.cfg.Progress = p.progress
	}
	return p, nil
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
	inOpts := parse.InputOptions{Delimiter: o.delimiter, Null: o.null, ColSep: o.colsep,
		Header: o.header, Trim: o.trim, Link: o.link, ArgFiles: o.argFiles,
		EOFString: o.eof, SkipEmpty: o.noRunIfEmpty, CSV: o.csv, Shuffle: o.shuf}
	maxArgs, err := planLines(o, &inOpts, o.maxArgs)
	if err != nil {
		return err
	}
	if !o.nonAll && parse.UsesStdin(sources, inOpts) && stdinIsTerminal(stdin) {
		say.hint("reading arguments from the terminal; end them with Ctrl-D")
	}
	switch {
	case maxArgs == 0:
		inOpts.NoArgs = true
	case maxArgs > 0:
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
	case o.xargs:
		topts.Mode = template.ModeXargs
		topts.Positions = 0
	case o.contextReplace:
		topts.Mode = template.ModeContext
		topts.Positions = 0
	}
	return template.Compile(words, topts)
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
	applyColorSpellings(o)
	p.outputOptions = output.Options{Mode: mode, KeepOrder: o.keepOrder, TempDir: o.tmpdir, LineEnd: colorLineEnd(o)}
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
	p.cfg.DryRun = o.dryRun
	p.cfg.Warn = say.warning
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
	if o.xargs || o.contextReplace {
		p.cfg.Pack = 5000
		p.cfg.PackSpread = true
		p.cfg.PackChars = 128 << 10
		if o.maxChars > 0 {
			p.cfg.PackChars = o.maxChars
		}
	}
	if o.jobLog != "" {
		resume := o.resume || o.resumeFailed || o.retryFailed
		if resume {
			done, err := joblog.Read(o.jobLog, say.warning)
			if err != nil {
				return err
			}
			failedToo := o.resumeFailed || o.retryFailed
			p.cfg.Skip = func(seq uint64) bool {
				e, ok := done[seq]
				return ok && !(failedToo && e.Failed())
			}
		}
		log, err := joblog.Create(o.jobLog, !resume, stdout)
		if err != nil {
			return err
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
