package sshx

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"concurr/internal/hint"
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

// TestResolveRefusesWhatItCannotFollow checks that a host whose config
// says to connect, or to trust a key, in a way the built-in client does
// not implement is refused, naming the key, rather than reached another
// way; and that Match and Include are read as OpenSSH reads them, or the
// host refused.
func TestResolveRefusesWhatItCannotFollow(t *testing.T) {
	tests := []struct {
		name   string
		config string
		files  map[string]string // more files beside the config
		alias  string
		err    string // "" when the host resolves
		check  func(t *testing.T, e *endpoint)
	}{
		{name: "KnownHostsCommand", alias: "web", err: "sets KnownHostsCommand", config: "Host *\n  KnownHostsCommand /bin/keys %H\n"},
		{name: "CertificateFile", alias: "web", err: "sets CertificateFile", config: "Host *\n  CertificateFile ~/.ssh/id_ed25519-cert.pub\n"},
		{name: "CanonicalizeHostname", alias: "web", err: "sets CanonicalizeHostname", config: "Host *\n  CanonicalizeHostname yes\n"},
		{name: "BindAddress", alias: "web", err: "sets BindAddress", config: "Host *\n  BindAddress 10.0.0.2\n"},
		{name: "IdentityAgent", alias: "web", err: "sets IdentityAgent", config: "Host *\n  IdentityAgent ~/agent.sock\n"},
		{name: "AddressFamily", alias: "web", err: "sets AddressFamily", config: "Host *\n  AddressFamily inet6\n"},
		{name: "HostKeyAlias", alias: "web", config: "Host web\n  HostKeyAlias webkey\n  Port 2200\n", check: func(t *testing.T, e *endpoint) {
			if e.knownHostsAddr() != "webkey:22" {
				t.Errorf("host key looked up under %s", e.knownHostsAddr())
			}
		}},
		{name: "Match host", alias: "web", err: "(Match host web) may apply to web and sets User",
			config: "Match host web\n  User root\n"},
		{name: "Match host of another host", alias: "db", config: "Match host web\n  User root\n"},
		{name: "Match host on the HostName", alias: "web", err: "may apply to web and sets Port",
			config: "Host web\n  HostName web.example.test\nMatch host *.example.test\n  Port 2\n"},
		{name: "Match originalhost", alias: "web", err: "may apply to web and sets IdentityFile",
			config: "Match originalhost web,db\n  IdentityFile ~/.ssh/other\n"},
		{name: "Match exec", alias: "web", err: "(Match exec \"test -f /x\") may apply to web and sets ProxyCommand",
			config: "Match exec \"test -f /x\"\n  ProxyCommand nc gateway 22\n"},
		{name: "Match user and host of another host", alias: "db", config: "Match user bob host web\n  Port 2\n"},
		{name: "Match user and host", alias: "web", err: "may apply to web", config: "Match user bob host web\n  Port 2\n"},
		{name: "KexAlgorithms, Ciphers and MACs", alias: "web",
			config: "Host web\n  KexAlgorithms -ecdh-sha2-*\n  Ciphers aes128-ctr,openssh-only@example.test\n  MACs ^hmac-sha2-512\n", check: func(t *testing.T, e *endpoint) {
				if slices.ContainsFunc(e.algos.kex, func(k string) bool { return strings.HasPrefix(k, "ecdh-sha2-") }) || len(e.algos.kex) == 0 {
					t.Errorf("key exchanges %q", e.algos.kex)
				}
				if !slices.Equal(e.algos.ciphers, []string{"aes128-ctr"}) {
					t.Errorf("ciphers %q", e.algos.ciphers)
				}
				if len(e.algos.macs) < 2 || e.algos.macs[0] != "hmac-sha2-512" {
					t.Errorf("MACs %q", e.algos.macs)
				}
			}},
		{name: "no algorithm it implements", alias: "web", err: "sets Ciphers chacha99", config: "Host web\n  Ciphers chacha99\n"},
		{name: "Match that sets nothing that matters", alias: "web",
			config: "Match final all\n  GSSAPIAuthentication yes\n  Include crypto.conf\nHost web\n  Port 2200\n",
			files:  map[string]string{"crypto.conf": "Ciphers aes256-gcm@openssh.com\n"},
			check: func(t *testing.T, e *endpoint) {
				if e.port != 2200 {
					t.Errorf("port %d", e.port)
				}
				// A system crypto policy's lists, under Match final all,
				// are not applied: the built-in client's defaults stand.
				if e.algos.ciphers != nil {
					t.Errorf("ciphers %q from a Match block", e.algos.ciphers)
				}
			}},
		{name: "Match that includes a HostName", alias: "web", err: "may apply to web and sets HostName",
			config: "Match all\n  Include more.conf\n", files: map[string]string{"more.conf": "HostName elsewhere\n"}},
		{name: "an included file with Match final", alias: "web",
			config: "Include conf.d/*.conf\nHost web\n  User deploy\n",
			files:  map[string]string{"conf.d/50-system.conf": "Match final all\n  GSSAPIAuthentication yes\n"},
			check: func(t *testing.T, e *endpoint) {
				if e.user != "deploy" {
					t.Errorf("user %q", e.user)
				}
			}},
		{name: "Include in a Host block applies to it only", alias: "web",
			config: "Host web\n  Include web.conf\n  User after\nHost *\n  User other\n",
			files:  map[string]string{"web.conf": "Port 2200\nHost db\n  Port 9\n"},
			check: func(t *testing.T, e *endpoint) {
				if e.port != 2200 || e.user != "after" {
					t.Errorf("port %d user %q", e.port, e.user)
				}
			}},
		{name: "Include in another host's block", alias: "db",
			config: "Host web\n  Include web.conf\n",
			files:  map[string]string{"web.conf": "Port 2200\nHost db\n  Port 9\n"},
			check: func(t *testing.T, e *endpoint) {
				if e.port != 22 {
					t.Errorf("port %d", e.port)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
			path := filepath.Join(home, ".ssh", "config")
			os.WriteFile(path, []byte(tt.config), 0o600)
			for name, text := range tt.files {
				f := filepath.Join(home, ".ssh", name)
				os.MkdirAll(filepath.Dir(f), 0o700)
				os.WriteFile(f, []byte(text), 0o600)
			}
			c, err := loadSSHConfig(path, home)
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.resolve(tt.alias, "", 0, true)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.check != nil {
					tt.check(t, e)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if h := hint.Of(err); !strings.Contains(h, "--ssh ssh") {
				t.Errorf("hint %q", h)
			}
		})
	}
}

// TestProxyCommandTokens checks the expansion of ProxyCommand's tokens
// against what ssh_config(5) says of them.
func TestProxyCommandTokens(t *testing.T) {
	home := t.TempDir()
	c := &sshConfig{home: home}
	e := &endpoint{alias: "web", hostName: "web.example.test", port: 2200, user: "deploy"}
	hostName, _ := os.Hostname()
	short, _, _ := strings.Cut(hostName, ".")
	tests := []struct {
		name, command, want, err string
	}{
		{name: "host and port", command: "nc %h %p", want: "nc web.example.test 2200"},
		{name: "original name and remote user", command: "ssm %n --user %r", want: "ssm web --user deploy"},
		{name: "percent", command: "printf 100%% %%h", want: "printf 100% %h"},
		{name: "local user and home", command: "%u %d", want: localUser() + " " + home},
		{name: "local host", command: "%l %L", want: hostName + " " + short},
		{name: "connection hash", command: "x %C", want: "x " + connectionHash(e)},
		{name: "no tokens", command: "exec nc gateway 22", want: "exec nc gateway 22"},
		{name: "unknown token", command: "nc %h %z", err: "unknown token %z"},
		{name: "lone percent", command: "nc %h %", err: "lone %"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.expandProxyCommand(tt.command, e)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("connection hash as ssh says", func(t *testing.T) {
		if _, err := exec.LookPath("ssh"); err != nil {
			t.Skip("no ssh")
		}
		config := writeConfig(t, "Host web\n  HostName web.example.test\n  Port 2200\n  User deploy\n")
		out, err := exec.Command("ssh", "-F", config, "-G", "-o", "ControlPath=/x/%C", "web").Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := "controlpath /x/" + connectionHash(e) + "\n"; !strings.Contains(string(out), want) {
			t.Errorf("ssh -G says %q, want %q", out, want)
		}
	})
}

// TestResolveProxyCommand checks which of ProxyCommand and ProxyJump
// applies: as with OpenSSH, the one given first, even as "none"; and that a
// hop keeps its own ProxyCommand.
func TestResolveProxyCommand(t *testing.T) {
	tests := []struct {
		name, config, alias string
		command             string   // the target's ProxyCommand, expanded
		jumps               []string // the hops' aliases
		hopCommand          string   // the first hop's ProxyCommand
		err                 string
	}{
		{name: "ProxyCommand", alias: "web", command: "nc web.example.test 22",
			config: "Host web\n  HostName web.example.test\n  ProxyCommand nc %h %p\n"},
		{name: "of another host", alias: "db", config: "Host web\n  ProxyCommand nc bastion 22\n"},
		{name: "none", alias: "web", config: "Host web\n  ProxyCommand none\nHost *\n  ProxyCommand nc %h %p\n"},
		{name: "the first of two wins", alias: "web", command: "first web",
			config: "Host web\n  ProxyCommand first %n\nHost *\n  ProxyCommand second %n\n"},
		{name: "ProxyCommand before ProxyJump", alias: "web", command: "nc web 22",
			config: "Host web\n  ProxyCommand nc %h %p\n  ProxyJump hop\n"},
		{name: "ProxyJump before ProxyCommand", alias: "web", jumps: []string{"hop"},
			config: "Host web\n  ProxyJump hop\n  ProxyCommand nc %h %p\n"},
		{name: "ProxyJump none before ProxyCommand", alias: "web",
			config: "Host web\n  ProxyJump none\nHost *\n  ProxyCommand nc %h %p\n"},
		{name: "ProxyCommand none before ProxyJump", alias: "web",
			config: "Host web\n  ProxyCommand none\nHost *\n  ProxyJump hop\n"},
		{name: "on a hop", alias: "web", jumps: []string{"hop"}, hopCommand: "nc gateway 2222",
			config: "Host web\n  ProxyJump hop\nHost hop\n  Port 2222\n  ProxyCommand nc gateway %p\n"},
		{name: "unknown token", alias: "web", err: `bad ProxyCommand "nc %h %x" for web: unknown token %x`,
			config: "Host web\n  ProxyCommand nc %h %x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			os.WriteFile(path, []byte(tt.config), 0o600)
			c, err := loadSSHConfig(path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.resolve(tt.alias, "", 0, true)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var jumps []string
			for _, j := range e.jumps {
				jumps = append(jumps, j.alias)
			}
			if e.proxyCommand != tt.command || !reflect.DeepEqual(jumps, tt.jumps) {
				t.Errorf("ProxyCommand %q, jumps %q; want %q, %q", e.proxyCommand, jumps, tt.command, tt.jumps)
			}
			if len(e.jumps) > 0 && e.jumps[0].proxyCommand != tt.hopCommand {
				t.Errorf("hop's ProxyCommand %q, want %q", e.jumps[0].proxyCommand, tt.hopCommand)
			}
		})
	}
}

// A config with a block for each host is parsed once for all of them, not
// once a host: the client holds one parse, whatever the number of hosts.
// A host whose Include applies gets its own.
func TestConfigParsedOncePerExpansion(t *testing.T) {
	home := t.TempDir()
	var text strings.Builder
	const hosts = 200
	for i := range hosts {
		fmt.Fprintf(&text, "Host n%d\n  HostName 10.0.0.%d\n  Port %d\n", i, i%250, 2000+i)
	}
	extra := filepath.Join(home, "extra")
	os.WriteFile(extra, []byte("User special\n"), 0o600)
	fmt.Fprintf(&text, "Host odd\n  Include %s\n", extra)
	config := filepath.Join(home, "config")
	os.WriteFile(config, []byte(text.String()), 0o600)
	c, err := loadSSHConfig(config, home)
	if err != nil {
		t.Fatal(err)
	}
	for i := range hosts {
		alias := fmt.Sprintf("n%d", i)
		if got, want := c.get(alias, "Port"), strconv.Itoa(2000+i); got != want {
			t.Fatalf("%s: Port %q, want %q", alias, got, want)
		}
	}
	if got := c.get("odd", "User"); got != "special" {
		t.Errorf("odd: User %q, want special (from its Include)", got)
	}
	if got := c.get("n1", "User"); got != "" {
		t.Errorf("n1: User %q, want none", got)
	}
	if n := len(c.parsed); n != 2 {
		t.Errorf("%d parses held for %d hosts, want 2 (the plain expansion and odd's Include)", n, hosts+1)
	}
}

// A config without Include and Match lines is expanded once for every
// alias; a login's own options, which come first, are part of that one
// expansion, and its Host blocks still apply to their aliases alone.
func TestConfigExpandedOnceWithoutIncludes(t *testing.T) {
	home := t.TempDir()
	var text strings.Builder
	const hosts = 100
	for i := range hosts {
		fmt.Fprintf(&text, "Host n%d\n  Port %d\n", i, 2000+i)
	}
	text.WriteString("Host *\n  User everyone\n")
	config := filepath.Join(home, "config")
	os.WriteFile(config, []byte(text.String()), 0o600)
	for _, login := range []string{"", "Host n7\nUser seven\nPort 7777\n"} {
		configCache.Lock()
		configCache.m = nil
		configCache.Unlock()
		c, err := cachedSSHConfig(config, home, login)
		if err != nil {
			t.Fatal(err)
		}
		if c.everyAlias == nil {
			t.Fatalf("login %q: expanded per alias", login)
		}
		for i := range hosts {
			alias := fmt.Sprintf("n%d", i)
			port, user := strconv.Itoa(2000+i), "everyone"
			if login != "" && i == 7 {
				port, user = "7777", "seven"
			}
			if got := c.get(alias, "Port"); got != port {
				t.Errorf("login %q: %s: Port %q, want %q", login, alias, got, port)
			}
			if got := c.get(alias, "User"); got != user {
				t.Errorf("login %q: %s: User %q, want %q", login, alias, got, user)
			}
		}
		if n := len(c.aliases); n > 1 {
			t.Errorf("login %q: %d expansions kept, want at most 1", login, n)
		}
	}
}
