package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"concurr/bench"
	"concurr/internal/sshtest"
)

// Workload names, as -only matches them.
const (
	workloadRemoteEcho  = "remote echo {}, 2 hosts"
	workloadRemoteStart = "remote start, 1 host"
	workloadRemoteFan   = "remote start, 64 hosts"
)

// The targets, as the "Performance" issue sets them.
const (
	remoteEchoVsParallel = 100.0
	remoteEchoVsFloor    = 20.0
	firstContactLimit    = 1500 * time.Millisecond
	cachedVsSSHTime      = 1.3
	fanVsFloorTime       = 1.5
)

const (
	sshdPorts     = 2
	remoteHosts   = 64
	remoteTimeout = 3 * time.Minute
	// startReps is the repetitions of the short start workloads, which
	// are cheap and noisier than the rest.
	startReps = 5
)

// remote is the loopback sshd the remote workloads run against.
type remote struct {
	d   *sshtest.SSHD
	env []string // the client side's HOME, so that no tool reads the real ~/.ssh
	// fanConfig is d.Config with fanAliases added: many host names for the
	// same sshd, since one sshd listens on at most 16 ports.
	fanConfig  string
	fanAliases []string
	// concurrNotRun is why concurr -S cannot be measured, or "".
	concurrNotRun string
}

func (r *runner) runRemote(ctx context.Context) {
	var selected []string
	for _, w := range []string{workloadRemoteEcho, workloadRemoteStart, workloadRemoteFan, workloadPipeRemote, workloadTransferSmall, workloadTransferBig} {
		if r.selected(w) {
			selected = append(selected, w)
		}
	}
	if len(selected) == 0 {
		return
	}
	notRun := func(reason string) {
		for _, w := range selected {
			r.rows = append(r.rows, bench.Row{Workload: w, Tool: "all", Result: "not run: " + reason})
		}
	}
	if !r.cfg.remote {
		notRun("-remote=false")
		return
	}
	// Sixty-four clients log in at once: sshd's default MaxStartups
	// (10:30:100) would drop most of them.
	d, stop, err := bench.StartSSHD(sshdPorts, "MaxStartups 256:30:512", "MaxSessions 128")
	if err != nil {
		notRun(shorten("loopback sshd: " + err.Error()))
		return
	}
	defer stop()
	rm := &remote{d: d, env: []string{"HOME=" + d.Keys.Dir}}
	if rm.fanConfig, rm.fanAliases, err = writeFanConfig(d, remoteHosts); err != nil {
		notRun(shorten(err.Error()))
		return
	}
	rm.concurrNotRun = r.checkConcurrRemote(ctx, rm)
	if rm.concurrNotRun != "" {
		r.logf("concurr -S is not measured: %s", rm.concurrNotRun)
	}
	if r.selected(workloadRemoteEcho) {
		r.remoteEchoWorkload(ctx, rm)
	}
	if r.selected(workloadRemoteStart) {
		r.remoteStartWorkload(ctx, rm)
	}
	if r.selected(workloadRemoteFan) {
		r.remoteFanWorkload(ctx, rm)
	}
	if r.selected(workloadPipeRemote) {
		r.remotePipeWorkload(ctx, rm)
	}
	r.runTransfer(ctx, rm)
}

// checkConcurrRemote runs one job on one host, so that a concurr whose -S
// does not work yet is reported as not run rather than timed.
func (r *runner) checkConcurrRemote(ctx context.Context, rm *remote) string {
	if r.concurr == "" {
		return r.missing["concurr"]
	}
	s, err := bench.Measure(ctx, bench.Command{
		Argv:    []string{r.concurr, "-F", rm.d.Config, "-S", rm.d.Aliases[0], "echo", ":::", "ok"},
		Env:     rm.env,
		Timeout: time.Minute,
	})
	if err != nil {
		return "`concurr -S host echo ::: ok` failed: " + err.Error()
	}
	if s.Output.Bytes != 3 || s.Output.Lines != 1 {
		return fmt.Sprintf("`concurr -S host echo ::: ok` printed %d bytes, want \"ok\\n\"", s.Output.Bytes)
	}
	return ""
}

func (rm *remote) concurrContender(c contender) contender {
	c.tool = "concurr"
	c.notRun = rm.concurrNotRun
	return c
}

func (r *runner) remoteEchoWorkload(ctx context.Context, rm *remote) {
	jobs := r.quickJobs(20000)
	hosts := strings.Join(rm.d.Aliases[:2], ",")
	withStdin := func(argv ...string) func(n int) (bench.Command, error) {
		return func(n int) (bench.Command, error) {
			c, err := r.stdinJobs(argv...)(n)
			c.Env, c.Timeout = rm.env, remoteTimeout
			return c, err
		}
	}
	controlPath := filepath.Join(r.work, "cm-%C")
	sshMux := []string{"ssh", "-F", rm.d.Config, "-o", "ControlPath=" + controlPath}
	master := append(append([]string{}, sshMux...), "-o", "ControlMaster=yes", "-o", "ControlPersist=yes", "-f", "-N", rm.d.Aliases[0])
	floorNotRun := ""
	if r.xargs == "" {
		floorNotRun = r.missing["xargs"]
	} else if _, err := bench.Measure(ctx, bench.Command{Argv: master, Env: rm.env, Timeout: 30 * time.Second}); err != nil {
		floorNotRun = "ssh ControlMaster: " + err.Error()
	}
	defer bench.Measure(context.WithoutCancel(ctx), bench.Command{
		Argv: append(append([]string{}, sshMux...), "-O", "exit", rm.d.Aliases[0]), Env: rm.env, Timeout: 10 * time.Second})

	floorArgv := append([]string{r.xargs, "-P4", "-n1"}, append(append([]string{}, sshMux...), "-o", "ControlMaster=no", rm.d.Aliases[0], "echo")...)
	cs := []contender{
		rm.concurrContender(contender{role: subject, jobs: jobs, check: linesEqualJobs,
			command: withStdin(r.concurr, "-F", rm.d.Config, "-S", hosts, "echo {}"),
			target:  fmt.Sprintf("≥ %.0f× GNU Parallel, ≥ %.0f× floor", remoteEchoVsParallel, remoteEchoVsFloor)}),
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: jobs, scale: true, probe: 20, check: linesEqualJobs,
			command: withStdin(r.parallel, "--will-cite", "--controlmaster", "--ssh", "ssh -F "+rm.d.Config, "-S", hosts, "echo {}"),
			note:    "GNU Parallel --controlmaster --ssh 'ssh -F CONFIG' -S " + hosts + "."}),
		{tool: "xargs + ssh ControlMaster", role: floor, jobs: jobs, scale: true, probe: 100, check: linesEqualJobs, notRun: floorNotRun,
			command: withStdin(floorArgv...),
			note:    "floor: xargs -P4 -n1 ssh -F CONFIG " + rm.d.Aliases[0] + " echo, every ssh multiplexed over one ControlMaster connection."},
	}
	ms := r.measure(ctx, workloadRemoteEcho, cs, r.cfg.reps)
	r.addRows(workloadRemoteEcho, ms, func(m measured, row *bench.Row) {
		if row.VsParallel == 0 || row.VsFloor == 0 {
			row.Result = "not judged: GNU Parallel or the floor did not run"
			return
		}
		row.Result = verdict(row.VsParallel >= remoteEchoVsParallel && row.VsFloor >= remoteEchoVsFloor)
	})
}

func (r *runner) remoteStartWorkload(ctx context.Context, rm *remote) {
	host := rm.d.Aliases[0]
	oneJob := func(argv ...string) func(int) (bench.Command, error) {
		return func(int) (bench.Command, error) {
			return bench.Command{Argv: argv, Env: rm.env, Timeout: time.Minute}, nil
		}
	}
	concurrOneJob := oneJob(r.concurr, "-F", rm.d.Config, "-S", host, "true", ":::", "1")
	// The agent is cached under the session's HOME; removing it makes the
	// next run a first contact that uploads the binary. An earlier run has
	// always cached it (the -S check, then each rep's own first contact),
	// so a missing cache means concurr keeps it elsewhere and this would
	// not measure an upload.
	cache := filepath.Join(rm.d.Home, ".cache", "concurr")
	clearCache := func() error {
		if _, err := os.Stat(cache); err != nil {
			return fmt.Errorf("no agent cache to clear: %w", err)
		}
		return os.RemoveAll(cache)
	}
	cs := []contender{
		rm.concurrContender(contender{role: subject, jobs: 1, check: noOutput, before: clearCache, command: concurrOneJob,
			target: fmt.Sprintf("≤ %.1f s", firstContactLimit.Seconds())}),
		rm.concurrContender(contender{role: subject, jobs: 1, check: noOutput, command: concurrOneJob,
			target: fmt.Sprintf("time ≤ %.1f× ssh host true", cachedVsSSHTime)}),
		{tool: "ssh host true", role: floor, jobs: 1, check: noOutput,
			command: oneJob("ssh", "-F", rm.d.Config, host, "true"),
			note:    "floor: OpenSSH `ssh -F CONFIG " + host + " true`, a new connection each time."},
	}
	cs[0].tool = "concurr, first contact (upload)"
	cs[1].tool = "concurr, cached"
	cs[0].note = "`concurr -S " + host + " true ::: 1` after removing the node's agent cache."
	cs[1].note = "`concurr -S " + host + " true ::: 1` with the agent already cached on the node."
	ms := r.measure(ctx, workloadRemoteStart, cs, max(r.cfg.reps, startReps))
	r.addRows(workloadRemoteStart, ms, func(m measured, row *bench.Row) {
		if m.c.before != nil {
			row.Result = verdict(m.median() <= firstContactLimit)
			return
		}
		row.Result = floorVerdict(row, cachedVsSSHTime)
	})
}

func (r *runner) remoteFanWorkload(ctx context.Context, rm *remote) {
	hosts := strings.Join(rm.fanAliases, ",")
	var addrs []string
	for i := range remoteHosts {
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(rm.d.Ports[i%len(rm.d.Ports)]))
	}
	cs := []contender{
		rm.concurrContender(contender{role: subject, jobs: remoteHosts, check: noOutput, warm: true,
			command: func(int) (bench.Command, error) {
				return bench.Command{Argv: []string{r.concurr, "-F", rm.fanConfig, "-S", hosts, "--nonall", "true"}, Env: rm.env, Timeout: remoteTimeout}, nil
			},
			target: fmt.Sprintf("time ≤ %.1f× floor", fanVsFloorTime),
			note: fmt.Sprintf("`concurr -S %s,…,%s --nonall true`: %d host aliases of one sshd (%d ports), agent cached (one untimed warm-up run).",
				rm.fanAliases[0], rm.fanAliases[remoteHosts-1], remoteHosts, len(rm.d.Ports))}),
		{tool: fmt.Sprintf("x/crypto/ssh × %d in parallel", remoteHosts), role: floor, jobs: remoteHosts,
			inProcess: func(ctx context.Context) (bench.Sample, error) {
				return connectAndRunAll(ctx, rm.d.Keys.Signer, []string{rm.d.KnownHosts}, addrs, "true")
			},
			note: fmt.Sprintf("floor: %d goroutines each dial, authenticate, exec `true` and wait, with golang.org/x/crypto/ssh.", remoteHosts)},
	}
	ms := r.measure(ctx, workloadRemoteFan, cs, r.cfg.reps)
	r.addRows(workloadRemoteFan, ms, func(m measured, row *bench.Row) {
		row.Result = floorVerdict(row, fanVsFloorTime)
	})
}

// writeFanConfig adds n aliases, fan1…fanN, to a copy of d's ssh_config,
// spread over d's ports; each is node1's Host block under another name.
func writeFanConfig(d *sshtest.SSHD, n int) (path string, aliases []string, err error) {
	base, err := os.ReadFile(d.Config)
	if err != nil {
		return "", nil, fmt.Errorf("read the sshd's ssh_config: %w", err)
	}
	var b strings.Builder
	b.Write(base)
	for i := range n {
		alias := "fan" + strconv.Itoa(i+1)
		aliases = append(aliases, alias)
		block, err := hostBlock(string(base), d.Aliases[i%len(d.Aliases)])
		if err != nil {
			return "", nil, err
		}
		b.WriteString("Host " + alias + "\n" + block)
	}
	path = filepath.Join(filepath.Dir(d.Config), "config-fan")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", nil, fmt.Errorf("write the fan-out ssh_config: %w", err)
	}
	return path, aliases, nil
}

// hostBlock returns the lines of config's "Host alias" block after that
// line, up to the next Host line.
func hostBlock(config, alias string) (string, error) {
	_, rest, ok := strings.Cut(config, "Host "+alias+"\n")
	if !ok {
		return "", fmt.Errorf("no Host %s in the sshd's ssh_config", alias)
	}
	if i := strings.Index(rest, "\nHost "); i >= 0 {
		rest = rest[:i+1]
	}
	return rest, nil
}

// connectAndRunAll connects to every address at once, with the client key
// signer and the host keys in knownHosts, and runs command on each, as the
// floor for starting on many hosts.
func connectAndRunAll(ctx context.Context, signer ssh.Signer, knownHosts []string, addrs []string, command string) (bench.Sample, error) {
	config, err := floorClientConfig(signer, knownHosts)
	if err != nil {
		return bench.Sample{}, err
	}
	return timeAll(len(addrs), func(i int) error { return connectAndRun(ctx, addrs[i], config, command, nil) })
}

// floorClientConfig is the bare x/crypto/ssh client of the floors: this
// user, the key signer and the host keys in knownHosts.
func floorClientConfig(signer ssh.Signer, knownHosts []string) (*ssh.ClientConfig, error) {
	hostKeys, err := knownhosts.New(knownHosts...)
	if err != nil {
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	return &ssh.ClientConfig{
		User:            u.Username,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         30 * time.Second,
	}, nil
}

// timeAll runs do for 0 to n-1 at once and times them all.
func timeAll(n int, do func(i int) error) (bench.Sample, error) {
	errs := make([]error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = do(i) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return bench.Sample{}, err
	}
	return bench.Sample{Elapsed: elapsed}, nil
}

// connectAndRun logs in to addr and runs command with stdin (nil for none).
func connectAndRun(ctx context.Context, addr string, config *ssh.ClientConfig, command string, stdin io.Reader) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if err != nil {
		conn.Close()
		return fmt.Errorf("ssh handshake with %s: %w", addr, err)
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("session on %s: %w", addr, err)
	}
	defer session.Close()
	session.Stdin = stdin
	if err := session.Run(command); err != nil {
		return fmt.Errorf("run %q on %s: %w", command, addr, err)
	}
	return nil
}
