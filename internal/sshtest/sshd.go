package sshtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"concurr/internal/proctest"
)

// SSHDPath is where StartSSHD looks for OpenSSH's server.
var SSHDPath = "/usr/sbin/sshd"

// SSHD is a running OpenSSH sshd listening on several loopback ports, one
// per host alias.
type SSHD struct {
	Aliases    []string // node1 … nodeN, one per port
	Ports      []int
	Home       string // HOME of the sessions sshd starts (set with SetEnv)
	Keys       *Keys  // client key files and the client's HOME
	Config     string // ssh_config for the aliases, usable with ssh -F
	KnownHosts string
	Log        string // sshd's log file

	cmd *exec.Cmd
}

// SSHDOption adjusts StartSSHD.
type SSHDOption func(*sshdOptions)

type sshdOptions struct {
	extra []string
}

// WithSSHDConfig adds lines to sshd_config, such as "MaxStartups 10:30:60".
func WithSSHDConfig(lines ...string) SSHDOption {
	return func(o *sshdOptions) { o.extra = append(o.extra, lines...) }
}

// StartSSHD runs the system's sshd with n host aliases, and stops it at the
// test's cleanup. It skips the test when sshd is not installed. Sessions run
// as the current user with HOME set to a temporary folder, so the real home
// is neither read nor written.
func StartSSHD(t testing.TB, n int, opts ...SSHDOption) *SSHD {
	t.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		t.Skipf("no OpenSSH server at %s", SSHDPath)
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("no ssh-keygen")
	}
	var o sshdOptions
	for _, opt := range opts {
		opt(&o)
	}
	// sshd insists on its privilege separation folder.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skipf("cannot create /run/sshd: %v", err)
	}
	dir := t.TempDir()
	d := &SSHD{Home: t.TempDir(), Keys: NewKeys(t), Log: filepath.Join(dir, "sshd.log")}
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	keyFields := strings.Fields(string(hostPub))
	var conf strings.Builder
	for range n {
		port := freePort(t)
		d.Ports = append(d.Ports, port)
		fmt.Fprintf(&conf, "ListenAddress 127.0.0.1:%d\n", port)
	}
	fmt.Fprintf(&conf, `HostKey %s
PidFile none
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile %s
SetEnv HOME=%s
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
LogLevel VERBOSE
`, hostKey, d.Keys.PublicFile, d.Home)
	for _, l := range o.extra {
		conf.WriteString(l + "\n")
	}
	confPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	var known, client strings.Builder
	d.KnownHosts = filepath.Join(d.Keys.Dir, ".ssh", "known_hosts")
	d.Config = filepath.Join(d.Keys.Dir, ".ssh", "config")
	for i, port := range d.Ports {
		alias := "node" + strconv.Itoa(i+1)
		d.Aliases = append(d.Aliases, alias)
		fmt.Fprintf(&known, "[127.0.0.1]:%d %s %s\n", port, keyFields[0], keyFields[1])
		fmt.Fprintf(&client, `Host %s
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ControlMaster no
  ControlPath none
  ConnectTimeout 5
  LogLevel ERROR
`, alias, port, currentUser(), d.Keys.KeyFile, d.KnownHosts)
	}
	if err := os.WriteFile(d.KnownHosts, []byte(known.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.Config, []byte(client.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	d.cmd = exec.Command(SSHDPath, "-D", "-f", confPath, "-E", d.Log)
	d.cmd.Stderr = &stderr
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(d.stop)
	for _, port := range d.Ports {
		if err := waitListening(port, 5*time.Second); err != nil {
			log, _ := os.ReadFile(d.Log)
			t.Fatalf("sshd: %v\n%s%s", err, stderr.Bytes(), log)
		}
	}
	return d
}

// SSHArgs returns the system ssh command that reaches the aliases through
// the generated config, for the --ssh transport.
func (d *SSHD) SSHArgs() []string {
	return []string{"ssh", "-F", d.Config}
}

func (d *SSHD) stop() {
	// The listener's group only: sessions sshd forked are in groups of
	// their own, and a test that leaks one should see it.
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		d.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	// A session the client abandoned (a dial the run no longer needed)
	// may still be finishing its writes to the cache under Home; let it,
	// so that removing Home does not race it. Bounded: leaks are for the
	// tests to find.
	proctest.InHome(d.Home).WaitNone(5 * time.Second)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %v: %w", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ClosedPort returns a loopback address on which nothing listens.
func ClosedPort(t testing.TB) int { return freePort(t) }

// RequireE2E skips the test unless CONCURR_E2E=1, the switch for tests that
// start real services (make e2e sets it).
func RequireE2E(t testing.TB) {
	t.Helper()
	if os.Getenv("CONCURR_E2E") != "1" {
		t.Skip("set CONCURR_E2E=1 to start a real sshd (make e2e)")
	}
}

// Freeze stops (SIGSTOP) every process sshd has forked for its connections,
// and what they started, as a host that hangs without closing anything.
// thaw resumes them; it also runs at the test's cleanup.
func (d *SSHD) Freeze(t testing.TB) (thaw func()) {
	t.Helper()
	pids := proctest.Descendants(d.cmd.Process.Pid)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	var once sync.Once
	thaw = func() {
		once.Do(func() {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGCONT)
			}
		})
	}
	t.Cleanup(thaw)
	return thaw
}
