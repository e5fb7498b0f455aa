package sshx

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	home := t.TempDir()
	config := filepath.Join(home, "config")
	os.WriteFile(config, []byte(`Host web
  HostName %h.example.test
  User deploy
  Port 2200
  IdentityFile ~/.ssh/id_%r_%h
  IdentityFile /keys/%n-%p
  IdentitiesOnly yes
  UserKnownHostsFile ~/kh1 /abs/kh2
  StrictHostKeyChecking accept-new
  ConnectTimeout 3
  ServerAliveInterval 5
  ServerAliveCountMax 2
  ProxyJump bastion,ops@hop2:2222

Host bastion
  HostName bastion.example.test
  User jump

Host *
  ServerAliveInterval 60
`), 0o600)
	c, err := loadSSHConfig(config, home)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		alias     string
		user      string
		port      int
		check     func(t *testing.T, e *endpoint)
		wantError bool
	}{
		{name: "everything from the config", alias: "web", check: func(t *testing.T, e *endpoint) {
			want := endpoint{alias: "web", hostName: "web.example.test", port: 2200, user: "deploy",
				identityFiles:  []string{home + "/.ssh/id_deploy_web.example.test", "/keys/web-2200"},
				identitiesOnly: true, strict: "accept-new", knownHosts: []string{home + "/kh1", "/abs/kh2"},
				connectTimeout: 3 * time.Second, aliveInterval: 5 * time.Second, aliveCountMax: 2}
			jumps := e.jumps
			e.jumps = nil
			if !reflect.DeepEqual(*e, want) {
				t.Errorf("got  %+v\nwant %+v", *e, want)
			}
			if len(jumps) != 2 || jumps[0].addr() != "bastion.example.test:22" || jumps[0].user != "jump" ||
				jumps[1].addr() != "hop2:2222" || jumps[1].user != "ops" {
				t.Errorf("jumps %+v %+v", jumps[0], jumps[1])
			}
		}},
		{name: "spec wins over config", alias: "web", user: "me", port: 22, check: func(t *testing.T, e *endpoint) {
			if e.user != "me" || e.port != 22 {
				t.Errorf("user %q port %d", e.user, e.port)
			}
		}},
		{name: "defaults", alias: "plain", check: func(t *testing.T, e *endpoint) {
			want := endpoint{alias: "plain", hostName: "plain", port: 22, user: localUser(),
				identityFiles: []string{home + "/.ssh/id_ed25519", home + "/.ssh/id_ecdsa", home + "/.ssh/id_rsa"},
				strict:        "ask", knownHosts: []string{home + "/.ssh/known_hosts", home + "/.ssh/known_hosts2"},
				connectTimeout: DefaultConnectTimeout, aliveInterval: 60 * time.Second, aliveCountMax: DefaultServerAliveCountMax}
			if !reflect.DeepEqual(*e, want) {
				t.Errorf("got  %+v\nwant %+v", *e, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := c.resolve(tt.alias, tt.user, tt.port, true)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, e)
		})
	}
}

func TestResolveRefusesBadValues(t *testing.T) {
	tests := []struct{ name, config string }{
		{name: "port", config: "Host *\n  Port http\n"},
		{name: "strict", config: "Host *\n  StrictHostKeyChecking maybe\n"},
		{name: "timeout", config: "Host *\n  ConnectTimeout soon\n"},
		{name: "jump", config: "Host *\n  ProxyJump a b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			os.WriteFile(path, []byte(tt.config), 0o600)
			c, err := loadSSHConfig(path, t.TempDir())
			if err != nil {
				return // refused while parsing: fine too
			}
			if _, err := c.resolve("x", "", 0, true); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestPlatformOf(t *testing.T) {
	tests := []struct{ uname, goos, goarch string }{
		{"Linux x86_64", "linux", "amd64"},
		{"Linux aarch64", "linux", "arm64"},
		{"Linux armv7l", "linux", "arm"},
		{"Darwin arm64", "darwin", "arm64"},
		{"FreeBSD amd64", "freebsd", "amd64"},
		{"Plan9 x86_64", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uname, func(t *testing.T) {
			goos, goarch, ok := platformOf(tt.uname)
			if goos != tt.goos || goarch != tt.goarch || ok != (tt.goos != "") {
				t.Errorf("got %s/%s %v", goos, goarch, ok)
			}
		})
	}
}
