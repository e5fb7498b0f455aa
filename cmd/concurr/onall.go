package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"concurr/internal/output"
	"concurr/internal/sched"
)

// runOnAll runs every job on every node (--onall, --nonall): one run per
// node, side by side, each printing into spools of its own, which are then
// written out node by node in the order the hosts were given.
func runOnAll(ctx context.Context, p *runPlan, stdout, stderr io.Writer) (sched.Summary, error) {
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
		stdout, stderr *output.Spool
	}
	results := make([]nodeResult, len(p.nodes))
	if err := checkSpoolFolder(p.outputOptions.TempDir); err != nil {
		return sched.Summary{}, err
	}
	var wg sync.WaitGroup
	for i, n := range p.nodes {
		res := &results[i]
		res.stdout = output.NewSpool(p.outputOptions.TempDir, onAllSpoolMemory)
		defer res.stdout.Close()
		res.stderr = output.NewSpool(p.outputOptions.TempDir, onAllSpoolMemory)
		defer res.stderr.Close()
		cfg := p.cfg
		cfg.Output = output.New(res.stdout, res.stderr, p.outputOptions)
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
		if _, err := res.stdout.WriteTo(stdout); err != nil {
			return total, fmt.Errorf("write output: %w", err)
		}
		if _, err := res.stderr.WriteTo(stderr); err != nil {
			return total, fmt.Errorf("write output: %w", err)
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

// onAllSpoolMemory is how much of one stream of one node's output is held
// in memory before it spills to a file. Spilling from the first byte would
// cost two descriptors a node, as many as its connection and more, and run
// a thousand-host --nonall out of them; held in memory, the usual few lines
// a node prints cost nothing, and a node that prints much costs its files.
const onAllSpoolMemory = 32 << 10

// checkSpoolFolder makes sure the folder for spilled output can take a
// file before any job runs, rather than when a node first prints much.
func checkSpoolFolder(dir string) error {
	s := output.NewSpool(dir, 0)
	defer s.Close()
	if err := s.Spill(); err != nil {
		return fmt.Errorf("temporary file: %w", err)
	}
	return nil
}
