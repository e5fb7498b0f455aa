package sshtest

import (
	"os/exec"
	"strings"
	"testing"

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
