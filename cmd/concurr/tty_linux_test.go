package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal pair: the master, which the test types
// into and reads from, and the slave, which becomes concurr's terminal.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's slave: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestTTYJobsReadTheTerminal runs concurr in a session of its own whose
// controlling terminal is a pty, types two lines there, and checks that a
// --tty job reads them, with the shell's read builtin and with an external
// command, while without --tty the same job reads nothing.
func TestTTYJobsReadTheTerminal(t *testing.T) {
	concurr := concurrForProcessScan(t)
	script := `read first; echo "read:$first"; head -n1 | tr a-z A-Z; echo "end:{}"`
	tests := []struct {
		name    string
		options []string
		want    []string
	}{
		{"--tty", []string{"--tty"}, []string{"read:hello", "WORLD", "end:x"}},
		{"--open-tty", []string{"--open-tty", "-j2"}, []string{"read:hello", "WORLD", "end:x"}},
		{"without", nil, []string{"read:\r\n", "end:x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			master, slave := openPty(t)
			cmd := exec.Command(concurr, append(tt.options, script, ":::", "x")...)
			cmd.Dir = t.TempDir()
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			slave.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			if _, err := master.WriteString("hello\nworld\n"); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			read := make(chan struct{})
			go func() {
				defer close(read)
				buf := make([]byte, 4096)
				for {
					// EIO once the last process holding the slave exits.
					n, err := master.Read(buf)
					out.Write(buf[:n])
					if err != nil {
						return
					}
				}
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("concurr %v: %v", tt.options, err)
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("concurr %v hung; the terminal shows:\n%s", tt.options, out.String())
			}
			<-read
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("concurr %v: the terminal lacks %q; it shows:\n%s", tt.options, w, out.String())
				}
			}
			if tt.options == nil && strings.Contains(out.String(), "WORLD") {
				t.Errorf("without --tty the job read the terminal:\n%s", out.String())
			}
		})
	}
}
