// Package srun reaches a node of the Slurm allocation this process runs in
// with one job step: `srun --overlap -N1 -n1 -w NODE /bin/sh`, whose stdio
// is a shell on the node. The run keeps that one step for all its jobs, so
// that the controller sees one step creation per node, not one per job.
//
// The step must see every CPU the allocation holds on its node, since the
// agent counts the CPUs it may run on to choose its slots, and the jobs run
// inside the step's limits. Three things would shrink it:
//   - --exact, given directly, by SLURM_EXACT, or implied by
//     --cpus-per-task (which srun reads from SRUN_CPUS_PER_TASK, and older
//     Slurm from SLURM_CPUS_PER_TASK, both set by `salloc -c N`), limits
//     the step to what it asks for: one CPU. The step's environment drops
//     them, so that it takes, as a step does by default, all the job's
//     CPUs on the node.
//   - Without --overlap, the step holds those CPUs for itself, and every
//     other step of the job (another node's, or the user's own srun) waits
//     or is refused. --overlap lets them share.
//   - task/affinity binds each task to the CPUs of its share: for one task
//     of one CPU, one CPU. --cpu-bind=none leaves the binding to the cgroup
//     of the step, which holds all the job's CPUs there.
//
// Without --unbuffered, slurmstepd holds a task's output until a newline,
// which the agent's binary frames may not contain for seconds: a result
// would wait for the next one. --unbuffered gives the task a pseudo
// terminal for stdout in raw mode, which passes every byte through as it
// comes (stdin stays a pipe).
package srun

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"concurr/internal/hint"
)

// shrinkingVars are the variables that would make the step smaller than
// the job's share of the node (see the package comment), or give it more
// than one task.
var shrinkingVars = []string{
	"SLURM_EXACT", "SRUN_CPUS_PER_TASK", "SLURM_CPUS_PER_TASK", "SLURM_TRES_PER_TASK",
	"SLURM_NTASKS_PER_NODE", "SLURM_NTASKS_PER_CORE", "SLURM_NTASKS_PER_SOCKET", "SLURM_NTASKS_PER_GPU",
	"SLURM_CPUS_PER_GPU",
}

// ErrNoAllocation is the error of Command outside a Slurm job.
var ErrNoAllocation = hint.New(errors.New("not inside a Slurm allocation: SLURM_JOB_ID is unset"),
	"run concurr inside salloc or sbatch, or set SLURM_JOB_ID to the job whose nodes to use")

// Command returns the command that reaches node as a step of the job this
// process runs in, and the environment to run it with, from environ
// (os.Environ()). Outside a job it returns ErrNoAllocation rather than let
// srun ask for a new allocation and wait in the queue for it.
func Command(node string, environ []string) (argv, env []string, err error) {
	job := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "SLURM_JOB_ID="); ok && v != "" {
			job = v
		} else if v, ok := strings.CutPrefix(kv, "SLURM_JOBID="); ok && v != "" && job == "" {
			job = v
		}
	}
	if job == "" {
		return nil, nil, ErrNoAllocation
	}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !isShrinking(name) {
			env = append(env, kv)
		}
	}
	argv = []string{"srun", "--jobid=" + job, "--overlap", "--nodes=1", "--ntasks=1", "--nodelist=" + node,
		"--cpu-bind=none", "--mpi=none", "--unbuffered", "--job-name=concurr", "/bin/sh"}
	return argv, env, nil
}

func isShrinking(name string) bool {
	for _, v := range shrinkingVars {
		if name == v {
			return true
		}
	}
	return false
}

// bindingWarning is what srun says of --cpu-bind=none on a cluster whose
// task plugin does not bind (task/none): true, and beside the point, since
// nothing is then bound anyway.
const bindingWarning = "srun: cluster configuration lacks support for cpu binding"

// Stderr returns a writer that passes srun's stderr on to w without the
// warning that --cpu-bind=none brings on clusters that do not bind. srun
// writes it in one piece at the step's start, so a whole line in a write
// is all there is to look for; everything else passes at once.
func Stderr(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	return stderrFilter{w}
}

type stderrFilter struct{ w io.Writer }

func (f stderrFilter) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte(bindingWarning)) {
		return f.w.Write(p)
	}
	var kept []byte
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if string(bytes.TrimRight(line, "\r\n")) != bindingWarning {
			kept = append(kept, line...)
		}
	}
	if len(kept) > 0 {
		if _, err := f.w.Write(kept); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
