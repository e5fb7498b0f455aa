package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestThrottledConfig(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	known := filepath.Join(dir, "known_hosts")
	os.WriteFile(config, []byte("Host node1\n  HostName 127.0.0.1\n  Port 2201\n  User me\n  UserKnownHostsFile "+known+"\n  ConnectTimeout 5\nHost node2\n  HostName 127.0.0.1\n  Port 2202\n"), 0o600)
	os.WriteFile(known, []byte("[127.0.0.1]:2201 ssh-ed25519 AAAAkey\n"), 0o600)
	path, err := throttledConfig(config, known, "10.217.0.1", map[string]int{"gzip-node": 4001})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "Host gzip-node\n  HostName 10.217.0.1\n  Port 4001\n  User me\n  UserKnownHostsFile " + known + "-throttled\n  ConnectTimeout 30\n"
	if string(got) != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	kh, _ := os.ReadFile(known + "-throttled")
	if strings.TrimSpace(string(kh)) != "[10.217.0.1]:4001 ssh-ed25519 AAAAkey" {
		t.Errorf("known_hosts: %q", kh)
	}
}

func TestPathWithout(t *testing.T) {
	dir, err := pathWithout("gzip")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := os.Lstat(filepath.Join(dir, "gzip")); err == nil {
		t.Error("gzip is on the PATH made without it")
	}
	if _, err := os.Stat(filepath.Join(dir, "sh")); err != nil {
		t.Errorf("sh is missing: %v", err)
	}
}
