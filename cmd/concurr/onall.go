package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"concurr/internal/output"
	"concurr/internal/sched"
)

// runOnAll runs every job on every node (--onall, --nonall): one run per
// node, side by side, each printing into its own spill files, which are then
// copied out node by node in the order the hosts were given.
func runOnAll(ctx context.Context, p *runPlan, outOpts output.Options, stdout, stderr io.Writer) (sched.Summary, error) {
	var jobs [][]string
	for {
		args, err := p.source.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sched.Summary{}, fmt.Errorf("read input: %w", err)
		}
		jobs = append(jobs, args)
	}
	type nodeResult struct {
		sum            sched.Summary
		err            error
		stdout, stderr *os.File
	}
	results := make([]nodeResult, len(p.nodes))
	var wg sync.WaitGroup
	for i, n := range p.nodes {
		res := &results[i]
		var err error
		if res.stdout, err = spillFile(outOpts.TempDir); err != nil {
			return sched.Summary{}, err
		}
		defer res.stdout.Close()
		if res.stderr, err = spillFile(outOpts.TempDir); err != nil {
			return sched.Summary{}, err
		}
		defer res.stderr.Close()
		cfg := p.cfg
		cfg.Output = output.New(res.stdout, res.stderr, outOpts)
		if p.tagHost {
			// --tag with --onall names the host, as GNU Parallel does.
			cfg.Tag = func([]string, uint64, string) []byte { return []byte(n.Name + "\t") }
		}
		wg.Go(func() {
			res.sum, res.err = sched.Run(ctx, cfg, []sched.Node{n}, &sliceSource{jobs: jobs})
			if err := cfg.Output.Flush(); err != nil && res.err == nil {
				res.err = err
			}
		})
	}
	wg.Wait()
	var total sched.Summary
	var errs []error
	for _, res := range results {
		for _, pair := range [][2]any{{res.stdout, stdout}, {res.stderr, stderr}} {
			f, w := pair[0].(*os.File), pair[1].(io.Writer)
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return total, err
			}
			if _, err := io.Copy(w, f); err != nil {
				return total, fmt.Errorf("write output: %w", err)
			}
		}
		total.Jobs += res.sum.Jobs
		if res.sum.Failed > 0 {
			// GNU Parallel counts the hosts where something failed.
			total.Failed++
		}
		if res.sum.Halted && !total.Halted {
			total.Halted, total.HaltExit = true, res.sum.HaltExit
		}
		if res.err != nil && !errors.Is(res.err, sched.ErrNoNodes) {
			errs = append(errs, res.err)
		}
		if errors.Is(res.err, sched.ErrNoNodes) {
			total.Failed++ // an unreachable host failed all its jobs
		}
	}
	return total, errors.Join(errs...)
}

func spillFile(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "concurr-onall-*")
	if err != nil {
		return nil, fmt.Errorf("temporary file: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}
