package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"concurr/bench"
)

// The upload workload: a first contact, which uploads the agent, over a
// link throttled to 10 Mbit/s, to a node with gzip (the upload goes
// compressed) and to one without (it goes as it is), in the same rounds.
const workloadUpload = "first contact over 10 Mbit/s, 1 host"

// uploadVsPlain is the target, as the "Scale and speed" issue sets it: a
// compressed first contact in at most this much of an uncompressed one's
// time.
const uploadVsPlain = 0.6

const (
	uploadRate = "10mbit"
	// uploadNetnsPrefix names the namespaces this workload makes, followed
	// by benchrun's pid, so that a run can tell its leftovers from another
	// run's namespace.
	uploadNetnsPrefix = "concurr-bench-upload-"
	uploadTimeout     = 2 * time.Minute
)

// throttledLink is a network namespace joined to this one by a veth pair
// whose two ends both send at uploadRate. sshd listens on hostAddr, this
// side; the client runs inside the namespace and reaches it over the link.
type throttledLink struct {
	netns            string
	hostDev, nsDev   string
	hostAddr, nsAddr string
}

// runUpload measures the first contact over a throttled link. It needs
// root, ip and tc, and says so in the row when one is missing.
func (r *runner) runUpload(ctx context.Context) {
	if !r.selected(workloadUpload) {
		return
	}
	notRun := func(reason string) {
		r.rows = append(r.rows, bench.Row{Workload: workloadUpload, Tool: "all", Result: "not run: " + shorten(reason)})
	}
	switch {
	case !r.cfg.remote:
		notRun("-remote=false")
		return
	case r.concurr == "":
		notRun(r.missing["concurr"])
		return
	case os.Geteuid() != 0:
		notRun("needs root, to make a network namespace and throttle it with tc")
		return
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			notRun("needs `" + tool + "` (iproute2), to make a network namespace and throttle it")
			return
		}
	}
	removeStaleNetns(ctx)
	link, err := newThrottledLink(ctx)
	if err != nil {
		notRun(err.Error())
		return
	}
	defer link.remove()

	plainPort, err1 := freePortOn(link.hostAddr)
	gzipPort, err2 := freePortOn(link.hostAddr)
	if err := errors.Join(err1, err2); err != nil {
		notRun(err.Error())
		return
	}
	// The node without gzip is the same sshd on another port, whose
	// sessions get a PATH that lacks it, and a HOME of their own.
	plainHome, err := os.MkdirTemp("", "concurr-bench-home-")
	if err != nil {
		notRun(err.Error())
		return
	}
	defer os.RemoveAll(plainHome)
	noGzip, err := pathWithout("gzip")
	if err != nil {
		notRun(err.Error())
		return
	}
	defer os.RemoveAll(noGzip)
	d, stop, err := bench.StartSSHD(1,
		fmt.Sprintf("ListenAddress %s:%d", link.hostAddr, gzipPort),
		fmt.Sprintf("ListenAddress %s:%d", link.hostAddr, plainPort),
		fmt.Sprintf("Match LocalPort %d", plainPort),
		fmt.Sprintf("  SetEnv HOME=%s PATH=%s", plainHome, noGzip))
	if err != nil {
		notRun("sshd: " + err.Error())
		return
	}
	defer stop()
	for _, port := range []int{gzipPort, plainPort} {
		if err := waitListeningOn(link.hostAddr, port, 5*time.Second); err != nil {
			notRun("sshd: " + err.Error())
			return
		}
	}
	config, err := throttledConfig(d.Config, d.KnownHosts, link.hostAddr, map[string]int{"gzip-node": gzipPort, "plain-node": plainPort})
	if err != nil {
		notRun(err.Error())
		return
	}
	env := []string{"HOME=" + d.Keys.Dir}
	firstContact := func(host, home string, target string) contender {
		cache := filepath.Join(home, ".cache", "concurr")
		return contender{role: subject, jobs: 1, check: noOutput, target: target,
			// Each run is a first contact: the node's cache is emptied.
			before: func() error { return os.RemoveAll(cache) },
			command: func(int) (bench.Command, error) {
				return bench.Command{Argv: []string{"ip", "netns", "exec", link.netns, r.concurr, "-F", config, "-S", host, "true", ":::", "1"},
					Env: env, Timeout: uploadTimeout}, nil
			}}
	}
	size := "the agent"
	if st, err := os.Stat(r.concurr); err == nil {
		size = fmt.Sprintf("the %.1f MB agent", float64(st.Size())/1e6)
	}
	compressed := firstContact("gzip-node", d.Home, fmt.Sprintf("time ≤ %.1f× uncompressed", uploadVsPlain))
	compressed.tool = "concurr, first contact, gzip on the node"
	compressed.note = fmt.Sprintf("`concurr -S host true ::: 1` with the node's agent cache removed, from a network namespace whose veth link to sshd sends at %s each way (tc tbf): uploads %s gzip-compressed.", uploadRate, size)
	plain := firstContact("plain-node", plainHome, "")
	plain.role = floor
	plain.tool = "concurr, first contact, no gzip on the node"
	plain.note = "reference: the same, to a node whose PATH lacks gzip, which gets the agent uncompressed."
	ms := r.measure(ctx, workloadUpload, []contender{compressed, plain}, r.cfg.reps)
	r.addRows(workloadUpload, ms, func(m measured, row *bench.Row) {
		row.Result = floorVerdict(row, uploadVsPlain)
	})
}

// newThrottledLink makes the namespace and the veth pair, on a /30 of
// 10.217.0.0/24 that no interface uses yet.
func newThrottledLink(ctx context.Context) (*throttledLink, error) {
	used, err := exec.CommandContext(ctx, "ip", "-o", "-4", "addr", "show", "to", "10.217.0.0/24").Output()
	if err != nil {
		return nil, fmt.Errorf("ip addr show: %w", err)
	}
	pid := strconv.Itoa(os.Getpid())
	l := &throttledLink{netns: uploadNetnsPrefix + pid, hostDev: "cbu" + pid + "h", nsDev: "cbu" + pid + "n"}
	for base := 0; base < 256; base += 4 {
		host := "10.217.0." + strconv.Itoa(base+1)
		if !strings.Contains(string(used), " "+host+"/") {
			l.hostAddr, l.nsAddr = host, "10.217.0."+strconv.Itoa(base+2)
			break
		}
	}
	if l.hostAddr == "" {
		return nil, errors.New("every /30 of 10.217.0.0/24 is in use")
	}
	steps := [][]string{
		{"ip", "netns", "add", l.netns},
		{"ip", "link", "add", l.hostDev, "type", "veth", "peer", "name", l.nsDev},
		{"ip", "link", "set", l.nsDev, "netns", l.netns},
		{"ip", "addr", "add", l.hostAddr + "/30", "dev", l.hostDev},
		{"ip", "link", "set", l.hostDev, "up"},
		{"ip", "-n", l.netns, "addr", "add", l.nsAddr + "/30", "dev", l.nsDev},
		{"ip", "-n", l.netns, "link", "set", l.nsDev, "up"},
		{"ip", "-n", l.netns, "link", "set", "lo", "up"},
		// A token bucket on each end's egress: the client's side carries
		// the upload, the other side its acknowledgements and the agent's
		// output.
		{"tc", "qdisc", "add", "dev", l.hostDev, "root", "tbf", "rate", uploadRate, "burst", "32kbit", "latency", "400ms"},
		{"ip", "netns", "exec", l.netns, "tc", "qdisc", "add", "dev", l.nsDev, "root", "tbf", "rate", uploadRate, "burst", "32kbit", "latency", "400ms"},
	}
	for _, argv := range steps {
		if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			l.remove()
			return nil, fmt.Errorf("%s: %s", strings.Join(argv, " "), firstLines(out, err))
		}
	}
	return l, nil
}

// remove deletes the namespace, which takes the veth pair with it, and the
// host end too in case the pair never reached the namespace.
func (l *throttledLink) remove() {
	exec.Command("ip", "netns", "del", l.netns).Run()
	exec.Command("ip", "link", "del", l.hostDev).Run()
}

// removeStaleNetns deletes the namespaces that an interrupted benchrun
// left behind: those whose pid no longer runs.
func removeStaleNetns(ctx context.Context) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pid, ok := strings.CutPrefix(f[0], uploadNetnsPrefix)
		if !ok {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue
		}
		exec.CommandContext(ctx, "ip", "netns", "del", f[0]).Run()
		exec.CommandContext(ctx, "ip", "link", "del", "cbu"+pid+"h").Run()
	}
}

// pathWithout returns a folder that links every command on PATH except
// those named: the PATH of a node where they are not installed.
func pathWithout(missing ...string) (string, error) {
	dir, err := os.MkdirTemp("", "concurr-bench-path-")
	if err != nil {
		return "", err
	}
	os.Chmod(dir, 0o755)
	skip := map[string]bool{}
	for _, m := range missing {
		skip[m] = true
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if !skip[e.Name()] {
				// An existing link means an earlier PATH folder has it.
				os.Symlink(filepath.Join(d, e.Name()), filepath.Join(dir, e.Name()))
			}
		}
	}
	return dir, nil
}

func freePortOn(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitListeningOn(addr string, port int, timeout time.Duration) error {
	target := net.JoinHostPort(addr, strconv.Itoa(port))
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", target, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s: %w", target, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// throttledConfig writes an ssh_config beside config whose hosts are
// config's first Host block under each alias, reached at addr on its
// port, with the host key known there.
func throttledConfig(config, knownHosts, addr string, ports map[string]int) (string, error) {
	b, err := os.ReadFile(config)
	if err != nil {
		return "", err
	}
	block, err := hostBlock(string(b), "node1")
	if err != nil {
		return "", err
	}
	known, err := os.ReadFile(knownHosts)
	if err != nil {
		return "", err
	}
	key := strings.Fields(strings.SplitN(string(known), "\n", 2)[0])
	if len(key) < 3 {
		return "", fmt.Errorf("%s: no host key", knownHosts)
	}
	throttledKnown := knownHosts + "-throttled"
	var cfg, kh strings.Builder
	for alias, port := range ports {
		var lines []string
		for _, line := range strings.Split(block, "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) > 0 && f[0] == "HostName":
				line = "  HostName " + addr
			case len(f) > 0 && f[0] == "Port":
				line = "  Port " + strconv.Itoa(port)
			case len(f) > 0 && f[0] == "UserKnownHostsFile":
				line = "  UserKnownHostsFile " + throttledKnown
			case len(f) > 0 && f[0] == "ConnectTimeout":
				line = "  ConnectTimeout 30"
			}
			lines = append(lines, line)
		}
		cfg.WriteString("Host " + alias + "\n" + strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n")
		fmt.Fprintf(&kh, "[%s]:%d %s %s\n", addr, port, key[1], key[2])
	}
	if err := os.WriteFile(throttledKnown, []byte(kh.String()), 0o600); err != nil {
		return "", err
	}
	path := config + "-throttled"
	return path, os.WriteFile(path, []byte(cfg.String()), 0o600)
}
