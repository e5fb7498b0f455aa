package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"concurr/bench"
)

// Workload names, as -only matches them.
const (
	workloadEcho  = "local echo {}"
	workloadTrue  = "local /bin/true {}"
	workloadSleep = "local sleep 0.05 -j8"
)

// The targets, as the "Performance" issue sets them.
const (
	echoVsParallel  = 50.0
	echoVsRush      = 10.0
	trueVsFloorTime = 1.15
	sleepVsIdeal    = 1.03
)

// localTimeout bounds one run of a local workload.
const localTimeout = 3 * time.Minute

func (r *runner) runLocal(ctx context.Context) {
	if r.selected(workloadEcho) {
		r.echoWorkload(ctx)
	}
	if r.selected(workloadTrue) {
		r.trueWorkload(ctx)
	}
	if r.selected(workloadSleep) {
		r.sleepWorkload(ctx)
	}
	r.runPipe(ctx)
}

// stdinJobs runs argv with the lines 1…n on stdin.
func (r *runner) stdinJobs(argv ...string) func(n int) (bench.Command, error) {
	return func(n int) (bench.Command, error) {
		in, err := r.inputFile(n)
		if err != nil {
			return bench.Command{}, err
		}
		return bench.Command{Argv: argv, StdinFile: in, Timeout: localTimeout}, nil
	}
}

// toolContender is a contender whose tool may be missing.
// Its label is the tool's display name (see label).
func (r *runner) toolContender(name, path string, c contender) contender {
	c.tool = label(name)
	if path == "" {
		c.notRun = r.missing[name]
		if c.notRun == "" {
			c.notRun = name + " is not available"
		}
	}
	return c
}

// label is how the table names a tool.
func label(name string) string {
	if name == "parallel" {
		return "GNU Parallel"
	}
	return name
}

func (r *runner) quickJobs(n int) int {
	if r.cfg.quick {
		return max(1, n/20)
	}
	return n
}

func (r *runner) echoWorkload(ctx context.Context) {
	jobs := r.quickJobs(20000)
	procs := strconv.Itoa(r.nproc)
	cs := []contender{
		r.toolContender("concurr", r.concurr, contender{role: subject, jobs: jobs, check: linesEqualJobs,
			command: r.stdinJobs(r.concurr, "echo {}"),
			target:  fmt.Sprintf("≥ %.0f× GNU Parallel, ≥ %.0f× rush", echoVsParallel, echoVsRush)}),
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: jobs, scale: true, check: linesEqualJobs,
			command: r.stdinJobs(r.parallel, "--will-cite", "echo {}")}),
		r.toolContender("rush", r.rush, contender{role: peer, jobs: jobs, scale: true, check: linesEqualJobs,
			command: r.stdinJobs(r.rush, "echo {}")}),
		r.toolContender("xargs", r.xargs, contender{role: peer, jobs: jobs, scale: true, check: linesEqualJobs,
			command: r.stdinJobs(r.xargs, "-P", procs, "-n1", "sh", "-c", `echo "$1"`, "sh"),
			note:    "xargs -P" + procs + " -n1 sh -c 'echo \"$1\"': one shell per job, for scale; no target."}),
	}
	ms := r.measure(ctx, workloadEcho, cs, r.cfg.reps)
	rates := map[string]float64{}
	for _, m := range ms {
		rates[m.c.tool] = m.jobsPerSecond()
	}
	r.addRows(workloadEcho, ms, func(m measured, row *bench.Row) {
		rate := m.jobsPerSecond()
		switch {
		case rates["GNU Parallel"] == 0:
			row.Result = "not judged: GNU Parallel did not run"
		case rates["rush"] == 0:
			row.Result = verdict(rate >= echoVsParallel*rates["GNU Parallel"]) + " (GNU Parallel only: rush did not run)"
		default:
			row.Result = verdict(rate >= echoVsParallel*rates["GNU Parallel"] && rate >= echoVsRush*rates["rush"])
			row.Note = joinNotes(row.Note, fmt.Sprintf("concurr vs rush: %.1f×.", rate/rates["rush"]))
		}
	})
}

func (r *runner) trueWorkload(ctx context.Context) {
	jobs := r.quickJobs(5000)
	procs := strconv.Itoa(r.nproc)
	cs := []contender{
		r.toolContender("concurr", r.concurr, contender{role: subject, jobs: jobs, check: noOutput,
			command: r.stdinJobs(r.concurr, "/bin/true {}"),
			target:  fmt.Sprintf("time ≤ %.2f× floor (jobs/s ≥ %.2f× floor)", trueVsFloorTime, 1/trueVsFloorTime)}),
		r.toolContender("forkfloor", r.forkfloor, contender{role: floor, jobs: jobs, check: noOutput,
			command: func(n int) (bench.Command, error) {
				return bench.Command{Argv: []string{r.forkfloor, "-n", strconv.Itoa(n), "-p", procs}, Timeout: localTimeout}, nil
			},
			note: fmt.Sprintf("forkfloor -p %s: syscall.ForkExec and wait4 of /bin/true N with the caller's environment, %s at once, nothing else.", procs, procs)}),
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: jobs, scale: true, check: noOutput,
			command: r.stdinJobs(r.parallel, "--will-cite", "/bin/true {}")}),
		r.toolContender("rush", r.rush, contender{role: peer, jobs: jobs, scale: true, check: noOutput,
			command: r.stdinJobs(r.rush, "/bin/true {}")}),
		r.toolContender("xargs", r.xargs, contender{role: peer, jobs: jobs, scale: true, check: noOutput,
			command: r.stdinJobs(r.xargs, "-P", procs, "-n1", "/bin/true"),
			note:    "xargs -P" + procs + " -n1 /bin/true."}),
	}
	ms := r.measure(ctx, workloadTrue, cs, r.cfg.reps)
	r.addRows(workloadTrue, ms, func(m measured, row *bench.Row) {
		row.Result = floorVerdict(row, trueVsFloorTime)
	})
}

func (r *runner) sleepWorkload(ctx context.Context) {
	const slots = 8
	jobs := r.quickJobs(200)
	// Each job sleeps; ": {}" uses the argument so that no tool appends it
	// to sleep's arguments.
	const job = "sleep 0.05; : {}"
	ideal := time.Duration(float64((jobs+slots-1)/slots) * float64(50*time.Millisecond))
	cs := []contender{
		r.toolContender("concurr", r.concurr, contender{role: subject, jobs: jobs, check: noOutput,
			command: r.stdinJobs(r.concurr, "-j8", job),
			target:  fmt.Sprintf("≤ %.2f× ideal %.2f s", sleepVsIdeal, ideal.Seconds()),
			note:    "each job forks and execs the system's sleep (compare with forkfloor below)."}),
		{tool: "ideal", role: floor, jobs: jobs, computed: ideal,
			note: fmt.Sprintf("ideal: %d jobs / 8 slots × 0.05 s, computed, not measured.", jobs)},
		r.toolContender("forkfloor", r.forkfloor, contender{role: peer, jobs: jobs, check: noOutput,
			command: func(n int) (bench.Command, error) {
				return bench.Command{Argv: []string{r.forkfloor, "-n", strconv.Itoa(n), "-p", strconv.Itoa(slots), "-path", "/bin/sleep", "-arg", "0.05"}, Timeout: localTimeout}, nil
			},
			note: "forkfloor -p 8 -path /bin/sleep -arg 0.05: what bare fork/exec of sleep reaches on this machine now; for scale, no target."}),
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: jobs, check: noOutput,
			command: r.stdinJobs(r.parallel, "--will-cite", "-j8", job)}),
	}
	ms := r.measure(ctx, workloadSleep, cs, r.cfg.reps)
	r.addRows(workloadSleep, ms, func(m measured, row *bench.Row) {
		row.Result = verdict(m.median().Seconds() <= sleepVsIdeal*ideal.Seconds())
	})
}
