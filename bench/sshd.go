package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"concurr/internal/sshtest"
)

// StartSSHD runs internal/sshtest's real-sshd harness outside a test: n
// host aliases on one loopback OpenSSH sshd, with extra sshd_config lines.
// stop ends sshd and removes every file the harness made. A harness that
// would skip (no sshd, no ssh-keygen) or fail returns an error instead.
func StartSSHD(n int, sshdConfig ...string) (d *sshtest.SSHD, stop func(), err error) {
	tb := &harnessTB{}
	tb.run(func() { d = sshtest.StartSSHD(tb, n, sshtest.WithSSHDConfig(sshdConfig...)) })
	if tb.err != nil {
		tb.cleanup()
		return nil, func() {}, tb.err
	}
	return d, tb.cleanup, nil
}

// harnessTB is the part of testing.TB that test harnesses call, for use
// from a program. Like testing, it ends a failing or skipping harness with
// runtime.Goexit, so run calls the harness on a goroutine of its own.
type harnessTB struct {
	testing.TB // unset: a method not defined below panics, and run recovers

	mu       sync.Mutex
	err      error
	cleanups []func()
	dirs     []string
}

func (h *harnessTB) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				h.fail(fmt.Errorf("sshd harness: %v", r))
			}
		}()
		f()
	}()
	<-done
}

func (h *harnessTB) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.err = err
	}
}

// cleanup runs the registered cleanups last first, then removes the
// temporary folders.
func (h *harnessTB) cleanup() {
	h.mu.Lock()
	cleanups, dirs := h.cleanups, h.dirs
	h.cleanups, h.dirs = nil, nil
	h.mu.Unlock()
	for _, f := range slices.Backward(cleanups) {
		f()
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

func (h *harnessTB) Helper()      {}
func (h *harnessTB) Name() string { return "bench" }
func (h *harnessTB) Fail()        { h.fail(errors.New("sshd harness failed")) }
func (h *harnessTB) Failed() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.err != nil }
func (h *harnessTB) FailNow()     { h.Fail(); runtime.Goexit() }
func (h *harnessTB) Error(args ...any) {
	h.fail(errors.New(strings.TrimSpace(fmt.Sprintln(args...))))
}
func (h *harnessTB) Errorf(format string, args ...any) { h.fail(fmt.Errorf(format, args...)) }
func (h *harnessTB) Fatal(args ...any)                 { h.Error(args...); runtime.Goexit() }
func (h *harnessTB) Fatalf(format string, args ...any) { h.Errorf(format, args...); runtime.Goexit() }
func (h *harnessTB) Skip(args ...any) {
	h.fail(fmt.Errorf("skipped: %s", strings.TrimSpace(fmt.Sprintln(args...))))
	runtime.Goexit()
}
func (h *harnessTB) Skipf(format string, args ...any) {
	h.fail(fmt.Errorf("skipped: "+format, args...))
	runtime.Goexit()
}
func (h *harnessTB) SkipNow()                        { h.Skip("skipped") }
func (h *harnessTB) Skipped() bool                   { return false }
func (h *harnessTB) Log(args ...any)                 {}
func (h *harnessTB) Logf(format string, args ...any) {}
func (h *harnessTB) Attr(key, value string)          {}
func (h *harnessTB) Output() io.Writer               { return io.Discard }
func (h *harnessTB) Context() context.Context        { return context.Background() }
func (h *harnessTB) Setenv(key, value string)        { h.Fatalf("sshd harness: Setenv is not supported") }
func (h *harnessTB) Chdir(dir string)                { h.Fatalf("sshd harness: Chdir is not supported") }
func (h *harnessTB) ArtifactDir() string             { return h.TempDir() }
func (h *harnessTB) Cleanup(f func())                { h.mu.Lock(); h.cleanups = append(h.cleanups, f); h.mu.Unlock() }
func (h *harnessTB) TempDir() string {
	dir, err := os.MkdirTemp("", "concurr-bench-sshd-")
	if err != nil {
		h.Fatalf("temporary folder: %v", err)
	}
	h.mu.Lock()
	h.dirs = append(h.dirs, dir)
	h.mu.Unlock()
	return dir
}
