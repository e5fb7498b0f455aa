package sched

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concurr/agent"
	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/template"
	"concurr/internal/wire"
)

// numbers yields the jobs 1..n, one argument each.
type numbers struct{ next, n int }

func (s *numbers) Next() ([]string, error) {
	if s.next >= s.n {
		return nil, io.EOF
	}
	s.next++
	return []string{fmt.Sprint(s.next)}, nil
}

// localDial starts an in-process agent; die, when set, closes the stream
// once that many results have passed, as a host that crashes would.
func localDial(t *testing.T, slots int, die int) func(ctx context.Context) (*Conn, error) {
	return func(ctx context.Context) (*Conn, error) {
		toAgent, fromClient := io.Pipe()
		toClient, fromAgent := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			agent.Serve(context.Background(), toAgent, fromAgent, agent.Options{Slots: slots})
			fromAgent.Close()
		}()
		var r io.Reader = toClient
		closer := closeFunc(func() error {
			fromClient.Close()
			toClient.Close()
			toAgent.Close()
			<-done
			return nil
		})
		if die > 0 {
			r = &dyingReader{r: toClient, results: die, kill: func() { toAgent.CloseWithError(io.ErrClosedPipe) }}
		}
		t.Cleanup(func() { closer.Close() })
		return Handshake(ctx, r, fromClient, closer)
	}
}

type closeFunc func() error

func (f closeFunc) Close() error { return f() }

// dyingReader passes the agent's stream until it has carried a number of
// Result frames' worth of bytes, then fails as a dropped connection does.
type dyingReader struct {
	r       io.Reader
	results int
	seen    int
	kill    func()
	dead    bool
}

func (d *dyingReader) Read(p []byte) (int, error) {
	if d.dead {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := d.r.Read(p)
	// Count result frames coarsely by their type byte after a length; the
	// point is only to die somewhere in the middle of the run.
	d.seen += bytes.Count(p[:n], []byte{byte(wire.TypeResult)})
	if d.seen >= d.results {
		d.dead = true
		d.kill()
		return 0, io.ErrUnexpectedEOF
	}
	return n, err
}

func compile(t *testing.T, words ...string) *template.Template {
	t.Helper()
	tmpl, err := template.Compile(words, template.Options{Positions: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func fixedSlots(n int) func(wire.Hello) int { return func(wire.Hello) int { return n } }

func TestLostNodeJobsRunElsewhere(t *testing.T) {
	oldDelay := RejoinDelay
	RejoinDelay = 10 * time.Millisecond
	defer func() { RejoinDelay = oldDelay }()

	const jobs = 3000
	var dials atomic.Int32
	healthy := localDial(t, 2, 0)
	dying := localDial(t, 2, 40)
	// The good node joins once the bad one is up: alone, it would run all
	// the jobs (a few milliseconds of echo) before the bad one got 40.
	badUp := make(chan struct{})
	var signalBadUp sync.Once
	dyingFirst := func(ctx context.Context) (*Conn, error) {
		defer signalBadUp.Do(func() { close(badUp) })
		return dying(ctx)
	}
	healthyAfterBad := func(ctx context.Context) (*Conn, error) {
		select {
		case <-badUp:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return healthy(ctx)
	}
	tests := []struct {
		name  string
		nodes []Node
	}{
		{"a node dies, the other takes its jobs", []Node{
			{Name: "good", Dial: healthyAfterBad, Slots: fixedSlots(2), Prefetch: 2},
			{Name: "bad", Dial: dyingFirst, Slots: fixedSlots(2), Prefetch: 4},
		}},
		{"a lone node dies and rejoins", []Node{
			{Name: "flaky", Slots: fixedSlots(2), Prefetch: 4, Dial: func(ctx context.Context) (*Conn, error) {
				if dials.Add(1) == 1 {
					return dying(ctx)
				}
				return healthy(ctx)
			}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			logPath := filepath.Join(t.TempDir(), "log")
			log, err := joblog.Create(logPath, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			var warnings []string
			var mu sync.Mutex
			cfg := Config{
				Template: compile(t, "echo", "{#}:{}"),
				Output:   output.New(&stdout, &stderr, output.Options{KeepOrder: true}),
				JobLog:   log,
				Warn: func(err error) {
					mu.Lock()
					warnings = append(warnings, err.Error())
					mu.Unlock()
				},
			}
			sum, err := Run(context.Background(), cfg, tt.nodes, &numbers{n: jobs})
			cfg.Output.Flush()
			log.Close()
			if err != nil {
				t.Fatalf("Run: %v (warnings %q)", err, warnings)
			}
			if sum.Failed != 0 || sum.Jobs != jobs {
				t.Fatalf("summary %+v", sum)
			}
			var want strings.Builder
			for i := 1; i <= jobs; i++ {
				fmt.Fprintf(&want, "%d:%d\n", i, i)
			}
			if stdout.String() != want.String() {
				t.Fatalf("every job must appear once, in order; got:\n%s", stdout.String())
			}
			entries, err := joblog.Read(logPath, func(err error) { t.Error(err) })
			if err != nil || len(entries) != jobs {
				t.Fatalf("job log has %d entries (%v), want %d", len(entries), err, jobs)
			}
			b, _ := os.ReadFile(logPath)
			if lines := strings.Count(string(b), "\n"); lines != jobs+1 {
				t.Fatalf("job log has %d lines, want %d", lines, jobs+1)
			}
			if len(warnings) == 0 || !strings.Contains(strings.Join(warnings, "\n"), "lost the agent") {
				t.Fatalf("the loss was not reported: %q", warnings)
			}
		})
	}
}

func TestRetriesPreferAnotherNode(t *testing.T) {
	var stdout bytes.Buffer
	// The job fails on the node named first and succeeds on the other.
	cfg := Config{
		Template: compile(t, `[ "{host}" = second ] && echo ran on {host}`),
		Output:   output.New(&stdout, io.Discard, output.Options{}),
		Retries:  2,
	}
	nodes := []Node{
		{Name: "first", Dial: localDial(t, 1, 0), Slots: fixedSlots(1)},
		{Name: "second", Dial: localDial(t, 1, 0), Slots: fixedSlots(1)},
	}
	for range 5 {
		stdout.Reset()
		sum, err := Run(context.Background(), cfg, nodes, &numbers{n: 1})
		cfg.Output.Flush()
		if err != nil || sum.Failed != 0 {
			t.Fatalf("sum %+v err %v", sum, err)
		}
		if stdout.String() != "ran on second\n" {
			t.Fatalf("stdout %q", stdout.String())
		}
	}
}

func TestNoNodes(t *testing.T) {
	cfg := Config{Template: compile(t, "echo"), Output: output.New(io.Discard, io.Discard, output.Options{}),
		Warn: func(error) {}}
	nodes := []Node{{Name: "down", Slots: fixedSlots(1), Dial: func(context.Context) (*Conn, error) {
		return nil, fmt.Errorf("connection refused")
	}}}
	_, err := Run(context.Background(), cfg, nodes, &numbers{n: 3})
	if err != ErrNoNodes {
		t.Fatalf("err = %v, want ErrNoNodes", err)
	}
}

func TestHalt(t *testing.T) {
	tests := []struct {
		name     string
		halt     Halt
		jobs     int
		wantExit int
		maxDone  uint64
	}{
		{"now on first failure", Halt{When: HaltOnFail, Now: true, Count: 1}, 20, 3, 3},
		{"soon on first failure", Halt{When: HaltOnFail, Count: 1}, 20, 3, 3},
		{"on a share of successes", Halt{When: HaltOnSuccess, Now: true, Percent: 10}, 20, 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Template: compile(t, "exit $(( {} == 3 ? 3 : 0 ))"), Halt: tt.halt,
				Output: output.New(io.Discard, io.Discard, output.Options{}), Warn: func(error) {}}
			nodes := []Node{{Name: ":", Dial: localDial(t, 1, 0), Slots: fixedSlots(1)}}
			sum, err := Run(context.Background(), cfg, nodes, &numbers{n: tt.jobs})
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Halted || sum.HaltExit != tt.wantExit || sum.Jobs > tt.maxDone {
				t.Fatalf("summary %+v", sum)
			}
		})
	}
}

// BenchmarkEchoJobs measures the client and agent together: jobs of the
// builtin echo through the in-process agent, as a local run does.
func BenchmarkEchoJobs(b *testing.B) {
	tmpl, _ := template.Compile([]string{"echo", "{}"}, template.Options{})
	// A follower that counts the jobs, as the end-of-run summary of every
	// run does.
	cfg := Config{Template: tmpl, Output: output.New(io.Discard, io.Discard, output.Options{}), Progress: &countingProgress{}}
	t := &testing.T{}
	nodes := []Node{{Name: ":", Dial: localDial(t, 2, 0), Slots: fixedSlots(2), Prefetch: 2}}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := Run(context.Background(), cfg, nodes, &numbers{n: b.N}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// countingProgress counts jobs, as the end-of-run summary does, and asks
// for the command line of failed ones only.
type countingProgress struct {
	mu          sync.Mutex
	ended       int
	failedShown []string
}

func (p *countingProgress) NodeUp(NodeUp)      {}
func (p *countingProgress) NodeDown(NodeDown)  {}
func (p *countingProgress) Started(JobStarted) {}
func (p *countingProgress) SourceDone(uint64)  {}
func (p *countingProgress) Ended(e JobEnded) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended++
	if e.Failed {
		p.failedShown = append(p.failedShown, e.CommandLine())
	}
}
