package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"concurr/bench"
)

// Workload names, as -only matches them.
const (
	workloadPipe       = "local --pipe wc -l, 250 MB"
	workloadPipePart   = "local --pipepart wc -l, 250 MB"
	workloadPipeRemote = "remote --pipe wc -l, 250 MB, 2 hosts"
)

// The targets, as the --pipe issue sets them.
const (
	pipeVsParallel        = 3.0
	pipePartVsFloorTime   = 1.3
	pipeRemoteBytesPerSec = 200e6
)

// pipeBytes is the size of the --pipe workloads' input.
const pipeBytes = 250 << 20

// pipeInput returns the --pipe workloads' input file, written once: lines
// of varying length, about 250 MB.
func (r *runner) pipeInput() (path string, size int64, err error) {
	path = filepath.Join(r.work, "pipe-input")
	if fi, err := os.Stat(path); err == nil {
		return path, fi.Size(), nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", 0, fmt.Errorf("write the --pipe input: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	want := int64(pipeBytes)
	if r.cfg.quick {
		want /= 20
	}
	pad := strings.Repeat("abcdefghij", 8)
	for i := 1; size < want; i++ {
		line := strconv.Itoa(i) + " " + pad[:i%len(pad)] + "\n"
		w.WriteString(line)
		size += int64(len(line))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", 0, fmt.Errorf("write the --pipe input: %w", err)
	}
	return path, size, f.Close()
}

// someLines checks that the blocks' jobs printed their counts.
func someLines(_ int, out bench.Output) error {
	if out.Lines == 0 {
		return fmt.Errorf("no output")
	}
	return nil
}

func (r *runner) runPipe(ctx context.Context) {
	if !r.selected(workloadPipe) && !r.selected(workloadPipePart) {
		return
	}
	in, size, err := r.pipeInput()
	if err != nil {
		r.rows = append(r.rows, bench.Row{Workload: workloadPipe, Tool: "all", Result: "not run: " + shorten(err.Error())})
		return
	}
	cmd := func(stdin string, argv ...string) func(int) (bench.Command, error) {
		return func(int) (bench.Command, error) {
			return bench.Command{Argv: argv, StdinFile: stdin, Timeout: localTimeout}, nil
		}
	}
	mb := float64(size) / 1e6
	floor := contender{tool: "cat FILE | wc -l", role: floor, jobs: 1, check: someLines,
		command: cmd("", "sh", "-c", `cat "$1" | wc -l`, "sh", in),
		note:    fmt.Sprintf("floor: the whole %.0f MB file through one pipe to one wc -l.", mb)}
	rate := func(m measured) string {
		if len(m.samples) == 0 {
			return ""
		}
		return fmt.Sprintf("%.0f MB/s.", mb/m.median().Seconds())
	}
	if r.selected(workloadPipe) {
		cs := []contender{
			r.toolContender("concurr", r.concurr, contender{role: subject, jobs: 1, check: someLines,
				command: cmd(in, r.concurr, "--pipe", "--block", "10M", "wc -l"),
				target:  fmt.Sprintf("≥ %.0f× GNU Parallel --pipe", pipeVsParallel)}),
			r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: 1, check: someLines,
				command: cmd(in, r.parallel, "--will-cite", "--pipe", "--block", "10M", "wc -l"),
				note:    "GNU Parallel --pipe --block 10M wc -l."}),
			floor,
		}
		ms := r.measure(ctx, workloadPipe, cs, r.cfg.reps)
		r.addRows(workloadPipe, ms, func(m measured, row *bench.Row) {
			row.Note = joinNotes(row.Note, rate(m))
			if row.VsParallel == 0 {
				row.Result = "not judged: GNU Parallel did not run"
				return
			}
			row.Result = verdict(row.VsParallel >= pipeVsParallel)
		})
	}
	if r.selected(workloadPipePart) {
		cs := []contender{
			r.toolContender("concurr", r.concurr, contender{role: subject, jobs: 1, check: someLines,
				command: cmd("", r.concurr, "--pipepart", "-a", in, "--block", "10M", "wc -l"),
				target:  fmt.Sprintf("time ≤ %.1f× floor", pipePartVsFloorTime)}),
			r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: 1, check: someLines,
				command: cmd("", r.parallel, "--will-cite", "--pipepart", "-a", in, "--block", "10M", "wc -l"),
				note:    "GNU Parallel --pipepart -a FILE --block 10M wc -l."}),
			floor,
		}
		ms := r.measure(ctx, workloadPipePart, cs, r.cfg.reps)
		r.addRows(workloadPipePart, ms, func(m measured, row *bench.Row) {
			row.Note = joinNotes(row.Note, rate(m))
			row.Result = floorVerdict(row, pipePartVsFloorTime)
		})
	}
}

func (r *runner) remotePipeWorkload(ctx context.Context, rm *remote) {
	in, size, err := r.pipeInput()
	if err != nil {
		r.rows = append(r.rows, bench.Row{Workload: workloadPipeRemote, Tool: "all", Result: "not run: " + shorten(err.Error())})
		return
	}
	hosts := strings.Join(rm.d.Aliases[:2], ",")
	cmd := func(argv ...string) func(int) (bench.Command, error) {
		return func(int) (bench.Command, error) {
			return bench.Command{Argv: argv, StdinFile: in, Env: rm.env, Timeout: remoteTimeout}, nil
		}
	}
	mb := float64(size) / 1e6
	halves, err := splitHalves(in, size)
	if err != nil {
		r.rows = append(r.rows, bench.Row{Workload: workloadPipeRemote, Tool: "all", Result: "not run: " + shorten(err.Error())})
		return
	}
	// The floors: the same bytes pushed to `cat >/dev/null` on the same
	// sshd with the cipher concurr's client negotiates, by OpenSSH's ssh
	// and by golang.org/x/crypto/ssh (the library of concurr's client,
	// with its default algorithms, as concurr's), to one host and, half
	// each, to two at once. Client and sshd share this machine's cores:
	// what it can encrypt and decrypt at once bounds every row.
	sshCat := func(host string) string {
		return "ssh -F " + rm.d.Config + " -o Ciphers=" + pipeRemoteCipher + " " + host + " 'cat >/dev/null'"
	}
	addrs := []string{"127.0.0.1:" + strconv.Itoa(rm.d.Ports[0]), "127.0.0.1:" + strconv.Itoa(rm.d.Ports[1])}
	push := func(addrs []string, files []string) func(ctx context.Context) (bench.Sample, error) {
		return func(ctx context.Context) (bench.Sample, error) {
			return pushAll(ctx, rm.d.Keys.Signer, []string{rm.d.KnownHosts}, addrs, files, "cat >/dev/null")
		}
	}
	cs := []contender{
		rm.concurrContender(contender{role: subject, jobs: 1, check: someLines,
			command: cmd(r.concurr, "-F", rm.d.Config, "-S", hosts, "--pipe", "--block", "10M", "wc -l"),
			target:  fmt.Sprintf("≥ %.0f MB/s", pipeRemoteBytesPerSec/1e6),
			note:    fmt.Sprintf("`concurr -S %s --pipe --block 10M wc -l` < the %.0f MB file.", hosts, mb)}),
		r.toolContender("parallel", r.parallel, contender{role: peerParallel, jobs: 1, check: someLines,
			command: cmd(r.parallel, "--will-cite", "--ssh", "ssh -F "+rm.d.Config, "-S", hosts, "--pipe", "--block", "10M", "wc -l"),
			note:    "GNU Parallel --ssh 'ssh -F CONFIG' -S " + hosts + " --pipe --block 10M wc -l."}),
		{tool: "ssh, 1 host", role: floor, jobs: 1,
			command: cmd("sh", "-c", sshCat(rm.d.Aliases[0])),
			note:    fmt.Sprintf("floor: `ssh -o Ciphers=%s %s 'cat >/dev/null'` < the file.", pipeRemoteCipher, rm.d.Aliases[0])},
		{tool: "ssh, 2 hosts at once", role: floor, jobs: 1,
			command: cmd("sh", "-c", sshCat(rm.d.Aliases[0])+" <"+halves[0]+" & "+sshCat(rm.d.Aliases[1])+" <"+halves[1]+"; wait"),
			note:    "floor: the same, half of the file to each of two hosts at once."},
		{tool: "x/crypto/ssh, 1 host", role: floor, jobs: 1, inProcess: push(addrs[:1], []string{in}),
			note: "floor: the file on one exec channel to `cat >/dev/null`, with golang.org/x/crypto/ssh's defaults, as concurr's client."},
		// The last floor is what the ratios are against.
		{tool: "x/crypto/ssh, 2 hosts at once", role: floor, jobs: 1, inProcess: push(addrs, halves),
			note: "floor: half of the file to each of two hosts at once, on exec channels, with golang.org/x/crypto/ssh."},
	}
	ms := r.measure(ctx, workloadPipeRemote, cs, r.cfg.reps)
	for i := range ms {
		if m := ms[i]; m.c.role == floor && m.err == nil && len(m.samples) > 0 {
			ms[i].c.note = joinNotes(m.c.note, fmt.Sprintf("%.0f MB/s.", float64(size)/m.median().Seconds()/1e6))
		}
	}
	r.addRows(workloadPipeRemote, ms, func(m measured, row *bench.Row) {
		rate := float64(size) / m.median().Seconds()
		row.Note = joinNotes(row.Note, fmt.Sprintf("%.0f MB/s.", rate/1e6))
		row.Result = verdict(rate >= pipeRemoteBytesPerSec)
	})
}

// pipeRemoteCipher is the cipher golang.org/x/crypto/ssh prefers, and so
// concurr's client negotiates with OpenSSH's sshd: AES-GCM, which AES-NI
// makes the cheapest.
const pipeRemoteCipher = "aes128-gcm@openssh.com"

// splitHalves writes the two halves of the file in, cut at a line, once.
// It streams them: a large heap here would count in every later child's
// peak RSS, which Linux takes over from the process that forked it.
func splitHalves(in string, size int64) ([]string, error) {
	halves := []string{in + ".1", in + ".2"}
	if _, err := os.Stat(halves[1]); err == nil {
		return halves, nil
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	probe := make([]byte, 64<<10)
	n, err := f.ReadAt(probe, size/2)
	if i := bytes.IndexByte(probe[:n], '\n'); i >= 0 {
		mid := size/2 + int64(i) + 1
		for i, part := range []*io.SectionReader{io.NewSectionReader(f, 0, mid), io.NewSectionReader(f, mid, size-mid)} {
			if err := writeFrom(halves[i], part); err != nil {
				return nil, err
			}
		}
		return halves, nil
	}
	if err == nil || err == io.EOF {
		err = fmt.Errorf("%s: no line ends near its middle", in)
	}
	return nil, err
}

func writeFrom(path string, r io.Reader) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// pushAll logs in to every address at once and sends the file of the
// same index to command's stdin on an exec channel, for the floor of
// remote --pipe.
func pushAll(ctx context.Context, signer ssh.Signer, knownHosts, addrs, files []string, command string) (bench.Sample, error) {
	config, err := floorClientConfig(signer, knownHosts)
	if err != nil {
		return bench.Sample{}, err
	}
	return timeAll(len(addrs), func(i int) error { return pushOne(ctx, addrs[i], config, files[i], command) })
}

// pushOne sends file to command's stdin over one fresh login to addr.
func pushOne(ctx context.Context, addr string, config *ssh.ClientConfig, file, command string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return connectAndRun(ctx, addr, config, command, f)
}
