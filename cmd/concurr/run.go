package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3"
	"mvdan.cc/sh/v3/shell"

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
	norm, err := gnuCommandLine(args, os.Getenv("PARALLEL"), specs)
	if err != nil {
		if hint.Of(err) != "" {
			return err
		}
		return usagef(helpHint, "%v", err)
	}
	err = ff.Parse(fs, norm, ff.WithEnvVarPrefix("CONCURR"),
		ff.WithConfigFileFlag("config"), ff.WithConfigFileParser(configParser))
	if err != nil {
		if h := hint.Of(err); h != "" {
			return usagef(h, "%s", flagError(err))
		}
		return usagef(flagHint(err, specs), "%s", flagError(err))
	}
	if o.help {
		usage(stdout, specs)
		return nil
	}
	if o.version {
		fmt.Fprintf(stdout, "concurr %s\n", buildinfo.Version)
		return nil
	}
	if o.recordEnv {
		return recordEnv()
	}
	// With SIGPIPE handled, a write to a closed stdout fails with EPIPE
	// instead of killing the client on the spot, which would leave the
	// local jobs running: the run then cancels its jobs and exits as
	// SIGPIPE would (see stdoutClosed). A handled signal, unlike an
	// ignored one, is reset for the jobs' processes.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	say := newMessages(stderr)
	p, err := plan(&o, fs.Args(), stdin, stdout, stderr, say)
	if err != nil {
		return err
	}
	defer p.close()
	started := time.Now()
	if p.events != nil {
		p.events.RunStart(buildinfo.Version, nodeNames(p.nodes))
	}
	sum, err := p.run(ctx)
	err = runOutcome(ctx, sum, err)
	if !errors.Is(err, stdoutClosed) {
		// With the reader of the output gone, there is no one to tell.
		say.summary(p.report.lines())
	}
	if o.verbose && ctx.Err() == nil && !sum.Halted {
		// Not a problem, so not in the summary: a short run over many
		// hosts ends before the slowest have logged in.
		if line := p.report.stillStarting(); line != "" {
			say.logf("%s", line)
		}
	}
	if p.events != nil {
		t := p.report.totals()
		t.Elapsed = time.Since(started).Seconds()
		t.Exit = int(statusOf(err))
		t.Halted = sum.Halted
		if err != nil && !errors.As(err, new(ExitStatus)) {
			t.Error = err.Error()
		}
		p.events.RunEnd(t)
		if werr := p.events.Err(); werr != nil && !errors.Is(err, stdoutClosed) {
			say.warningf("--json-events: %v", werr)
		}
	}
	return err
}

// runOutcome is what a run that was started comes to: nil, an
// ExitStatus, or the error that ended it.
func runOutcome(ctx context.Context, sum sched.Summary, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if errors.Is(err, syscall.EPIPE) {
		// The reader of the output has gone (`concurr ... | head -1`):
		// nothing to say, as GNU Parallel, and no one to say it to.
		return stdoutClosed
	}
	if err != nil {
		if errors.Is(err, sched.ErrNoNodes) {
			return hint.New(err, "check the hosts with 'ssh HOST true', or run locally without -S")
		}
		return err
	}
	return summaryStatus(sum)
}

// gnuCommandLine is the command line for the flag package: the options in
// $PARALLEL, which GNU Parallel splits as the shell does, before those of
// args, so that args win; then the words of $PARALLEL that are not options,
// which start the command; then the rest of args.
func gnuCommandLine(args []string, parallelEnv string, specs []optionSpec) ([]string, error) {
	options, rest, err := normalizeArgs(args, specs)
	if err != nil || strings.TrimSpace(parallelEnv) == "" {
		return append(append(options, "--"), rest...), err
	}
	words, err := shell.Fields(parallelEnv, func(string) string { return "" })
	if err != nil {
		return nil, usagef("quote $PARALLEL's words as in a shell command line", "bad $PARALLEL %q: %v", parallelEnv, err)
	}
	envOptions, envRest, err := normalizeArgs(words, specs)
	if err != nil {
		return nil, fmt.Errorf("in $PARALLEL: %w", err)
	}
	line := append(envOptions, options...)
	line = append(line, "--")
	line = append(line, envRest...)
	return append(line, rest...), nil
}

// configParser reads a --config file: "name value" lines, where the name
// may have its dashes or not (--jobs 4, -j 4, jobs 4) and may carry its
// value after = (--jobs=4). A GNU Parallel option that concurr lacks is
// refused as on the command line.
func configParser(r io.Reader, set func(name, value string) error) error {
	return ff.PlainParser(r, func(name, value string) error {
		name = strings.TrimLeft(name, "-")
		if n, v, ok := strings.Cut(name, "="); ok && value == "true" {
			name, value = n, v
		}
		err := set(name, value)
		if err != nil && strings.Contains(err.Error(), "not defined") {
			if _, gnu := gnuOptionHint(name); gnu {
				return notSupported(name)
			}
		}
		return err
	})
}

func nodeNames(nodes []sched.Node) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return names
}

// run runs the planned jobs and writes out what output is still held.
func (p *runPlan) run(ctx context.Context) (sched.Summary, error) {
	var sum sched.Summary
	var err error
	if p.onAll {
		sum, err = runOnAll(ctx, p, p.stdout, p.stderr)
	} else {
		sum, err = sched.Run(ctx, p.cfg, p.nodes, p.source)
	}
	if ferr := p.cfg.Output.Flush(); ferr != nil && err == nil {
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

// stdoutClosed is the exit status of a run whose output could not be
// written because its reader had gone: a shell's for death by SIGPIPE, as
// GNU Parallel exits then.
const stdoutClosed = ExitStatus(128 + int(syscall.SIGPIPE))
