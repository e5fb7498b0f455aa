package output

import (
	"io"
	"testing"
)

// benchmarkJobs plays b.N jobs that print one short line each, finishing in
// blocks of block jobs in reverse order (1 is in order), as -k sees them
// when slots finish out of turn.
func benchmarkJobs(b *testing.B, opts Options, block int) {
	w := New(io.Discard, io.Discard, opts)
	line := []byte("a line of output from one job\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	jobs := make([]*Job, block)
	seq := uint64(1)
	for n := 0; n < b.N; n += block {
		jobs = jobs[:min(block, b.N-n)]
		for i := range jobs {
			jobs[i] = w.Begin(seq+uint64(i), nil, "")
			w.Chunk(jobs[i], Stdout, line)
		}
		for i := len(jobs) - 1; i >= 0; i-- {
			w.Finish(jobs[i])
		}
		seq += uint64(block)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGroup(b *testing.B)            { benchmarkJobs(b, Options{}, 1) }
func BenchmarkKeepOrderInOrder(b *testing.B) { benchmarkJobs(b, Options{KeepOrder: true}, 1) }
func BenchmarkKeepOrderBehind64(b *testing.B) {
	benchmarkJobs(b, Options{KeepOrder: true}, 64)
}

// BenchmarkKeepOrderSpilled holds 4096 jobs behind the first with a small
// memory budget, so that most held output goes through the spill file.
func BenchmarkKeepOrderSpilled(b *testing.B) {
	benchmarkJobs(b, Options{KeepOrder: true, MemoryLimit: 16 << 10, TempDir: b.TempDir()}, 4096)
}
