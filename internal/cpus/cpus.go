// Package cpus owns the question of how many CPUs this process may use: the
// CPUs its affinity mask allows, further limited by a cgroup CPU quota, as in
// a container started with --cpus.
package cpus

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Usable returns the number of CPUs this process may use: the affinity mask
// (runtime.NumCPU honours sched_getaffinity) limited by the cgroup v2
// cpu.max or cgroup v1 cpu.cfs_quota_us of this process's cgroup and its
// ancestors, rounded up. It is at least 1.
func Usable() int { return usable("/", runtime.NumCPU()) }

// usable computes Usable against a file system rooted at root, so that tests
// can lay out fake /proc and /sys trees.
func usable(root string, affinity int) int {
	n := max(affinity, 1)
	if quota, ok := cgroupQuota(root); ok {
		n = min(n, max(int(math.Ceil(quota)), 1))
	}
	return n
}

// cgroupQuota returns the tightest CPU quota, in CPUs, that applies to this
// process, and whether there is one.
func cgroupQuota(root string) (float64, bool) {
	data, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return 0, false
	}
	best, found := math.Inf(1), false
	consider := func(q float64, ok bool) {
		if ok && q < best {
			best, found = q, true
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// Lines are hierarchy-ID:controller-list:path.
		fields := strings.SplitN(sc.Text(), ":", 3)
		if len(fields) != 3 {
			continue
		}
		controllers, cgPath := fields[1], fields[2]
		if fields[0] == "0" && controllers == "" {
			consider(walkUp(root, "sys/fs/cgroup", cgPath, readCPUMax))
			continue
		}
		if !hasController(controllers, "cpu") {
			continue
		}
		for _, mount := range []string{controllers, "cpu", "cpu,cpuacct", "cpuacct,cpu"} {
			dir := path.Join("sys/fs/cgroup", mount)
			if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
				continue
			}
			consider(walkUp(root, dir, cgPath, readCFSQuota))
			break
		}
	}
	return best, found
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// walkUp applies read to the cgroup directory of cgPath under mount and to
// each of its ancestors, because a limit set on a parent also binds its
// children, and returns the tightest quota. Inside a container the path in
// /proc/self/cgroup may name a host directory that is not visible; then only
// the mount's root is read.
func walkUp(root, mount, cgPath string, read func(dir string) (float64, bool)) (float64, bool) {
	best, found := math.Inf(1), false
	cgPath = path.Clean("/" + cgPath)
	if _, err := os.Stat(filepath.Join(root, mount, cgPath)); err != nil {
		cgPath = "/"
	}
	for {
		if q, ok := read(filepath.Join(root, mount, cgPath)); ok && q < best {
			best, found = q, true
		}
		if cgPath == "/" {
			return best, found
		}
		cgPath = path.Dir(cgPath)
	}
}

// readCPUMax reads a cgroup v2 cpu.max: "max 100000" or "quota period".
func readCPUMax(dir string) (float64, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "cpu.max"))
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 || fields[0] == "max" {
		return 0, false
	}
	period := 100000.0
	if len(fields) > 1 {
		p, err := strconv.ParseFloat(fields[1], 64)
		if err != nil || p <= 0 {
			return 0, false
		}
		period = p
	}
	return ratio(fields[0], period)
}

// readCFSQuota reads a cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us; a
// quota of -1 means no limit.
func readCFSQuota(dir string) (float64, bool) {
	q, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	if err != nil {
		return 0, false
	}
	p, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_period_us"))
	if err != nil {
		return 0, false
	}
	period, err := strconv.ParseFloat(strings.TrimSpace(string(p)), 64)
	if err != nil || period <= 0 {
		return 0, false
	}
	return ratio(strings.TrimSpace(string(q)), period)
}

func ratio(quota string, period float64) (float64, bool) {
	q, err := strconv.ParseFloat(quota, 64)
	if err != nil || q <= 0 {
		return 0, false
	}
	return q / period, true
}
