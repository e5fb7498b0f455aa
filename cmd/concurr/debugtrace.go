package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/trace"
	"strings"
)

// CONCURR_DEBUG=trace:DIR makes the client and every local agent it starts
// write a Go execution trace (runtime/trace) to DIR, named by role and PID,
// for `go tool trace`. Like CONCURR_DEBUG=stats it is a debugging hook, not
// an option: it is how a run's stalls between the client's and the agent's
// goroutines are found.
const debugTracePrefix = "trace:"

// startDebugTrace starts the trace when CONCURR_DEBUG asks for one; the
// returned function stops it. A trace that cannot start is said on stderr
// and the run goes on without it.
func startDebugTrace(role string, stderr io.Writer) (stop func()) {
	dir, ok := strings.CutPrefix(os.Getenv("CONCURR_DEBUG"), debugTracePrefix)
	if !ok || dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("concurr-%s-%d.trace", role, os.Getpid())))
	if err == nil {
		err = trace.Start(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "concurr: debug: trace: %v\n", err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		trace.Stop()
		f.Close()
	}
}
