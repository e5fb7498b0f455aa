// Command forkfloor is the fork/exec floor of the local benchmarks: it runs
// `/bin/true ARG` for ARG = 1…N with P workers, each a bare fork/exec
// (syscall.ForkExec, which uses vfork-style clone on Linux) and wait4, with
// the caller's environment and no shell, no pipes and no output handling. No tool that starts one
// process per job can beat it, so tools are compared against its time.
//
//	forkfloor -n 5000 -p 2 [-path /bin/true] [-arg ARG]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "forkfloor: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("forkfloor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jobs := fs.Int("n", 1000, "number of processes to run")
	workers := fs.Int("p", runtime.NumCPU(), "processes at once")
	path := fs.String("path", "/bin/true", "program to run, with the job number as its argument")
	arg := fs.String("arg", "", "pass this argument instead of the job number (-path /bin/sleep -arg 0.05)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *jobs < 0 || *workers < 1 {
		return fmt.Errorf("need -n ≥ 0 and -p ≥ 1, got -n %d -p %d", *jobs, *workers)
	}
	failed, err := forkExecAll(*path, *arg, *jobs, *workers)
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d runs of %s failed", failed, *jobs, *path)
	}
	return nil
}

// forkExecAll runs path jobs times, workers at once, with arg or else the
// job number as its argument, and returns how many runs exited non-zero.
func forkExecAll(path, arg string, jobs, workers int) (failed int64, err error) {
	var next atomic.Int64
	var failures atomic.Int64
	errs := make([]error, workers)
	// The children inherit stdin, stdout, stderr and the environment, as a
	// job of any tool must: an empty environment would be leaner still, but
	// it also spares /bin/true loading the locale that LANG names, which no
	// real tool may do.
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(jobs) {
					return
				}
				argv := []string{path, arg}
				if arg == "" {
					argv[1] = strconv.FormatInt(i, 10)
				}
				pid, err := syscall.ForkExec(path, argv, attr)
				if err != nil {
					errs[w] = fmt.Errorf("fork/exec %s: %w", path, err)
					return
				}
				var status syscall.WaitStatus
				for {
					_, err = syscall.Wait4(pid, &status, 0, nil)
					if !errors.Is(err, syscall.EINTR) {
						break
					}
				}
				if err != nil {
					errs[w] = fmt.Errorf("wait for %s: %w", path, err)
					return
				}
				if !status.Exited() || status.ExitStatus() != 0 {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return failures.Load(), errors.Join(errs...)
}
