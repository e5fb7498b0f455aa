package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestQueries(t *testing.T) {
	if !Supported() {
		t.Skip("no /proc")
	}
	home := t.TempDir()
	// An unlikely duration marks this test's sleeps.
	marker := fmt.Sprintf("1%d.%06d", os.Getpid()%1000, time.Now().UnixNano()%1e6)
	start := func(t *testing.T) *exec.Cmd {
		cmd := exec.Command("sleep", marker)
		cmd.Env = append(os.Environ(), "HOME="+home)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	running := start(t)
	defer func() { running.Process.Kill(); running.Wait() }()
	zombie := start(t)
	zombie.Process.Kill()
	// Not reaped yet: a zombie until Wait, which must not be listed.
	for !isZombie(fmt.Sprintf("/proc/%d", zombie.Process.Pid)) {
		time.Sleep(5 * time.Millisecond)
	}
	defer zombie.Wait()

	tests := []struct {
		name  string
		query Query
		want  []int
	}{
		{name: "command line", query: Cmdline(marker), want: []int{running.Process.Pid}},
		{name: "command line across arguments", query: Cmdline("sleep " + marker), want: []int{running.Process.Pid}},
		{name: "every marker", query: Cmdline("sleep", marker, "no such argument")},
		{name: "home", query: InHome(home), want: []int{running.Process.Pid}},
		{name: "home and command line", query: InHome(home, marker), want: []int{running.Process.Pid}},
		{name: "other home", query: InHome(home+"x", marker)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, p := range tt.query.List() {
				got = append(got, p.PID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List() = %v, want %v", got, tt.want)
			}
		})
	}

	if d := Descendants(os.Getpid()); !slices.Contains(d, running.Process.Pid) {
		t.Errorf("Descendants of this process %v do not hold its child %d", d, running.Process.Pid)
	}
	if left := Cmdline(marker).WaitNone(50 * time.Millisecond); len(left) != 1 || left[0].Cmdline() != "sleep "+marker {
		t.Errorf("WaitNone with the sleep running = %v", left)
	}
	running.Process.Kill()
	running.Wait()
	if left := Cmdline(marker).WaitNone(5 * time.Second); len(left) != 0 {
		t.Errorf("WaitNone after the kill = %v", left)
	}
}
