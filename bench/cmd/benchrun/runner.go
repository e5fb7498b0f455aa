package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"concurr/bench"
)

// runner holds what every workload needs: the tools found or built, the
// input files, and the rows measured so far.
type runner struct {
	cfg       config
	work      string
	log       io.Writer
	nproc     int
	loadStart string

	concurr   string // path, or "" when concurr could not be built or does not work
	forkfloor string
	// cforkfloor is the C fork/exec floor (bench/cforkfloor).
	cforkfloor string
	// gotrue is a Go binary that does nothing (bench/cmd/gotrue), built as
	// concurr is: the floor for starting any Go binary on a node.
	gotrue   string
	parallel string
	rush     string
	xargs    string
	// missing says why a tool's path is "".
	missing map[string]string

	inputs map[int]string // job count → file holding the lines 1…n
	rows   []bench.Row
	// sections are Markdown written after the table, such as the scale
	// workload's own table.
	sections []string
}

// role is what a tool is to a workload.
type role int

const (
	subject      role = iota // concurr: the row with the target
	peer                     // another tool doing the same jobs
	floor                    // the least time any tool could take
	peerParallel             // GNU Parallel, the peer every ratio is taken against
)

// contender is one tool's way of running a workload.
type contender struct {
	tool string
	role role
	// jobs is how many jobs the workload has; a scaled contender may run
	// fewer, as many as fit in the budget.
	jobs  int
	scale bool
	// probe is how many jobs the budget probe runs (default 200).
	probe int
	// command returns the command line that runs n jobs. Exactly one of
	// command, inProcess and computed is set.
	command func(n int) (bench.Command, error)
	// inProcess measures a floor that benchrun itself performs.
	inProcess func(ctx context.Context) (bench.Sample, error)
	// computed is a floor that is known, not measured.
	computed time.Duration
	// check validates one run's output for n jobs; nil accepts anything.
	check func(n int, out bench.Output) error
	// before prepares each timed run, such as clearing a cache.
	before func() error
	// warm runs the command once, untimed, before the repetitions.
	warm bool
	// notRun, when set, is why this contender is reported without numbers.
	notRun string
	note   string
	target string
}

// measured is a contender's outcome.
type measured struct {
	c       contender
	jobs    int
	samples []time.Duration
	cpu     []time.Duration // user and system time of each sample's run
	peakRSS int64
	err     error
}

func (m measured) median() time.Duration { return bench.Median(m.samples) }

func (m measured) jobsPerSecond() float64 {
	if len(m.samples) == 0 || m.err != nil {
		return 0
	}
	return float64(m.jobs) / m.median().Seconds()
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "benchrun: "+format+"\n", args...)
}

func (r *runner) selected(workload string) bool { return r.cfg.only.MatchString(workload) }

// measure runs the contenders of one workload: budget probes first, then
// reps rounds in which every contender runs once, in order.
func (r *runner) measure(ctx context.Context, workload string, cs []contender, reps int) []measured {
	ms := make([]measured, len(cs))
	for i, c := range cs {
		ms[i] = measured{c: c, jobs: c.jobs}
		if c.notRun != "" {
			ms[i].err = fmt.Errorf("%s", c.notRun)
		}
	}
	for i := range ms {
		m := &ms[i]
		if m.err != nil || ctx.Err() != nil {
			continue
		}
		if m.c.scale {
			probe := m.c.probe
			if probe == 0 {
				probe = 200
			}
			probe = min(probe, m.jobs)
			s, err := r.once(ctx, m.c, probe)
			if err != nil {
				m.err = fmt.Errorf("probe run: %w", err)
				continue
			}
			m.jobs = bench.JobsWithin(r.cfg.budget, probe, s.Elapsed, m.c.jobs)
			r.logf("%s: %s: probe of %d jobs took %.2fs, will run %d jobs", workload, m.c.tool, probe, s.Elapsed.Seconds(), m.jobs)
		}
		if m.c.warm {
			if _, err := r.once(ctx, m.c, m.jobs); err != nil {
				m.err = fmt.Errorf("warm-up run: %w", err)
			}
		}
	}
	for rep := 1; rep <= reps; rep++ {
		for i := range ms {
			m := &ms[i]
			if m.err != nil || ctx.Err() != nil {
				continue
			}
			if m.c.computed > 0 {
				m.samples = append(m.samples, m.c.computed)
				continue
			}
			s, err := r.once(ctx, m.c, m.jobs)
			if err != nil {
				m.err = err
				r.logf("%s: %s: %v", workload, m.c.tool, err)
				continue
			}
			m.samples = append(m.samples, s.Elapsed)
			m.cpu = append(m.cpu, s.CPU)
			m.peakRSS = max(m.peakRSS, s.MaxRSS)
			r.logf("%s: %s: run %d/%d: %d jobs in %.3fs (peak RSS %.1f MB)", workload, m.c.tool, rep, reps, m.jobs, s.Elapsed.Seconds(), float64(s.MaxRSS)/(1<<20))
		}
	}
	return ms
}

// once runs contender c with n jobs and checks its output.
func (r *runner) once(ctx context.Context, c contender, n int) (bench.Sample, error) {
	if c.before != nil {
		if err := c.before(); err != nil {
			return bench.Sample{}, fmt.Errorf("prepare: %w", err)
		}
	}
	if c.inProcess != nil {
		return c.inProcess(ctx)
	}
	cmd, err := c.command(n)
	if err != nil {
		return bench.Sample{}, err
	}
	s, err := bench.Measure(ctx, cmd)
	if err != nil {
		return s, err
	}
	if c.check != nil {
		if err := c.check(n, s.Output); err != nil {
			return s, fmt.Errorf("wrong output: %w", err)
		}
	}
	return s, nil
}

// addRows turns measurements into table rows with their ratios; judge sets
// the target and result of each subject row.
func (r *runner) addRows(workload string, ms []measured, judge func(m measured, row *bench.Row)) {
	var parallelRate, floorRate float64
	for _, m := range ms {
		switch m.c.role {
		case peerParallel:
			parallelRate = m.jobsPerSecond()
		case floor:
			floorRate = m.jobsPerSecond()
		}
	}
	for _, m := range ms {
		row := bench.Row{Workload: workload, Tool: m.c.tool, Jobs: m.jobs, Target: m.c.target, Note: m.c.note}
		if m.err != nil {
			row.Result = "not run: " + shorten(m.err.Error())
			row.Jobs = 0
			r.rows = append(r.rows, row)
			continue
		}
		row.Median, row.Reps, row.PeakRSS = m.median(), len(m.samples), m.peakRSS
		if rate := m.jobsPerSecond(); rate > 0 {
			if parallelRate > 0 {
				row.VsParallel = rate / parallelRate
			}
			if floorRate > 0 {
				row.VsFloor = rate / floorRate
			}
		}
		if m.jobs < m.c.jobs {
			row.Note = joinNotes(row.Note, fmt.Sprintf("%s ran %d of the workload's %d jobs, what fits in about %v per run.", m.c.tool, m.jobs, m.c.jobs, r.cfg.budget))
		}
		if m.c.role == subject && judge != nil {
			judge(m, &row)
		}
		r.rows = append(r.rows, row)
	}
}

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// shorten keeps a reason readable in a table cell.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	return s
}

// verdict is "met" or "missed".
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// floorVerdict judges a row whose target is a time within maxTimeVsFloor
// times the floor's, that is jobs/s at least 1/maxTimeVsFloor of the floor's.
func floorVerdict(row *bench.Row, maxTimeVsFloor float64) string {
	if row.VsFloor == 0 {
		return "not judged: the floor did not run"
	}
	return verdict(row.VsFloor >= 1/maxTimeVsFloor)
}

// inputFile returns a file holding the lines 1…n, written once.
func (r *runner) inputFile(n int) (string, error) {
	if p, ok := r.inputs[n]; ok {
		return p, nil
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	p := fmt.Sprintf("%s/seq-%d", r.work, n)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write inputs: %w", err)
	}
	r.inputs[n] = p
	return p, nil
}

// linesEqualJobs checks that every job printed exactly one line.
func linesEqualJobs(n int, out bench.Output) error {
	if out.Lines != int64(n) {
		return fmt.Errorf("%d lines for %d jobs", out.Lines, n)
	}
	return nil
}

// noOutput checks that jobs that print nothing printed nothing.
func noOutput(n int, out bench.Output) error {
	if out.Bytes != 0 {
		return fmt.Errorf("%d bytes of output from jobs that print nothing", out.Bytes)
	}
	return nil
}
