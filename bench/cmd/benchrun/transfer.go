package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"concurr/bench"
)

// Workload names, as -only matches them.
const (
	workloadTransferSmall = "transfer 200 × 1 MB there and back, 2 hosts"
	workloadTransferBig   = "transfer 1 big file there and back, 2 hosts"
)

// The targets, as the file transfer issue sets them.
const (
	transferSmallVsParallel = 10.0
	transferBigVsFloor      = 1.0 // at least scp's throughput
	transferRSSLimit        = 64e6
	transferSmallFiles      = 200
	transferSmallBytes      = 1 << 20
	transferTimeout         = 10 * time.Minute
)

// transferFiles writes count files of size random bytes into a
// new folder of the work folder, named prefix001…, and returns their paths.
func (r *runner) transferFiles(name, prefix string, count int, size int64) (string, []string, error) {
	dir := filepath.Join(r.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	// Random bytes: GNU Parallel's rsync -z would shrink a pattern to
	// nothing, and a transfer is timed, not a compressor.
	rng := rand.NewChaCha8([32]byte{1})
	block := make([]byte, 1<<20)
	var paths []string
	for i := range count {
		p := filepath.Join(dir, fmt.Sprintf("%s%03d", prefix, i+1))
		f, err := os.Create(p)
		if err != nil {
			return "", nil, err
		}
		for left := size; left > 0; {
			rng.Read(block)
			n, err := f.Write(block[:min(int64(len(block)), left)])
			if err != nil {
				f.Close()
				return "", nil, err
			}
			left -= int64(n)
		}
		if err := f.Close(); err != nil {
			return "", nil, err
		}
		paths = append(paths, p)
	}
	return dir, paths, nil
}

// runTransfer measures --trc: files sent to the hosts' work dir (their
// HOME, not this folder), renamed there by the job, and returned; GNU
// Parallel's --trc (rsync and an ssh login per file) and plain scp of the
// same files there and back are the peer and the floor.
func (r *runner) runTransfer(ctx context.Context, rm *remote) {
	if r.selected(workloadTransferSmall) {
		r.transferWorkload(ctx, rm, workloadTransferSmall, "small", "f", transferSmallFiles, transferSmallBytes)
	}
	if r.selected(workloadTransferBig) {
		r.transferWorkload(ctx, rm, workloadTransferBig, "big", "big", 1, int64(r.cfg.transferBigMB)<<20)
	}
}

func (r *runner) transferWorkload(ctx context.Context, rm *remote, workload, name, prefix string, count int, size int64) {
	dir, paths, err := r.transferFiles(name, prefix, count, size)
	if err != nil {
		r.rows = append(r.rows, bench.Row{Workload: workload, Tool: "all", Result: "not run: " + shorten(err.Error())})
		return
	}
	defer os.RemoveAll(dir)
	hosts := rm.d.Aliases[:2]
	// Between runs, the returned files here and whatever a tool left on
	// the hosts go, so that every run moves everything.
	clean := func() error {
		returned, _ := filepath.Glob(filepath.Join(dir, "*.r"))
		back, _ := filepath.Glob(filepath.Join(dir, "back-*"))
		left, _ := filepath.Glob(filepath.Join(rm.d.Home, prefix+"*"))
		for _, p := range append(append(returned, back...), left...) {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
		}
		return nil
	}
	check := func(n int, _ bench.Output) error {
		for _, p := range paths[:n] {
			if info, err := os.Stat(p + ".r"); err != nil || info.Size() != size {
				return fmt.Errorf("%s.r did not come back whole (%v)", filepath.Base(p), err)
			}
		}
		return nil
	}
	// The names are absolute with /./, so that the job sees its file by
	// its base name below the host's work dir.
	var names []string
	for _, p := range paths {
		names = append(names, dir+"/./"+filepath.Base(p))
	}
	trc := func(argv ...string) func(int) (bench.Command, error) {
		return func(n int) (bench.Command, error) {
			argv := append(append(append([]string{}, argv...), "-S", strings.Join(hosts, ","), "--trc", "{}.r", "mv {/} {/}.r", ":::"), names[:n]...)
			return bench.Command{Argv: argv, Env: rm.env, Timeout: transferTimeout}, nil
		}
	}
	mb := float64(size) * float64(count) / 1e6
	cs := []contender{
		rm.concurrContender(contender{role: subject, jobs: count, check: check, before: clean,
			command: trc(r.concurr, "-F", rm.d.Config),
			note:    fmt.Sprintf("`concurr -S %s --trc {}.r 'mv {/} {/}.r' ::: DIR/./FILE…`: %.0f MB there and %.0f MB back.", strings.Join(hosts, ","), mb, mb)}),
		// GNU Parallel takes seconds a file: it runs the files that fit
		// in the budget, and the rates are compared.
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: count, scale: count > 1, probe: 4, check: check, before: clean,
			command: trc(r.parallel, "--will-cite", "--ssh", "ssh -F "+rm.d.Config),
			note:    "GNU Parallel --ssh 'ssh -F CONFIG' with the same --trc: rsync over an ssh login per file and direction."}),
		{tool: "scp", role: floor, jobs: count, check: check, before: clean,
			command: func(int) (bench.Command, error) {
				return bench.Command{Argv: []string{"sh", "-c", scpScript(rm.d.Config, dir, hosts, paths)}, Env: rm.env, Timeout: transferTimeout}, nil
			},
			note: "floor: one scp of each host's share of the files there and one back, the hosts at once, then a rename here (no job)."},
	}
	switch workload {
	case workloadTransferSmall:
		cs[0].target = fmt.Sprintf("≥ %.0f× GNU Parallel, peak RSS ≤ %.0f MB", transferSmallVsParallel, transferRSSLimit/1e6)
	default:
		cs[0].target = fmt.Sprintf("≥ %.0f× scp, peak RSS ≤ %.0f MB", transferBigVsFloor, transferRSSLimit/1e6)
	}
	ms := r.measure(ctx, workload, cs, min(r.cfg.reps, 3))
	clean()
	r.addRows(workload, ms, func(m measured, row *bench.Row) {
		rate := float64(size) * float64(count) * 2 / m.median().Seconds()
		row.Note = joinNotes(row.Note, fmt.Sprintf("%.0f MB/s both ways together.", rate/1e6))
		memOK := float64(m.peakRSS) <= transferRSSLimit
		switch {
		case workload == workloadTransferSmall && row.VsParallel == 0:
			row.Result = "not judged: GNU Parallel did not run"
		case workload == workloadTransferSmall:
			row.Result = verdict(row.VsParallel >= transferSmallVsParallel && memOK)
		case row.VsFloor == 0:
			row.Result = "not judged: scp did not run"
		default:
			row.Result = verdict(row.VsFloor >= transferBigVsFloor && memOK)
		}
	})
}

// scpScript copies each host's share of the files to it with one scp, and
// back with another, the hosts at once; the copies come back as FILE.r,
// as the --trc runs return them.
func scpScript(config, dir string, hosts, paths []string) string {
	var b strings.Builder
	var waits []string
	for i, h := range hosts {
		var share, remote []string
		for j := i; j < len(paths); j += len(hosts) {
			share = append(share, shellQuote(paths[j]))
			remote = append(remote, filepath.Base(paths[j]))
		}
		if len(share) == 0 {
			continue
		}
		back := shellQuote(filepath.Join(dir, "back-"+h))
		// -O: the loopback sshd has no sftp subsystem, which scp uses by
		// default; the classic protocol streams the same way. The files
		// come back as one remote argument, HOST:'F1 F2 …', which the
		// host's shell splits: one login, where an argument per file
		// would be a login per file (-T: scp cannot check the names that
		// come back against such an argument).
		fmt.Fprintf(&b, "( scp -O -q -F %s %s %s: && mkdir -p %s && scp -O -T -q -F %s %s %s/ && for f in %s/*; do mv \"$f\" %s/\"${f##*/}\".r; done ) & p%d=$!; ",
			shellQuote(config), strings.Join(share, " "), h, back, shellQuote(config), shellQuote(h+":"+strings.Join(remote, " ")), back, back, shellQuote(dir), i)
		waits = append(waits, fmt.Sprintf("wait $p%d || s=1", i))
	}
	b.WriteString("s=0; " + strings.Join(waits, "; ") + "; exit $s")
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
