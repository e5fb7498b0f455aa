package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"mvdan.cc/sh/v3/interp"

	"concurr/internal/cpus"
	"concurr/parse"
)

// limits are --memfree and --load as this node applies them: a slot that
// is about to start a job waits while the node has too little memory
// available or too many processes running. GNU Parallel measures both on
// the machine it runs on, even for remote hosts; the agent measures the
// node its jobs run on.
type limits struct {
	memFree uint64  // bytes available at least; 0 for no limit
	maxLoad float64 // running processes at most (exclusive); 0 for no limit
	root    string  // where /proc and /sys are: "/" but in tests
	poll    time.Duration

	// mu lets one slot at a time look and start, so that each start is
	// measured after the one before it took its share.
	mu sync.Mutex
}

// newLimits checks that this node can measure what the command asks for.
// Where it cannot, the command is refused with a reason, rather than
// running its jobs unchecked.
func newLimits(memFree uint64, maxLoad string, root string) (*limits, error) {
	load, err := parse.ParseLoad(maxLoad)
	if err != nil {
		return nil, fmt.Errorf("--load %q: %v", maxLoad, err)
	}
	if memFree == 0 && load.Max == 0 {
		return nil, nil
	}
	l := &limits{memFree: memFree, maxLoad: load.Of(cpus.Usable()), root: root, poll: 200 * time.Millisecond}
	if _, err := l.measure(); err != nil {
		return nil, err
	}
	return l, nil
}

// measurement is what a check found.
type measurement struct {
	available uint64 // bytes of memory available to new jobs
	running   int    // processes running now, the agent's check not counted
}

// measure reads the node's memory and load. Only Linux has the files;
// elsewhere it says so.
func (l *limits) measure() (measurement, error) {
	var m measurement
	if runtime.GOOS != "linux" && l.root == "/" {
		return m, fmt.Errorf("--memfree and --load cannot be measured on %s: this node has no /proc", runtime.GOOS)
	}
	var err error
	if l.memFree > 0 {
		if m.available, err = memAvailable(l.root); err != nil {
			return m, fmt.Errorf("--memfree: %w", err)
		}
	}
	if l.maxLoad > 0 {
		if m.running, err = runningProcesses(l.root); err != nil {
			return m, fmt.Errorf("--load: %w", err)
		}
	}
	return m, nil
}

// tooBusy says why the node takes no new job now, or "" when it may.
func (l *limits) tooBusy(m measurement) string {
	switch {
	case l.memFree > 0 && m.available < l.memFree:
		return fmt.Sprintf("%d bytes of memory available, --memfree asks for %d", m.available, l.memFree)
	case l.maxLoad > 0 && float64(m.running) >= l.maxLoad:
		return fmt.Sprintf("%d processes running, --load allows fewer than %g", m.running, l.maxLoad)
	}
	return ""
}

// wait returns once the node may start a job, or with an error when
// ctx ends or gone reports that the job is no longer wanted. While it
// holds back it says why, once, after a while, so that a long wait is not
// taken for a hang.
func (l *limits) wait(ctx context.Context, gone func() bool, logf func(string, ...any)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	told := false
	for {
		m, err := l.measure()
		if err != nil {
			return err
		}
		why := l.tooBusy(m)
		if why == "" {
			return nil
		}
		if !told && time.Since(start) > 10*time.Second {
			logf("holding back jobs: %s", why)
			told = true
		}
		if gone() {
			return nil // the slot finds the job killed and reports it
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.poll):
		}
	}
}

// memAvailable is the memory a new job can have: MemAvailable from
// /proc/meminfo, or less when the agent's memory cgroup (v2 or v1), or one
// of its ancestors, has a limit closer to its usage.
func memAvailable(root string) (uint64, error) {
	data, err := os.ReadFile(filepath.Join(root, "proc/meminfo"))
	if err != nil {
		return 0, err
	}
	avail, ok := meminfoField(data, "MemAvailable:")
	if !ok {
		// Kernels before 3.14 have no MemAvailable: take what GNU
		// Parallel's --limit mem adds up.
		free, ok1 := meminfoField(data, "MemFree:")
		buffers, _ := meminfoField(data, "Buffers:")
		cached, _ := meminfoField(data, "Cached:")
		if !ok1 {
			return 0, fmt.Errorf("no MemAvailable or MemFree in /proc/meminfo")
		}
		avail = free + buffers + cached
	}
	if room, ok := cgroupRoom(root); ok && room < avail {
		avail = room
	}
	return avail, nil
}

// meminfoField reads one "Name: N kB" line, in bytes.
func meminfoField(data []byte, name string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0, false
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, false
		}
		if len(fields) > 1 && strings.EqualFold(fields[1], "kB") {
			v *= 1024
		}
		return v, true
	}
	return 0, false
}

// cgroupRoom is the tightest limit minus usage over the agent's memory
// cgroup and its ancestors, and whether any has a limit.
func cgroupRoom(root string) (uint64, bool) {
	data, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return 0, false
	}
	best, found := uint64(math.MaxUint64), false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 3)
		if len(fields) != 3 {
			continue
		}
		var mount, limitFile, usageFile string
		switch {
		case fields[0] == "0" && fields[1] == "":
			mount, limitFile, usageFile = "sys/fs/cgroup", "memory.max", "memory.current"
		case hasMemoryController(fields[1]):
			mount, limitFile, usageFile = "sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes"
		default:
			continue
		}
		cg := path.Clean("/" + fields[2])
		if _, err := os.Stat(filepath.Join(root, mount, cg)); err != nil {
			cg = "/"
		}
		for {
			dir := filepath.Join(root, mount, cg)
			limit, ok1 := readCount(filepath.Join(dir, limitFile))
			usage, ok2 := readCount(filepath.Join(dir, usageFile))
			if ok1 && ok2 {
				room := uint64(0)
				if limit > usage {
					room = limit - usage
				}
				if room < best {
					best, found = room, true
				}
			}
			if cg == "/" {
				break
			}
			cg = path.Dir(cg)
		}
	}
	return best, found
}

func hasMemoryController(list string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == "memory" {
			return true
		}
	}
	return false
}

// readCount reads a cgroup file holding one number; "max", and v1's
// near-2^63 "no limit", read as no number.
func readCount(file string) (uint64, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || v >= 1<<62 {
		return 0, false
	}
	return v, true
}

// runningProcesses is the number of processes running or ready to run
// now, as GNU Parallel's --load counts them (not the averaged load): the
// fourth field of /proc/loadavg, less the agent's own thread reading it.
func runningProcesses(root string) (int, error) {
	data, err := os.ReadFile(filepath.Join(root, "proc/loadavg"))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(data))
	if len(fields) < 4 {
		return 0, fmt.Errorf("unexpected /proc/loadavg %q", data)
	}
	running, _, ok := strings.Cut(fields[3], "/")
	n, err := strconv.Atoi(running)
	if !ok || err != nil {
		return 0, fmt.Errorf("unexpected /proc/loadavg %q", data)
	}
	return max(n-1, 0), nil
}

// niceMiddleware runs every external command of a job through nice(1) at
// the niceness --nice asks for, so that the whole job, pipelines and
// subshells included, runs niced, as GNU Parallel's --nice has it. A
// command that is not found is left to the next handler, which says so as
// a shell does.
func niceMiddleware(niceness int64, nicePath string) func(interp.ExecHandlerFunc) interp.ExecHandlerFunc {
	n := strconv.FormatInt(niceness, 10)
	return func(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
		return func(ctx context.Context, args []string) error {
			hc := interp.HandlerCtx(ctx)
			file, err := interp.LookPathDir(hc.Dir, hc.Env, args[0])
			if err != nil {
				return next(ctx, args)
			}
			return next(ctx, append([]string{nicePath, "-n", n, file}, args[1:]...))
		}
	}
}

// findNice finds nice(1) for --nice, refusing the command where the node
// has none rather than running its jobs at the wrong priority.
func findNice(niceness int64) (string, error) {
	if niceness == 0 {
		return "", nil
	}
	p, err := exec.LookPath("nice")
	if err != nil {
		return "", fmt.Errorf("--nice %d: this node has no nice command: %w", niceness, err)
	}
	return p, nil
}
