package agent

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"concurr/internal/template"
	"concurr/internal/wire"
)

// BenchmarkEchoJobs measures jobs per second of `echo {}` through Serve over
// io.Pipe with 2 slots: the client sends inputs ahead and reads results as
// they come, as the scheduler does.
func BenchmarkEchoJobs(b *testing.B) { benchmarkJobs(b, `echo "$A1"`) }

// BenchmarkTrueJobs is BenchmarkEchoJobs with an external command: the cost
// of a fork/exec and what the agent adds to it.
func BenchmarkTrueJobs(b *testing.B) { benchmarkJobs(b, `/bin/true "$A1"`) }

// BenchmarkCompiledEchoJobs is BenchmarkEchoJobs with `echo {}` as a local
// run sends it: compiled by the template package, so that the job expands
// "${__concurr_1[@]}" rather than "$A1".
func BenchmarkCompiledEchoJobs(b *testing.B) {
	tmpl, err := template.Compile([]string{"echo", "{}"}, template.Options{})
	if err != nil {
		b.Fatal(err)
	}
	enc, err := tmpl.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkTemplateJobs(b, enc)
}

func benchmarkJobs(b *testing.B, src string) { benchmarkTemplateJobs(b, script(src)) }

func benchmarkTemplateJobs(b *testing.B, tmpl []byte) {
	b.ReportAllocs()
	var cpuBefore syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpuBefore)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- Serve(context.Background(), inR, outW, Options{Slots: 2})
		outW.Close()
	}()
	br := bufio.NewReaderSize(outR, 64<<10)
	if _, err := wire.ReadMagic(br, 0); err != nil {
		b.Fatal(err)
	}
	fr := wire.NewReader(br)
	if _, err := fr.ReadFrame(); err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(inW, 64<<10)
	fw := wire.NewWriter(bw)
	wire.WriteMagic(bw)
	fw.Write(&wire.Command{ID: 1, Template: tmpl, Slots: 2})
	bw.Flush()

	sendErr := make(chan error, 1)
	go func() {
		args := []string{""}
		for i := 1; i <= b.N; i++ {
			args[0] = strconv.Itoa(i)
			if err := fw.Write(&wire.Input{Command: 1, Seq: uint64(i), Args: args}); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- bw.Flush()
	}()
	b.ResetTimer()
	results := 0
	for results < b.N {
		f, err := fr.ReadFrame()
		if err != nil {
			b.Fatal(err)
		}
		switch f.Type {
		case wire.TypeResult:
			results++
		case wire.TypeOutput:
		default:
			b.Fatalf("unexpected %s", f.Type)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	// The process's CPU time per job, client included: less at the mercy
	// of other load on the machine than jobs/s.
	var cpuAfter syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpuAfter)
	cpu := time.Duration(cpuAfter.Utime.Nano() + cpuAfter.Stime.Nano() - cpuBefore.Utime.Nano() - cpuBefore.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/job")
	if err := <-sendErr; err != nil {
		b.Fatal(err)
	}
	inW.Close()
	go io.Copy(io.Discard, outR)
	if err := <-served; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInterpreterFloor is the interpreter's own cost of a builtin-only
// job: Reset and Run of a parsed `echo x` on one Runner, output discarded,
// with nothing of the agent around it. No job through Serve can cost less.
func BenchmarkInterpreterFloor(b *testing.B) {
	file, err := syntax.NewParser().Parse(strings.NewReader("echo x"), "")
	if err != nil {
		b.Fatal(err)
	}
	r, err := interp.New(interp.StdIO(nil, io.Discard, io.Discard), interp.Env(expand.ListEnviron("HOME=/", "PATH=/usr/bin:/bin")))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	var cpuBefore syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpuBefore)
	b.ResetTimer()
	for range b.N {
		r.Reset()
		if err := r.Run(ctx, file); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var cpuAfter syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &cpuAfter)
	cpu := time.Duration(cpuAfter.Utime.Nano() + cpuAfter.Stime.Nano() - cpuBefore.Utime.Nano() - cpuBefore.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/job")
}
