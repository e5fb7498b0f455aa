package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"concurr/bench"
)

// The Slurm workloads run on a three-node cluster on this machine
// (testdata/slurm/start-cluster.sh), inside one allocation of all three.
const (
	workloadSlurmStart = "slurm start, 3 nodes"
	workloadSlurmEcho  = "slurm echo {}, 3 nodes"
)

// The targets: the Slurm transport's issue sets the jobs/s one; the start's
// bound is the bench's own.
const (
	slurmEchoVsParallel = 100.0
	// slurmStartVsFloorTime bounds the start of three nodes against three
	// bare steps: concurr's step runs the bootstrap and the agent too.
	slurmStartVsFloorTime = 2.0
)

const slurmTimeout = 3 * time.Minute

// slurm is the allocation the workloads run in.
type slurm struct {
	env   []string // SLURM_CONF and the allocation's SLURM_JOB_ID
	nodes []string
	// concurrNotRun is why concurr -S srun:// cannot be measured, or "".
	concurrNotRun string
}

func (r *runner) runSlurm(ctx context.Context) {
	var selected []string
	for _, w := range []string{workloadSlurmStart, workloadSlurmEcho} {
		if r.selected(w) {
			selected = append(selected, w)
		}
	}
	if len(selected) == 0 {
		return
	}
	s, stop, err := r.startSlurm(ctx)
	if err != nil {
		for _, w := range selected {
			r.rows = append(r.rows, bench.Row{Workload: w, Tool: "all", Result: "not run: " + shorten(err.Error())})
		}
		return
	}
	defer stop()
	s.concurrNotRun = r.checkConcurrSlurm(ctx, s)
	if r.selected(workloadSlurmStart) {
		r.slurmStartWorkload(ctx, s)
	}
	if r.selected(workloadSlurmEcho) {
		r.slurmEchoWorkload(ctx, s)
	}
}

var grantedJob = regexp.MustCompile(`Granted job allocation (\d+)`)

// startSlurm starts the cluster and takes an allocation of its three nodes,
// with all their CPUs; stop gives it back and stops the cluster.
func (r *runner) startSlurm(ctx context.Context) (*slurm, func(), error) {
	if os.Geteuid() != 0 {
		return nil, nil, fmt.Errorf("the test cluster runs its daemons as root")
	}
	for _, cmd := range []string{"salloc", "srun", "scancel"} {
		if _, err := exec.LookPath(cmd); err != nil {
			return nil, nil, fmt.Errorf("no %s: apt-get install slurm-wlm munge", cmd)
		}
	}
	dir := filepath.Join(r.work, "slurm")
	script := filepath.Join(r.cfg.moduleDir, "testdata", "slurm", "start-cluster.sh")
	out, err := exec.CommandContext(ctx, script, dir).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("start the cluster: %v: %s", err, firstLines(nil, err))
	}
	s := &slurm{nodes: []string{"n1", "n2", "n3"}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		s.env = append(s.env, strings.TrimPrefix(line, "export "))
	}
	stopCluster := func() {
		exec.Command(filepath.Join(filepath.Dir(script), "stop-cluster.sh"), dir).Run()
	}
	alloc := exec.CommandContext(ctx, "salloc", "-N3", "--exclusive", "--no-shell", "--job-name=benchrun")
	alloc.Env = append(os.Environ(), s.env...)
	msg, err := alloc.CombinedOutput()
	m := grantedJob.FindSubmatch(msg)
	if err != nil || m == nil {
		stopCluster()
		return nil, nil, fmt.Errorf("salloc -N3: %v: %s", err, strings.TrimSpace(string(msg)))
	}
	job := string(m[1])
	s.env = append(s.env, "SLURM_JOB_ID="+job, "SLURM_JOB_NODELIST=n[1-3]")
	return s, func() {
		c := exec.Command("scancel", job)
		c.Env = append(os.Environ(), s.env...)
		c.Run()
		stopCluster()
	}, nil
}

// checkConcurrSlurm runs one job on one node, which also puts the agent in
// the nodes' cache, so that the start is measured cached.
func (r *runner) checkConcurrSlurm(ctx context.Context, s *slurm) string {
	if r.concurr == "" {
		return r.missing["concurr"]
	}
	sample, err := bench.Measure(ctx, bench.Command{
		Argv: []string{r.concurr, "-S", "srun://n[1-3]", "echo", ":::", "ok"}, Env: s.env, Timeout: time.Minute})
	if err != nil {
		return "`concurr -S srun://n[1-3] echo ::: ok` failed: " + err.Error()
	}
	if sample.Output.Lines != 1 {
		return fmt.Sprintf("`concurr -S srun://n[1-3] echo ::: ok` printed %d lines, want 1", sample.Output.Lines)
	}
	return ""
}

func (r *runner) slurmStartWorkload(ctx context.Context, s *slurm) {
	var parallelSteps []string
	for _, n := range s.nodes {
		parallelSteps = append(parallelSteps, "srun --overlap -N1 -n1 -w "+n+" true &")
	}
	floorScript := strings.Join(parallelSteps, " ") + " wait"
	cs := []contender{
		{tool: "concurr", role: subject, jobs: 3, check: noOutput, notRun: s.concurrNotRun,
			command: func(int) (bench.Command, error) {
				return bench.Command{Argv: []string{r.concurr, "-S", "1/srun://n[1-3]", "true", ":::", "1", "2", "3"}, Env: s.env, Timeout: time.Minute}, nil
			},
			target: fmt.Sprintf("time ≤ %.1f× 3 parallel srun true", slurmStartVsFloorTime),
			note:   "`concurr -S 1/srun://n[1-3] true ::: 1 2 3`, the agent cached: one step per node, each running the bootstrap and the agent, then one job each."},
		{tool: "3 × srun -w NODE true", role: floor, jobs: 3, check: noOutput,
			command: func(int) (bench.Command, error) {
				return bench.Command{Argv: []string{"sh", "-c", floorScript}, Env: s.env, Timeout: time.Minute}, nil
			},
			note: "floor: `srun --overlap -N1 -n1 -w NODE true` for n1, n2 and n3 at once."},
	}
	ms := r.measure(ctx, workloadSlurmStart, cs, max(r.cfg.reps, startReps))
	r.addRows(workloadSlurmStart, ms, func(m measured, row *bench.Row) {
		row.Result = floorVerdict(row, slurmStartVsFloorTime)
	})
}

func (r *runner) slurmEchoWorkload(ctx context.Context, s *slurm) {
	jobs := r.quickJobs(20000)
	withStdin := func(argv ...string) func(n int) (bench.Command, error) {
		return func(n int) (bench.Command, error) {
			c, err := r.stdinJobs(argv...)(n)
			c.Env, c.Timeout = s.env, slurmTimeout
			return c, err
		}
	}
	cs := []contender{
		{tool: "concurr", role: subject, jobs: jobs, check: linesEqualJobs, notRun: s.concurrNotRun,
			command: withStdin(r.concurr, "-S", "srun://n[1-3]", "echo {}"),
			target:  fmt.Sprintf("≥ %.0f× GNU Parallel", slurmEchoVsParallel),
			note:    "`concurr -S srun://n[1-3] 'echo {}'`: one step per node for the whole run."},
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: jobs, scale: true, probe: 20, check: linesEqualJobs,
			command: withStdin(r.parallel, "--will-cite", "srun -N1 -n1 --overlap echo {}"),
			note:    "GNU Parallel `parallel 'srun -N1 -n1 --overlap echo {}'`, one step per job, as sites see it done."}),
	}
	ms := r.measure(ctx, workloadSlurmEcho, cs, r.cfg.reps)
	r.addRows(workloadSlurmEcho, ms, func(m measured, row *bench.Row) {
		if row.VsParallel == 0 {
			row.Result = "not judged: GNU Parallel did not run"
			return
		}
		row.Result = verdict(row.VsParallel >= slurmEchoVsParallel)
	})
}
