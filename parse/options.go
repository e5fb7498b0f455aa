package parse

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The grammar of option values that are more than a number or a string:
// -j, --halt, --timeout and the seconds of --delay and --sshdelay, as GNU
// Parallel writes them. Errors say what was wanted; the caller names the
// option.

// Jobs is a -j value: how many jobs a node runs at once, given its cores.
type Jobs struct {
	kind    jobsKind
	fixed   int     // N
	percent float64 // N% of the cores
	delta   int     // +N or -N cores
}

type jobsKind byte

const (
	jobsPerCore jobsKind = iota // no value: one job per core
	jobsFixed
	jobsPercent
	jobsDelta
)

// ParseJobs parses -j: N, N% of the cores, or +N or -N cores. An empty value
// is one job per core; 0 is GNU Parallel's "as many as possible".
func ParseJobs(s string) (Jobs, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Jobs{}, nil
	case strings.HasSuffix(s, "%"):
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return Jobs{}, errors.New("want a positive percentage of the cores")
		}
		return Jobs{kind: jobsPercent, percent: f}, nil
	case s[0] == '+' || s[0] == '-':
		n, err := strconv.Atoi(s)
		if err != nil {
			return Jobs{}, errors.New("want +N or -N cores")
		}
		return Jobs{kind: jobsDelta, delta: n}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Jobs{}, errors.New("want a number of jobs")
	}
	if n == 0 {
		n = 256
	}
	return Jobs{kind: jobsFixed, fixed: n}, nil
}

// Slots applies the value to a node's core count. A node always runs at
// least one job.
func (j Jobs) Slots(cores int) int {
	switch j.kind {
	case jobsFixed:
		return j.fixed
	case jobsPercent:
		return max(1, int(math.Ceil(float64(cores)*j.percent/100-1e-9)))
	case jobsDelta:
		return max(1, cores+j.delta)
	}
	return max(1, cores)
}

// HaltOn says which jobs count towards --halt.
type HaltOn int

// The halt conditions.
const (
	HaltNever HaltOn = iota
	HaltOnFail
	HaltOnSuccess
	HaltOnDone
)

// Halt is a --halt value. The scheduler has a policy type of its own; this
// is what the user wrote, so that the grammar needs no scheduler.
type Halt struct {
	On      HaltOn
	Now     bool    // now: kill running jobs; soon: let them finish
	Count   int     // halt after this many jobs; 0 when Percent is used
	Percent float64 // halt after this share of all jobs, 0–100
}

// ParseHalt parses --halt: never, now|soon,fail|success|done=N|N%, or GNU
// Parallel's older 0, 1 and 2.
func ParseHalt(s string) (Halt, error) {
	switch s {
	case "", "never", "0":
		return Halt{}, nil
	case "1":
		return Halt{On: HaltOnFail, Count: 1}, nil
	case "2":
		return Halt{On: HaltOnFail, Now: true, Count: 1}, nil
	}
	when, cond, ok := strings.Cut(s, ",")
	if !ok {
		return Halt{}, errors.New("want when,condition")
	}
	var h Halt
	switch when {
	case "now":
		h.Now = true
	case "soon":
	default:
		return Halt{}, fmt.Errorf("%q is neither now nor soon", when)
	}
	what, count, ok := strings.Cut(cond, "=")
	if !ok {
		return Halt{}, errors.New("want a condition such as fail=1")
	}
	switch what {
	case "fail":
		h.On = HaltOnFail
	case "success":
		h.On = HaltOnSuccess
	case "done":
		h.On = HaltOnDone
	default:
		return Halt{}, fmt.Errorf("%q is not fail, success or done", what)
	}
	if p, ok := strings.CutSuffix(count, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || f > 100 {
			return Halt{}, errors.New("want a percentage above 0 and at most 100")
		}
		h.Percent = f
		return h, nil
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 {
		return Halt{}, errors.New("want a count of at least 1")
	}
	h.Count = n
	return h, nil
}

// ParseTimeout parses --timeout: seconds (fractions allowed), a duration
// such as 1m30s, or a percentage of the median runtime. It returns either
// the time or the percentage; both are 0 for an empty value.
func ParseTimeout(s string) (d time.Duration, percent float64, err error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			return 0, 0, errors.New("want a positive percentage")
		}
		return 0, f, nil
	}
	d, err = ParseSeconds(s)
	if err == nil && d == 0 && s != "" {
		return 0, 0, errors.New("want a positive time")
	}
	return d, 0, err
}

// ParseSeconds parses seconds with fractions, or a Go duration. An empty
// value is 0.
func ParseSeconds(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e9 {
			return 0, errors.New("want a positive number of seconds")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("want seconds, as in 2.5, or a duration, as in 1m30s")
	}
	return d, nil
}
