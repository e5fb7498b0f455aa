package main

import (
	"strconv"

	"concurr/internal/sched"
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
func planNodeLimits(o *options, cfg *sched.Config) error {
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
	return nil
}
