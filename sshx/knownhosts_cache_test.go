package sshx

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"concurr/internal/sshtest"
)

// The hosts of a run share one parse of their known_hosts files, and a file
// that changes, by a key appended or by the file replaced, is read again.
func TestKnownHostsParsedOncePerVersion(t *testing.T) {
	file := filepath.Join(t.TempDir(), "known_hosts")
	keyA, keyB, keyC := sshtest.NewPublicKey(t), sshtest.NewPublicKey(t), sshtest.NewPublicKey(t)
	line := func(host string, key ssh.PublicKey) string {
		return knownhosts.Line([]string{knownhosts.Normalize(host)}, key) + "\n"
	}
	if err := os.WriteFile(file, []byte(line("a.example.test", keyA)), 0o600); err != nil {
		t.Fatal(err)
	}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}
	verify := func(host string, key ssh.PublicKey) error {
		t.Helper()
		e := &endpoint{alias: host, hostName: host, port: 22, knownHosts: []string{file}}
		k, err := newHostKeyChecker(e, &Options{})
		if err != nil {
			t.Fatal(err)
		}
		return k.db(net.JoinHostPort(host, "22"), remote, key)
	}

	before := knownHostsParses.Load()
	for range 50 {
		if err := verify("a.example.test", keyA); err != nil {
			t.Fatalf("known key: %v", err)
		}
	}
	if n := knownHostsParses.Load() - before; n != 1 {
		t.Errorf("50 hosts parsed the file %d times; want 1", n)
	}

	if err := verify("b.example.test", keyB); err == nil {
		t.Fatal("a host not in the file verified")
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(line("b.example.test", keyB))
	f.Close()
	if err := verify("b.example.test", keyB); err != nil {
		t.Errorf("a key appended to the file: %v", err)
	}

	// Replaced by a file of the same size: the inode tells them apart even
	// within one tick of the clock.
	replaced := filepath.Join(filepath.Dir(file), "known_hosts.new")
	content := line("a.example.test", keyC) + line("b.example.test", keyB)
	if err := os.WriteFile(replaced, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(replaced, file); err != nil {
		t.Fatal(err)
	}
	if err := verify("a.example.test", keyC); err != nil {
		t.Errorf("a key in the replacing file: %v", err)
	}
	if err := verify("a.example.test", keyA); err == nil {
		t.Error("the replaced file's key still verified")
	}
}
