package sshx

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"concurr/internal/proctest"
	"concurr/internal/sshtest"
)

// TestRealSSHD runs the transport against OpenSSH's sshd, with the login
// shell's rc file printing noise, through both x/crypto/ssh and the system
// ssh client.
func TestRealSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 2)
	os.WriteFile(filepath.Join(d.Home, ".bashrc"), []byte("echo bashrc says hello\n"), 0o644)

	var log1 logLines
	begin := time.Now()
	n := start(t, "node1", options(d.Config, &log1))
	if _, noise := hello(t, n); n.Cached || !log1.has("uploading agent") {
		t.Errorf("first start: cached %v, noise %q, log:\n%s", n.Cached, noise, log1.String())
	}
	t.Logf("first contact with upload: %v", time.Since(begin))
	n.Close()

	t.Run("cached", func(t *testing.T) {
		var log logLines
		begin := time.Now()
		n := start(t, "node2", options(d.Config, &log))
		hello(t, n)
		elapsed := time.Since(begin)
		n.Close()
		if !n.Cached || !log.has("node2: agent cached") {
			t.Errorf("cached %v, log:\n%s", n.Cached, log.String())
		}
		begin = time.Now()
		if out, err := exec.Command("ssh", "-F", d.Config, "node2", "true").CombinedOutput(); err != nil {
			t.Fatalf("ssh node2 true: %v: %s", err, out)
		}
		t.Logf("cached start with x/crypto/ssh: %v; ssh node2 true: %v", elapsed, time.Since(begin))
	})

	t.Run("system ssh", func(t *testing.T) {
		var log logLines
		opts := options("", &log)
		opts.SSHCommand = d.SSHArgs()
		n := start(t, "node1", opts)
		hello(t, n)
		if !n.Cached {
			t.Errorf("not cached; log:\n%s", log.String())
		}
		n.Close()
	})

	t.Run("system ssh unreachable", func(t *testing.T) {
		var log logLines
		opts := options("", &log)
		opts.SSHCommand = d.SSHArgs()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		spec := "127.0.0.1:" + strconv.Itoa(sshtest.ClosedPort(t))
		_, err := Start(ctx, host(t, spec), opts)
		if err == nil || !strings.Contains(err.Error(), "Connection refused") {
			t.Fatalf("err = %v", err)
		}
	})

	if c := len(proctest.Cmdline(d.Home).WaitNone(3 * time.Second)); c != 0 {
		t.Errorf("%d processes left after Close", c)
	}
}

// TestBootstrapCostSSHD measures cached starts against OpenSSH's sshd,
// beside `ssh host true`, for the cost of the bootstrap's checks: the
// medians are logged (go test -v), not asserted, as the machine is shared.
func TestBootstrapCostSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 1)
	var log logLines
	opts := options(d.Config, &log)
	start(t, "node1", opts).Close()
	const runs = 30
	var starts, logins []time.Duration
	for range runs {
		begin := time.Now()
		n := start(t, "node1", opts)
		hello(t, n)
		starts = append(starts, time.Since(begin))
		n.Close()
		begin = time.Now()
		if out, err := exec.Command("ssh", "-F", d.Config, "node1", "true").CombinedOutput(); err != nil {
			t.Fatalf("ssh node1 true: %v: %s", err, out)
		}
		logins = append(logins, time.Since(begin))
	}
	median := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	t.Logf("cached start: median %v over %d; ssh node1 true: median %v", median(starts), runs, median(logins))
}
