package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"concurr/agent"
	"concurr/bench"
)

// The scale workload: one client reaching more and more hosts, first with
// `--nonall true` (the time to reach them all), then with 100,000 `echo`
// jobs spread over them (aggregate jobs/s), each size against as many bare
// x/crypto/ssh logins that exec `true`, run in the same rounds.
const workloadScale = "scale: --nonall true, then 100000 echo {} jobs"

// The targets, as the "Scale and speed" issue sets them.
const (
	scaleReachVsFloor = 1.3   // time to reach all hosts, at 64 and 256 hosts
	scaleRSSPerHost   = 0.5e6 // bytes of client RSS per host above its base
	scaleFDsPerHost   = 2.0
	scaleJobsPerSec64 = 20000.0
)

var (
	// scaleReachJudged are the sizes whose reach time has a target.
	// Sizes (-scale-hosts) up to scaleSSHDMax are logins to a real sshd on
	// loopback, past it in-process servers and agents.
	scaleReachJudged = map[int]bool{64: true, 256: true}
)

const (
	scaleSSHDMax  = 256
	scaleJobs     = 100_000
	scalePorts    = 16 // one sshd listens on at most 16 ports
	scaleServers  = 16 // in-process servers, each reached under many aliases
	scaleTimeout  = 5 * time.Minute
	scaleMaxReps  = 5
	scaleStatsEnv = "CONCURR_DEBUG=stats"
)

// scaleHosts is one size's hosts: an ssh_config and a --slf file naming
// them, and the addresses the floor dials.
type scaleHosts struct {
	n          int
	transport  string
	config     string
	hostsFile  string
	env        []string
	signer     ssh.Signer
	knownHosts []string
	addrs      []string
}

// clientStats is the line CONCURR_DEBUG=stats prints as the client exits.
type clientStats struct {
	goroutines, fds, joined int
	lastJoin                time.Duration
	// selfRSS is the client's own peak RSS in bytes (getrusage of itself),
	// without the local agent that wait4's figure may be.
	selfRSS int64
}

var statsLine = regexp.MustCompile(`concurr: debug: stats goroutines=(\d+) fds=(\d+) joined=(\d+) last_join_ms=([0-9.]+)(?: rss_kb=(\d+))?`)

func parseStats(stderr string) (clientStats, error) {
	m := statsLine.FindStringSubmatch(stderr)
	if m == nil {
		return clientStats{}, fmt.Errorf("no CONCURR_DEBUG=stats line on stderr (%q)", shorten(stderr))
	}
	var s clientStats
	s.goroutines, _ = strconv.Atoi(m[1])
	s.fds, _ = strconv.Atoi(m[2])
	s.joined, _ = strconv.Atoi(m[3])
	ms, _ := strconv.ParseFloat(m[4], 64)
	s.lastJoin = time.Duration(ms * float64(time.Millisecond))
	if m[5] != "" {
		kb, _ := strconv.ParseInt(m[5], 10, 64)
		s.selfRSS = kb << 10
	}
	return s, nil
}

// scaleResult is what one size measured.
type scaleResult struct {
	hosts     int
	transport string
	reach     []time.Duration // wall time of --nonall true
	lastJoin  []time.Duration // the client's own time to its last join
	reachCPU  []time.Duration // the client's CPU over --nonall true
	floor     []time.Duration
	goFloor   []time.Duration // as many logins exec'ing a Go binary that does nothing
	jobs      []time.Duration // wall time of the echo jobs
	jobsCPU   []time.Duration // the client's CPU over the echo jobs
	peakRSS   int64
	// reachRSS and jobsRSS are the client's own peak RSS over the
	// --nonall runs and over the echo runs.
	reachRSS, jobsRSS int64
	stats             clientStats // peaks over every run
	joinedMin         int         // the fewest hosts that joined in any --nonall run
	// jobsJoined is how many hosts joined each echo run before its jobs
	// were done.
	jobsJoined []int
	// noLimit is the echo jobs' wall and CPU time with GOMEMLIMIT=off, at
	// the sizes where the client's 48 MiB soft limit is in question.
	noLimit, noLimitCPU []time.Duration
	noLimitRSS          int64
	err                 error
	// partial is why the size has fewer rounds than asked.
	partial error
}

func (r *runner) runScale(ctx context.Context) {
	if !r.selected(workloadScale) {
		return
	}
	notRun := func(reason string) {
		r.rows = append(r.rows, bench.Row{Workload: workloadScale, Tool: "all", Result: "not run: " + shorten(reason)})
	}
	if r.concurr == "" {
		notRun(r.missing["concurr"])
		return
	}
	if !r.cfg.remote {
		notRun("-remote=false")
		return
	}
	base, err := r.scaleBase(ctx)
	if err != nil {
		notRun("the client's base: " + err.Error())
		return
	}
	sizes := r.cfg.scaleHosts
	jobs := scaleJobs
	if r.cfg.quick {
		sizes, jobs = slices.DeleteFunc(slices.Clone(sizes), func(n int) bool { return n > 64 }), 10_000
	}
	reps := min(r.cfg.reps, scaleMaxReps)
	localJobs, err := r.scaleLocalJobs(ctx, jobs, reps)
	if err != nil {
		notRun("the same jobs with no host: " + err.Error())
		return
	}

	var results []*scaleResult
	var sshdSizes, inProcSizes []int
	for _, n := range sizes {
		if n <= scaleSSHDMax {
			sshdSizes = append(sshdSizes, n)
		} else {
			inProcSizes = append(inProcSizes, n)
		}
	}
	if len(sshdSizes) > 0 {
		results = append(results, r.scaleOverSSHD(ctx, sshdSizes, jobs, reps)...)
	}
	if len(inProcSizes) > 0 {
		results = append(results, r.scaleInProcess(ctx, inProcSizes, jobs, reps)...)
	}
	r.scaleRows(results, base, localJobs, jobs)
}

// scaleLocalJobs is the client's own peak RSS over the echo jobs with no
// host (the local agent, a process of its own, left out), the most of reps
// runs: what the queue, the output and the garbage of 100,000 jobs cost
// the client whatever the hosts, which the job phase's per-host figure is
// measured from.
func (r *runner) scaleLocalJobs(ctx context.Context, jobs, reps int) (int64, error) {
	in, err := r.inputFile(jobs)
	if err != nil {
		return 0, err
	}
	var peak int64
	for range reps {
		s, err := bench.Measure(ctx, bench.Command{Argv: []string{r.concurr, "echo {}"}, Env: []string{scaleStatsEnv},
			StdinFile: in, Timeout: scaleTimeout})
		if err != nil {
			return 0, err
		}
		if s.Output.Lines != int64(jobs) {
			return 0, fmt.Errorf("%d lines of output, want %d", s.Output.Lines, jobs)
		}
		st, err := parseStats(s.Stderr)
		if err != nil {
			return 0, err
		}
		peak = max(peak, st.selfRSS)
	}
	return peak, nil
}

// scaleBase is the client's peak RSS, descriptors and goroutines for a run
// with no host: what each size's growth is measured from.
func (r *runner) scaleBase(ctx context.Context) (bench.Sample, error) {
	s, err := bench.Measure(ctx, bench.Command{
		Argv: []string{r.concurr, "echo", ":::", "1"}, Env: []string{scaleStatsEnv}, Timeout: time.Minute})
	if err != nil {
		return s, err
	}
	return s, nil
}

// scaleOverSSHD measures the sizes reached as aliases of one loopback
// sshd, whose MaxStartups is raised so that no login is dropped.
func (r *runner) scaleOverSSHD(ctx context.Context, sizes []int, jobs, reps int) []*scaleResult {
	var out []*scaleResult
	fail := func(err error) []*scaleResult {
		for _, n := range sizes {
			out = append(out, &scaleResult{hosts: n, transport: "sshd", err: err})
		}
		return out
	}
	most := sizes[len(sizes)-1]
	d, stop, err := bench.StartSSHD(scalePorts,
		fmt.Sprintf("MaxStartups %d:30:%d", 2*most, 4*most), "LoginGraceTime 60")
	if err != nil {
		return fail(fmt.Errorf("loopback sshd: %w", err))
	}
	defer stop()
	for _, n := range sizes {
		if ctx.Err() != nil {
			break
		}
		config, aliases, err := writeFanConfig(d, n)
		if err == nil {
			err = relaxConnectTimeout(config)
		}
		if err != nil {
			out = append(out, &scaleResult{hosts: n, transport: "sshd", err: err})
			continue
		}
		h := &scaleHosts{n: n, transport: "sshd", config: config, env: []string{"HOME=" + d.Keys.Dir},
			signer: d.Keys.Signer, knownHosts: []string{d.KnownHosts}}
		for i := range n {
			h.addrs = append(h.addrs, "127.0.0.1:"+strconv.Itoa(d.Ports[i%len(d.Ports)]))
		}
		if h.hostsFile, err = r.writeHostsFile(n, aliases); err != nil {
			out = append(out, &scaleResult{hosts: n, transport: "sshd", err: err})
			continue
		}
		out = append(out, r.scaleSize(ctx, h, jobs, reps))
	}
	return out
}

// scaleInProcess measures the sizes that do not fit as real logins here:
// in-process SSH servers whose sessions run the agent in this process, so
// that the client, a separate process as always, is measured alone.
func (r *runner) scaleInProcess(ctx context.Context, sizes []int, jobs, reps int) []*scaleResult {
	var out []*scaleResult
	servers, stop, err := bench.StartServers(scaleServers, inProcessAgent)
	if err != nil {
		for _, n := range sizes {
			out = append(out, &scaleResult{hosts: n, transport: "in-process", err: err})
		}
		return out
	}
	defer stop()
	keys := servers[0].Keys
	for _, n := range sizes {
		if ctx.Err() != nil {
			break
		}
		h := &scaleHosts{n: n, transport: "in-process", env: []string{"HOME=" + keys.Dir}, signer: keys.Signer}
		var config strings.Builder
		var aliases []string
		for i := range n {
			s := servers[i%len(servers)]
			alias := "host" + strconv.Itoa(i+1)
			aliases = append(aliases, alias)
			config.WriteString(s.ConfigBlock(alias))
			h.addrs = append(h.addrs, s.Addr)
		}
		for _, s := range servers {
			h.knownHosts = append(h.knownHosts, s.KnownHosts)
		}
		h.config = filepath.Join(r.work, fmt.Sprintf("scale-config-%d", n))
		err := os.WriteFile(h.config, []byte(config.String()), 0o600)
		if err == nil {
			err = relaxConnectTimeout(h.config)
		}
		if err == nil {
			h.hostsFile, err = r.writeHostsFile(n, aliases)
		}
		if err != nil {
			out = append(out, &scaleResult{hosts: n, transport: "in-process", err: err})
			continue
		}
		out = append(out, r.scaleSize(ctx, h, jobs, reps))
	}
	return out
}

// bootstrapNonce finds the nonce in concurr's bootstrap script, with which
// the script's markers begin.
var bootstrapNonce = regexp.MustCompile(`\bk=([0-9a-f]+);`)

// inProcessAgent serves an in-process host's sessions: `true` for the
// floor's logins, and concurr's bootstrap, which it answers as a node that
// has the agent cached would, with the marker the script prints before it
// execs the agent ("@@concurr:NONCE:exec cached PATH"), and then the agent
// itself, served on the session's stdio.
func inProcessAgent(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) int {
	if command == "true" {
		return 0
	}
	m := bootstrapNonce.FindStringSubmatch(command)
	if m == nil {
		fmt.Fprintf(stderr, "in-process host: runs only concurr's bootstrap and true, not %q\n", shorten(command))
		return 127
	}
	if _, err := fmt.Fprintf(stdout, "\n@@concurr:%s:exec cached /in-process/concurr\n", m[1]); err != nil {
		return 1
	}
	if err := agent.Serve(ctx, stdin, stdout, agent.Options{Stderr: stderr}); err != nil {
		return 1
	}
	return 0
}

func (r *runner) writeHostsFile(n int, aliases []string) (string, error) {
	p := filepath.Join(r.work, fmt.Sprintf("scale-hosts-%d", n))
	return p, os.WriteFile(p, []byte(strings.Join(aliases, "\n")+"\n"), 0o600)
}

// scaleSize runs one size: an untimed warm-up (which also caches the agent
// on the sshd's HOME), then reps rounds of reach, floor and jobs.
func (r *runner) scaleSize(ctx context.Context, h *scaleHosts, jobs, reps int) *scaleResult {
	res := &scaleResult{hosts: h.n, transport: h.transport, joinedMin: h.n}
	env := append(append([]string{}, h.env...), scaleStatsEnv)
	reach := bench.Command{Argv: []string{r.concurr, "-F", h.config, "--slf", h.hostsFile, "--nonall", "true"},
		Env: env, Timeout: scaleTimeout}
	in, err := r.inputFile(jobs)
	if err != nil {
		res.err = err
		return res
	}
	echo := bench.Command{Argv: []string{r.concurr, "-F", h.config, "--slf", h.hostsFile, "echo {}"},
		Env: env, StdinFile: in, Timeout: scaleTimeout}
	echoNoLimit := echo
	echoNoLimit.Env = append(append([]string{}, env...), "GOMEMLIMIT=off")

	// run measures one client run and checks its output. With allJoin set
	// (--nonall, which runs on every host) it checks that every host
	// joined; the echo jobs may all be done before the last hosts join,
	// and the run then ends without them.
	run := func(c bench.Command, wantLines int, allJoin bool) (bench.Sample, clientStats, error) {
		s, err := bench.Measure(ctx, c)
		if err != nil {
			return s, clientStats{}, err
		}
		st, err := parseStats(s.Stderr)
		if err != nil {
			return s, st, err
		}
		if s.Output.Lines != int64(wantLines) {
			return s, st, fmt.Errorf("%d lines of output, want %d", s.Output.Lines, wantLines)
		}
		if allJoin {
			if st.joined != h.n {
				return s, st, fmt.Errorf("%d of %d hosts joined", st.joined, h.n)
			}
			res.joinedMin = min(res.joinedMin, st.joined)
		} else {
			res.jobsJoined = append(res.jobsJoined, st.joined)
		}
		res.peakRSS = max(res.peakRSS, s.MaxRSS)
		if allJoin {
			res.reachRSS = max(res.reachRSS, st.selfRSS)
		} else {
			res.jobsRSS = max(res.jobsRSS, st.selfRSS)
		}
		res.stats.goroutines = max(res.stats.goroutines, st.goroutines)
		res.stats.fds = max(res.stats.fds, st.fds)
		return s, st, nil
	}
	if _, _, err := run(reach, 0, true); err != nil {
		res.err = fmt.Errorf("warm-up: %w", err)
		return res
	}
	// A round that fails after others completed ends the size with what
	// they measured, and says why in the table's notes.
	fail := func(err error) *scaleResult {
		if len(res.jobs) > 0 {
			res.partial = fmt.Errorf("round %d of %d: %w", len(res.jobs)+1, reps, err)
			return res
		}
		res.err = err
		return res
	}
	for rep := 1; rep <= reps && ctx.Err() == nil; rep++ {
		s, st, err := run(reach, 0, true)
		if err != nil {
			return fail(fmt.Errorf("--nonall true: %w", err))
		}
		res.reach = append(res.reach, s.Elapsed)
		res.reachCPU = append(res.reachCPU, s.CPU)
		res.lastJoin = append(res.lastJoin, st.lastJoin)

		fs, err := connectAndRunAll(ctx, h.signer, h.knownHosts, h.addrs, "true")
		if err != nil {
			return fail(fmt.Errorf("floor: %w", err))
		}
		res.floor = append(res.floor, fs.Elapsed)
		if r.gotrue != "" && h.transport == "sshd" {
			// The sshd runs on this machine, so the binary's path is the
			// node's too.
			gs, err := connectAndRunAll(ctx, h.signer, h.knownHosts, h.addrs, r.gotrue)
			if err != nil {
				return fail(fmt.Errorf("floor of a Go binary: %w", err))
			}
			res.goFloor = append(res.goFloor, gs.Elapsed)
		}

		s, _, err = run(echo, jobs, false)
		if err != nil {
			return fail(fmt.Errorf("echo jobs: %w", err))
		}
		res.jobs = append(res.jobs, s.Elapsed)
		res.jobsCPU = append(res.jobsCPU, s.CPU)
		r.logf("%s: %d hosts (%s): reach %.3fs (last join %.3fs), floor %.3fs, %d jobs in %.3fs (client CPU %.2fs), peak RSS %.1f MB",
			workloadScale, h.n, h.transport, res.reach[len(res.reach)-1].Seconds(), st.lastJoin.Seconds(), fs.Elapsed.Seconds(),
			jobs, s.Elapsed.Seconds(), s.CPU.Seconds(), float64(res.peakRSS)/1e6)

		if h.n >= scaleSSHDMax {
			// Without the client's 48 MiB soft memory limit, for the
			// question whether it makes the collector thrash here.
			s, err := bench.Measure(ctx, echoNoLimit)
			if err != nil {
				return fail(fmt.Errorf("echo jobs, GOMEMLIMIT=off: %w", err))
			}
			res.noLimit = append(res.noLimit, s.Elapsed)
			res.noLimitCPU = append(res.noLimitCPU, s.CPU)
			res.noLimitRSS = max(res.noLimitRSS, s.MaxRSS)
			r.logf("%s: %d hosts, GOMEMLIMIT=off: %d jobs in %.3fs (client CPU %.2fs), peak RSS %.1f MB",
				workloadScale, h.n, jobs, s.Elapsed.Seconds(), s.CPU.Seconds(), float64(s.MaxRSS)/1e6)
		}
	}
	return res
}

// scaleRows adds the targets' rows to the main table and the scale table as
// a section of its own.
func (r *runner) scaleRows(results []*scaleResult, base bench.Sample, localJobsRSS int64, jobs int) {
	baseStats, _ := parseStats(base.Stderr)
	var b strings.Builder
	b.WriteString("## Scale: one client, many hosts\n\n")
	fmt.Fprintf(&b, "Each size: `concurr --slf HOSTS --nonall true` (reach: wall time of the whole run, start to exit; \"last join\" is the client's own time to its last agent's hello), "+
		"then `concurr --slf HOSTS 'echo {}'` over %d inputs (jobs/s: wall time of the whole run, start-up included), "+
		"and, in the same rounds, as many bare golang.org/x/crypto/ssh logins at once, each exec'ing `true` (floor). "+
		"Up to %d hosts they are aliases of one loopback OpenSSH sshd (%d ports, MaxStartups raised so that none is dropped), every host a real login that runs the bootstrap and a real agent process; "+
		"past that, %d in-process SSH servers (internal/sshtest) whose sessions run the agent inside the benchmark's process, so that %d hosts fit on this machine (the client is its own process either way). "+
		"Peaks come from wait4 (RSS) and from the client's CONCURR_DEBUG=stats line (descriptors and goroutines, sampled every 5 ms). "+
		"The base is a run with no host (`concurr echo ::: 1`): %.1f MB, %d descriptors, %d goroutines. "+
		"\"RSS/host above base\" is the peak over both phases above that base, which includes what the job phase's churn costs with no host at all; "+
		"the honest per-host figures are the client's own peak (getrusage, in the stats line) of the reach phase above the same base (%.1f MB of its own), "+
		"and of the job phase above a run of the same %d jobs with no host (%.1f MB, the local agent not counted). "+
		"\"Go floor\" is as many bare logins each exec'ing a Go binary that does nothing, built as concurr is (bench/cmd/gotrue): the floor for starting any Go agent. Medians of up to %d rounds; \"reach vs floor\" is the median of each round's reach over the floor measured right after it, so that a change of the machine's load between rounds does not count.\n\n",
		jobs, scaleSSHDMax, scalePorts, scaleServers, slices.Max(r.cfg.scaleHosts), float64(base.MaxRSS)/1e6, baseStats.fds, baseStats.goroutines,
		float64(baseStats.selfRSS)/1e6, jobs, float64(localJobsRSS)/1e6, scaleMaxReps)
	b.WriteString("| Hosts | Hosts are | Joined | Reach s | Last join s | Floor s | Reach vs floor | Go floor s | Reach vs Go floor | Peak RSS | RSS/host above base | Reach RSS/host | Jobs RSS/host above no-host jobs | fds | fds/host | goroutines/host | Reach CPU ms/host | Jobs/s | Hosts that ran jobs | Jobs' client CPU s |\n")
	b.WriteString("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var prev *scaleResult
	var growth []string
	for _, res := range results {
		if res.err != nil {
			fmt.Fprintf(&b, "| %d | %s | not run: %s |||||||||||||||||||\n", res.hosts, res.transport, strings.ReplaceAll(shorten(res.err.Error()), "|", `\|`))
			r.rows = append(r.rows, bench.Row{Workload: fmt.Sprintf("scale, %d hosts", res.hosts), Tool: "concurr", Result: "not run: " + shorten(res.err.Error())})
			continue
		}
		n := float64(res.hosts)
		reach, floorT, jobsT := bench.Median(res.reach), bench.Median(res.floor), bench.Median(res.jobs)
		vsFloor := pairedRatio(res.reach, res.floor)
		rssPerHost := float64(res.peakRSS-base.MaxRSS) / n
		reachRSSPerHost := float64(res.reachRSS-baseStats.selfRSS) / n
		jobsRSSPerHost := float64(res.jobsRSS-localJobsRSS) / n
		goFloor, vsGoFloor := "—", "—"
		if len(res.goFloor) > 0 {
			g := bench.Median(res.goFloor).Seconds()
			goFloor, vsGoFloor = fmt.Sprintf("%.3f", g), fmt.Sprintf("%.2f×", pairedRatio(res.reach, res.goFloor))
		}
		fdsPerHost := float64(res.stats.fds-baseStats.fds) / n
		gorPerHost := float64(res.stats.goroutines-baseStats.goroutines) / n
		rate := float64(jobs) / jobsT.Seconds()
		fmt.Fprintf(&b, "| %d | %s | %d/%d | %.3f | %.3f | %.3f | %.2f× | %s | %s | %.1f MB | %.3f MB | %.3f MB | %.3f MB | %d | %.2f | %.1f | %.2f | %.0f | %d | %.2f |\n",
			res.hosts, res.transport, res.joinedMin, res.hosts, reach.Seconds(), bench.Median(res.lastJoin).Seconds(), floorT.Seconds(), vsFloor, goFloor, vsGoFloor,
			float64(res.peakRSS)/1e6, rssPerHost/1e6, reachRSSPerHost/1e6, jobsRSSPerHost/1e6, res.stats.fds, fdsPerHost, gorPerHost, bench.Median(res.reachCPU).Seconds()*1e3/n, rate, medianInt(res.jobsJoined), bench.Median(res.jobsCPU).Seconds())
		if prev != nil {
			dn := n - float64(prev.hosts)
			growth = append(growth, fmt.Sprintf("%d → %d hosts: reach +%.2f ms/host, floor +%.2f ms/host, RSS +%.3f MB/host, fds +%.2f/host, goroutines +%.1f/host",
				prev.hosts, res.hosts,
				(reach-bench.Median(prev.reach)).Seconds()*1e3/dn, (floorT-bench.Median(prev.floor)).Seconds()*1e3/dn,
				float64(res.peakRSS-prev.peakRSS)/1e6/dn, float64(res.stats.fds-prev.stats.fds)/dn, float64(res.stats.goroutines-prev.stats.goroutines)/dn))
		}
		prev = res

		name := fmt.Sprintf("scale, %d hosts (%s)", res.hosts, res.transport)
		r.rows = append(r.rows, bench.Row{Workload: name, Tool: "concurr: every host joins", Jobs: res.hosts, Median: reach, Reps: len(res.reach),
			Target: "all hosts, every run", Result: verdict(res.joinedMin == res.hosts)})
		if scaleReachJudged[res.hosts] {
			r.rows = append(r.rows, bench.Row{Workload: name, Tool: "concurr: time to reach all hosts", Jobs: res.hosts, Median: reach, Reps: len(res.reach),
				VsFloor: floorT.Seconds() / reach.Seconds(), Target: fmt.Sprintf("time ≤ %.1f× bare logins (%.3f s; measured %.2f×, %s the Go floor's %s s)", scaleReachVsFloor, floorT.Seconds(), vsFloor, vsGoFloor, goFloor),
				Result: verdict(vsFloor <= scaleReachVsFloor)})
		}
		r.rows = append(r.rows, bench.Row{Workload: name, Tool: "concurr: client memory", Jobs: res.hosts, PeakRSS: res.peakRSS,
			Target: fmt.Sprintf("≤ %.1f MB/host above base (reach %.3f, jobs above no-host jobs %.3f; both phases above base %.3f)", scaleRSSPerHost/1e6, reachRSSPerHost/1e6, jobsRSSPerHost/1e6, rssPerHost/1e6),
			Result: verdict(max(reachRSSPerHost, jobsRSSPerHost) <= scaleRSSPerHost)})
		r.rows = append(r.rows, bench.Row{Workload: name, Tool: "concurr: file descriptors", Jobs: res.hosts,
			Target: fmt.Sprintf("≤ %.0f/host (measured %.2f)", scaleFDsPerHost, fdsPerHost), Result: verdict(fdsPerHost <= scaleFDsPerHost)})
		if res.hosts == 64 {
			r.rows = append(r.rows, bench.Row{Workload: name, Tool: "concurr: echo {} jobs", Jobs: jobs, Median: jobsT, Reps: len(res.jobs),
				Target: fmt.Sprintf("≥ %.0f jobs/s", scaleJobsPerSec64), Result: verdict(rate >= scaleJobsPerSec64)})
		}
	}
	for _, res := range results {
		if res.err == nil && res.partial != nil {
			fmt.Fprintf(&b, "\n%d hosts: %d rounds only: %s\n", res.hosts, len(res.jobs), shorten(res.partial.Error()))
		}
	}
	if len(growth) > 0 {
		b.WriteString("\nGrowth per host between sizes:\n\n")
		for _, g := range growth {
			b.WriteString("- " + g + "\n")
		}
	}
	var limit []string
	for _, res := range results {
		if res.err != nil || len(res.noLimit) == 0 {
			continue
		}
		limit = append(limit, fmt.Sprintf("- %d hosts: %.3f s and %.2f s of client CPU with the client's own soft limit, 48 MiB and 1 MiB a host (peak RSS %.1f MB); %.3f s and %.2f s with GOMEMLIMIT=off (peak RSS %.1f MB)",
			res.hosts, bench.Median(res.jobs).Seconds(), bench.Median(res.jobsCPU).Seconds(), float64(res.peakRSS)/1e6,
			bench.Median(res.noLimit).Seconds(), bench.Median(res.noLimitCPU).Seconds(), float64(res.noLimitRSS)/1e6))
	}
	if len(limit) > 0 {
		b.WriteString("\nThe client's soft memory limit (GOMEMLIMIT), the echo jobs with and without it:\n\n" + strings.Join(limit, "\n") + "\n")
	}
	r.sections = append(r.sections, b.String())
}

func medianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// scaleConnectTimeout replaces the harness's ConnectTimeout of 5 s: here
// the client, every server and every agent share two cores, so that a
// thousand logins at once keep each waiting for CPU far longer than hosts
// of their own would, and a 5 s bound would measure this machine's
// queue, not the client.
const scaleConnectTimeout = "ConnectTimeout 30"

func relaxConnectTimeout(config string) error {
	b, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	s := regexp.MustCompile(`(?m)^(\s*)ConnectTimeout \d+$`).ReplaceAllString(string(b), "${1}"+scaleConnectTimeout)
	return os.WriteFile(config, []byte(s), 0o600)
}

// serveHosts starts the scale workload's loopback sshd with n host aliases,
// as scaleOverSSHD does, prints how to reach them, and waits for ctx.
func serveHosts(ctx context.Context, work string, n int, stdout io.Writer) error {
	d, stop, err := bench.StartSSHD(scalePorts,
		fmt.Sprintf("MaxStartups %d:30:%d", 2*n, 4*n), "LoginGraceTime 60")
	if err != nil {
		return fmt.Errorf("loopback sshd: %w", err)
	}
	defer stop()
	config, aliases, err := writeFanConfig(d, n)
	if err == nil {
		err = relaxConnectTimeout(config)
	}
	if err != nil {
		return err
	}
	r := &runner{work: work}
	hosts, err := r.writeHostsFile(n, aliases)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "CONFIG=%s HOSTS=%s HOME=%s\n# concurr -F \"$CONFIG\" --slf \"$HOSTS\" --nonall true\n", config, hosts, d.Keys.Dir)
	<-ctx.Done()
	return nil
}

// pairedRatio is the median of a[i]/b[i] over the rounds that measured
// both: each round's own ratio, which a drift of the machine's load from
// one round to the next does not move as it moves the ratio of medians.
func pairedRatio(a, b []time.Duration) float64 {
	var ratios []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			ratios = append(ratios, a[i].Seconds()/b[i].Seconds())
		}
	}
	return bench.Median(ratios)
}
