package agent

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"testing"

	"concurr/internal/wire"
)

// BenchmarkEchoJobs measures jobs per second of `echo {}` through Serve over
// io.Pipe with 2 slots: the client sends inputs ahead and reads results as
// they come, as the scheduler does.
func BenchmarkEchoJobs(b *testing.B) { benchmarkJobs(b, `echo "$A1"`) }

// BenchmarkTrueJobs is BenchmarkEchoJobs with an external command: the cost
// of a fork/exec and what the agent adds to it.
func BenchmarkTrueJobs(b *testing.B) { benchmarkJobs(b, `/bin/true "$A1"`) }

func benchmarkJobs(b *testing.B, src string) {
	b.ReportAllocs()
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
	fw.Write(&wire.Command{ID: 1, Template: script(src), Slots: 2})
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
	if err := <-sendErr; err != nil {
		b.Fatal(err)
	}
	inW.Close()
	go io.Copy(io.Discard, outR)
	if err := <-served; err != nil {
		b.Fatal(err)
	}
}
