package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"concurr/bench"
)

// Workload names, as -only matches them.
const (
	workloadPipe       = "local --pipe wc -l, 250 MB"
	workloadPipePart   = "local --pipepart wc -l, 250 MB"
	workloadPipeRemote = "remote --pipe wc -l, 250 MB, 2 hosts"
)

// The targets, as the --pipe issue sets them.
const (
	pipeVsParallel        = 3.0
	pipePartVsFloorTime   = 1.3
	pipeRemoteBytesPerSec = 200e6
)

// pipeBytes is the size of the --pipe workloads' input.
const pipeBytes = 250 << 20

// pipeInput returns the --pipe workloads' input file, written once: lines
// of varying length, about 250 MB.
func (r *runner) pipeInput() (path string, size int64, err error) {
	path = filepath.Join(r.work, "pipe-input")
	if fi, err := os.Stat(path); err == nil {
		return path, fi.Size(), nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", 0, fmt.Errorf("write the --pipe input: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	want := int64(pipeBytes)
	if r.cfg.quick {
		want /= 20
	}
	pad := strings.Repeat("abcdefghij", 8)
	for i := 1; size < want; i++ {
		line := strconv.Itoa(i) + " " + pad[:i%len(pad)] + "\n"
		w.WriteString(line)
		size += int64(len(line))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", 0, fmt.Errorf("write the --pipe input: %w", err)
	}
	return path, size, f.Close()
}

// someLines checks that the blocks' jobs printed their counts.
func someLines(_ int, out bench.Output) error {
	if out.Lines == 0 {
		return fmt.Errorf("no output")
	}
	return nil
}

func (r *runner) runPipe(ctx context.Context) {
	if !r.selected(workloadPipe) && !r.selected(workloadPipePart) {
		return
	}
	in, size, err := r.pipeInput()
	if err != nil {
		r.rows = append(r.rows, bench.Row{Workload: workloadPipe, Tool: "all", Result: "not run: " + shorten(err.Error())})
		return
	}
	cmd := func(stdin string, argv ...string) func(int) (bench.Command, error) {
		return func(int) (bench.Command, error) {
			return bench.Command{Argv: argv, StdinFile: stdin, Timeout: localTimeout}, nil
		}
	}
	mb := float64(size) / 1e6
	floor := contender{tool: "cat FILE | wc -l", role: floor, jobs: 1, check: someLines,
		command: cmd("", "sh", "-c", `cat "$1" | wc -l`, "sh", in),
		note:    fmt.Sprintf("floor: the whole %.0f MB file through one pipe to one wc -l.", mb)}
	rate := func(m measured) string {
		if len(m.samples) == 0 {
			return ""
		}
		return fmt.Sprintf("%.0f MB/s.", mb/m.median().Seconds())
	}
	if r.selected(workloadPipe) {
		cs := []contender{
			r.toolContender("concurr", r.concurr, contender{role: subject, jobs: 1, check: someLines,
				command: cmd(in, r.concurr, "--pipe", "--block", "10M", "wc -l"),
				target:  fmt.Sprintf("≥ %.0f× GNU Parallel --pipe", pipeVsParallel)}),
			r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: 1, check: someLines,
				command: cmd(in, r.parallel, "--will-cite", "--pipe", "--block", "10M", "wc -l"),
				note:    "GNU Parallel --pipe --block 10M wc -l."}),
			floor,
		}
		ms := r.measure(ctx, workloadPipe, cs, r.cfg.reps)
		r.addRows(workloadPipe, ms, func(m measured, row *bench.Row) {
			row.Note = joinNotes(row.Note, rate(m))
			if row.VsParallel == 0 {
				row.Result = "not judged: GNU Parallel did not run"
				return
			}
			row.Result = verdict(row.VsParallel >= pipeVsParallel)
		})
	}
	if r.selected(workloadPipePart) {
		cs := []contender{
			r.toolContender("concurr", r.concurr, contender{role: subject, jobs: 1, check: someLines,
				command: cmd("", r.concurr, "--pipepart", "-a", in, "--block", "10M", "wc -l"),
				target:  fmt.Sprintf("time ≤ %.1f× floor", pipePartVsFloorTime)}),
			r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: 1, check: someLines,
				command: cmd("", r.parallel, "--will-cite", "--pipepart", "-a", in, "--block", "10M", "wc -l"),
				note:    "GNU Parallel --pipepart -a FILE --block 10M wc -l."}),
			floor,
		}
		ms := r.measure(ctx, workloadPipePart, cs, r.cfg.reps)
		r.addRows(workloadPipePart, ms, func(m measured, row *bench.Row) {
			row.Note = joinNotes(row.Note, rate(m))
			row.Result = floorVerdict(row, pipePartVsFloorTime)
		})
	}
}

func (r *runner) remotePipeWorkload(ctx context.Context, rm *remote) {
	in, size, err := r.pipeInput()
	if err != nil {
		r.rows = append(r.rows, bench.Row{Workload: workloadPipeRemote, Tool: "all", Result: "not run: " + shorten(err.Error())})
		return
	}
	hosts := strings.Join(rm.d.Aliases[:2], ",")
	cmd := func(argv ...string) func(int) (bench.Command, error) {
		return func(int) (bench.Command, error) {
			return bench.Command{Argv: argv, StdinFile: in, Env: rm.env, Timeout: remoteTimeout}, nil
		}
	}
	mb := float64(size) / 1e6
	cs := []contender{
		rm.concurrContender(contender{role: subject, jobs: 1, check: someLines,
			command: cmd(r.concurr, "-F", rm.d.Config, "-S", hosts, "--pipe", "--block", "10M", "wc -l"),
			target:  fmt.Sprintf("≥ %.0f MB/s", pipeRemoteBytesPerSec/1e6),
			note:    fmt.Sprintf("`concurr -S %s --pipe --block 10M wc -l` < the %.0f MB file.", hosts, mb)}),
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: 1, check: someLines,
			command: cmd(r.parallel, "--will-cite", "--ssh", "ssh -F "+rm.d.Config, "-S", hosts, "--pipe", "--block", "10M", "wc -l"),
			note:    "GNU Parallel --ssh 'ssh -F CONFIG' -S " + hosts + " --pipe --block 10M wc -l."}),
	}
	ms := r.measure(ctx, workloadPipeRemote, cs, r.cfg.reps)
	r.addRows(workloadPipeRemote, ms, func(m measured, row *bench.Row) {
		rate := float64(size) / m.median().Seconds()
		row.Note = joinNotes(row.Note, fmt.Sprintf("%.0f MB/s.", rate/1e6))
		row.Result = verdict(rate >= pipeRemoteBytesPerSec)
	})
}
