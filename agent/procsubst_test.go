package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

// TestProcessSubstitutionLeavesNothing runs many jobs whose process
// substitutions nobody opens. The interpreter opens each FIFO in a goroutine
// that waits for the other end, on a thread of its own: unreleased, they
// exhausted the runtime's threads after about 10,000 jobs and left every
// FIFO behind in TMPDIR.
func TestProcessSubstitutionLeavesNothing(t *testing.T) {
	jobs := 100_000
	if testing.Short() || raceDetector {
		// Still past the 10,000 threads that used to be exhausted.
		jobs = 12_000
	}
	tests := []struct {
		name   string
		script string
		want   string // each job's stdout
		jobs   int
	}{
		{name: "input substitution never read", script: `true <(echo "$A1")`, jobs: jobs},
		{name: "output substitution never written", script: `true >(cat)`, jobs: jobs},
		{name: "input substitution read", script: `cat <(echo "$A1")`, want: "$A1\n", jobs: 2000},
		{name: "output substitution written", script: `echo "$A1" > >(cat); wait`, want: "$A1\n", jobs: 2000},
		{name: "output substitution of a builtin", script: `echo "$A1" > >(while read -r l; do echo "$l"; done); wait`, want: "$A1\n", jobs: 2000},
		{name: "substitution in eval", script: `eval 'true <(echo "$A1")'`, jobs: 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			c := startAgent(t, Options{Slots: 8})
			c.send(&wire.Command{ID: 1, Template: script(tt.script), Env: []string{"TMPDIR=" + tmp}})
			begin := time.Now()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 1; i <= tt.jobs; i++ {
					if err := c.fw.Write(&wire.Input{Command: 1, Seq: uint64(i), Args: []string{strconv.Itoa(i)}}); err != nil {
						return
					}
				}
				c.bw.Flush()
			}()
			got := 0
			stdout := make(map[uint64]string)
			deadline := time.Now().Add(3 * time.Minute)
			for got < tt.jobs {
				switch m := c.recv(time.Until(deadline)).(type) {
				case *wire.Result:
					got++
					want := strings.ReplaceAll(tt.want, "$A1", fmt.Sprint(m.Seq))
					if m.Exit != 0 || stdout[m.Seq] != want {
						t.Fatalf("job %d: exit %d, stdout %q, want %q", m.Seq, m.Exit, stdout[m.Seq], want)
					}
					delete(stdout, m.Seq)
				case *wire.Output:
					if m.Stream != wire.Stdout {
						t.Fatalf("job %d: stderr %q", m.Seq, m.Data)
					}
					stdout[m.Seq] += string(m.Data)
				case *wire.Error:
					t.Fatalf("agent error: %+v", m)
				}
			}
			<-done
			t.Logf("%d jobs in %v, %d threads", tt.jobs, time.Since(begin), threads())
			if n := threads(); n > 200 {
				t.Errorf("%d threads after the jobs", n)
			}
			c.send(&wire.Delete{Command: 1})
			if err := c.close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
				t.Errorf("%d files left in TMPDIR, such as %s", len(left), left[0])
			}
		})
	}
}

// threads counts the test process's threads.
func threads() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return runtime.NumGoroutine() // no /proc: an upper bound is enough
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
