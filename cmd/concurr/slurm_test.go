package main

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slurmCluster is a three-node Slurm cluster on this machine, n1 to n3,
// started by testdata/slurm/start-cluster.sh in a folder of the test's.
type slurmCluster struct {
	env []string // SLURM_CONF for the client commands
}

// startSlurm starts the cluster, or skips the test: it needs CONCURR_E2E=1,
// root, and slurm-wlm and munge installed.
func startSlurm(t *testing.T) *slurmCluster {
	t.Helper()
	if os.Getenv("CONCURR_E2E") != "1" {
		t.Skip("set CONCURR_E2E=1 to run the tests against a Slurm cluster (make e2e)")
	}
	for _, cmd := range []string{"salloc", "srun", "squeue", "scancel"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("no %s: apt-get install slurm-wlm munge", cmd)
		}
	}
	if _, err := exec.LookPath("slurmctld"); err != nil {
		if _, err := os.Stat("/usr/sbin/slurmctld"); err != nil {
			t.Skip("no slurmctld: apt-get install slurm-wlm munge")
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("the test cluster runs its daemons as root")
	}
	dir := t.TempDir()
	// munged wants the folders above its key to be closed to others.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../../testdata/slurm/start-cluster.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, dir)
	cmd.Env = append(os.Environ(), "CONCURR_SLURM_PORT="+strconv.Itoa(freePortRange(t)))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("start the cluster: %v\n%s", err, exitStderr(err))
	}
	t.Cleanup(func() {
		exec.Command(filepath.Join(filepath.Dir(script), "stop-cluster.sh"), dir).Run()
	})
	c := &slurmCluster{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		c.env = append(c.env, strings.TrimPrefix(line, "export "))
	}
	return c
}

func exitStderr(err error) string {
	if e, ok := err.(*exec.ExitError); ok {
		return string(e.Stderr)
	}
	return ""
}

// freePortRange finds a base port whose +1..+3 (the slurmds) and +17, +18
// (slurmctld, and slurmd's default) are free.
func freePortRange(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.N(30000)
		free := true
		for _, off := range []int{1, 2, 3, 17, 18} {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+off))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free ports for the cluster")
	return 0
}

// salloc runs script with sh inside `salloc -N3`, in dir, with concurr on
// PATH (testscript.Main put it there) and the cluster's configuration.
func (c *slurmCluster) salloc(t *testing.T, dir, script string) *concurrRun {
	t.Helper()
	if _, err := exec.LookPath("concurr"); err != nil {
		t.Fatalf("concurr is not in $PATH, which testscript.Main sets up: %v", err)
	}
	cmd := exec.Command("salloc", "-N3", "--job-name=concurr-e2e", "sh", "-c", script)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONCURR_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "SLURM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, c.env...)
	r := &concurrRun{t: t, cmd: cmd, stdout: &timedBuffer{}, stderr: &timedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.stdout, r.stderr
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-r.done
	})
	return r
}

func (c *slurmCluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), c.env...)
	return cmd
}

// steps lists the steps of job that run now, as squeue prints them.
func (c *slurmCluster) steps(t *testing.T, job string) []string {
	out, err := c.command("squeue", "--steps", "-h", "-j", job, "-o", "%i %N").Output()
	if err != nil {
		t.Logf("squeue: %v %s", err, exitStderr(err))
		return nil
	}
	return strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(out)), " ", "@"))
}

func readTrimmed(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// TestSlurmE2E runs concurr inside a three-node allocation of a real Slurm
// cluster.
func TestSlurmE2E(t *testing.T) {
	c := startSlurm(t)

	t.Run("scheduler hosts over srun, one step per node", func(t *testing.T) {
		dir := t.TempDir()
		// The next step's id, after the run, counts the steps it made.
		r := c.salloc(t, dir, `concurr --scheduler-hosts -k 'sleep 0.1; echo {} $SLURMD_NODENAME {host}' ::: $(seq 60) && `+
			`srun --overlap -N1 -n1 -w n1 sh -c 'echo next step $SLURM_STEP_ID'`)
		if status := r.wait(2 * time.Minute); status != 0 {
			t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, r.stdout, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout.String()), "\n")
		if len(lines) != 61 || lines[60] != "next step 3" {
			t.Fatalf("want 60 jobs and then step 3 (one step per node), got:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
		nodes := map[string]int{}
		for i, line := range lines[:60] {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != strconv.Itoa(i+1) || "srun://"+f[1] != f[2] {
				t.Fatalf("line %d: %q, want %d NODE srun://NODE", i+1, line, i+1)
			}
			nodes[f[1]]++
		}
		if len(nodes) != 3 {
			t.Errorf("jobs ran on %v, want n1, n2 and n3", nodes)
		}
		if strings.Contains(r.stderr.String(), "concurr:") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})

	t.Run("a step killed mid-run, its jobs requeued", func(t *testing.T) {
		dir := t.TempDir()
		r := c.salloc(t, dir, `echo $SLURM_JOB_ID > job; `+
			`concurr --joblog log -S 2/srun://n[1-3] 'sleep 0.3; echo {} $SLURMD_NODENAME' ::: $(seq 60)`)
		var job string
		if !waitFor(time.Minute, func() bool {
			job = readTrimmed(filepath.Join(dir, "job"))
			return job != "" && len(c.steps(t, job)) == 3 && strings.Count(r.stdout.String(), "\n") >= 6
		}) {
			t.Fatalf("the run did not get going: stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
		steps := c.steps(t, job)
		victim, node, _ := strings.Cut(steps[0], "@")
		if out, err := c.command("scancel", victim).CombinedOutput(); err != nil {
			t.Fatalf("scancel %s: %v %s", victim, err, out)
		}
		if status := r.wait(2 * time.Minute); status != 0 {
			t.Fatalf("status %d\nstderr:\n%s", status, r.stderr)
		}
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(r.stdout.String()), "\n") {
			num, _, _ := strings.Cut(line, " ")
			if seen[num] {
				t.Errorf("job %s printed twice", num)
			}
			seen[num] = true
		}
		if len(seen) != 60 {
			t.Errorf("%d jobs printed, want 60:\n%s", len(seen), r.stdout)
		}
		if want := "srun://" + node + ": lost the agent"; !strings.Contains(r.stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
		log := readJobLog(t, filepath.Join(dir, "log"))
		checkOncePerSeq(t, log, 60)
	})

	t.Run("interrupt leaves no step", func(t *testing.T) {
		dir := t.TempDir()
		mark := uniqueSleep(t)
		// After concurr, the steps left are listed, once they have had up to
		// ten seconds to end: srun has exited when concurr does, but
		// slurmstepd and the controller take a moment to clean up after it.
		r := c.salloc(t, dir, `echo $SLURM_JOB_ID > job; `+
			`concurr -S srun://n[1-3] 'sleep `+mark+`' ::: 1 2 3 4 5 6 & echo $! > pid; wait; `+
			`for i in $(seq 50); do [ -z "$(squeue --steps -h -j $SLURM_JOB_ID)" ] && break; sleep 0.2; done; `+
			`squeue --steps -h -j $SLURM_JOB_ID > left; echo done`)
		var pid int
		if !waitFor(time.Minute, func() bool {
			pid, _ = strconv.Atoi(readTrimmed(filepath.Join(dir, "pid")))
			return pid > 0 && waitForProcesses(mark, 6, 0) >= 6
		}) {
			t.Fatalf("the jobs did not start: stderr:\n%s\nprocesses: %s", r.stderr, listProcesses(mark))
		}
		if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if status := r.wait(time.Minute); status != 0 {
			t.Fatalf("salloc status %d\nstderr:\n%s", status, r.stderr)
		}
		if left := readTrimmed(filepath.Join(dir, "left")); left != "" {
			t.Errorf("steps left after the interrupt:\n%s\nstderr:\n%s", left, r.stderr)
		}
		if n := waitForProcesses(mark, 0, 5*time.Second); n != 0 {
			t.Errorf("%d jobs left: %s", n, listProcesses(mark))
		}
		if !strings.Contains(r.stdout.String(), "done") {
			t.Errorf("stdout: %s", r.stdout)
		}
	})
}
