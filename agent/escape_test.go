package agent

import (
	"fmt"
	"testing"
	"time"

	"concurr/internal/wire"
)

// TestEscapedProcessesEndWithJob runs jobs whose children leave the job's
// process groups, as daemons do, and checks that they end with the job, or
// with the session when it ends first, where the agent may put its jobs in
// cgroups; elsewhere the test is skipped, as nothing then finds them.
func TestEscapedProcessesEndWithJob(t *testing.T) {
	if !cgroupsUsable() {
		t.Skip("no cgroup v2 subtree that the agent may write")
	}
	tests := []struct {
		name   string
		script string // %[1]s is the marker
		atEOF  bool   // the session ends while the job runs
	}{
		{name: "setsid", script: `setsid sleep %[1]s >/dev/null 2>&1 < /dev/null &`},
		{name: "setsid waited for", script: `setsid -f sleep %[1]s >/dev/null 2>&1 < /dev/null; echo started`},
		{name: "daemon that double forks", script: `sh -c '(setsid sh -c "sleep %[1]s; :" >/dev/null 2>&1 < /dev/null &)'`},
		{name: "new process group", script: `sh -c 'perl -e "setpgrp(0,0); exec @ARGV" sleep %[1]s; :' >/dev/null 2>&1 &`},
		{name: "setsid when the session ends", script: `setsid sleep %[1]s >/dev/null 2>&1 < /dev/null & /bin/sleep %[1]s`, atEOF: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := sleeper(t)
			c := startAgent(t, Options{Slots: 1})
			src := fmt.Sprintf(tt.script, marker)
			if !tt.atEOF {
				src += "\nsleep 0.2"
			}
			c.send(&wire.Command{ID: 1, Template: script(src), Slots: 1},
				&wire.Input{Command: 1, Seq: 1})
			if tt.atEOF {
				waitProcesses(t, marker, 2)
				c.close()
				waitNoProcesses(t, marker, 2*time.Second)
				return
			}
			r := c.collect(20*time.Second, 1)[1]
			if r.result.Exit != 0 {
				t.Errorf("exit %d, stderr %q", r.result.Exit, r.stderr.String())
			}
			// At the job's end, not only when its slot exits.
			waitNoProcesses(t, marker, time.Second)
			c.send(&wire.Delete{Command: 1})
		})
	}
}
