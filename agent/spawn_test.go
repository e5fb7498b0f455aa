package agent

import (
	"runtime"
	"testing"
	"time"

	"concurr/internal/wire"
)

// TestBackgroundProcessesEndWithJob checks that processes a job leaves in
// the background, which hold its output pipes, end with the job, and that
// the job leaves no goroutine. Run it with -tags nopidfd as well, for the
// os/exec path that other systems take.
func TestBackgroundProcessesEndWithJob(t *testing.T) {
	before := runtime.NumGoroutine()
	c := startAgent(t, Options{Slots: 1})
	c.send(&wire.Command{ID: 1, Template: script(`sleep 30 & sleep 60 & sleep 0.1; echo done`)},
		&wire.Input{Command: 1, Seq: 1})
	r := c.collect(5*time.Second, 1)[1]
	if r.stdout.String() != "done\n" || r.result.Exit != 0 || time.Duration(r.result.Runtime) > time.Second {
		t.Errorf("stdout %q exit %d runtime %v", r.stdout.String(), r.result.Exit, time.Duration(r.result.Runtime))
	}
	c.close()
	waitGoroutines(t, before)
}
