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

// The targets, as the "Performance" and "Scale and speed" issues set them.
const (
	echoVsParallel  = 50.0
	echoVsRush      = 10.0
	echoJobsPerSec  = 100_000.0
	trueVsFloorTime = 1.10 // against the C fork/exec floor
	sleepVsFloor    = 1.03 // against fork/exec of the system's sleep
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
			target:  fmt.Sprintf("≥ %.0f× GNU Parallel, ≥ %.0f× rush, ≥ %.0f jobs/s", echoVsParallel, echoVsRush, echoJobsPerSec)}),
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
		fast := rate >= echoJobsPerSec
		cpu := bench.Median(m.cpu).Seconds()
		row.Note = joinNotes(row.Note, fmt.Sprintf("%.0f jobs/s on %d CPUs; client and its local agent (a child process) together used %.2f s of CPU, %.1f µs a job (%.0f jobs per CPU-second).",
			rate, r.nproc, cpu, cpu*1e6/float64(m.jobs), float64(m.jobs)/cpu))
		switch {
		case rates["GNU Parallel"] == 0:
			row.Result = "not judged: GNU Parallel did not run"
		case rates["rush"] == 0:
			row.Result = verdict(rate >= echoVsParallel*rates["GNU Parallel"] && fast) + " (GNU Parallel and jobs/s only: rush did not run)"
		default:
			row.Result = verdict(rate >= echoVsParallel*rates["GNU Parallel"] && rate >= echoVsRush*rates["rush"] && fast)
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
		r.toolContender("C forkfloor", r.cforkfloor, contender{role: floor, jobs: jobs, check: noOutput,
			command: func(n int) (bench.Command, error) {
				return bench.Command{Argv: []string{r.cforkfloor, "-n", strconv.Itoa(n), "-p", procs}, Timeout: localTimeout}, nil
			},
			note: fmt.Sprintf("floor: C forkfloor -p %s (bench/cforkfloor): posix_spawn and waitpid of /bin/true N with the caller's environment, from %s threads, nothing else.", procs, procs)}),
		r.toolContender("forkfloor", r.forkfloor, contender{role: peer, jobs: jobs, check: noOutput,
			command: func(n int) (bench.Command, error) {
				return bench.Command{Argv: []string{r.forkfloor, "-n", strconv.Itoa(n), "-p", procs}, Timeout: localTimeout}, nil
			},
			note: fmt.Sprintf("forkfloor -p %s: the same from Go, syscall.ForkExec and wait4; for scale, no target.", procs)}),
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
	floorArgv := func(n int) (bench.Command, error) {
		return bench.Command{Argv: []string{r.cforkfloor, "-n", strconv.Itoa(n), "-p", strconv.Itoa(slots), "-path", "/bin/sleep", "-arg", "0.05"}, Timeout: localTimeout}, nil
	}
	cs := []contender{
		r.toolContender("concurr", r.concurr, contender{role: subject, jobs: jobs, check: noOutput,
			command: r.stdinJobs(r.concurr, "-j8", job),
			target:  fmt.Sprintf("time ≤ %.2f× floor", sleepVsFloor),
			note:    "each job forks and execs the system's sleep."}),
		r.toolContender("C forkfloor", r.cforkfloor, contender{role: floor, jobs: jobs, check: noOutput, command: floorArgv,
			note: "floor: C forkfloor -p 8 -path /bin/sleep -arg 0.05 (bench/cforkfloor): posix_spawn and waitpid of the system's sleep, from 8 threads, nothing else."}),
		{tool: "ideal", role: peer, jobs: jobs, computed: ideal,
			note: fmt.Sprintf("ideal: %d jobs / 8 slots × 0.05 s, computed, not measured; for scale, no target.", jobs)},
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: jobs, check: noOutput,
			command: r.stdinJobs(r.parallel, "--will-cite", "-j8", job)}),
	}
	ms := r.measure(ctx, workloadSleep, cs, r.cfg.reps)
	r.addRows(workloadSleep, ms, func(m measured, row *bench.Row) {
		row.Result = floorVerdict(row, sleepVsFloor)
	})
}
