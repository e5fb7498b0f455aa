package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
)

// CONCURR_DEBUG=trace:DIR makes the client and every local agent it starts
// write a Go execution trace (runtime/trace) to DIR, named by role and PID,
// for `go tool trace`. Like CONCURR_DEBUG=stats it is a debugging hook, not
// an option: it is how a run's stalls between the client's and the agent's
// goroutines are found.
const debugTracePrefix = "trace:"

// CONCURR_DEBUG=cpuprofile:DIR writes a CPU profile (runtime/pprof) of the
// client and of every local agent to DIR instead, for `go tool pprof`: it
// is how the client's own cost per host and per job is found.
const debugProfilePrefix = "cpuprofile:"

// startDebugTrace starts the trace when CONCURR_DEBUG asks for one; the
// returned function stops it. A trace that cannot start is said on stderr
// and the run goes on without it.
func startDebugTrace(role string, stderr io.Writer) (stop func()) {
	setting := os.Getenv("CONCURR_DEBUG")
	what, suffix := "trace", ".trace"
	begin, end := trace.Start, trace.Stop
	dir, ok := strings.CutPrefix(setting, debugTracePrefix)
	if !ok {
		what, suffix = "cpuprofile", ".pprof"
		begin, end = pprof.StartCPUProfile, pprof.StopCPUProfile
		dir, ok = strings.CutPrefix(setting, debugProfilePrefix)
	}
	if !ok || dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("concurr-%s-%d%s", role, os.Getpid(), suffix)))
	if err == nil {
		err = begin(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "concurr: debug: %s: %v\n", what, err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		end()
		f.Close()
	}
}
