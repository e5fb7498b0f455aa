package agent

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
)

// The sleep builtin runs `sleep N` without a process. Forking, executing
// and reaping /bin/sleep costs a few milliseconds, which is most of the
// overhead of a short sleeping job; ksh93 has sleep as a builtin for the
// same reason. It takes over only where nothing can tell it from the real
// command: the name is `sleep`, PATH leads to GNU coreutils' sleep, and the
// operands are ones that GNU sleep reads in one way only. Everything else
// (options, odd numbers, a missing operand, another sleep earlier on PATH)
// runs the real command, so that its messages and status are its own.

// noBuiltinSleepEnv, exported non-empty and not "0" in a job's environment,
// makes the job run the external sleep, for comparison.
const noBuiltinSleepEnv = "CONCURR_NO_BUILTIN_SLEEP"

// maxSleepOperand bounds an operand's length: a longer number could
// overflow or underflow strtod, which GNU sleep reports as an error.
const maxSleepOperand = 32

// maxSleepExecSize bounds the size of the arguments and environment the
// builtin accepts. The kernel lets every exec have at least 128 KiB, so
// below this bound the real sleep would not have failed with E2BIG.
const maxSleepExecSize = 96 << 10

// maxSleepBinary bounds what is read of a file to recognise GNU sleep; a
// multi-call coreutils binary is a few megabytes.
const maxSleepBinary = 16 << 20

// builtinSleeps counts the sleeps the builtin ran, for tests.
var builtinSleeps atomic.Int64

// runSleepBuiltin runs args, whose name is "sleep", in the agent when the
// real command would be GNU coreutils sleep given well-formed operands. It
// reports false when the caller must run the external command instead.
func runSleepBuiltin(ctx context.Context, hc interp.HandlerContext, j *job, args []string) (bool, error) {
	d, forever, ok := parseSleepOperands(args[1:])
	if !ok || builtinSleepOff(hc.Env) || !execFits(hc.Env, args) {
		return false, nil
	}
	// The lookup is the one the external path makes, so that a sleep
	// created on PATH by an earlier job is found as a shell would find it.
	path, err := interp.LookPathDir(hc.Dir, hc.Env, args[0])
	if err != nil || !isGNUSleep(path) {
		return false, nil
	}
	builtinSleeps.Add(1)
	return true, sleepUntil(ctx, j, d, forever)
}

func builtinSleepOff(env expand.Environ) bool {
	vr := env.Get(noBuiltinSleepEnv)
	return vr.IsSet() && vr.Exported && vr.Str != "" && vr.Str != "0"
}

// execFits reports whether args and the exported environment are small
// enough that exec could not have refused them.
func execFits(env expand.Environ, args []string) bool {
	size := 0
	for _, a := range args {
		size += len(a) + 1 + 8 // the string, its NUL and its pointer
	}
	for name, vr := range env.Each {
		if vr.Exported && vr.IsSet() {
			size += len(name) + 1 + len(vr.String()) + 1 + 8
			if size > maxSleepExecSize {
				return false
			}
		}
	}
	return size <= maxSleepExecSize
}

// parseSleepOperands returns the time that GNU sleep waits for ops: the sum
// of the operands, each a decimal number with an optional fraction, or inf
// or infinity, followed by an optional unit s, m, h or d. forever is true
// for an infinite or practically infinite sum. ok is false for anything
// else, which GNU sleep either reads in a way this parser does not attempt
// (hex floats, exponents, signs, leading blanks, the locale's decimal
// point) or rejects with its own message.
func parseSleepOperands(ops []string) (d time.Duration, forever, ok bool) {
	if len(ops) == 0 {
		return 0, false, false
	}
	var seconds float64
	for _, op := range ops {
		s, ok := parseSleepOperand(op)
		if !ok {
			return 0, false, false
		}
		seconds += s
	}
	// Past 292 years a Duration overflows; GNU sleep saturates too.
	if seconds >= float64(math.MaxInt64)/1e9 {
		return 0, true, true
	}
	return secondsToDuration(seconds), false, true
}

// secondsToDuration converts as gnulib's dtotimespec does: a fraction of a
// nanosecond rounds up.
func secondsToDuration(seconds float64) time.Duration {
	whole := math.Trunc(seconds)
	frac := 1e9 * (seconds - whole)
	ns := int64(frac)
	if float64(ns) < frac {
		ns++
	}
	return time.Duration(int64(whole))*time.Second + time.Duration(ns)
}

func parseSleepOperand(op string) (float64, bool) {
	if op == "" || len(op) > maxSleepOperand {
		return 0, false
	}
	num, unit := op, 1.0
	switch op[len(op)-1] {
	case 's':
		num = op[:len(op)-1]
	case 'm':
		num, unit = op[:len(op)-1], 60
	case 'h':
		num, unit = op[:len(op)-1], 60*60
	case 'd':
		num, unit = op[:len(op)-1], 24*60*60
	}
	if strings.EqualFold(num, "inf") || strings.EqualFold(num, "infinity") {
		return math.Inf(1), true
	}
	digits, dots := 0, 0
	for i := 0; i < len(num); i++ {
		switch c := num[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	return v * unit, true
}

// preciseTail is the end of a sleep that nanosleep(2) waits for instead of
// a Go timer: the runtime's poller waits in whole milliseconds, so a timer
// fires up to a millisecond late, where GNU sleep's nanosleep is late by a
// tenth of that. The tail blocks a thread, and a kill that comes during it
// is seen when it ends.
const preciseTail = 2 * time.Millisecond

// preciseTails bounds the threads that tails block at once; a sleep that
// finds none free ends on its timer.
var preciseTails = make(chan struct{}, 16)

// alreadyDone is a timer channel that has fired.
var alreadyDone = func() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// sleepUntil waits for d, or forever, as a process of the job would: when
// ctx ends it reports the status and signal of a sleep killed by the
// signals that the job sends its process groups.
func sleepUntil(ctx context.Context, j *job, d time.Duration, forever bool) error {
	if d == 0 && !forever {
		j.setLastSignal(0)
		return nil
	}
	var end time.Time
	if !forever {
		end = time.Now().Add(d)
		coarse := time.NewTimer(d - min(d, preciseTail))
		select {
		case <-coarse.C:
			if sleepPrecisely(time.Until(end)) {
				if ctx.Err() != nil {
					return sleepKilled(j, alreadyDone)
				}
				j.setLastSignal(0)
				return nil
			}
		case <-ctx.Done():
			coarse.Stop()
		}
	}
	var done <-chan time.Time
	if !forever {
		t := time.NewTimer(time.Until(end))
		defer t.Stop()
		done = t.C
	}
	select {
	case <-done:
		j.setLastSignal(0)
		return nil
	case <-ctx.Done():
	}
	return sleepKilled(j, done)
}

// sleepPrecisely sleeps for d with nanosleep(2) if a thread may be blocked
// for it, and reports whether it did.
func sleepPrecisely(d time.Duration) bool {
	select {
	case preciseTails <- struct{}{}:
	default:
		return false
	}
	defer func() { <-preciseTails }()
	ts := unix.NsecToTimespec(max(int64(d), 0))
	for {
		var rem unix.Timespec
		if err := unix.Nanosleep(&ts, &rem); err != unix.EINTR {
			return true
		}
		ts = rem
	}
}

// sleepKilled follows the job's termSequence from the moment its context
// ended, as the real sleep would live through it: it ends at the first
// signal that terminates a process, keeps sleeping through ignored signals,
// and is frozen by stop signals until a terminating signal arrives.
func sleepKilled(j *job, done <-chan time.Time) error {
	j.mu.Lock()
	first := j.killSig
	j.mu.Unlock()
	if first == 0 {
		// The job ended and stops what it left in the background with
		// SIGTERM.
		first = syscall.SIGTERM
	}
	ignored := ignoredSignals()
	for i, stage := range termSequence {
		sig := stage.sig
		if i == 0 {
			sig = first
		}
		switch {
		case ignored&sigBit(sig) != 0 || ignoredByDefault(sig):
		case stopsByDefault(sig):
			done = nil
		default:
			j.setLastSignal(int(sig))
			return interp.ExitStatus(128 + int(sig))
		}
		t := time.NewTimer(stage.wait)
		select {
		case <-done:
			t.Stop()
			j.setLastSignal(0)
			return nil
		case <-t.C:
		}
	}
	// Not reached: the last stage is SIGKILL.
	j.setLastSignal(int(syscall.SIGKILL))
	return interp.ExitStatus(128 + int(syscall.SIGKILL))
}

func ignoredByDefault(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGCHLD, syscall.SIGCONT, syscall.SIGURG, syscall.SIGWINCH:
		return true
	}
	return false
}

func stopsByDefault(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		return true
	}
	return false
}

func sigBit(sig syscall.Signal) uint64 {
	if sig < 1 || sig > 64 {
		return 0
	}
	return 1 << (sig - 1)
}

// ignoredSignals returns the signals the agent ignores, as a mask of
// sigBit; a child inherits them ignored (the Go runtime resets only the
// signals it handles). It is read only when a sleep is killed.
func ignoredSignals() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(rest), 16, 64)
			if err != nil {
				return 0
			}
			// SIGKILL and SIGSTOP cannot be ignored.
			return mask &^ (sigBit(syscall.SIGKILL) | sigBit(syscall.SIGSTOP))
		}
	}
	return 0
}

// sleepFile identifies a version of a file, so that a sleep replaced or
// changed on disk is looked at again.
type sleepFile struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
}

type sleepVerdict struct {
	file sleepFile
	gnu  bool
}

var (
	sleepVerdictsMu sync.Mutex
	sleepVerdicts   = map[string]sleepVerdict{}
)

// isGNUSleep reports whether path is GNU coreutils' sleep, which the kernel
// would run. The file is read once per version; after that a check costs
// one stat.
func isGNUSleep(path string) bool {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return false
	}
	id := sleepFile{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
	sleepVerdictsMu.Lock()
	v, ok := sleepVerdicts[path]
	sleepVerdictsMu.Unlock()
	if ok && v.file == id {
		return v.gnu
	}
	gnu := st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size <= maxSleepBinary && runnable(path) && readsAsGNUSleep(path)
	sleepVerdictsMu.Lock()
	sleepVerdicts[path] = sleepVerdict{file: id, gnu: gnu}
	sleepVerdictsMu.Unlock()
	return gnu
}

// runnable reports whether exec of path would pass the permission checks:
// the agent may execute it and its file system is not mounted noexec.
func runnable(path string) bool {
	if unix.Faccessat(unix.AT_FDCWD, path, unix.X_OK, unix.AT_EACCESS) != nil {
		return false
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return false
	}
	return fs.Flags&unix.ST_NOEXEC == 0
}

// readsAsGNUSleep looks for what GNU sleep's binary carries: the ELF magic,
// the package name and sleep's own usage text. Other programs of coreutils,
// busybox (whose sleep's syntax depends on how it was built) and scripts
// do not match.
func readsAsGNUSleep(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSleepBinary+1))
	if err != nil || len(b) > maxSleepBinary {
		return false
	}
	return bytes.HasPrefix(b, []byte("\x7fELF")) &&
		bytes.Contains(b, []byte("GNU coreutils")) &&
		bytes.Contains(b, []byte("Pause for NUMBER seconds"))
}
