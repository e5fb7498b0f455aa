package parse

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Host is one node to run jobs on, from -S/--sshlogin, --slf or a batch
// scheduler's allocation.
type Host struct {
	Spec  string // the login as written, after range expansion, for messages
	Slots int    // jobs at once; 0 means ask the node's agent
	User  string // login user; "" means from ssh_config or the local user
	Name  string // host name or ssh_config alias; "" when Local
	Port  int    // 0 means from ssh_config, else 22
	Local bool   // ":": this machine, no SSH

	// Transport is how the node is reached: "" for SSH, else a scheme of
	// Transports. Name is then the Slurm node, the container or the pod,
	// and User and Port are unset.
	Transport string
	// Namespace and Container are kubectl's, either may be "".
	Namespace, Container string
	// Command is the exec:// transport's local command, as written: its
	// stdin and stdout must be a shell on the node.
	Command string

	// Login is the login as written when it is an ssh command line, as in
	// -S 'ssh -p 2222 user@host', for messages and {host}; "" otherwise.
	Login string
	// SSHCommand is that command line's program and options, without the
	// destination, for the system's ssh client.
	SSHCommand []string
	// SSHBuiltin says that the built-in client honours every option of
	// SSHCommand, through User, Port, SSHOptions and SSHConfigFile;
	// otherwise the node is reached by running SSHCommand.
	SSHBuiltin bool
	// SSHOptions are SSHCommand's options as ssh_config lines ("IdentityFile
	// key", "ProxyJump bastion"), which win over the config files.
	SSHOptions []string
	// SSHConfigFile is SSHCommand's -F, "" when it has none.
	SSHConfigFile string
}

// Transports are the schemes a host may be written with, as in
// srun://node1 or docker://box, beside SSH's plain [user@]host[:port].
var Transports = []string{"ssh", "srun", "docker", "podman", "kubectl", "exec"}

// target is what follows "scheme://" in the host's spec.
func (h Host) target() string {
	switch h.Transport {
	case "exec":
		return h.Command
	case "kubectl":
		switch {
		case h.Container != "":
			return h.Namespace + "/" + h.Name + "/" + h.Container
		case h.Namespace != "":
			return h.Namespace + "/" + h.Name
		}
	}
	return h.Name
}

// String returns the host as a login, without its slot count: ":" for this
// machine, else [user@]name[:port] with IPv6 names in brackets.
func (h Host) String() string {
	if h.Local {
		return ":"
	}
	if h.Login != "" {
		return h.Login
	}
	if h.Transport != "" {
		return h.Transport + "://" + h.target()
	}
	var b strings.Builder
	if h.User != "" {
		b.WriteString(h.User)
		b.WriteByte('@')
	}
	name := h.Name
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	b.WriteString(name)
	if h.Port != 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(h.Port))
	}
	return b.String()
}

// MaxHosts bounds how many hosts one spec or hostlist may expand to, so that
// a typo such as node[1-100000000] fails instead of exhausting memory.
const MaxHosts = 100000

// ParseSSHLogins parses -S/--sshlogin values. Each value is a comma-separated
// list of [N/][user@]host[:port] logins, where ":" is this machine, an IPv6
// address goes in brackets, and numeric ranges in a host name such as
// node[01-16] or n[1-3,7] expand (several ranges expand to their product).
// A login may instead name its transport: [N/]srun://NODE,
// [N/]docker://CONTAINER, [N/]podman://CONTAINER,
// [N/]kubectl://[NAMESPACE/]POD[/CONTAINER] (ranges expand in these too),
// or [N/]exec://COMMAND, which runs to the end of the value, commas
// included, since a command may hold them.
func ParseSSHLogins(specs []string) ([]Host, error) {
	var hosts []Host
	for _, spec := range specs {
		spec, command := cutExecLogin(spec)
		commandLines := strings.ContainsAny(spec, " \t")
		if commandLines {
			// As GNU Parallel: in ssh command lines, ",," and "\," are a
			// comma, as in -S 'ssh -J jump1,,jump2 host'.
			spec = strings.NewReplacer(`\,`, "\x00", ",,", "\x00").Replace(spec)
		}
		items, err := splitTopLevel(spec)
		if err != nil {
			return nil, fmt.Errorf("host spec %q: %w", spec, err)
		}
		for _, item := range items {
			if commandLines {
				item = strings.ReplaceAll(item, "\x00", ",")
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			hs, err := parseLogin(item)
			if err != nil {
				return nil, fmt.Errorf("host spec %q: %w", item, err)
			}
			if len(hosts)+len(hs) > MaxHosts {
				return nil, fmt.Errorf("host spec %q: expands to more than %d hosts", spec, MaxHosts)
			}
			hosts = append(hosts, hs...)
		}
		if command != "" {
			h, err := parseExecLogin(command)
			if err != nil {
				return nil, fmt.Errorf("host spec %q: %w", command, err)
			}
			if len(hosts) >= MaxHosts {
				return nil, fmt.Errorf("host spec %q: expands to more than %d hosts", spec, MaxHosts)
			}
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

// cutExecLogin splits an exec:// login, and all that follows it, off a -S
// value.
func cutExecLogin(spec string) (rest, exec string) {
	from := 0
	for {
		i := strings.Index(spec[from:], "exec://")
		if i < 0 {
			return spec, ""
		}
		i += from
		start := strings.LastIndexByte(spec[:i], ',') + 1
		head := strings.TrimSpace(spec[start:i])
		if head == "" || strings.HasSuffix(head, "/") && isDigits(head[:len(head)-1]) {
			return spec[:max(start-1, 0)], strings.TrimSpace(spec[start:])
		}
		from = i + len("exec://")
	}
}

// parseExecLogin parses [N/]exec://COMMAND.
func parseExecLogin(item string) (Host, error) {
	h := Host{Transport: "exec"}
	rest := item
	if i := strings.IndexByte(rest, '/'); i > 0 && isDigits(rest[:i]) {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 1 {
			return Host{}, fmt.Errorf("bad slot count %q", rest[:i])
		}
		h.Slots = n
		rest = rest[i+1:]
	}
	h.Command = strings.TrimSpace(strings.TrimPrefix(rest, "exec://"))
	if h.Command == "" {
		return Host{}, errors.New("exec:// needs a command whose stdin and stdout are a shell on the node, as in exec://docker exec -i box sh")
	}
	if strings.ContainsAny(h.Command, "\n\r\x00") {
		return Host{}, errors.New("exec:// command spans lines")
	}
	h.Spec = h.String()
	if h.Slots != 0 {
		h.Spec = strconv.Itoa(h.Slots) + "/" + h.Spec
	}
	return h, nil
}

// parseTransportLogin parses the part after "scheme://" of a login of a
// transport other than SSH and expands its ranges.
func parseTransportLogin(h Host, target string) ([]Host, error) {
	if target == "" {
		return nil, fmt.Errorf("%s:// needs a %s", h.Transport, transportTarget[h.Transport])
	}
	if strings.IndexFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '@' }) >= 0 {
		return nil, fmt.Errorf("want %s://%s", h.Transport, transportTarget[h.Transport])
	}
	names, err := expandRanges(target, MaxHosts)
	if err != nil {
		return nil, err
	}
	hosts := make([]Host, 0, len(names))
	for _, name := range names {
		n := h
		parts := strings.Split(name, "/")
		switch {
		case h.Transport == "kubectl" && len(parts) <= 3:
			switch len(parts) {
			case 1:
				n.Name = parts[0]
			case 2:
				n.Namespace, n.Name = parts[0], parts[1]
			case 3:
				n.Namespace, n.Name, n.Container = parts[0], parts[1], parts[2]
			}
		case len(parts) == 1:
			n.Name = name
		default:
			return nil, fmt.Errorf("want %s://%s", h.Transport, transportTarget[h.Transport])
		}
		if n.Name == "" || strings.HasPrefix(n.Name, "-") || strings.HasPrefix(n.Container, "-") || strings.HasPrefix(n.Namespace, "-") {
			return nil, fmt.Errorf("want %s://%s", h.Transport, transportTarget[h.Transport])
		}
		n.Spec = n.String()
		if n.Slots != 0 {
			n.Spec = strconv.Itoa(n.Slots) + "/" + n.Spec
		}
		hosts = append(hosts, n)
	}
	return hosts, nil
}

// transportTarget says what each scheme names, for messages.
var transportTarget = map[string]string{
	"srun":    "NODE",
	"docker":  "CONTAINER",
	"podman":  "CONTAINER",
	"kubectl": "[NAMESPACE/]POD[/CONTAINER] (kubectl:///POD/CONTAINER for the current namespace)",
}

// ReadSSHLoginFile reads a GNU Parallel --slf file: one login per line, in
// the syntax of ParseSSHLogins, with blank lines and # comments skipped.
func ReadSSHLoginFile(path string) ([]Host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read ssh login file: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(stripComment(sc.Text()))
		if line == "" {
			continue
		}
		if _, err := ParseSSHLogins([]string{line}); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ssh login file %s: %w", path, err)
	}
	return ParseSSHLogins(lines)
}

// stripComment cuts a host file's line at a # that starts it or follows
// white space: GNU Parallel puts the line into a shell command, where such
// a # starts a comment, so "node1 # the fast one" names node1 there too.
func stripComment(line string) string {
	for i, c := range line {
		if c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

// HostsFromScheduler returns the nodes of the batch job this process runs in:
// Slurm's SLURM_JOB_NODELIST (hostlist syntax) with SLURM_JOB_CPUS_PER_NODE
// (such as 8(x2),4) for slots, else PBS/Torque's PBS_NODEFILE, which lists
// each node once per slot. getenv is os.Getenv in production.
func HostsFromScheduler(getenv func(string) string) ([]Host, error) {
	if list := firstNonEmpty(getenv("SLURM_JOB_NODELIST"), getenv("SLURM_NODELIST")); list != "" {
		names, err := ExpandHostlist(list)
		if err != nil {
			return nil, fmt.Errorf("SLURM_JOB_NODELIST: %w", err)
		}
		var slots []int
		if cpus := firstNonEmpty(getenv("SLURM_JOB_CPUS_PER_NODE"), getenv("SLURM_CPUS_ON_NODES")); cpus != "" {
			slots, err = parseCPUsPerNode(cpus, len(names))
			if err != nil {
				return nil, fmt.Errorf("SLURM_JOB_CPUS_PER_NODE: %w", err)
			}
		}
		hosts := make([]Host, len(names))
		for i, name := range names {
			hosts[i] = Host{Spec: name, Name: name}
			if slots != nil {
				hosts[i].Slots = slots[i]
				hosts[i].Spec = strconv.Itoa(slots[i]) + "/" + name
			}
		}
		return hosts, nil
	}
	if path := getenv("PBS_NODEFILE"); path != "" {
		return readPBSNodefile(path)
	}
	return nil, errors.New("no batch scheduler allocation: neither SLURM_JOB_NODELIST nor PBS_NODEFILE is set")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func readPBSNodefile(path string) ([]Host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read PBS_NODEFILE: %w", err)
	}
	defer f.Close()
	var order []string
	count := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		if count[name] == 0 {
			order = append(order, name)
		}
		count[name]++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read PBS_NODEFILE %s: %w", path, err)
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("PBS_NODEFILE %s lists no nodes", path)
	}
	hosts := make([]Host, len(order))
	for i, name := range order {
		hosts[i] = Host{Spec: strconv.Itoa(count[name]) + "/" + name, Name: name, Slots: count[name]}
	}
	return hosts, nil
}

// parseCPUsPerNode parses Slurm's compressed per-node counts, such as
// "8(x2),4", into one count for each of n nodes.
func parseCPUsPerNode(s string, n int) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		count, repeat := part, "1"
		if i := strings.Index(part, "(x"); i >= 0 && strings.HasSuffix(part, ")") {
			count, repeat = part[:i], part[i+2:len(part)-1]
		}
		c, err := strconv.Atoi(count)
		if err != nil || c < 1 {
			return nil, fmt.Errorf("bad count %q in %q", count, s)
		}
		r, err := strconv.Atoi(repeat)
		if err != nil || r < 1 || r > MaxHosts || len(out)+r > n {
			return nil, fmt.Errorf("%q does not match the %d nodes of the node list", s, n)
		}
		for range r {
			out = append(out, c)
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("%q gives counts for %d nodes, the node list has %d", s, len(out), n)
	}
	return out, nil
}

// ExpandHostlist expands a Slurm hostlist such as "d05-[41-42],gpu[1-3]" or
// "node[001-003,007]" into host names, keeping zero padding.
func ExpandHostlist(list string) ([]string, error) {
	items, err := splitTopLevel(list)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		expanded, err := expandRanges(item, MaxHosts-len(names))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		names = append(names, expanded...)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("hostlist %q names no hosts", list)
	}
	return names, nil
}

// splitTopLevel splits s at commas outside brackets.
func splitTopLevel(s string) ([]string, error) {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
			if depth > 1 {
				return nil, errors.New("nested brackets")
			}
		case ']':
			depth--
			if depth < 0 {
				return nil, errors.New("unbalanced ]")
			}
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced [")
	}
	return append(parts, s[start:]), nil
}

// parseLogin parses one [N/][user@]host[:port] login and expands its ranges.
func parseLogin(item string) ([]Host, error) {
	h := Host{}
	rest := item
	if i := strings.IndexByte(rest, '/'); i > 0 && isDigits(rest[:i]) {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad slot count %q", rest[:i])
		}
		h.Slots = n
		rest = rest[i+1:]
	}
	if strings.ContainsAny(rest, " \t") {
		return parseSSHCommandLogin(h, rest)
	}
	if scheme, target, ok := strings.Cut(rest, "://"); ok && scheme != "ssh" {
		if _, known := transportTarget[scheme]; !known {
			return nil, fmt.Errorf("unknown transport %q: want one of %s", scheme+"://", strings.Join(Transports, ", "))
		}
		h.Transport = scheme
		return parseTransportLogin(h, target)
	}
	rest = strings.TrimPrefix(rest, "ssh://")
	if strings.IndexFunc(rest, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '/' }) >= 0 {
		return nil, errors.New("want [N/][user@]host[:port]")
	}
	if rest == ":" {
		h.Local = true
		h.Spec = item
		return []Host{h}, nil
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		h.User = rest[:i]
		if h.User == "" {
			return nil, errors.New("empty user name before @")
		}
		rest = rest[i+1:]
	}
	name, port, err := splitHostPort(rest)
	if err != nil {
		return nil, err
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("bad port %q", port)
		}
		h.Port = p
	}
	var names []string
	if strings.Contains(name, ":") {
		if _, err := netip.ParseAddr(name); err != nil {
			return nil, fmt.Errorf("bad IPv6 address %q", name)
		}
		names = []string{name} // an IPv6 address has no ranges
	} else {
		names, err = expandRanges(name, MaxHosts)
		if err != nil {
			return nil, err
		}
	}
	hosts := make([]Host, len(names))
	for i, n := range names {
		hosts[i] = h
		hosts[i].Name = n
		hosts[i].Spec = hosts[i].String()
		if h.Slots != 0 {
			hosts[i].Spec = strconv.Itoa(h.Slots) + "/" + hosts[i].Spec
		}
	}
	return hosts, nil
}

// splitHostPort splits host[:port], [ipv6][:port] and a bare IPv6 address.
func splitHostPort(s string) (host, port string, err error) {
	if s == "" {
		return "", "", errors.New("empty host name")
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", errors.New("unbalanced [")
		}
		inner := s[1:end]
		if strings.Contains(inner, ":") {
			host, rest := inner, s[end+1:]
			if rest == "" {
				return host, "", nil
			}
			if rest[0] != ':' {
				return "", "", fmt.Errorf("unexpected %q after IPv6 address", rest)
			}
			return host, rest[1:], nil
		}
	}
	// A colon inside brackets cannot occur here: ranges hold digits only.
	switch strings.Count(s, ":") {
	case 0:
		return s, "", nil
	case 1:
		i := strings.IndexByte(s, ':')
		if i == 0 {
			return "", "", errors.New("empty host name")
		}
		return s[:i], s[i+1:], nil
	}
	return s, "", nil // bare IPv6 address
}

// expandRanges expands every [a-b,c] group in name into the product of
// their values, the leftmost group varying slowest. Each number keeps the
// width of its range's lower bound, so node[01-10] gives node01 … node10.
func expandRanges(name string, limit int) ([]string, error) {
	if name == "" {
		return nil, errors.New("empty host name")
	}
	out := []string{""}
	rest := name
	for {
		open := strings.IndexByte(rest, '[')
		if open < 0 {
			if strings.IndexByte(rest, ']') >= 0 {
				return nil, errors.New("unbalanced ]")
			}
			for i := range out {
				out[i] += rest
			}
			return out, nil
		}
		end := strings.IndexByte(rest, ']')
		if end < open {
			return nil, errors.New("unbalanced brackets")
		}
		values, err := expandRangeList(rest[open+1:end], limit)
		if err != nil {
			return nil, err
		}
		if len(out)*len(values) > limit {
			return nil, fmt.Errorf("expands to more than %d hosts", MaxHosts)
		}
		next := make([]string, 0, len(out)*len(values))
		for _, o := range out {
			for _, v := range values {
				next = append(next, o+rest[:open]+v)
			}
		}
		out, rest = next, rest[end+1:]
	}
}

// expandRangeList expands the inside of one bracket group, such as
// "01-03,7".
func expandRangeList(s string, limit int) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isDigits(lo) || (isRange && !isDigits(hi)) {
			return nil, fmt.Errorf("bad range [%s]: want numbers such as [01-16] or [1-3,7]", s)
		}
		if !isRange {
			out = append(out, lo)
			continue
		}
		a, errA := strconv.ParseUint(lo, 10, 63)
		b, errB := strconv.ParseUint(hi, 10, 63)
		if errA != nil || errB != nil || b < a {
			return nil, fmt.Errorf("bad range [%s]", s)
		}
		if b-a >= uint64(limit) || len(out)+int(b-a)+1 > limit {
			return nil, fmt.Errorf("expands to more than %d hosts", MaxHosts)
		}
		for v := a; v <= b; v++ {
			out = append(out, fmt.Sprintf("%0*d", len(lo), v))
		}
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sshFlags are OpenSSH's options without an argument, and sshArgOptions
// those with one.
const (
	sshFlags      = "46AaCfGgKkMNnqsTtVvXxYy"
	sshArgOptions = "BbcDEeFIiJLlmOoPpQRSWw"
)

// builtinSSHFlags are the flags the built-in client honours: it never
// forwards X11 or the agent (-x, -a), never allocates a terminal (-T),
// reads its jobs' stdin itself (-n), and its compression (-C), quietness
// (-q) and verbosity (-v) change nothing about where or how it connects.
const builtinSSHFlags = "aCnqTvx"

// builtinSSHConfigKeys are the -o keys the built-in client reads, and
// those it may take without changing the connection.
var builtinSSHConfigKeys = []string{
	"HostName", "User", "Port", "IdentityFile", "IdentitiesOnly", "StrictHostKeyChecking",
	"UserKnownHostsFile", "HostKeyAlias", "ConnectTimeout", "ServerAliveInterval",
	"ServerAliveCountMax", "ProxyJump", "ProxyCommand",
	"BatchMode", "Compression", "LogLevel", "ControlMaster", "ControlPath", "ControlPersist",
	"ForwardAgent", "ForwardX11", "RequestTTY", "PasswordAuthentication",
	"KbdInteractiveAuthentication", "ChallengeResponseAuthentication", "CheckHostIP",
}

// parseSSHCommandLogin parses a login written as an ssh command line, as
// GNU Parallel takes one: "ssh -p 2222 user@host" or "/usr/bin/ssh -i key
// host", the destination last. The options of an ssh command are read for
// the built-in client where it honours them all; any other program, or an
// option it does not honour, has the node reached by running the command
// itself (ssh's through the system client, another's through exec://).
func parseSSHCommandLogin(h Host, text string) ([]Host, error) {
	words, err := splitCommandLine(text)
	if err != nil {
		return nil, err
	}
	if len(words) < 2 {
		return nil, errors.New("an ssh command line needs a program and a host, as in 'ssh -p 2222 host'")
	}
	dest := words[len(words)-1]
	h.SSHCommand = words[:len(words)-1]
	program := h.SSHCommand[0]
	if program[strings.LastIndexByte(program, '/')+1:] != "ssh" {
		// Not ssh: its options are its own, and it is run as GNU Parallel
		// runs it, with the destination and then the command, here the
		// shell that starts the agent.
		h.Transport, h.Command = "exec", text+" /bin/sh"
		h.Login, h.Spec = text, text
		h.SSHCommand = nil
		if h.Slots != 0 {
			h.Spec = strconv.Itoa(h.Slots) + "/" + text
		}
		return []Host{h}, nil
	}
	if strings.HasPrefix(dest, "-") {
		return nil, fmt.Errorf("ssh command line %q ends with an option: put the host last", text)
	}
	user, port := "", 0
	builtin := true
	args := h.SSHCommand[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return nil, fmt.Errorf("ssh command line %q: %q before the host: a login runs no command of its own", text, a)
		}
		for k := 1; k < len(a); k++ {
			c := a[k]
			switch {
			case strings.IndexByte(sshFlags, c) >= 0:
				if strings.IndexByte(builtinSSHFlags, c) < 0 {
					builtin = false
				}
				continue
			case strings.IndexByte(sshArgOptions, c) < 0:
				return nil, fmt.Errorf("ssh command line %q: unknown option -%c", text, c)
			}
			value := a[k+1:]
			if value == "" {
				i++
				if i == len(args) {
					return nil, fmt.Errorf("ssh command line %q: -%c needs a value", text, c)
				}
				value = args[i]
			}
			switch c {
			case 'p':
				p, err := strconv.Atoi(value)
				if err != nil || p < 1 || p > 65535 {
					return nil, fmt.Errorf("ssh command line %q: bad port %q", text, value)
				}
				if port == 0 {
					port = p // as ssh, the first -p wins
				}
			case 'l':
				if user == "" {
					user = value
				}
			case 'i':
				h.SSHOptions = append(h.SSHOptions, "IdentityFile "+value)
			case 'J':
				h.SSHOptions = append(h.SSHOptions, "ProxyJump "+value)
			case 'F':
				h.SSHConfigFile = value
			case 'o':
				key, val := configOption(value)
				if key == "" || val == "" {
					return nil, fmt.Errorf("ssh command line %q: bad -o %q: want -o Key=Value", text, value)
				}
				known := false
				for _, k := range builtinSSHConfigKeys {
					if strings.EqualFold(k, key) {
						known = true
						break
					}
				}
				if !known {
					builtin = false
				}
				h.SSHOptions = append(h.SSHOptions, key+" "+val)
			default:
				builtin = false
			}
			break
		}
	}
	if strings.ContainsAny(dest, "\n\r\x00") {
		return nil, errors.New("ssh command line spans lines")
	}
	dest = strings.TrimPrefix(dest, "ssh://")
	hosts, err := parseLogin(dest)
	if err != nil {
		return nil, fmt.Errorf("ssh command line %q: %w", text, err)
	}
	for i := range hosts {
		n := &hosts[i]
		if n.Local || n.Transport != "" {
			return nil, fmt.Errorf("ssh command line %q: want a host last, as in ssh -p 2222 user@host", text)
		}
		if len(hosts) > 1 {
			// node[1-3] expanded: each login names its own host.
			n.Login = strings.Join(h.SSHCommand, " ") + " " + n.String()
		} else {
			n.Login = text
		}
		if n.User == "" {
			n.User = user
		}
		if n.Port == 0 {
			n.Port = port
		}
		n.Slots = h.Slots
		n.SSHCommand, n.SSHOptions, n.SSHConfigFile, n.SSHBuiltin = h.SSHCommand, h.SSHOptions, h.SSHConfigFile, builtin
		n.Spec = n.Login
		if h.Slots != 0 {
			n.Spec = strconv.Itoa(h.Slots) + "/" + n.Login
		}
	}
	return hosts, nil
}

// configOption splits an -o value, "Key=Value" or "Key Value", as ssh does.
func configOption(s string) (key, value string) {
	s = strings.TrimSpace(s)
	end := strings.IndexAny(s, " \t=")
	if end < 0 {
		return s, ""
	}
	key, rest := s[:end], strings.TrimLeft(s[end:], " \t")
	rest = strings.TrimPrefix(rest, "=")
	return key, strings.TrimSpace(rest)
}

// splitCommandLine splits a command line into words as sh would, with
// single and double quotes and backslashes, but without expansions.
func splitCommandLine(s string) ([]string, error) {
	var words []string
	var b strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated ' in ssh command line")
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, errors.New(`unterminated " in ssh command line`)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			inWord = true
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, nil
}
