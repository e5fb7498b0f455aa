// Command benchrun is what `make bench` runs: it installs the peers that are
// missing (GNU Parallel, rush, xargs), builds concurr and the fork/exec floor
// into a temporary folder, runs each workload with every tool interleaved
// (A B C A B C …) for several repetitions, and writes the medians, the
// ratios against GNU Parallel and against the floor, and whether each target
// was met to a Markdown file (BENCHMARKS.md by default) and to stdout.
//
// Tools that would take far longer than the others run fewer jobs, chosen by
// a probe run to fit a time budget, so compare jobs/s, not seconds. A tool or
// workload that cannot run is reported as "not run: <reason>", never given a
// number.
//
//	go run ./bench/cmd/benchrun [-out BENCHMARKS.md] [-reps 3] [-only REGEXP] [-quick]
//
// With -serve-hosts N it runs no workload: it starts the scale workload's
// loopback sshd with N host aliases, prints the shell variables that reach
// them (CONFIG, HOSTS, HOME) and waits for Ctrl-C, for profiling a run by
// hand (perf record -a, CONCURR_DEBUG=trace:DIR).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"concurr/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: error: %v\n", err)
		os.Exit(1)
	}
}

// config is benchrun's command line.
type config struct {
	out        string
	reps       int
	budget     time.Duration
	concurr    string
	toolsDir   string
	moduleDir  string
	install    bool
	remote     bool
	quick      bool
	only       *regexp.Regexp
	streamJobs int
	scaleHosts []int
	// transferBigMB is the size of the big file of the transfer workload.
	transferBigMB int
	// serveHosts, when set, is the number of loopback hosts to serve by
	// hand instead of running workloads.
	serveHosts int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.out, "out", "BENCHMARKS.md", "write the results table to this file")
	fs.IntVar(&c.reps, "reps", 5, "timed runs of each tool on each workload; the median is reported")
	fs.DurationVar(&c.budget, "budget", 5*time.Second, "a slower peer runs as many jobs as fit in this time per run")
	fs.StringVar(&c.concurr, "concurr", "", "benchmark this concurr binary instead of building ./cmd/concurr")
	fs.StringVar(&c.toolsDir, "tools", defaultToolsDir(), "where peers built from source (rush) are installed")
	fs.StringVar(&c.moduleDir, "module", ".", "the concurr module's root folder")
	fs.BoolVar(&c.install, "install", true, "install missing peers (apt-get for GNU Parallel and findutils, go install for rush)")
	fs.BoolVar(&c.remote, "remote", true, "run the SSH workloads on a loopback sshd")
	fs.BoolVar(&c.quick, "quick", false, "small job counts and one repetition, to check the harness; numbers are not comparable")
	fs.IntVar(&c.streamJobs, "stream-jobs", 10_000_000, "jobs of the streaming memory workload, lowered to fit the time budget")
	fs.IntVar(&c.transferBigMB, "transfer-big-mb", 1024, "size in MiB of the transfer workload's big file (lower it when the disk is short)")
	fs.IntVar(&c.serveHosts, "serve-hosts", 0, "run no workload: serve this many loopback sshd hosts, print how to reach them, and wait for Ctrl-C")
	scaleHosts := fs.String("scale-hosts", "16,64,256,1000", "host counts of the scale workload; up to 256 are real sshd logins")
	only := fs.String("only", "", "run only the workloads whose name matches this regular expression")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.reps < 1 {
		return c, errors.New("-reps must be at least 1")
	}
	for _, f := range strings.Split(*scaleHosts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return c, fmt.Errorf("-scale-hosts: bad host count %q", f)
		}
		c.scaleHosts = append(c.scaleHosts, n)
	}
	re, err := regexp.Compile(*only)
	if err != nil {
		return c, fmt.Errorf("-only: %w", err)
	}
	c.only = re
	if c.quick {
		c.reps = 1
		c.budget = time.Second
	}
	return c, nil
}

func defaultToolsDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return dir + "/concurr-bench"
	}
	return os.TempDir() + "/concurr-bench"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "concurr-bench-")
	if err != nil {
		return fmt.Errorf("work folder: %w", err)
	}
	defer os.RemoveAll(work)
	if cfg.serveHosts > 0 {
		return serveHosts(ctx, work, cfg.serveHosts, stdout)
	}

	started := time.Now()
	r := &runner{cfg: cfg, work: work, log: stderr, nproc: runtime.NumCPU(), inputs: map[int]string{}}
	r.loadStart = loadAverage()
	tools := r.setUp(ctx)
	r.runLocal(ctx)
	r.runRemote(ctx)
	r.runUpload(ctx)
	r.runSlurm(ctx)
	r.runMemory(ctx)
	r.runScale(ctx)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted, no table written: %w", err)
	}

	machine := bench.DescribeMachine(started)
	machine.Tools = tools
	preamble := []string{
		fmt.Sprintf("This machine is shared with other work, so it is noisy: load average %s at the start, %s at the end, and absolute times vary from run to run by a third or more. Every ratio compares tools measured in the same run, interleaved (A B C A B C …), each number the median of %d runs (runs of one workload take turns, so load hits all tools alike).", r.loadStart, loadAverage(), cfg.reps),
		fmt.Sprintf("A peer that would take much longer than %v per run ran fewer jobs, as many as a probe run showed fit in that time: compare jobs/s, not seconds. \"vs GNU Parallel\" and \"vs floor\" divide this row's jobs/s by theirs on the same workload. Peak RSS is the tool's own (wait4's ru_maxrss, which also covers the largest child it waited for), in MB of 10⁶ bytes. The floors: fork/exec of /bin/true and of the system's sleep by a minimal C program (bench/cforkfloor, posix_spawn and waitpid; bench/cmd/forkfloor does the same from Go, for scale), the scale workload's bare x/crypto/ssh logins, `xargs` over one shared SSH ControlMaster connection, a bare `ssh host true`, and 64 parallel golang.org/x/crypto/ssh connect-and-exec-true. Total time of this run: %s.", cfg.budget, time.Since(started).Round(time.Second)),
	}
	if cfg.only.String() != "" {
		preamble = append(preamble, fmt.Sprintf("**This run measured only the workloads matching `-only %s`**; the last figures of the others are in this file's history.", cfg.only))
	}
	if cfg.quick {
		preamble = append(preamble, "**-quick run: small job counts, one repetition; these numbers only check the harness.**")
	}
	var table strings.Builder
	if err := bench.WriteMarkdown(&table, machine, preamble, r.rows); err != nil {
		return err
	}
	for _, section := range r.sections {
		table.WriteString("\n" + section)
	}
	fmt.Fprint(stdout, table.String())
	if err := os.WriteFile(cfg.out, []byte(table.String()), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	fmt.Fprintf(stderr, "benchrun: wrote %s\n", cfg.out)
	return nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
