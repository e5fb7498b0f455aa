//go:build linux && !nopidfd

package agent

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The direct spawn path runs an external command without os/exec: for a
// short command the goroutines that os/exec adds (two pipe copiers, the
// context watcher) and their wake-ups cost as much as the fork itself. The
// calling goroutine forks the process in a group of its own, then reads its
// stdout and stderr pipes and waits for its exit in one poll(2) loop over the
// pipes and a pidfd. pidfds and pipe2 are Linux's; elsewhere, and with the
// nopidfd build tag, spawn_other.go sends every command through os/exec.

// pidfdWorks reports whether the kernel has pidfd_open (Linux 5.3); without
// it the agent runs every command through os/exec.
var pidfdWorks = sync.OnceValue(func() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
})

// pollTick bounds how long the loop sleeps without looking at ctx, so that
// a job that ends while its command is stuck is not held beyond pipeGrace.
const pollTick = 250 * time.Millisecond

var readBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// spawnTarget is where a process's stdout or stderr goes: a file or pipe of
// the interpreter, given to the process as it is, or one of the job's
// streams, read from a pipe.
type spawnTarget struct {
	file *os.File
	job  *outWriter
}

// directTarget tells whether w can be given to a process without a copier.
func directTarget(j *job, w io.Writer) (spawnTarget, bool) {
	switch w := w.(type) {
	case *outWriter:
		if w == &j.stdout || w == &j.stderr {
			return spawnTarget{job: w}, true
		}
	case *os.File:
		return spawnTarget{file: w}, true
	case *lineFile:
		return spawnTarget{file: w.file()}, true
	}
	return spawnTarget{}, false
}

// spawnDirect runs path with args and env in dir, in a process group of its
// own that is added to j. It returns the process's wait status, or the
// start error (from fork or exec), or errNotSpawned when the process's
// stdio needs os/exec.
func spawnDirect(ctx context.Context, j *job, path string, args, env []string, dir string, stdin io.Reader, stdout, stderr io.Writer) (syscall.WaitStatus, error) {
	if !pidfdWorks() {
		return 0, errNotSpawned
	}
	var in *os.File
	if r, ok := stdin.(*os.File); ok && r != nil {
		in = r
	} else {
		return 0, errNotSpawned
	}
	out, ok1 := directTarget(j, stdout)
	errT, ok2 := directTarget(j, stderr)
	if !ok1 || !ok2 {
		return 0, errNotSpawned
	}

	// fds[i] is the read end of a pipe for stream i (stdout, stderr), or -1.
	fds := [2]int{-1, -1}
	childFds := [3]uintptr{in.Fd(), 0, 0}
	closeAll := func() {
		for i, fd := range fds {
			if fd >= 0 {
				unix.Close(fd)
				fds[i] = -1
			}
		}
	}
	var writeEnds []int
	for i, t := range [2]spawnTarget{out, errT} {
		if t.file != nil {
			// Fd sets blocking mode, which is what the process needs; the
			// interpreter does the same through os/exec.
			childFds[1+i] = t.file.Fd()
			continue
		}
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			closeAll()
			for _, fd := range writeEnds {
				unix.Close(fd)
			}
			return 0, err
		}
		fds[i] = p[0]
		writeEnds = append(writeEnds, p[1])
		childFds[1+i] = uintptr(p[1])
	}
	var sys syscall.SysProcAttr
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: childFds[:],
		Sys:   &sys,
	}
	j.cgroup.setProcAttr(&sys)
	j.onTerminal(&sys)
	var pid int
	err := retryTextBusy(func() (err error) {
		pid, err = syscall.ForkExec(path, args, attr)
		return err
	})
	runtime.KeepAlive(in)
	runtime.KeepAlive(out.file)
	runtime.KeepAlive(errT.file)
	for _, fd := range writeEnds {
		unix.Close(fd)
	}
	if err != nil {
		closeAll()
		return 0, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	j.addStarted(pid)
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		// Cannot happen for our own unreaped child; wait without reading
		// rather than leave it.
		closeAll()
		var ws syscall.WaitStatus
		_, werr := syscall.Wait4(pid, &ws, 0, nil)
		return ws, werr
	}
	defer unix.Close(pidfd)
	defer closeAll()

	bufp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bufp)
	buf := *bufp
	targets := [2]*outWriter{out.job, errT.job}

	var (
		ws       syscall.WaitStatus
		exited   bool
		deadline time.Time // zero until the process exits or ctx ends
		pfds     [3]unix.PollFd
	)
	for {
		if !exited || fds[0] >= 0 || fds[1] >= 0 {
			if !deadline.IsZero() && time.Now().After(deadline) {
				if !exited {
					// ctx ended long ago and the process ignores its
					// group's signals (it left the group): as os/exec's
					// WaitDelay does, kill it and stop reading.
					_ = unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
				}
				closeAll()
			}
		}
		if exited && fds[0] < 0 && fds[1] < 0 {
			return ws, nil
		}
		n := 0
		for _, fd := range fds {
			if fd >= 0 {
				pfds[n] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
				n++
			}
		}
		if !exited {
			pfds[n] = unix.PollFd{Fd: int32(pidfd), Events: unix.POLLIN}
			n++
		}
		timeout := int(pollTick / time.Millisecond)
		if !deadline.IsZero() {
			timeout = min(timeout, int(time.Until(deadline)/time.Millisecond)+1)
		}
		if _, err := unix.Poll(pfds[:n], timeout); err != nil && !errors.Is(err, unix.EINTR) {
			closeAll()
		}
		if ctx.Err() != nil && deadline.IsZero() {
			deadline = time.Now().Add(pipeGrace)
		}
		for k := range pfds[:n] {
			p := pfds[k]
			if p.Revents == 0 {
				continue
			}
			if int(p.Fd) == pidfd {
				if _, err := syscall.Wait4(pid, &ws, 0, nil); err == nil || !errors.Is(err, syscall.EINTR) {
					exited = true
					if deadline.IsZero() {
						deadline = time.Now().Add(pipeGrace)
					}
				}
				continue
			}
			i := 0
			if int(p.Fd) == fds[1] {
				i = 1
			}
			m, err := unix.Read(fds[i], buf)
			if m > 0 {
				processWriter{targets[i]}.Write(buf[:m])
			}
			if m == 0 || (err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN)) {
				unix.Close(fds[i])
				fds[i] = -1
			}
		}
	}
}
