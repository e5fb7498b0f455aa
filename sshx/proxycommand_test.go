package sshx

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"concurr/internal/proctest"
	"concurr/internal/sshtest"
)

// proxyHelperEnv makes the test binary a ProxyCommand: it appends its
// arguments to the file the variable names and copies stdin and stdout to
// the TCP address host port, like `nc host port`, which the machine may
// lack.
const proxyHelperEnv = "CONCURR_SSHX_TEST_PROXY"

func runProxyHelper(log string, args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: proxy host port [marker...]")
		return 2
	}
	if f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		fmt.Fprintln(f, strings.Join(args, " "))
		f.Close()
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(args[0], args[1]))
	if err != nil {
		fmt.Fprintf(os.Stderr, "proxy: %v\n", err)
		return 1
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(conn, os.Stdin)
		conn.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(os.Stdout, conn)
	os.Stdout.Close()
	return 0
}

// proxyCommand returns a ProxyCommand line that runs the test binary as a
// proxy to %h %p, logging its arguments to log; marker names its process.
func proxyCommand(t *testing.T, log, marker string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("  ProxyCommand env %s=%s '%s' %%h %%p %%n %%r %s\n", proxyHelperEnv, log, exe, marker)
}

func readLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the ProxyCommand did not run: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestProxyCommand reaches an in-process server through a ProxyCommand,
// directly and on the first ProxyJump hop, and checks that closing the
// node ends the command.
func TestProxyCommand(t *testing.T) {
	keys := sshtest.NewKeys(t)
	bastion := sshtest.StartServerWithKeys(t, keys)
	target := sshtest.StartServerWithKeys(t, keys)
	tests := []struct {
		name    string
		config  func(proxy string) string
		alias   string
		wantLog string // the proxy's arguments, %h %p %n %r
		execs   *sshtest.Server
	}{
		{name: "direct", alias: "node1", execs: target,
			config:  func(proxy string) string { return target.ConfigBlock("node1") + proxy },
			wantLog: fmt.Sprintf("127.0.0.1 %d node1 %s", target.Port, localUser())},
		{name: "on a ProxyJump hop", alias: "inner", execs: target,
			config: func(proxy string) string {
				return bastion.ConfigBlock("bastion") + proxy + target.ConfigBlock("inner") + "  ProxyJump bastion\n"
			},
			wantLog: fmt.Sprintf("127.0.0.1 %d bastion %s", bastion.Port, localUser())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "proxy.log")
			config := writeConfig(t, tt.config(proxyCommand(t, log, dir)))
			var logs logLines
			before := len(tt.execs.Execs())
			n := start(t, tt.alias, options(config, &logs))
			hello(t, n)
			if got := readLog(t, log); len(got) != 1 || !strings.HasPrefix(got[0], tt.wantLog+" ") {
				t.Errorf("the proxy ran with %q, want %q", got, tt.wantLog)
			}
			if len(tt.execs.Execs()) == before {
				t.Errorf("%s ran nothing", tt.alias)
			}
			n.Close()
			if left := proctest.Cmdline(dir).WaitNone(3 * time.Second); len(left) != 0 {
				t.Errorf("ProxyCommand left running after Close: %v", left)
			}
		})
	}
}

// TestProxyCommandDroppedLogin checks that a server that drops the login,
// as sshd past MaxStartups does, behind a proxy that then ends quietly, is
// tried again, as it is over TCP.
func TestProxyCommandDroppedLogin(t *testing.T) {
	s := sshtest.StartServer(t)
	s.DropConnections(1)
	dir := t.TempDir()
	log := filepath.Join(dir, "proxy.log")
	config := writeConfig(t, s.ConfigBlock("node1")+proxyCommand(t, log, dir))
	var logs logLines
	n := start(t, "node1", options(config, &logs))
	hello(t, n)
	if got := readLog(t, log); len(got) != 2 || !logs.has("trying again") {
		t.Errorf("the proxy ran %d times; log:\n%s", len(got), logs.String())
	}
}

// TestFailingProxyCommand checks that a ProxyCommand that fails gives one
// line naming the host, the command and what it printed, at once rather
// than after retries.
func TestFailingProxyCommand(t *testing.T) {
	s := sshtest.StartServer(t)
	tests := []struct {
		name, proxy string
		want        []string
	}{
		{name: "exits with a message", proxy: "sh -c 'echo cannot reach gateway.example.test >&2; exit 1'",
			want: []string{"exit status 1", "cannot reach gateway.example.test"}},
		{name: "not found", proxy: "/nonexistent/proxy %h", want: []string{"exit status 127", "/nonexistent/proxy"}},
		{name: "exits silently", proxy: "false", want: []string{"exit status 1"}},
		{name: "bad token", proxy: "nc %h %z", want: []string{`bad ProxyCommand "nc %h %z" for node1: unknown token %z`}},
		{name: "closed port", proxy: fmt.Sprintf("env %s=/dev/null '%s' 127.0.0.1 %d", proxyHelperEnv, mustExecutable(t), sshtest.ClosedPort(t)),
			want: []string{"connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := writeConfig(t, s.ConfigBlock("node1")+"  ProxyCommand "+tt.proxy+"\n")
			var log logLines
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			begin := time.Now()
			_, err := Start(ctx, host(t, "node1"), options(config, &log))
			elapsed := time.Since(begin)
			if err == nil {
				t.Fatal("started")
			}
			msg := err.Error()
			if !strings.Contains(msg, "ProxyCommand") || !strings.HasPrefix(msg, "node1: ") || strings.Contains(msg, "\n") {
				t.Errorf("err = %q, want one line naming node1 and the ProxyCommand", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("err = %q, want %q in it", msg, w)
				}
			}
			if elapsed > 2*time.Second || log.has("trying again") {
				t.Errorf("took %v; log:\n%s", elapsed, log.String())
			}
		})
	}
}

func mustExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestProxyCommandSSHD reaches OpenSSH's sshd through a ProxyCommand, and
// through a ProxyJump hop that has one; the system's ssh, given the same
// config, takes the same way.
func TestProxyCommandSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 2)
	base, err := os.ReadFile(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "proxy.log")
	// The first value given wins: these blocks come before the generated ones.
	config := writeConfig(t, "Host node2\n  ProxyJump node1\nHost node1\n"+proxyCommand(t, log, dir)+string(base))
	user := localUser()

	t.Run("ProxyCommand", func(t *testing.T) {
		os.Remove(log)
		var logs logLines
		n := start(t, "node1", options(config, &logs))
		hello(t, n)
		n.Close()
		if got, want := readLog(t, log), fmt.Sprintf("127.0.0.1 %d node1 %s ", d.Ports[0], user); len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("the proxy ran with %q, want %q", got, want)
		}
	})

	t.Run("ProxyCommand on a ProxyJump hop", func(t *testing.T) {
		os.Remove(log)
		var logs logLines
		n := start(t, "node2", options(config, &logs))
		hello(t, n)
		n.Close()
		want := fmt.Sprintf("127.0.0.1 %d node1 %s ", d.Ports[0], user)
		if got := readLog(t, log); len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("the proxy ran with %q, want %q", got, want)
		}
		os.Remove(log)
		if out, err := exec.Command("ssh", "-F", config, "node2", "true").CombinedOutput(); err != nil {
			t.Fatalf("ssh node2 true: %v: %s", err, out)
		}
		if got := readLog(t, log); len(got) != 1 || !strings.HasPrefix(got[0], want) {
			t.Errorf("with the system's ssh, the proxy ran with %q, want %q", got, want)
		}
	})

	t.Run("failing", func(t *testing.T) {
		config := writeConfig(t, "Host node1\n  ProxyCommand sh -c 'echo bastion said no >&2; exit 255'\n"+string(base))
		var logs logLines
		begin := time.Now()
		_, err := Start(context.Background(), host(t, "node1"), options(config, &logs))
		if err == nil || !strings.HasPrefix(err.Error(), "node1: ProxyCommand ") || !strings.Contains(err.Error(), "bastion said no") {
			t.Errorf("err = %v", err)
		}
		if elapsed := time.Since(begin); elapsed > 2*time.Second {
			t.Errorf("took %v", elapsed)
		}
	})

	if left := proctest.Cmdline(dir).WaitNone(3 * time.Second); len(left) != 0 {
		t.Errorf("ProxyCommand left running: %v", left)
	}
}
