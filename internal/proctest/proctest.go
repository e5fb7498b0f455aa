// Package proctest finds processes in /proc for the tests that check what a
// run started and what it left behind: by markers in their command line, by
// the HOME in their environment (whatever a test host's sessions started,
// however it is named), or by descent from a process. It reads Linux's /proc;
// where there is none, every list is empty and Supported reports false.
package proctest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Process is a live process as /proc shows it.
type Process struct {
	PID  int
	Argv []string
}

// Cmdline is the process's arguments joined by spaces, the form a Query's
// markers are looked for in.
func (p Process) Cmdline() string { return strings.Join(p.Argv, " ") }

func (p Process) String() string { return fmt.Sprintf("%d %q", p.PID, p.Cmdline()) }

// A Query picks live processes other than the calling one. Zombies are
// never picked: they run nothing and hold nothing open.
type Query struct {
	// Home, when set, is the HOME that the process's environment must set.
	Home string
	// Cmdline holds markers that the process's Cmdline must each contain.
	Cmdline []string
}

// Cmdline picks the processes whose command line contains every marker,
// such as a test's temporary folder or an unlikely sleep duration.
func Cmdline(markers ...string) Query { return Query{Cmdline: markers} }

// InHome picks the processes whose environment sets HOME=home and whose
// command line contains every marker.
func InHome(home string, markers ...string) Query {
	return Query{Home: home, Cmdline: markers}
}

// Supported reports whether this system has a /proc to read.
func Supported() bool {
	_, err := os.Stat("/proc/self/cmdline")
	return err == nil
}

// List returns the processes the query picks.
func (q Query) List() []Process {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var found []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		raw, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue
		}
		p := Process{PID: pid, Argv: strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")}
		if !containsAll(p.Cmdline(), q.Cmdline) {
			continue
		}
		if q.Home != "" && !hasEnv(dir, "HOME="+q.Home) {
			continue
		}
		if isZombie(dir) {
			continue
		}
		found = append(found, p)
	}
	return found
}

// WaitNone lists the processes every 20ms until the query picks none or
// timeout has passed, and returns the last list: what is left, if anything.
// It gives processes on their way out the time to finish.
func (q Query) WaitNone(timeout time.Duration) []Process {
	deadline := time.Now().Add(timeout)
	for {
		left := q.List()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Descendants lists the processes below pid: its children, theirs, and so
// on.
func Descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(filepath.Join("/proc", e.Name())); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func hasEnv(dir, kv string) bool {
	env, err := os.ReadFile(filepath.Join(dir, "environ"))
	if err != nil {
		return false
	}
	for _, v := range bytes.Split(env, []byte{0}) {
		if string(v) == kv {
			return true
		}
	}
	return false
}

// statFields returns the fields of /proc/pid/stat after the command name:
// state, ppid, and so on. The name is in parentheses and may itself hold
// spaces and parentheses, so the fields start after the last ')'.
func statFields(dir string) []string {
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(stat[i+1:]))
}

// isZombie reports whether the process has exited and not been reaped,
// or is gone altogether.
func isZombie(dir string) bool {
	f := statFields(dir)
	return len(f) == 0 || f[0] == "Z"
}

func parentOf(dir string) (int, bool) {
	f := statFields(dir)
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}
