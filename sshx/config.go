package sshx

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kevinburke/ssh_config"

	"concurr/parse"
)

// Defaults where neither the host spec nor ssh_config says otherwise.
const (
	DefaultConnectTimeout      = 10 * time.Second
	DefaultServerAliveInterval = 15 * time.Second
	DefaultServerAliveCountMax = 3
)

// sshConfig is the ssh_config files in the order OpenSSH reads them: for
// each keyword the first value found wins.
type sshConfig struct {
	home  string
	files []*ssh_config.Config
}

// configCache holds parsed config files by path, home and the files'
// sizes and times, so that a run that starts many hosts at once parses its
// config once, not once per host.
var configCache struct {
	sync.Mutex
	m map[string]*sshConfig
}

// cachedSSHConfig is loadSSHConfig through configCache.
func cachedSSHConfig(path, home string) (*sshConfig, error) {
	key := path + "\x00" + home
	for _, p := range []string{path, filepath.Join(home, ".ssh", "config"), "/etc/ssh/ssh_config"} {
		if info, err := os.Stat(p); err == nil {
			key += fmt.Sprintf("\x00%d:%d", info.Size(), info.ModTime().UnixNano())
		}
	}
	configCache.Lock()
	defer configCache.Unlock()
	if c, ok := configCache.m[key]; ok {
		return c, nil
	}
	c, err := loadSSHConfig(path, home)
	if err != nil {
		return nil, err
	}
	if configCache.m == nil {
		configCache.m = make(map[string]*sshConfig)
	}
	configCache.m[key] = c
	return c, nil
}

// loadSSHConfig reads path, or when it is empty $HOME/.ssh/config and then
// /etc/ssh/ssh_config, skipping those that do not exist. As with ssh -F, an
// explicit file replaces both.
func loadSSHConfig(path, home string) (*sshConfig, error) {
	c := &sshConfig{home: home}
	paths := []string{path}
	explicit := path != ""
	if !explicit {
		paths = []string{filepath.Join(home, ".ssh", "config"), "/etc/ssh/ssh_config"}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			if !explicit && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("read ssh config: %w", err)
		}
		cfg, err := ssh_config.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("ssh config %s: %w", p, err)
		}
		c.files = append(c.files, cfg)
	}
	return c, nil
}

func (c *sshConfig) get(alias, key string) string {
	for _, f := range c.files {
		if v, err := f.Get(alias, key); err == nil && v != "" {
			return v
		}
	}
	return ""
}

func (c *sshConfig) getAll(alias, key string) []string {
	var all []string
	for _, f := range c.files {
		if v, err := f.GetAll(alias, key); err == nil {
			all = append(all, v...)
		}
	}
	return all
}

// endpoint is one SSH server to authenticate to, with everything ssh_config
// says about it.
type endpoint struct {
	alias          string // the name as given, for messages and %n
	hostName       string
	port           int
	user           string
	identityFiles  []string
	identitiesOnly bool
	strict         string // yes, accept-new, no or ask
	knownHosts     []string
	connectTimeout time.Duration
	aliveInterval  time.Duration
	aliveCountMax  int
	jumps          []*endpoint // ProxyJump hops, in the order they are crossed
}

// addr is host:port as known_hosts and net.Dial want it.
func (e *endpoint) addr() string {
	return net.JoinHostPort(e.hostName, strconv.Itoa(e.port))
}

// resolve applies ssh_config to a host. User and port from the spec win
// over the config, as they do on ssh's command line.
func (c *sshConfig) resolve(alias, specUser string, specPort int, withJumps bool) (*endpoint, error) {
	e := &endpoint{alias: alias}
	e.hostName = alias
	if hn := c.get(alias, "HostName"); hn != "" {
		e.hostName = strings.ReplaceAll(hn, "%h", alias)
	}
	e.user = specUser
	if e.user == "" {
		e.user = c.get(alias, "User")
	}
	if e.user == "" {
		e.user = localUser()
	}
	e.port = specPort
	if e.port == 0 {
		if p := c.get(alias, "Port"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("ssh config: bad Port %q for %s", p, alias)
			}
			e.port = n
		} else {
			e.port = 22
		}
	}
	e.identitiesOnly = strings.EqualFold(c.get(alias, "IdentitiesOnly"), "yes")
	for _, f := range c.getAll(alias, "IdentityFile") {
		if strings.EqualFold(f, "none") {
			continue
		}
		e.identityFiles = append(e.identityFiles, c.expand(f, e))
	}
	if len(e.identityFiles) == 0 {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			e.identityFiles = append(e.identityFiles, filepath.Join(c.home, ".ssh", name))
		}
	}
	e.strict = strings.ToLower(c.get(alias, "StrictHostKeyChecking"))
	switch e.strict {
	case "", "ask":
		e.strict = "ask"
	case "yes", "accept-new", "no":
	case "off":
		e.strict = "no"
	default:
		return nil, fmt.Errorf("ssh config: bad StrictHostKeyChecking %q for %s", e.strict, alias)
	}
	if v := c.get(alias, "UserKnownHostsFile"); v != "" {
		for _, f := range strings.Fields(v) {
			if !strings.EqualFold(f, "none") {
				e.knownHosts = append(e.knownHosts, c.expand(f, e))
			}
		}
	} else {
		e.knownHosts = []string{filepath.Join(c.home, ".ssh", "known_hosts"), filepath.Join(c.home, ".ssh", "known_hosts2")}
	}
	var err error
	if e.connectTimeout, err = c.seconds(alias, "ConnectTimeout", DefaultConnectTimeout); err != nil {
		return nil, err
	}
	if e.aliveInterval, err = c.seconds(alias, "ServerAliveInterval", DefaultServerAliveInterval); err != nil {
		return nil, err
	}
	e.aliveCountMax = DefaultServerAliveCountMax
	if v := c.get(alias, "ServerAliveCountMax"); v != "" {
		if e.aliveCountMax, err = strconv.Atoi(v); err != nil || e.aliveCountMax < 1 {
			return nil, fmt.Errorf("ssh config: bad ServerAliveCountMax %q for %s", v, alias)
		}
	}
	if withJumps {
		if pj := c.get(alias, "ProxyJump"); pj != "" && !strings.EqualFold(pj, "none") {
			for _, hop := range strings.Split(pj, ",") {
				j, err := c.resolveJump(strings.TrimSpace(hop))
				if err != nil {
					return nil, fmt.Errorf("ssh config: ProxyJump of %s: %w", alias, err)
				}
				e.jumps = append(e.jumps, j)
			}
		}
	}
	return e, nil
}

// resolveJump resolves one ProxyJump hop, [user@]host[:port] or
// ssh://[user@]host[:port], through the same config. A hop's own ProxyJump
// is not followed.
func (c *sshConfig) resolveJump(hop string) (*endpoint, error) {
	hop = strings.TrimPrefix(hop, "ssh://")
	hosts, err := parse.ParseSSHLogins([]string{hop})
	if err != nil || len(hosts) != 1 || hosts[0].Local || hosts[0].Slots != 0 {
		return nil, fmt.Errorf("bad hop %q", hop)
	}
	h := hosts[0]
	return c.resolve(h.Name, h.User, h.Port, false)
}

func (c *sshConfig) seconds(alias, key string, def time.Duration) (time.Duration, error) {
	v := c.get(alias, key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("ssh config: bad %s %q for %s", key, v, alias)
	}
	return time.Duration(n) * time.Second, nil
}

// expand replaces ~ and the % tokens OpenSSH allows in file names.
func (c *sshConfig) expand(s string, e *endpoint) string {
	if s == "~" {
		s = c.home
	} else if strings.HasPrefix(s, "~/") {
		s = filepath.Join(c.home, s[2:])
	}
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(c.home)
		case 'h':
			b.WriteString(e.hostName)
		case 'n':
			b.WriteString(e.alias)
		case 'p':
			b.WriteString(strconv.Itoa(e.port))
		case 'r':
			b.WriteString(e.user)
		case 'u':
			b.WriteString(localUser())
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func localUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}
