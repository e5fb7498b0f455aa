package agent

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The embedded shell runs in the agent, one process for every job of the
// node: its own umask and resource limits are everybody's. A job's umask
// and ulimit builtins are therefore kept in the job, and given to each
// process the job starts by the exec helper below; the shell's own
// redirections honour the umask too.

// procSettings are the umask and limits a job set, guarded by mu since
// background statements run in goroutines of their own.
type procSettings struct {
	mu       sync.Mutex
	umaskSet bool
	umask    int
	limits   map[int]unix.Rlimit // by resource
}

// processUmask is the agent's umask, which a job starts with. It is read
// while the package initialises, before any goroutine could create a file
// under the umask that reading it sets for a moment.
var processUmask = func() int {
	old := syscall.Umask(0o22)
	syscall.Umask(old)
	return old
}()

// currentUmask is the umask of the processes the job starts next.
func (p *procSettings) currentUmask() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.umaskSet {
		return p.umask
	}
	return processUmask
}

// jobUmask is the umask the job set, if it set one.
func (p *procSettings) jobUmask() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.umask, p.umaskSet
}

func (p *procSettings) setUmask(mask int) {
	p.mu.Lock()
	p.umask, p.umaskSet = mask, true
	p.mu.Unlock()
}

// limit is the job's limit for resource, or the agent's.
func (p *procSettings) limit(resource int) (unix.Rlimit, error) {
	p.mu.Lock()
	l, ok := p.limits[resource]
	p.mu.Unlock()
	if ok {
		return l, nil
	}
	err := unix.Getrlimit(resource, &l)
	return l, err
}

func (p *procSettings) setLimit(resource int, l unix.Rlimit) {
	p.mu.Lock()
	if p.limits == nil {
		p.limits = map[int]unix.Rlimit{}
	}
	p.limits[resource] = l
	p.mu.Unlock()
}

// execHelperArg, as a process's first argument, makes this binary the exec
// helper: it applies a umask and limits to itself, then execs the command.
const execHelperArg = "--concurr-exec-v1"

// wrap returns the path and arguments that start the command with the
// job's settings: the command itself when the job changed none.
func (p *procSettings) wrap(path string, args []string) (string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.umaskSet && len(p.limits) == 0 {
		return path, args
	}
	self := "/proc/self/exe"
	if runtime.GOOS != "linux" {
		if exe, err := os.Executable(); err == nil {
			self = exe
		}
	}
	w := []string{self, execHelperArg}
	if p.umaskSet {
		w = append(w, "umask", strconv.Itoa(p.umask))
	}
	resources := make([]int, 0, len(p.limits))
	for r := range p.limits {
		resources = append(resources, r)
	}
	slices.Sort(resources)
	for _, r := range resources {
		l := p.limits[r]
		w = append(w, "limit", fmt.Sprintf("%d:%d:%d", r, l.Cur, l.Max))
	}
	w = append(w, "--", path)
	return self, append(w, args...)
}

func init() {
	// The exec helper runs before anything else the binary would do.
	if len(os.Args) > 1 && os.Args[1] == execHelperArg {
		os.Exit(execHelper(os.Args[2:], os.Stderr))
	}
}

// execHelper applies the settings in args and execs the command that
// follows "--"; it returns only when that fails, with the shell's status.
func execHelper(args []string, stderr io.Writer) int {
	for len(args) > 0 && args[0] != "--" {
		if len(args) < 2 {
			fmt.Fprintf(stderr, "concurr: exec helper: bad arguments %q\n", args)
			return 126
		}
		switch args[0] {
		case "umask":
			mask, _ := strconv.Atoi(args[1])
			syscall.Umask(mask)
		case "limit":
			var r int
			var l unix.Rlimit
			if _, err := fmt.Sscanf(args[1], "%d:%d:%d", &r, &l.Cur, &l.Max); err != nil {
				fmt.Fprintf(stderr, "concurr: exec helper: bad limit %q\n", args[1])
				return 126
			}
			if err := unix.Setrlimit(r, &l); err != nil {
				fmt.Fprintf(stderr, "ulimit: %s: cannot modify limit: %s\n", limitName(r), errnoText(err))
				return 126
			}
		}
		args = args[2:]
	}
	if len(args) < 3 {
		fmt.Fprintf(stderr, "concurr: exec helper: no command\n")
		return 126
	}
	path, argv := args[1], args[2:]
	err := syscall.Exec(path, argv, os.Environ())
	if err == syscall.ENOEXEC {
		// A script without a #! line runs in the system's shell, as
		// POSIX shells run it.
		err = syscall.Exec("/bin/sh", append([]string{"sh", path}, argv[1:]...), os.Environ())
	}
	if err == syscall.ENOENT {
		fmt.Fprintf(stderr, "%s: cannot execute: required file not found\n", argv[0])
		return 127
	}
	fmt.Fprintf(stderr, "%s: %s\n", argv[0], errnoText(err))
	return 126
}

// limitName is how bash names a resource in its messages.
func limitName(resource int) string {
	for _, r := range ulimitResources {
		if r.resource == resource {
			return r.desc
		}
	}
	return "resource " + strconv.Itoa(resource)
}
