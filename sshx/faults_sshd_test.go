package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"concurr/internal/proctest"
	"concurr/internal/sshtest"
)

// fanConfig writes an ssh_config with n aliases, fan1…fanN, each a copy of
// d's node1, so that many nodes share one sshd.
func fanConfig(t *testing.T, d *sshtest.SSHD, n int) (string, []string) {
	t.Helper()
	base := string(mustRead(t, d.Config))
	_, block, ok := strings.Cut(base, "Host node1\n")
	if !ok {
		t.Fatalf("no node1 in %s", base)
	}
	if i := strings.Index(block, "\nHost "); i >= 0 {
		block = block[:i+1]
	}
	var b strings.Builder
	var aliases []string
	for i := range n {
		alias := fmt.Sprintf("fan%d", i+1)
		aliases = append(aliases, alias)
		b.WriteString("Host " + alias + "\n" + block)
	}
	return writeConfig(t, b.String()), aliases
}

// startAll starts every alias at once and checks that each agent answers.
func startAll(t *testing.T, aliases []string, opts Options) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make([]error, len(aliases))
	var wg sync.WaitGroup
	for i, alias := range aliases {
		wg.Go(func() {
			n, err := Start(ctx, host(t, alias), opts)
			if err != nil {
				errs[i] = err
				return
			}
			defer n.Close()
			if h, err := readHello(n); err != nil || h.Slots != 2 {
				errs[i] = fmt.Errorf("%s: hello %v: %v (stderr %q)", alias, h, err, n.Stderr())
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// TestMaxStartupsSSHD starts 64 nodes at once on one sshd that throttles
// logins past 10 unauthenticated connections: the dropped ones must be
// tried again, and all of them uploading to one HOME at once must work.
func TestMaxStartupsSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 1, sshtest.WithSSHDConfig("MaxStartups 10:30:60"))
	config, aliases := fanConfig(t, d, 64)
	var log logLines
	begin := time.Now()
	startAll(t, aliases, options(config, &log))
	t.Logf("64 nodes on one throttling sshd: %v, %d retries", time.Since(begin), strings.Count(log.String(), "dropped the connection"))
	if files := cachedAgents(t, d.Home); len(files) != 1 || mustHash(t, files[0]) != mustHash(t, testAgent) {
		t.Errorf("cache holds %q", files)
	}
	if c := len(proctest.InHome(d.Home).WaitNone(5 * time.Second)); c != 0 {
		t.Errorf("%d processes left", c)
	}

	t.Run("system ssh", func(t *testing.T) {
		var log logLines
		opts := options(config, &log)
		opts.ConfigFile = ""
		opts.SSHCommand = []string{"ssh", "-F", config}
		begin := time.Now()
		startAll(t, aliases[:24], opts)
		t.Logf("24 nodes through ssh: %v, %d retries", time.Since(begin), strings.Count(log.String(), "dropped the connection"))
	})
}

// TestHungHostSSHD freezes sshd's sessions: keepalives must end the read of
// Stdout with ErrConnectionLost, and Close must not wait for the host.
func TestHungHostSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 1)
	config := writeConfig(t, "Host node1\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n"+string(mustRead(t, d.Config)))
	var log logLines
	n := start(t, "node1", options(config, &log))
	if _, err := readHello(n); err != nil {
		t.Fatal(err)
	}
	thaw := d.Freeze(t)
	begin := time.Now()
	_, err := io.Copy(io.Discard, n.Stdout)
	if d := time.Since(begin); d > 5*time.Second || !errors.Is(err, ErrConnectionLost) {
		t.Errorf("read ended after %v with %v", d, err)
	}
	begin = time.Now()
	n.Close()
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	thaw()
	if c := len(proctest.InHome(d.Home).WaitNone(5 * time.Second)); c != 0 {
		t.Errorf("%d processes left", c)
	}
}

// TestFaultsSSHD runs the other faults against OpenSSH: cancelled starts,
// two clients starting at once, a noexec cache and a silent server.
func TestFaultsSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 2)

	t.Run("cancelled starts leave nothing", func(t *testing.T) {
		for _, after := range []time.Duration{0, 2 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond} {
			os.RemoveAll(filepath.Join(d.Home, ".cache"))
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(after, cancel)
			var log logLines
			n, err := Start(ctx, host(t, "node1"), options(d.Config, &log))
			if err == nil {
				n.Close()
			} else if !errors.Is(err, context.Canceled) {
				t.Errorf("after %v: err = %v", after, err)
			}
			cancel()
			if c := len(proctest.InHome(d.Home).WaitNone(3 * time.Second)); c != 0 {
				t.Errorf("after %v: %d processes left", after, c)
			}
		}
	})

	t.Run("two clients at once", func(t *testing.T) {
		os.RemoveAll(filepath.Join(d.Home, ".cache"))
		var log logLines
		startAll(t, []string{"node1", "node2", "node1", "node2"}, options(d.Config, &log))
	})

	t.Run("noexec cache", func(t *testing.T) {
		os.RemoveAll(filepath.Join(d.Home, ".cache"))
		mountNoexec(t, filepath.Join(d.Home, ".cache"))
		t.Cleanup(func() { os.RemoveAll(filepath.Join(d.Home, ".concurr")) })
		for _, ssh := range []bool{false, true} {
			var log logLines
			opts := options(d.Config, &log)
			if ssh {
				opts.ConfigFile, opts.SSHCommand = "", d.SSHArgs()
			}
			n := start(t, "node1", opts)
			if _, err := readHello(n); err != nil {
				t.Fatalf("system ssh %v: %v; log:\n%s", ssh, err, log.String())
			}
			n.Close()
			// The first start falls back; the second finds the fallback.
			if fellBack := log.has("cannot run the agent from"); fellBack == ssh || n.Cached != ssh {
				t.Errorf("system ssh %v: fell back %v, cached %v; log:\n%s", ssh, fellBack, n.Cached, log.String())
			}
		}
	})

	t.Run("system ssh to a silent server", func(t *testing.T) {
		var log logLines
		opts := options("", &log)
		opts.SSHCommand = d.SSHArgs()
		opts.ConnectTimeout = time.Second
		port := sshtest.StartSilentListener(t)
		begin := time.Now()
		_, err := Start(context.Background(), host(t, fmt.Sprintf("127.0.0.1:%d", port)), opts)
		if elapsed := time.Since(begin); err == nil || elapsed > 1600*time.Millisecond {
			t.Errorf("took %v, err %v", elapsed, err)
		}
		t.Logf("%v", err)
	})
}
