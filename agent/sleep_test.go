package agent

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"

	"concurr/internal/wire"
)

func TestParseSleepOperands(t *testing.T) {
	tests := []struct {
		name    string
		ops     []string
		d       time.Duration
		forever bool
		bad     bool
	}{
		{name: "integer", ops: []string{"1"}, d: time.Second},
		{name: "zero", ops: []string{"0"}},
		{name: "fraction", ops: []string{"0.05"}, d: 50 * time.Millisecond},
		{name: "leading dot", ops: []string{".5"}, d: 500 * time.Millisecond},
		{name: "trailing dot", ops: []string{"2."}, d: 2 * time.Second},
		{name: "seconds suffix", ops: []string{"3s"}, d: 3 * time.Second},
		{name: "minutes suffix", ops: []string{"1m"}, d: time.Minute},
		{name: "fraction of hours", ops: []string{"1.5h"}, d: 90 * time.Minute},
		{name: "days suffix", ops: []string{"2d"}, d: 48 * time.Hour},
		{name: "summed", ops: []string{"1m", "1", "0.5s"}, d: 61*time.Second + 500*time.Millisecond},
		{name: "nanosecond fraction rounds up", ops: []string{"0.0000000001"}, d: 1},
		{name: "inf", ops: []string{"inf"}, forever: true},
		{name: "infinity in capitals", ops: []string{"INFINITY"}, forever: true},
		{name: "inf with a suffix", ops: []string{"infd"}, forever: true},
		{name: "inf summed", ops: []string{"1", "inf"}, forever: true},
		{name: "beyond a Duration", ops: []string{"999999999999999d"}, forever: true},
		{name: "no operand", ops: nil, bad: true},
		{name: "empty", ops: []string{""}, bad: true},
		{name: "help", ops: []string{"--help"}, bad: true},
		{name: "version", ops: []string{"--version"}, bad: true},
		{name: "end of options", ops: []string{"--", "1"}, bad: true},
		{name: "word", ops: []string{"x"}, bad: true},
		{name: "one bad of two", ops: []string{"1", "x"}, bad: true},
		{name: "negative", ops: []string{"-1"}, bad: true},
		{name: "plus sign", ops: []string{"+1"}, bad: true},
		{name: "exponent", ops: []string{"1e3"}, bad: true},
		{name: "hex", ops: []string{"0x10"}, bad: true},
		{name: "hex float", ops: []string{"0x1p3"}, bad: true},
		{name: "leading blank", ops: []string{" 1"}, bad: true},
		{name: "two-letter suffix", ops: []string{"1ms"}, bad: true},
		{name: "capital suffix", ops: []string{"1M"}, bad: true},
		{name: "two dots", ops: []string{"1.2.3"}, bad: true},
		{name: "dot alone", ops: []string{"."}, bad: true},
		{name: "suffix alone", ops: []string{"s"}, bad: true},
		{name: "nan", ops: []string{"nan"}, bad: true},
		{name: "comma decimal", ops: []string{"1,5"}, bad: true},
		{name: "truncated infinity", ops: []string{"infinit"}, bad: true},
		{name: "too long to be sure of strtod", ops: []string{"0." + strings.Repeat("0", 40) + "1"}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, forever, ok := parseSleepOperands(tt.ops)
			if ok == tt.bad {
				t.Fatalf("ok = %v, want %v", ok, !tt.bad)
			}
			if d != tt.d || forever != tt.forever {
				t.Errorf("= %v forever=%v, want %v forever=%v", d, forever, tt.d, tt.forever)
			}
		})
	}
}

// TestParseSleepAgreesWithGNU runs the real sleep on operands the parser
// accepts and rejects: the real one must succeed exactly where the parser
// accepts (a rejected operand may still be valid GNU syntax; those are
// listed as delegated).
func TestParseSleepAgreesWithGNU(t *testing.T) {
	path := lookUp("sleep")
	if path == "" || !isGNUSleep(path) {
		t.Skip("no GNU sleep on PATH")
	}
	for _, op := range []string{"0", "0.0001", ".0001", "0.s", "0m", "0h", "0d", "0.000000001d", "x", "1ms", "1.2.3", ".", "s", "nan", "infinit", "", "-1"} {
		t.Run(op, func(t *testing.T) {
			_, _, ok := parseSleepOperands([]string{op})
			err := exec1(path, op)
			if ok != (err == nil) {
				t.Errorf("parser ok=%v, GNU sleep %q: %v", ok, op, err)
			}
		})
	}
}

func exec1(path, op string) error {
	p, err := os.StartProcess(path, []string{"sleep", op}, &os.ProcAttr{})
	if err != nil {
		return err
	}
	st, err := p.Wait()
	if err != nil {
		return err
	}
	if !st.Success() {
		return errors.New(st.String())
	}
	return nil
}

// TestSleepKilled checks the builtin's fate under each kind of signal
// against what the kernel does to a process.
func TestSleepKilled(t *testing.T) {
	tests := []struct {
		name    string
		sig     syscall.Signal
		ignore  bool // the agent ignores sig, so its children would too
		dueIn   time.Duration
		want    error
		wantSig int
		min     time.Duration
	}{
		{name: "job end", sig: 0, want: interp.ExitStatus(143), wantSig: 15},
		{name: "term", sig: syscall.SIGTERM, want: interp.ExitStatus(143), wantSig: 15},
		{name: "interrupt", sig: syscall.SIGINT, want: interp.ExitStatus(130), wantSig: 2},
		{name: "kill", sig: syscall.SIGKILL, want: interp.ExitStatus(137), wantSig: 9},
		{name: "ignored by default, then term", sig: syscall.SIGWINCH, want: interp.ExitStatus(143), wantSig: 15, min: 200 * time.Millisecond},
		{name: "ignored by default, sleep ends first", sig: syscall.SIGCHLD, dueIn: 50 * time.Millisecond, want: nil},
		{name: "stopped, then term", sig: syscall.SIGSTOP, dueIn: 50 * time.Millisecond, want: interp.ExitStatus(143), wantSig: 15, min: 200 * time.Millisecond},
		{name: "ignored by the agent", sig: syscall.SIGUSR2, ignore: true, want: interp.ExitStatus(143), wantSig: 15, min: 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ignore {
				signal.Ignore(tt.sig)
				defer signal.Reset(tt.sig)
			}
			j := &job{killSig: tt.sig, lastSignal: -1}
			var done <-chan time.Time
			if tt.dueIn > 0 {
				timer := time.NewTimer(tt.dueIn)
				defer timer.Stop()
				done = timer.C
			}
			begin := time.Now()
			err := sleepKilled(j, done)
			took := time.Since(begin)
			if err != tt.want || j.lastSignal != tt.wantSig {
				t.Errorf("= %v signal %d, want %v signal %d", err, j.lastSignal, tt.want, tt.wantSig)
			}
			if took < tt.min || took > tt.min+150*time.Millisecond {
				t.Errorf("took %v, want about %v", took, tt.min)
			}
		})
	}
}

// TestSleepBuiltinMatchesExternal runs each script with the builtin and with
// the external sleep, and wants the same output, status, signal and flags.
func TestSleepBuiltinMatchesExternal(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		timeout  uint64
		builtin  int64 // sleeps the builtin must run
		killWith syscall.Signal
		ignore   syscall.Signal // a signal the agent ignores, and so its children
	}{
		{name: "success", script: `sleep 0.1; echo $?`, builtin: 1},
		{name: "and list", script: `sleep 0.1 && echo x`, builtin: 1},
		{name: "zero", script: `sleep 0; echo $?`, builtin: 1},
		{name: "summed operands", script: `sleep 0.05 0.05s .0001m; echo $?`, builtin: 1},
		{name: "command builtin", script: `command sleep 0.05 && echo x`, builtin: 1},
		{name: "redirected", script: `sleep 0.05 >/dev/null 2>&1 </dev/null; echo $?`, builtin: 1},
		{name: "in a pipeline", script: `sleep 0.05 | cat; echo $?`, builtin: 1},
		{name: "background and wait", script: `sleep 0.2 & wait; echo $?`, builtin: 1},
		{name: "background left at job end", script: `sleep 30 & sleep 0.05; echo done`, builtin: 2},
		{name: "timeout", script: `sleep 5`, timeout: 200, builtin: 1},
		{name: "timeout then more", script: `sleep 5; echo after $?`, timeout: 200, builtin: 1},
		{name: "inf with a timeout", script: `sleep inf`, timeout: 200, builtin: 1},
		{name: "timeout in the background", script: `sleep 5 & wait; echo $?`, timeout: 200, builtin: 1},
		{name: "cancelled with SIGINT", script: `sleep 5`, killWith: syscall.SIGINT, builtin: 1},
		{name: "cancelled with a signal the agent ignores", script: `sleep 5`, killWith: syscall.SIGUSR2, ignore: syscall.SIGUSR2, builtin: 1},
		{name: "kill of the job's shell", script: `sleep 5 & sleep 0.05; kill -HUP $$; wait`, builtin: 2},
		{name: "kill of the job's shell with an ignored signal", script: `sleep 0.1 & sleep 0.05; kill -WINCH $$; wait; echo $?`, builtin: 2},
		{name: "version is delegated", script: `sleep --version`},
		{name: "bad operand is delegated", script: `sleep x`},
		{name: "missing operand is delegated", script: `sleep`},
		{name: "exponent is delegated", script: `sleep 1e-2; echo $?`},
		{name: "path given", script: `/bin/sleep 0.01; echo $?`},
		{name: "exec", script: `exec sleep 0.05`, builtin: 1},
		{name: "switched off for one command", script: noBuiltinSleepEnv + `=1 sleep 0.05; sleep 0.05; echo $?`, builtin: 1},
		{name: "switched off by the script", script: `export ` + noBuiltinSleepEnv + `=1; sleep 0.05; echo $?`},
	}
	c := startAgent(t, Options{Slots: 2})
	id := uint64(0)
	run := func(t *testing.T, script string, timeout uint64, env []string, killWith syscall.Signal) (*jobResult, int64) {
		id++
		before := builtinSleeps.Load()
		c.t = t
		c.send(&wire.Command{ID: id, Template: []byte(scriptJSON(script)), Env: env, Slots: 1},
			&wire.Input{Command: id, Seq: 1, Timeout: timeout})
		if killWith != 0 {
			time.Sleep(100 * time.Millisecond)
			c.send(&wire.Cancel{Seq: 1, Signal: uint64(killWith)})
		}
		r := c.collect(10*time.Second, 1)[1]
		c.send(&wire.Delete{Command: id})
		return r, builtinSleeps.Load() - before
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ignore != 0 {
				signal.Ignore(tt.ignore)
				defer signal.Reset(tt.ignore)
			}
			ext, _ := run(t, tt.script, tt.timeout, []string{noBuiltinSleepEnv + "=1"}, tt.killWith)
			in, n := run(t, tt.script, tt.timeout, []string{noBuiltinSleepEnv + "="}, tt.killWith)
			if n != tt.builtin {
				t.Errorf("builtin ran %d sleeps, want %d", n, tt.builtin)
			}
			if in.stdout.String() != ext.stdout.String() || in.stderr.String() != ext.stderr.String() {
				t.Errorf("builtin wrote %q %q, external %q %q", in.stdout.String(), in.stderr.String(), ext.stdout.String(), ext.stderr.String())
			}
			a, b := in.result, ext.result
			if a.Exit != b.Exit || a.Signal != b.Signal || a.Flags != b.Flags {
				t.Errorf("builtin exit=%d signal=%d flags=%d, external %d %d %d", a.Exit, a.Signal, a.Flags, b.Exit, b.Signal, b.Flags)
			}
			if d, e := time.Duration(a.Runtime), time.Duration(b.Runtime); d > e+200*time.Millisecond {
				t.Errorf("builtin took %v, external %v", d, e)
			}
		})
	}
}

func scriptJSON(src string) string { return string(script(src)) }

// TestSleepOnPathWins checks that a sleep earlier on PATH runs, also when
// it appears after the builtin has served the same PATH.
func TestSleepOnPathWins(t *testing.T) {
	dir := t.TempDir()
	c := startAgent(t, Options{Slots: 1})
	env := []string{"PATH=" + dir + ":" + os.Getenv("PATH"), noBuiltinSleepEnv + "="}
	run := func(id uint64) (string, int64) {
		before := builtinSleeps.Load()
		c.send(&wire.Command{ID: id, Template: script(`sleep 0.01; echo $?`), Env: env, Slots: 1},
			&wire.Input{Command: id, Seq: 1})
		r := c.collect(10*time.Second, 1)[1]
		c.send(&wire.Delete{Command: id})
		return r.stdout.String(), builtinSleeps.Load() - before
	}
	if out, n := run(1); out != "0\n" || n != 1 {
		t.Fatalf("without a sleep of its own: %q, %d builtin sleeps", out, n)
	}
	if err := os.WriteFile(filepath.Join(dir, "sleep"), []byte("#!/bin/sh\necho mine \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, n := run(2); out != "mine 0.01\n0\n" || n != 0 {
		t.Errorf("with a sleep of its own: %q, %d builtin sleeps", out, n)
	}
}

// TestBackgroundSleepEndsWithJob checks that a builtin sleep left in the
// background ends with its job and leaves no goroutine.
func TestBackgroundSleepEndsWithJob(t *testing.T) {
	before := runtime.NumGoroutine()
	c := startAgent(t, Options{Slots: 1})
	start := builtinSleeps.Load()
	c.send(&wire.Command{ID: 1, Template: script(`sleep 30 & sleep inf & sleep 0.1; echo done`), Env: []string{noBuiltinSleepEnv + "="}},
		&wire.Input{Command: 1, Seq: 1})
	r := c.collect(5*time.Second, 1)[1]
	if r.stdout.String() != "done\n" || r.result.Exit != 0 || time.Duration(r.result.Runtime) > time.Second {
		t.Errorf("stdout %q exit %d runtime %v", r.stdout.String(), r.result.Exit, time.Duration(r.result.Runtime))
	}
	if n := builtinSleeps.Load() - start; n != 3 {
		t.Errorf("builtin ran %d sleeps, want 3", n)
	}
	c.close()
	waitGoroutines(t, before)
}

func TestIsGNUSleep(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n# GNU coreutils Pause for NUMBER seconds\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want bool
	}{
		{name: "a script that says the words", path: script},
		{name: "another coreutils program", path: lookUp("true")},
		{name: "busybox", path: lookUp("busybox")},
		{name: "missing", path: filepath.Join(dir, "none")},
		{name: "a directory", path: dir},
		{name: "GNU sleep", path: lookUp("sleep"), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path == "" {
				t.Skip("not installed")
			}
			for range 2 { // the second answer comes from the cache
				if got := isGNUSleep(tt.path); got != tt.want {
					t.Errorf("isGNUSleep(%s) = %v, want %v", tt.path, got, tt.want)
				}
			}
		})
	}
}

// lookUp returns name's path on the test's PATH, or "".
func lookUp(name string) string {
	path, err := interp.LookPathDir("/", expand.ListEnviron(os.Environ()...), name)
	if err != nil {
		return ""
	}
	return path
}

func TestSleepUntil(t *testing.T) {
	tests := []struct {
		name       string
		d          time.Duration
		forever    bool
		cancelAt   time.Duration // 0: never; <0: before the sleep
		busyThread bool          // no thread free for the precise tail
		want       error
		min, max   time.Duration
	}{
		{name: "ends", d: 30 * time.Millisecond, min: 30 * time.Millisecond, max: 100 * time.Millisecond},
		{name: "ends on its timer when no thread is free", d: 30 * time.Millisecond, busyThread: true, min: 30 * time.Millisecond, max: 100 * time.Millisecond},
		{name: "shorter than the tail", d: time.Millisecond, min: time.Millisecond, max: 50 * time.Millisecond},
		{name: "cancelled", d: time.Hour, cancelAt: 30 * time.Millisecond, want: interp.ExitStatus(143), min: 30 * time.Millisecond, max: 100 * time.Millisecond},
		{name: "forever, cancelled", forever: true, cancelAt: 30 * time.Millisecond, want: interp.ExitStatus(143), min: 30 * time.Millisecond, max: 100 * time.Millisecond},
		{name: "cancelled before a sleep within the tail", d: time.Millisecond, cancelAt: -1, want: interp.ExitStatus(143), max: 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			switch {
			case tt.cancelAt < 0:
				cancel()
			case tt.cancelAt > 0:
				time.AfterFunc(tt.cancelAt, cancel)
			}
			if tt.busyThread {
				for range cap(preciseTails) {
					preciseTails <- struct{}{}
				}
				defer func() {
					for range cap(preciseTails) {
						<-preciseTails
					}
				}()
			}
			j := &job{killSig: syscall.SIGTERM}
			begin := time.Now()
			err := sleepUntil(ctx, j, tt.d, tt.forever)
			took := time.Since(begin)
			if err != tt.want {
				t.Errorf("= %v, want %v", err, tt.want)
			}
			if took < tt.min || took > tt.max {
				t.Errorf("took %v, want %v to %v", took, tt.min, tt.max)
			}
		})
	}
}

// BenchmarkSleepDecision measures what the builtin costs a job before it
// sleeps: the operands, the environment's size, the PATH lookup and the
// check of the file found.
func BenchmarkSleepDecision(b *testing.B) {
	env := expand.ListEnviron(os.Environ()...)
	args := []string{"sleep", "0.05"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := parseSleepOperands(args[1:]); !ok || builtinSleepOff(env) || !execFits(env, args) {
			b.Fatal("declined")
		}
		path, err := interp.LookPathDir("/", env, "sleep")
		if err != nil || !isGNUSleep(path) {
			b.Skip("no GNU sleep on PATH")
		}
	}
}
