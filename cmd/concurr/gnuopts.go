package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"sync"

	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/sched"
	"concurr/internal/template"
	"concurr/parse"
)

// planLines applies -L and -l: N logical lines per job, where a line that
// ends in a blank goes on with the next. As in GNU Parallel, they set the
// number of values per job only when -N or -n does not; it returns that
// number, or -1 for none set.
func planLines(o *options, in *parse.InputOptions, maxArgs int) (int, error) {
	lines := 0
	switch {
	case o.maxLinesCtx != "":
		n, err := strconv.Atoi(o.maxLinesCtx)
		if err != nil || n < 0 {
			return 0, usagef("use -L N with N a number of lines, as in -L 2", "bad -L value %q", o.maxLinesCtx)
		}
		lines = max(n, 1)
	case o.maxLines.set:
		// -l alone, and -l 0, mean one line.
		lines = max(o.maxLines.count, 1)
	default:
		return maxArgs, nil
	}
	in.JoinLines = true
	if maxArgs < 0 {
		maxArgs = lines
	}
	return maxArgs, nil
}

// planNodeLimits checks --memfree, --load and --nice, which every node's
// agent applies to the jobs it starts.
func planNodeLimits(o *options, cfg *sched.Config, stdout, stderr io.Writer, say *messages) error {
	if o.limit != "" {
		cfg.Limit = limitCommand(o.limit, stdout, stderr, say)
	}
	var err error
	if cfg.MemFree, err = parse.ParseSize(o.memFree); err != nil {
		return usagef("write a size such as 500M, 2G or 1.5G", "bad --memfree value %q: %v", o.memFree, err)
	}
	if _, err := parse.ParseLoad(o.load); err != nil {
		return usagef("", "bad --load value %q: %v", o.load, err)
	}
	cfg.MaxLoad = o.load
	if o.nice < -20 || o.nice > 19 {
		return usagef("niceness goes from -20 (most favourable) to 19", "bad --nice value %d", o.nice)
	}
	cfg.Nice = o.nice
	cfg.Terminal = o.terminalJobs()
	return nil
}

// colorReset ends each coloured line, as GNU Parallel writes it where
// tput has no terminal to ask.
const colorReset = "\033[m"

// applyColorSpellings makes --ctag a coloured --tag, and --ctagstring a
// coloured --tagstring, as GNU Parallel has them.
func applyColorSpellings(o *options) {
	o.tag = o.tag || o.ctag
	if o.tagString == "" {
		o.tagString = o.ctagString
	}
	o.color = o.color || o.ctag || o.ctagString != ""
}

// colorLineEnd is output.Options.LineEnd for --color.
func colorLineEnd(o *options) []byte {
	if o.color || o.ctag || o.ctagString != "" {
		return []byte(colorReset)
	}
	return nil
}

// planTagExtras adds to the tag what a job's start decides: its colour
// (--color, --ctag), chosen by its number as GNU Parallel chooses it, and
// its slot for a --tagstring with {%}.
func (p *runPlan) planTagExtras(o *options, mode output.Mode) error {
	if p.tagText != nil && p.tagText.UsesSlot() {
		if mode != output.Group {
			return usagef("leave out -u and --line-buffer, or {%} from the tag", "--tagstring with {%%} needs grouped output: a job's slot is known only once it has started")
		}
		text := p.tagText
		p.cfg.SlotTag = func(args []string, seq, slot, slots uint64, host string) []byte {
			return []byte(text.Expand(template.Job{Seq: seq, Slot: slot, Slots: slots, Host: host, Args: args}) + "\t")
		}
	}
	if !o.color {
		return nil
	}
	colors := gnuColors()
	colored := func(seq uint64, tag []byte) []byte {
		c := colors[seq%uint64(len(colors))]
		return append([]byte(c+"\033[K"), tag...)
	}
	if base := p.cfg.Tag; base != nil {
		p.cfg.Tag = func(args []string, seq uint64, host string) []byte { return colored(seq, base(args, seq, host)) }
	} else {
		p.cfg.Tag = func(_ []string, seq uint64, _ string) []byte { return colored(seq, nil) }
	}
	if base := p.cfg.SlotTag; base != nil {
		p.cfg.SlotTag = func(args []string, seq, slot, slots uint64, host string) []byte {
			return colored(seq, base(args, seq, slot, slots, host))
		}
	}
	return nil
}

// gnuColors are GNU Parallel's --color codes, in its order: readable
// pairs of black or white text on a coloured background, ordered so that
// neighbours differ. They are made on first use, not at every start of the
// binary, agents' included.
var gnuColors = sync.OnceValue(func() []string {
	type pair struct{ bg, fg int }
	var pairs []pair
	add := func(fg int, ranges ...[2]int) {
		for _, r := range ranges {
			for c := r[0]; c <= r[1]; c++ {
				pairs = append(pairs, pair{c, fg})
			}
		}
	}
	add(0, [2]int{6, 7}, [2]int{9, 11}, [2]int{13, 15}, [2]int{40, 51}, [2]int{75, 87}, [2]int{113, 123},
		[2]int{147, 159}, [2]int{171, 182}, [2]int{185, 231}, [2]int{249, 254})
	add(231, [2]int{1, 9}, [2]int{12, 13}, [2]int{16, 45}, [2]int{52, 81}, [2]int{88, 114}, [2]int{124, 149},
		[2]int{160, 178}, [2]int{180, 180}, [2]int{182, 184}, [2]int{196, 214}, [2]int{232, 250})
	order := make([]int, len(pairs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := order[a], order[b]
		if x%23 != y%23 {
			return x%23 < y%23
		}
		return x%7 > y%7
	})
	colors := make([]string, len(order))
	for i, k := range order {
		colors[i] = fmt.Sprintf("\033[48;5;%03d;38;5;%03dm", pairs[k].bg, pairs[k].fg)
	}
	return colors
})

// planRetryFailed makes the run of --retry-failed: as in GNU Parallel,
// the command line's template and inputs are ignored, and job N runs the
// command the job log recorded for job N. The jobs the log shows as
// succeeded are skipped (planJobControl), keeping their numbers.
func (p *runPlan) planRetryFailed(o *options, say *messages) error {
	entries, err := joblog.Read(o.jobLog, say.warning)
	if err != nil {
		return err
	}
	var last uint64
	for seq := range entries {
		last = max(last, seq)
	}
	jobs := make([][]string, last)
	for seq := uint64(1); seq <= last; seq++ {
		// A number missing from the log has no command: it runs nothing.
		jobs[seq-1] = []string{entries[seq].Command}
	}
	p.source = &sliceSource{jobs: jobs}
	p.cfg.Template, err = compileTemplate(o, nil, nil, 0)
	return err
}

// limitCommand is --limit: the command runs on this machine before each
// job starts, with SSHLOGIN naming the host the job would go to, in the
// user's shell as GNU Parallel runs it. Its exit status is the answer: 0
// start the job, 1 wait, 2 wait and kill the youngest job on the host,
// which runs again later. A command that cannot be run at all holds nothing back: the
// warning says why.
func limitCommand(command string, stdout, stderr io.Writer, say *messages) func(ctx context.Context, host string) int {
	shell := os.Getenv("PARALLEL_SHELL")
	if shell == "" {
		shell = os.Getenv("SHELL")
	}
	if shell == "" {
		shell = "/bin/sh"
	}
	var warnOnce sync.Once
	return func(ctx context.Context, host string) int {
		cmd := exec.CommandContext(ctx, shell, "-c", command)
		cmd.Env = append(os.Environ(), "SSHLOGIN="+host)
		cmd.Stdout, cmd.Stderr = stdout, stderr
		err := cmd.Run()
		if exit, ok := errors.AsType[*exec.ExitError](err); ok {
			return exit.ExitCode()
		}
		if err != nil && ctx.Err() == nil {
			warnOnce.Do(func() { say.warning(fmt.Errorf("--limit: %w", err)) })
		}
		return 0
	}
}

// planLimitNodes sends nothing ahead to nodes under --limit, so that each
// job is sent, and so asked about, just before it starts.
func (p *runPlan) planLimitNodes() {
	if p.cfg.Limit == nil {
		return
	}
	for i := range p.nodes {
		p.nodes[i].Prefetch = 0
	}
}
