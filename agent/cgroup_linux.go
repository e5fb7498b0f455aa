package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Processes that leave their job's process groups (setsid, daemons that
// fork twice) escape what kills the groups. On Linux, where the agent may
// write its own cgroup v2 subtree, each slot gets a cgroup of its own under
// the agent's, and every process a job starts is born in it (clone3 with
// CLONE_INTO_CGROUP, so there is no moment in which it is outside); nothing a
// process does moves it out again without write access to other cgroups.
// When a job ends and its slot's cgroup still holds processes, they get
// SIGTERM, then SIGKILL. The cgroup is made at the slot's first process, so
// jobs that run only builtins pay nothing, and a job that started processes
// pays one read of cgroup.events at its end.

// cgroupBase is the agent's own cgroup directory, where slots' cgroups go,
// or "" when there is none the agent may write.
var cgroupBase = sync.OnceValue(func() string {
	dir, err := ownCgroup()
	if err != nil {
		return ""
	}
	// Creating a child needs the directory; moving processes into it needs
	// the common ancestor's cgroup.procs, which is this one's.
	if unix.Access(dir, unix.W_OK) != nil || unix.Access(filepath.Join(dir, "cgroup.procs"), unix.W_OK) != nil {
		return ""
	}
	removeStaleCgroups(dir)
	return dir
})

// removeStaleCgroups removes the empty slot cgroups that agents which were
// killed, and so could not remove them, left in dir. A cgroup that still
// holds processes cannot be removed, and is left as it is.
func removeStaleCgroups(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "concurr-")
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// cgroupsUsable reports whether jobs run in cgroups: whether the agent has
// a cgroup v2 subtree it may write, and the kernel starts processes in a
// cgroup (Linux 5.7). It spawns one process the first time.
func cgroupsUsable() bool {
	g := &slotCgroup{}
	defer g.remove()
	_, ok := g.spawnFD()
	return ok
}

// ownCgroup finds the agent's cgroup v2 directory from /proc/self/cgroup
// and the cgroup2 mount in /proc/self/mountinfo.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var path string
	found := false
	for line := range strings.Lines(string(b)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			path, found = p, true
		}
	}
	if !found {
		return "", errors.New("no cgroup v2")
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, fl := range fields {
			if fl == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) || fields[sep+1] != "cgroup2" {
			continue
		}
		root, mount := fields[3], fields[4]
		rel, ok := strings.CutPrefix(path, root)
		if !ok || (rel != "" && root != "/" && !strings.HasPrefix(rel, "/")) {
			continue
		}
		return filepath.Join(mount, rel), nil
	}
	return "", errors.New("no cgroup2 mount")
}

// slotCgroup is one slot's cgroup, made at the first process a job of the
// slot starts.
type slotCgroup struct {
	once    sync.Once
	dir     string
	fd      int      // the directory, for CLONE_INTO_CGROUP; -1 when there is none
	events  *os.File // cgroup.events, whose "populated" says whether any process is left
	hasKill bool     // cgroup.kill exists (Linux 5.14)
}

var cgroupCount atomic.Uint64

// spawnFD returns the directory descriptor that processes are born in,
// making the cgroup at the first call; ok is false when jobs run without.
func (g *slotCgroup) spawnFD() (fd int, ok bool) {
	g.once.Do(g.make)
	return g.fd, g.fd >= 0
}

func (g *slotCgroup) make() {
	g.fd = -1
	base := cgroupBase()
	if base == "" || cgroupRefused.Load() {
		return
	}
	dir := filepath.Join(base, fmt.Sprintf("concurr-%d-%d", os.Getpid(), cgroupCount.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return
	}
	events, err := os.Open(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		unix.Close(fd)
		os.Remove(dir)
		return
	}
	g.dir, g.events = dir, events
	_, err = os.Stat(filepath.Join(dir, "cgroup.kill"))
	g.hasKill = err == nil
	if !cgroupSpawnWorks(fd) {
		g.close()
		return
	}
	g.fd = fd
}

var (
	cgroupProbe   sync.Once
	cgroupRefused atomic.Bool
)

// cgroupSpawnWorks tries, once per agent, to start a process in the cgroup
// fd. The process execs a path that does not exist, so that ENOENT says the
// kernel started it in the cgroup, and any other error that it would not
// (no clone3, a cgroup that takes no processes, no permission). Later
// failures could not be told from the command's own.
func cgroupSpawnWorks(fd int) bool {
	cgroupProbe.Do(func() {
		_, err := syscall.ForkExec("/nonexistent/concurr-cgroup-probe", []string{"probe"}, &syscall.ProcAttr{
			Sys: &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd},
		})
		cgroupRefused.Store(!errors.Is(err, syscall.ENOENT))
	})
	return !cgroupRefused.Load()
}

// populated reports whether any process is left in the cgroup.
func (g *slotCgroup) populated() bool {
	if g.events == nil {
		return false
	}
	var buf [128]byte
	n, err := g.events.ReadAt(buf[:], 0)
	if n == 0 && err != nil {
		return false
	}
	return bytes.Contains(buf[:n], []byte("populated 1"))
}

// killLeft ends the processes left in the cgroup: SIGTERM, a grace as long
// as the job's own escalation, then SIGKILL until none is left.
func (g *slotCgroup) killLeft() {
	if !g.populated() {
		return
	}
	g.signalAll(syscall.SIGTERM)
	var grace time.Duration
	for _, stage := range termSequence {
		grace += stage.wait
	}
	if g.waitEmpty(grace) {
		return
	}
	for range 100 {
		if g.hasKill {
			os.WriteFile(filepath.Join(g.dir, "cgroup.kill"), []byte("1"), 0)
		} else {
			g.signalAll(syscall.SIGKILL)
		}
		if g.waitEmpty(20 * time.Millisecond) {
			return
		}
	}
}

func (g *slotCgroup) signalAll(sig syscall.Signal) {
	b, _ := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	for line := range strings.Lines(string(b)) {
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 {
			syscall.Kill(pid, sig)
		}
	}
}

func (g *slotCgroup) waitEmpty(within time.Duration) bool {
	deadline := time.Now().Add(within)
	for g.populated() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// remove kills what is left and removes the cgroup, at the slot's end.
func (g *slotCgroup) remove() {
	g.once.Do(func() { g.fd = -1 }) // never made: nothing to remove
	if g.dir == "" {
		return
	}
	g.killLeft()
	g.close()
}

func (g *slotCgroup) close() {
	if g.fd >= 0 {
		unix.Close(g.fd)
		g.fd = -1
	}
	if g.events != nil {
		g.events.Close()
		g.events = nil
	}
	// Its last processes may take a moment to leave it.
	for i := 0; i < 50 && os.Remove(g.dir) != nil; i++ {
		time.Sleep(2 * time.Millisecond)
	}
	g.dir = ""
}

// sysProcAttr is the attributes of a job's process: a process group of its
// own, born in the slot's cgroup when there is one.
func (g *slotCgroup) sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	g.setProcAttr(attr)
	return attr
}

// setProcAttr fills attr as sysProcAttr does, for a caller that keeps it
// off the heap.
func (g *slotCgroup) setProcAttr(attr *syscall.SysProcAttr) {
	attr.Setpgid = true
	if g != nil {
		if fd, ok := g.spawnFD(); ok {
			attr.UseCgroupFD, attr.CgroupFD = true, fd
		}
	}
}
