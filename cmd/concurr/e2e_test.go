package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/ssh"

	"concurr/internal/buildinfo"
	"concurr/internal/proctest"
	"concurr/internal/sshtest"
)

// TestE2ESSHD runs the scripts in the top-level testdata/e2e against the
// system's OpenSSH sshd, listening on loopback as node1, node2 and node3. It
// skips unless CONCURR_E2E=1 (make e2e) and when sshd is not installed.
//
// The three aliases share one sshd and so one HOME ($NODE_HOME) and one agent
// cache. The scripts in testdata/e2e/serial need that HOME to themselves:
// they watch the cache being filled, put rc files that print into it, or count
// the processes left on the "hosts"; they run first, one at a time, in the
// order of their names. The scripts in testdata/e2e then run in parallel.
//
// The scripts see:
//
//	$SSH_CONFIG   ssh_config with node1..node3; jumped (node3 reached through
//	              ProxyJump node1); jumpbroken (ProxyJump through a closed
//	              port); unreachable (a closed port); badkey (node1's port
//	              with a known_hosts line holding another key); unknownkey
//	              (node2's port with an empty known_hosts)
//	$NODE_HOME    HOME of every session sshd starts
//	$AGENT_DIR    the agent's cache folder on the nodes, and $AGENT the
//	              cached agent itself, as the client names them; $AGENT_BUILD
//	              the folder's name, <version>-<hash>
//	$NODE2_PORT   node2's port
//	$MARK         a number unique to the script, for `sleep $MARK` jobs that
//	              the procs commands can find
//
// and the commands status (exit status), procs (wait for processes), gone
// (no process left) and interrupt (signal a run once its jobs are running).
//
// A script that starts with skip 'known bug: ...' holds the checks for a bug
// not fixed yet; it fails without that line, which goes with the fix.
func TestE2ESSHD(t *testing.T) {
	if os.Getenv("CONCURR_E2E") != "1" {
		t.Skip("set CONCURR_E2E=1 to run the tests against the system's sshd (make e2e)")
	}
	d := sshtest.StartSSHD(t, 3)
	config := writeE2EConfig(t, d)
	build := buildinfo.Version + "-" + agentSum(t)[:16]
	agentDir := filepath.Join(d.Home, ".cache", "concurr", build)
	params := func() testscript.Params {
		return testscript.Params{
			UpdateScripts: *update,
			Setup: func(env *testscript.Env) error {
				env.Setenv("HOME", d.Keys.Dir)
				env.Setenv("SSH_CONFIG", config)
				env.Setenv("NODE_HOME", d.Home)
				env.Setenv("AGENT_BUILD", build)
				env.Setenv("AGENT_DIR", agentDir)
				env.Setenv("NODE2_PORT", strconv.Itoa(d.Ports[1]))
				env.Setenv("AGENT", filepath.Join(agentDir, "concurr"))
				env.Setenv("MARK", uniqueSleep(t))
				env.Setenv("SSHD_LOG", d.Log)
				return nil
			},
			Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
				"procs":     cmdProcs,
				"gone":      cmdGone,
				"status":    cmdStatus,
				"interrupt": cmdInterrupt,
			},
		}
	}
	t.Run("serial", func(t *testing.T) {
		files, err := filepath.Glob("../../testdata/e2e/serial/*.txt")
		if err != nil || len(files) == 0 {
			t.Fatalf("no scripts in testdata/e2e/serial: %v", err)
		}
		sort.Strings(files)
		for _, f := range files {
			// One t.Run each: it returns only when its script has ended.
			t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
				p := params()
				p.Files = []string{f}
				testscript.Run(t, p)
			})
		}
	})
	t.Run("parallel", func(t *testing.T) {
		p := params()
		p.Dir = "../../testdata/e2e"
		testscript.Run(t, p)
	})
	if n := len(proctest.Cmdline(d.Home).WaitNone(5 * time.Second)); n != 0 {
		t.Errorf("%d processes whose command line names %s are left after the scripts:\n%s", n, d.Home, listProcesses(d.Home))
	}
}

// writeE2EConfig writes the ssh_config the scripts use: the harness's own
// aliases and a few made for failure cases.
func writeE2EConfig(t *testing.T, d *sshtest.SSHD) string {
	t.Helper()
	base, err := os.ReadFile(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	block := func(alias string, port int, knownHosts string, extra ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "Host %s\n  HostName 127.0.0.1\n  Port %d\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n"+
			"  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n"+
			"  ControlMaster no\n  ControlPath none\n  ConnectTimeout 5\n  LogLevel ERROR\n",
			alias, port, u.Username, d.Keys.KeyFile, knownHosts)
		for _, l := range extra {
			b.WriteString("  " + l + "\n")
		}
		return b.String()
	}

	// A known_hosts file that holds another key for node1's address: what
	// a reinstalled host, or a man in the middle, looks like.
	wrong := sshtest.NewPublicKey(t)
	badKnown := filepath.Join(d.Keys.Dir, ".ssh", "known_hosts_wrong")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", d.Ports[0], ssh.MarshalAuthorizedKey(wrong))
	if err := os.WriteFile(badKnown, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}

	closed := sshtest.ClosedPort(t)
	config := string(base) +
		block("jumped", d.Ports[2], d.KnownHosts, "ProxyJump node1") +
		block("jumpbroken", d.Ports[2], d.KnownHosts, "ProxyJump unreachable") +
		block("unreachable", closed, d.KnownHosts) +
		block("badkey", d.Ports[0], badKnown) +
		block("unknownkey", d.Ports[1], "/dev/null")
	path := filepath.Join(d.Keys.Dir, ".ssh", "config_e2e")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// agentSum is the SHA-256 of the concurr the scripts run, which names the
// agent's cache folder on the nodes.
func agentSum(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("concurr")
	if err != nil {
		t.Fatalf("the scripts' concurr: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// uniqueSleep returns a number of seconds, around 300, that no other
// command line on the machine is likely to hold, so that `sleep $MARK`
// jobs can be told apart from everything else.
func uniqueSleep(t *testing.T) string {
	n, err := rand.Int(rand.Reader, big.NewInt(1e9))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("300.%09d", n.Int64())
}

// cmdProcs waits up to 20 seconds until at least N processes have MARKER in
// their command line: procs N MARKER.
func cmdProcs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: procs N MARKER")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("procs: bad count %q", args[0])
	}
	if n := waitForProcesses(args[1], want, 20*time.Second); n < want {
		ts.Fatalf("%d processes with %q after 20s, want %d:\n%s", n, args[1], want, listProcesses(args[1]))
	}
}

func waitForProcesses(marker string, want int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := len(proctest.Cmdline(marker).List())
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdGone checks that no process has any of the markers in its command line,
// allowing 5 seconds for processes that are on their way out: gone MARKER...
func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 || neg {
		ts.Fatalf("usage: gone MARKER...")
	}
	for _, m := range args {
		if n := len(proctest.Cmdline(m).WaitNone(5 * time.Second)); n != 0 {
			ts.Fatalf("%d processes with %q left:\n%s", n, m, listProcesses(m))
		}
	}
}

// cmdStatus runs a command and checks its exit status, and with -within
// that it ended in time; stdout and stderr are kept for the next lines, as
// after exec: status [-within DURATION] N command args...
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: status [-within DURATION] N command args..."
	var within time.Duration
	if len(args) > 0 && args[0] == "-within" {
		if len(args) < 2 {
			ts.Fatalf(usage)
		}
		d, err := time.ParseDuration(args[1])
		if err != nil {
			ts.Fatalf("status: bad -within %q", args[1])
		}
		within, args = d, args[2:]
	}
	if len(args) < 2 || neg {
		ts.Fatalf(usage)
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad N %q", args[0])
	}
	status := 0
	begin := time.Now()
	err = ts.Exec(args[1], args[2:]...)
	took := time.Since(begin)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		status = exitErr.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if status != want {
		ts.Fatalf("exit status %d, want %d", status, want)
	}
	if within > 0 && took > within {
		ts.Fatalf("took %v, want within %v", took.Round(time.Millisecond), within)
	}
}

// cmdInterrupt runs a command, sends it SIGNAL (INT or TERM) as soon as N
// processes other than itself have MARKER in their command line, and checks
// that it exits with STATUS within 10 seconds of the signal; stdout and
// stderr are kept for the next lines, as after exec:
// interrupt SIGNAL STATUS N MARKER command args...
func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 5 || neg {
		ts.Fatalf("usage: interrupt INT|TERM STATUS N MARKER command args...")
	}
	sig, ok := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM}[args[0]]
	wantStatus, err1 := strconv.Atoi(args[1])
	want, err2 := strconv.Atoi(args[2])
	if !ok || err1 != nil || err2 != nil {
		ts.Fatalf("usage: interrupt INT|TERM STATUS N MARKER command args...")
	}
	marker, name := args[3], args[4]
	type sent struct {
		at  time.Time
		err error
	}
	signalled := make(chan sent, 1)
	stop := make(chan struct{})
	go func() {
		// Owned by this command, which receives from signalled below.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-stop:
				signalled <- sent{err: errors.New("the command ended before its jobs were running")}
				return
			default:
			}
			var client []int
			others := 0
			for _, p := range proctest.Cmdline(marker).List() {
				if filepath.Base(p.Argv[0]) == name {
					client = append(client, p.PID)
				} else {
					others++
				}
			}
			if len(client) == 1 && others >= want {
				signalled <- sent{at: time.Now(), err: syscall.Kill(client[0], sig)}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		err := fmt.Errorf("fewer than %d processes with %q after 30s:\n%s", want, marker, listProcesses(marker))
		// Do not wait for the jobs' sleep: end the command at once.
		for _, p := range proctest.Cmdline(marker).List() {
			if filepath.Base(p.Argv[0]) == name {
				syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
		signalled <- sent{err: err}
	}()
	err := ts.Exec(name, args[5:]...)
	ended := time.Now()
	close(stop)
	s := <-signalled
	if s.err != nil {
		ts.Fatalf("interrupt: %v (the command: %v)", s.err, err)
	}
	status := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		status = exitErr.ExitCode()
	} else if err != nil {
		ts.Fatalf("interrupt: %v", err)
	}
	took := ended.Sub(s.at)
	ts.Logf("exit status %d, %v after SIG%s", status, took.Round(time.Millisecond), args[0])
	if status != wantStatus {
		ts.Fatalf("exit status %d after SIG%s, want %d", status, args[0], wantStatus)
	}
	if took > 10*time.Second {
		ts.Fatalf("exited %v after SIG%s, want within 10s", took, args[0])
	}
}

// listProcesses shows the processes whose command line holds marker, one a
// line, for a failure message.
func listProcesses(marker string) string {
	var b strings.Builder
	for _, p := range proctest.Cmdline(marker).List() {
		fmt.Fprintf(&b, "  %d %s\n", p.PID, p.Cmdline())
	}
	return b.String()
}
