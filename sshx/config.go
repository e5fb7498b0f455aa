package sshx

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kevinburke/ssh_config"

	"concurr/internal/hint"
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
//
// ssh_config parses Host blocks, but of Match it knows only "all" and
// "host" (and takes every word after "host" for a pattern), and it fails on
// any other criterion, such as the "Match final all" that some systems ship
// in /etc/ssh/ssh_config.d. So Include and Match are handled here, per
// host: an Include in a block that applies to the host is read in its
// place, and a Match block becomes a Host block that applies to nothing,
// kept aside in matches. A host that a Match block may apply to, and whose
// connection it could change, is refused (see refuseMatch), never reached
// another way than OpenSSH would.
type sshConfig struct {
	home  string
	files []configFile

	mu      sync.Mutex
	read    map[string][]byte       // included files, by path
	aliases map[string]*aliasConfig // by alias
	// parsed holds each distinct expansion's parse, by its text. Aliases
	// whose Include and Match lines resolve alike (most of them: every
	// alias of a config without either) share one, so that a config with
	// a block for each of a thousand hosts is parsed once, not a thousand
	// times, and held once.
	parsed map[string]*ssh_config.Config
	// everyAlias, when the files have no Include and no Match line, is
	// the one expansion that applies to every alias alike: with a block
	// for each of a thousand hosts, expanding the config for each alias
	// would cost a thousand times the file. Otherwise it is nil.
	everyAlias *aliasConfig
	// patterns holds the Host patterns compiled so far, by their text.
	patterns map[string]*ssh_config.Pattern
	values   map[string]*aliasValues // by alias
}

// configFile is one file of the config and where its relative Include
// paths start (~/.ssh for the user's file, /etc/ssh for the system's).
type configFile struct {
	path, dir string
	data      []byte
}

// aliasConfig is the config as it applies to one alias: its Include lines
// expanded and its Match blocks kept aside.
type aliasConfig struct {
	parsed  *ssh_config.Config
	matches []matchBlock
	err     error
}

// matchBlock is a Match block: where it is, its criteria, and the keys it
// sets, directly or through an Include.
type matchBlock struct {
	where    string // file:line
	criteria []string
	keys     []string
}

// configCache holds parsed config files by path, home and the files'
// sizes and times, so that a run that starts many hosts at once parses its
// config once, not once per host.
var configCache struct {
	sync.Mutex
	m map[string]*sshConfig
}

// cachedSSHConfig is loadSSHConfig through configCache.
func cachedSSHConfig(path, home, login string) (*sshConfig, error) {
	key := path + "\x00" + home + "\x00" + login
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
	if login != "" {
		// A login's own options come first, as ssh's command line does.
		c.files = append([]configFile{{path: "the login's ssh options", dir: filepath.Join(home, ".ssh"), data: []byte(login)}}, c.files...)
		c.everyAlias = nil
		clear(c.aliases)
		clear(c.values)
		c.shareExpansion()
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
	c := &sshConfig{home: home, read: map[string][]byte{}, aliases: map[string]*aliasConfig{}}
	files := []configFile{{path: path, dir: filepath.Join(home, ".ssh")}}
	explicit := path != ""
	if !explicit {
		files = []configFile{{path: filepath.Join(home, ".ssh", "config"), dir: filepath.Join(home, ".ssh")}, {path: "/etc/ssh/ssh_config", dir: "/etc/ssh"}}
	}
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			if !explicit && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("read ssh config: %w", err)
		}
		f.data = data
		c.files = append(c.files, f)
	}
	// Parse once for any host, so that a file ssh_config cannot read is
	// reported before any host is dialled.
	if err := c.shareExpansion(); err != nil {
		return nil, err
	}
	return c, nil
}

// shareExpansion expands the files once, and keeps that expansion for
// every alias when no Include or Match line could make them differ.
func (c *sshConfig) shareExpansion() error {
	a := c.forAlias("")
	if a.err != nil {
		return a.err
	}
	if !c.expandsPerAlias() {
		c.everyAlias = a
	}
	return nil
}

// expandsPerAlias reports whether a file has an Include or a Match line,
// whose expansion may differ from one alias to another.
func (c *sshConfig) expandsPerAlias() bool {
	for _, f := range c.files {
		for line := range strings.SplitSeq(string(f.data), "\n") {
			key, _ := configLine(line)
			if strings.EqualFold(key, "include") || strings.EqualFold(key, "match") {
				return true
			}
		}
	}
	return false
}

// maxIncludeDepth bounds nested Include, as OpenSSH does.
const maxIncludeDepth = 16

// forAlias returns the config as it applies to alias.
func (c *sshConfig) forAlias(alias string) *aliasConfig {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.everyAlias != nil {
		return c.everyAlias
	}
	if a, ok := c.aliases[alias]; ok {
		return a
	}
	a := &aliasConfig{parsed: &ssh_config.Config{}}
	var text strings.Builder
	for _, f := range c.files {
		// Each file starts as if with "Host *".
		text.WriteString("Host *\n")
		if err := c.expandFile(&text, a, alias, f.path, f.dir, f.data, 0); err != nil {
			a.err = err
			break
		}
	}
	if a.err == nil {
		if parsed, ok := c.parsed[text.String()]; ok {
			a.parsed = parsed
		} else if parsed, err := ssh_config.DecodeBytes([]byte(text.String())); err != nil {
			a.err = fmt.Errorf("ssh config: %w", err)
		} else {
			a.parsed = parsed
			if c.parsed == nil {
				c.parsed = make(map[string]*ssh_config.Config)
			}
			c.parsed[text.String()] = parsed
		}
	}
	c.aliases[alias] = a
	return a
}

// expandFile writes the lines of one config file to text for alias: Include
// lines in blocks that apply to alias are replaced by the files they name,
// and Match lines by a Host line that applies to nothing, the block being
// recorded in a.matches.
func (c *sshConfig) expandFile(text *strings.Builder, a *aliasConfig, alias, path, dir string, data []byte, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("ssh config %s: Include nested more than %d deep", path, maxIncludeDepth)
	}
	header := "Host *" // the block's header, to restore after an Include
	active := true     // the block applies to alias
	match := -1        // the Match block being read, in a.matches
	for i, line := range strings.Split(string(data), "\n") {
		key, value := configLine(line)
		switch strings.ToLower(key) {
		case "":
			continue
		case "host":
			header, match = "Host "+value, -1
			active = c.hostLineMatches(strings.Fields(value), alias)
		case "match":
			a.matches = append(a.matches, matchBlock{where: fmt.Sprintf("%s:%d", path, i+1), criteria: strings.Fields(value)})
			match = len(a.matches) - 1
			header, active = "Host !*", false
			text.WriteString(header + "\n")
			continue
		case "include":
			files, err := c.included(value, dir)
			if err != nil {
				return fmt.Errorf("ssh config %s:%d: %w", path, i+1, err)
			}
			for _, f := range files {
				switch {
				case match >= 0:
					// The block is set aside: only its keys matter.
					keys, err := c.keysOf(f, dir, depth+1)
					if err != nil {
						return err
					}
					a.matches[match].keys = append(a.matches[match].keys, keys...)
				case active:
					if err := c.expandFile(text, a, alias, f, dir, c.read[f], depth+1); err != nil {
						return err
					}
					text.WriteString(header + "\n")
				}
			}
			continue
		default:
			if match >= 0 {
				a.matches[match].keys = append(a.matches[match].keys, key)
			}
		}
		text.WriteString(line + "\n")
	}
	return nil
}

// keysOf lists the keys an included file sets, in whatever block, and
// those of the files it includes.
func (c *sshConfig) keysOf(path, dir string, depth int) ([]string, error) {
	if depth > maxIncludeDepth {
		return nil, fmt.Errorf("ssh config %s: Include nested more than %d deep", path, maxIncludeDepth)
	}
	var keys []string
	for i, line := range strings.Split(string(c.read[path]), "\n") {
		key, value := configLine(line)
		switch strings.ToLower(key) {
		case "", "host", "match":
		case "include":
			files, err := c.included(value, dir)
			if err != nil {
				return nil, fmt.Errorf("ssh config %s:%d: %w", path, i+1, err)
			}
			for _, f := range files {
				more, err := c.keysOf(f, dir, depth+1)
				if err != nil {
					return nil, err
				}
				keys = append(keys, more...)
			}
		default:
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// included reads the files an Include value names, relative paths from
// dir and ~ from home, globbed as OpenSSH does, and returns their paths.
func (c *sshConfig) included(value, dir string) ([]string, error) {
	var paths []string
	for _, pattern := range strings.Fields(value) {
		pattern = strings.Trim(pattern, `"`)
		if pattern == "~" || strings.HasPrefix(pattern, "~/") {
			pattern = filepath.Join(c.home, pattern[1:])
		} else if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(dir, pattern)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("bad Include %q: %w", pattern, err)
		}
		for _, m := range matches {
			if _, ok := c.read[m]; !ok {
				data, err := os.ReadFile(m)
				if err != nil {
					return nil, fmt.Errorf("read %s: %w", m, err)
				}
				c.read[m] = data
			}
			paths = append(paths, m)
		}
	}
	return paths, nil
}

// configLine splits a config line into its keyword and value, as OpenSSH
// does: "Key value", "Key=value" or "Key = value"; "" for a blank line or
// a comment.
func configLine(line string) (key, value string) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", ""
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return line, ""
	}
	key, rest := line[:end], strings.TrimLeft(line[end:], " \t")
	rest = strings.TrimPrefix(rest, "=")
	return key, strings.TrimSpace(rest)
}

// hostMatches says whether a Host line's patterns match name: some pattern
// does and no negated one.
func hostMatches(patterns []string, name string) bool {
	return matchHost(patterns, name, ssh_config.NewPattern)
}

// hostLineMatches is hostMatches with the patterns compiled once for
// every alias; c.mu is held.
func (c *sshConfig) hostLineMatches(patterns []string, name string) bool {
	return matchHost(patterns, name, c.compiledPattern)
}

// matchHost is hostMatches with the patterns compiled by compile.
func matchHost(patterns []string, name string, compile func(string) (*ssh_config.Pattern, error)) bool {
	h := &ssh_config.Host{}
	for _, p := range patterns {
		pat, err := compile(p)
		if err != nil {
			return false
		}
		h.Patterns = append(h.Patterns, pat)
	}
	return h.Matches(name)
}

// compiledPattern compiles a Host pattern on its first use; c.mu is held.
func (c *sshConfig) compiledPattern(p string) (*ssh_config.Pattern, error) {
	if pat, ok := c.patterns[p]; ok {
		return pat, nil
	}
	pat, err := ssh_config.NewPattern(p)
	if err != nil {
		return nil, err
	}
	if c.patterns == nil {
		c.patterns = make(map[string]*ssh_config.Pattern)
	}
	c.patterns[p] = pat
	return pat, nil
}

// aliasValues is every keyword's values as they apply to one alias, in
// the order the config gives them, from one pass over its Host blocks:
// ssh_config's Get matches every block's patterns anew for each keyword,
// which with a block for each of a thousand hosts, and a score of
// keywords a host, came to 20 million pattern matches.
type aliasValues struct {
	values map[string][]string // by lower-case keyword
	// proxy is the first ProxyCommand or ProxyJump line, whichever comes
	// first: the other is ignored.
	proxyKey, proxyValue string
}

// valuesFor returns alias's values, collected on the first call.
func (c *sshConfig) valuesFor(alias string) *aliasValues {
	parsed := c.forAlias(alias).parsed
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.values[alias]; ok {
		return v
	}
	v := &aliasValues{values: make(map[string][]string)}
	for _, h := range parsed.Hosts {
		if !h.Matches(alias) {
			continue
		}
		for _, n := range h.Nodes {
			switch n := n.(type) {
			case *ssh_config.KV:
				key := strings.ToLower(n.Key)
				v.values[key] = append(v.values[key], n.Value)
				if v.proxyKey == "" && (key == "proxycommand" || key == "proxyjump") {
					v.proxyKey, v.proxyValue = key, n.Value
				}
			case *ssh_config.Include:
				// Include lines are expanded before the parse (see
				// expandFile), so none is left to follow here.
			}
		}
	}
	if c.values == nil {
		c.values = make(map[string]*aliasValues)
	}
	c.values[alias] = v
	return v
}

func (c *sshConfig) get(alias, key string) string {
	if v := c.valuesFor(alias).values[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c *sshConfig) getAll(alias, key string) []string {
	return c.valuesFor(alias).values[strings.ToLower(key)]
}

// unsupportedKeys change where or how the client connects, or which host
// key it trusts, and the built-in client does not implement them: a host
// they apply to is refused, with a hint to use the system's ssh, rather
// than reached in another way than the user configured. Each maps to the
// values that change nothing.
var unsupportedKeys = map[string][]string{
	"KnownHostsCommand":    {"none"},
	"CertificateFile":      {"none"},
	"CanonicalizeHostname": {"no"},
	"BindAddress":          nil,
	"BindInterface":        nil,
	"PKCS11Provider":       {"none"},
	"SecurityKeyProvider":  {"internal"},
	"IdentityAgent":        {"SSH_AUTH_SOCK", "$SSH_AUTH_SOCK"},
	"AddressFamily":        {"any"},
}

// connectionKeys are the keys the built-in client reads, and the
// unsupported ones: a Match block that may set one is refused.
var connectionKeys = []string{
	"HostName", "User", "Port", "IdentityFile", "IdentitiesOnly", "StrictHostKeyChecking",
	"UserKnownHostsFile", "HostKeyAlias", "ConnectTimeout", "ServerAliveInterval",
	"ServerAliveCountMax", "ProxyJump", "ProxyCommand",
}

// unsupportedHint points to the client that implements all of ssh_config.
const unsupportedHint = "use the system's ssh client, which reads all of ssh_config: --ssh ssh"

// refuseUnsupported returns an error naming the first key of
// unsupportedKeys that the config sets for alias to a value that matters.
func (c *sshConfig) refuseUnsupported(alias string) error {
	keys := make([]string, 0, len(unsupportedKeys))
	for k := range unsupportedKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := c.get(alias, k)
		if v == "" || slices.ContainsFunc(unsupportedKeys[k], func(ok string) bool { return strings.EqualFold(ok, v) }) {
			continue
		}
		return hint.Errorf(unsupportedHint, "ssh config: %s sets %s %s, which the built-in SSH client does not implement: refusing to connect in another way", alias, k, v)
	}
	return nil
}

// refuseMatch returns an error for the first Match block that may apply to
// the host and sets a key that changes the connection. A block cannot
// apply when one of its host or originalhost criteria matches neither the
// alias nor the host name (and, as ssh_config would read it, no word after
// "host" does either); any other criterion is taken to match.
func (c *sshConfig) refuseMatch(alias, hostName string) error {
	for _, m := range c.forAlias(alias).matches {
		if !matchMayApply(m.criteria, alias, hostName) {
			continue
		}
		for _, k := range m.keys {
			if slices.ContainsFunc(connectionKeys, func(ck string) bool { return strings.EqualFold(ck, k) }) || canonicalKey(k) != "" {
				return hint.Errorf(unsupportedHint, "ssh config %s: a Match block (Match %s) may apply to %s and sets %s, and the built-in SSH client does not evaluate Match: refusing to connect in another way than ssh would",
					m.where, strings.Join(m.criteria, " "), alias, k)
			}
		}
	}
	return nil
}

// canonicalKey returns the unsupportedKeys spelling of k, or "".
func canonicalKey(k string) string {
	for u := range unsupportedKeys {
		if strings.EqualFold(u, k) {
			return u
		}
	}
	return ""
}

// matchMayApply evaluates a Match line's criteria for the host, erring
// towards "it may".
func matchMayApply(criteria []string, alias, hostName string) bool {
	for i := 0; i < len(criteria); i++ {
		crit := strings.ToLower(criteria[i])
		switch crit {
		case "all", "canonical", "final":
			continue
		case "host", "originalhost":
			if i+1 == len(criteria) {
				return true
			}
			names := []string{alias}
			if crit == "host" {
				names = append(names, hostName)
			}
			patterns := strings.Split(criteria[i+1], ",")
			i++
			if !slices.ContainsFunc(names, func(n string) bool { return hostMatches(patterns, n) }) &&
				!(crit == "host" && slices.ContainsFunc(names, func(n string) bool { return hostMatches(criteria[i:], n) })) {
				return false
			}
		default:
			// user, localuser, exec, tagged, address and the rest, and
			// negated criteria: taken to match. All but the single-word
			// ones take an argument.
			i++
		}
	}
	return true
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
	hostKeyAlias   string // the name to look the host key up under, if not the host's
	connectTimeout time.Duration
	aliveInterval  time.Duration
	aliveCountMax  int
	jumps          []*endpoint // ProxyJump hops, in the order they are crossed
	proxyCommand   string      // ProxyCommand, its tokens expanded; "" to connect directly
	algos          algorithms  // KexAlgorithms, Ciphers and MACs
}

// addr is host:port as net.Dial wants it.
func (e *endpoint) addr() string {
	return net.JoinHostPort(e.hostName, strconv.Itoa(e.port))
}

// knownHostsAddr is the host:port to look the host key up under: addr, or
// HostKeyAlias alone, without the port, as OpenSSH does.
func (e *endpoint) knownHostsAddr() string {
	if e.hostKeyAlias != "" {
		return net.JoinHostPort(e.hostKeyAlias, "22")
	}
	return e.addr()
}

// resolve applies ssh_config to a host. User and port from the spec win
// over the config, as they do on ssh's command line.
func (c *sshConfig) resolve(alias, specUser string, specPort int, withJumps bool) (*endpoint, error) {
	if a := c.forAlias(alias); a.err != nil {
		return nil, a.err
	}
	if err := c.refuseUnsupported(alias); err != nil {
		return nil, err
	}
	e := &endpoint{alias: alias}
	e.hostName = alias
	if hn := c.get(alias, "HostName"); hn != "" {
		e.hostName = strings.ReplaceAll(hn, "%h", alias)
	}
	if err := c.refuseMatch(alias, e.hostName); err != nil {
		return nil, err
	}
	if v := c.get(alias, "HostKeyAlias"); v != "" && !strings.EqualFold(v, "none") {
		e.hostKeyAlias = v
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
	if e.algos, err = c.algorithmsFor(alias); err != nil {
		return nil, err
	}
	proxyCommand, jump := c.proxyKeys(alias)
	if proxyCommand != "" && !strings.EqualFold(proxyCommand, "none") {
		if e.proxyCommand, err = c.expandProxyCommand(proxyCommand, e); err != nil {
			return nil, fmt.Errorf("ssh config: bad ProxyCommand %q for %s: %w", proxyCommand, alias, err)
		}
	}
	if withJumps {
		if pj := jump; pj != "" && !strings.EqualFold(pj, "none") {
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

// proxyKeys returns the ProxyCommand and the ProxyJump that apply to
// alias, of which at most one is set: as with OpenSSH, the one given first
// wins, even as "none", and the other is ignored.
func (c *sshConfig) proxyKeys(alias string) (proxyCommand, proxyJump string) {
	v := c.valuesFor(alias)
	switch v.proxyKey {
	case "proxycommand":
		return v.proxyValue, ""
	case "proxyjump":
		return "", v.proxyValue
	}
	return "", ""
}

// resolveJump resolves one ProxyJump hop, [user@]host[:port] or
// ssh://[user@]host[:port], through the same config. A hop's own ProxyJump
// is not followed; its ProxyCommand is, for the first hop (see dialChain).
func (c *sshConfig) resolveJump(hop string) (*endpoint, error) {
	hop = strings.TrimPrefix(hop, "ssh://")
	hosts, err := parse.ParseSSHLogins([]string{hop})
	if err != nil || len(hosts) != 1 || hosts[0].Local || hosts[0].Slots != 0 || hosts[0].Login != "" {
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
