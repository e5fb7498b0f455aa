package agent

import (
	"os"
	"runtime"
	"testing"
)

// An agent that is a process of its own doubles GOMAXPROCS at its first
// job that starts a program, once; builtins alone leave it, and so does an
// agent served inside another program. (This test changes the test
// binary's GOMAXPROCS, and puts it back.)
func TestProcsRaisedAtFirstFork(t *testing.T) {
	t.Setenv("GOMAXPROCS", "") // restored at the end of the test
	os.Unsetenv("GOMAXPROCS")  // LookupEnv would find an empty value
	restore := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(restore)
	base := 3
	runtime.GOMAXPROCS(base)

	inProcess := startAgent(t, Options{Slots: 1})
	if r := inProcess.run(script(`/bin/true`)); r.result.Exit != 0 {
		t.Fatalf("in-process agent: exit %d", r.result.Exit)
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("an agent inside another program set GOMAXPROCS to %d; want %d kept", got, base)
	}

	own := startAgent(t, Options{Slots: 1, OwnProcess: true})
	if r := own.run(script(`echo builtin`)); r.result.Exit != 0 {
		t.Fatalf("builtin job: exit %d", r.result.Exit)
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("a builtin job set GOMAXPROCS to %d; want %d kept", got, base)
	}
	for range 2 {
		if r := own.run(script(`/bin/true`)); r.result.Exit != 0 {
			t.Fatalf("program job: exit %d", r.result.Exit)
		}
	}
	if got := runtime.GOMAXPROCS(0); got != 2*base {
		t.Fatalf("after two program jobs GOMAXPROCS is %d; want %d (doubled once)", got, 2*base)
	}
}
