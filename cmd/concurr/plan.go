package main

import (
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

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
	if err := p.planNodes(o, values, stderr, say); err != nil {
		return nil, err
	}
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
	inOpts := parse.InputOptions{Delimiter: o.delimiter, Null: o.null, ColSep: o.colsep,
		Header: o.header, Trim: o.trim, Link: o.link, ArgFiles: o.argFiles,
		EOFString: o.eof, SkipEmpty: o.noRunIfEmpty}
	if !o.nonAll && parse.UsesStdin(sources, inOpts) && stdinIsTerminal(stdin) {
		say.hint("reading arguments from the terminal; end them with Ctrl-D")
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
			return err
		}
		p.closers = append(p.closers, func() { inputs.Close() })
		p.source = inputs
		p.cfg.Template, err = compileTemplate(o, words, inputs.Header(), inputs.Positions())
	}
	if err != nil {
		hint := ""
		if strings.Contains(err.Error(), "quote") {
			hint = "quote the template in single quotes so that your shell passes it whole"
		}
		return usagef(hint, "%v", err)
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
	p.outputOptions = output.Options{Mode: mode, KeepOrder: o.keepOrder,
		TempDir: o.tmpdir, Results: o.results}
	p.cfg.Output = output.New(stdout, stderr, p.outputOptions)
	if o.results != "" {
		names := tmpl.Options.Header
		p.cfg.ResultsDir = func(args []string) string { return output.ResultsDir(o.results, names, args) }
	}
	switch {
	case o.tagString != "":
		text, err := template.CompileText(parse.UnescapePrintf(o.tagString), tmpl.Options)
		if err != nil {
			return usagef("", "bad --tagstring: %v", err)
		}
		p.cfg.Tag = func(args []string, seq uint64, host string) []byte {
			return []byte(text.Expand(template.Job{Seq: seq, Host: host, Args: args}) + "\t")
		}
	case o.tag:
		p.cfg.Tag = func(args []string, _ uint64, _ string) []byte {
			return []byte(strings.Join(args, " ") + "\t")
		}
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
	if o.xargs || o.contextReplace {
		p.cfg.Pack = 5000
		p.cfg.PackSpread = true
		p.cfg.PackChars = 128 << 10
		if o.maxChars > 0 {
			p.cfg.PackChars = o.maxChars
		}
	}
	if o.jobLog != "" {
		resume := o.resume || o.resumeFailed
		if resume {
			done, err := joblog.Read(o.jobLog, say.warning)
			if err != nil {
				return err
			}
			failedToo := o.resumeFailed
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
	if o.workdir == "." {
		p.cfg.Workdir = workdirHere()
	}
	if err := planTransfer(o, p, p.cfg.Template.Options); err != nil {
		return err
	}
	return nil
}
