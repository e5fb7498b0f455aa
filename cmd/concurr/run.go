package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/peterbourgon/ff/v3"

	"concurr/internal/buildinfo"
	"concurr/internal/hint"
	"concurr/internal/sched"
)

const helpHint = "run 'concurr --help' for the options"

// run is concurr's whole command line: it returns nil when every job
// succeeded, an ExitStatus for failed jobs, or an error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var o options
	fs, specs := o.newFlagSet()
	norm, err := normalizeArgs(args, specs)
	if err != nil {
		if hint.Of(err) != "" {
			return err
		}
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
	say := newMessages(stderr)
	p, err := plan(&o, fs.Args(), stdin, stdout, stderr, say)
	if err != nil {
		return err
	}
	defer p.close()
	sum, err := p.run(ctx, stdout, stderr)
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		if errors.Is(err, sched.ErrNoNodes) {
			return hint.New(err, "check the hosts with 'ssh HOST true', or run locally without -S")
		}
		return err
	}
	return summaryStatus(sum)
}

// run runs the planned jobs and writes out what output is still held.
func (p *runPlan) run(ctx context.Context, stdout, stderr io.Writer) (sched.Summary, error) {
	var sum sched.Summary
	var err error
	if p.onAll {
		sum, err = runOnAll(ctx, p, stdout, stderr)
	} else {
		sum, err = sched.Run(ctx, p.cfg, p.nodes, p.source)
	}
	if ferr := p.cfg.Output.Flush(); ferr != nil && err == nil && !isBrokenPipe(ferr) {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if p.progress != nil {
		p.progress.finish()
	}
	return sum, err
}

// summaryStatus is the exit status of a run that went to its end.
func summaryStatus(sum sched.Summary) error {
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
