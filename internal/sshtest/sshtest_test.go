package sshtest

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestServerRunsCommands(t *testing.T) {
	s := StartServer(t)
	s.SetBanner("welcome\n")
	hostKeys, err := knownhosts.New(s.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            currentUser(),
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.Keys.Signer)},
		HostKeyCallback: hostKeys,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name, cmd, out string
		exit           int
	}{
		{name: "home", cmd: `echo "$HOME"`, out: "welcome\n" + s.Home + "\n"},
		{name: "exit status", cmd: "exit 3", out: "welcome\n", exit: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			out, err := sess.Output(tt.cmd)
			exit := 0
			if e, ok := err.(*ssh.ExitError); ok {
				exit = e.ExitStatus()
			} else if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.out || exit != tt.exit {
				t.Errorf("got %q exit %d, want %q exit %d", out, exit, tt.out, tt.exit)
			}
		})
	}
	if ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil || !ok {
		t.Errorf("keepalive: %v %v", ok, err)
	}
}

func TestExecHandlerServesInProcess(t *testing.T) {
	s := StartServer(t)
	s.SetExecHandler(func(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) int {
		switch command {
		case "echo":
			in, _ := io.ReadAll(stdin)
			fmt.Fprintf(stdout, "got %s", in)
			fmt.Fprint(stderr, "to stderr")
			return 4
		case "wait":
			<-ctx.Done() // until the client signals or closes the session
			return 143
		}
		return 127
	})
	hostKeys, err := knownhosts.New(s.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            currentUser(),
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.Keys.Signer)},
		HostKeyCallback: hostKeys,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Run("stdio and status", func(t *testing.T) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr strings.Builder
		sess.Stdin, sess.Stdout, sess.Stderr = strings.NewReader("input"), &stdout, &stderr
		err = sess.Run("echo")
		if e, ok := err.(*ssh.ExitError); !ok || e.ExitStatus() != 4 {
			t.Errorf("exit: %v, want status 4", err)
		}
		if stdout.String() != "got input" || stderr.String() != "to stderr" {
			t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
		}
	})
	t.Run("signal ends it", func(t *testing.T) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.Start("wait"); err != nil {
			t.Fatal(err)
		}
		sess.Signal(ssh.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- sess.Wait() }()
		select {
		case err := <-done:
			if e, ok := err.(*ssh.ExitError); !ok || e.ExitStatus() != 143 {
				t.Errorf("exit: %v, want status 143", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the handler did not end at the signal")
		}
	})
	if got := s.Execs(); len(got) != 2 || got[0] != "echo" || got[1] != "wait" {
		t.Errorf("Execs() = %q", got)
	}
}

func TestSSHD(t *testing.T) {
	RequireE2E(t)
	d := StartSSHD(t, 2)
	for _, alias := range d.Aliases {
		out, err := exec.Command("ssh", "-F", d.Config, alias, `echo "$HOME"`).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != d.Home {
			t.Errorf("%s: %v: %q, want %q", alias, err, out, d.Home)
		}
	}
}
