package sched

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"concurr/internal/output"
	"concurr/internal/template"
)

// lineBlocks yields n blocks of lines "block:line\n", each block larger
// than a stream's window so that credit must flow.
type lineBlocks struct {
	n, lines, next int
	held           *atomic.Int32 // blocks read and not yet printed
	most           *atomic.Int32
}

func (s *lineBlocks) Next() (Block, error) {
	if s.next >= s.n {
		return Block{}, io.EOF
	}
	s.next++
	var b bytes.Buffer
	for i := 1; i <= s.lines; i++ {
		fmt.Fprintf(&b, "%d:%d\n", s.next, i)
	}
	if s.held != nil {
		if h := s.held.Add(1); h > s.most.Load() {
			s.most.Store(h)
		}
	}
	return Block{Data: b.Bytes()}, nil
}

func (s *lineBlocks) want() string {
	var b strings.Builder
	for k := 1; k <= s.n; k++ {
		for i := 1; i <= s.lines; i++ {
			fmt.Fprintf(&b, "%d:%d\n", k, i)
		}
	}
	return b.String()
}

func pipeTemplate(t *testing.T, words ...string) *template.Template {
	t.Helper()
	tmpl, err := template.Compile(words, template.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestPipeBlocksRunOnceEach sends every block to a job's stdin, in order
// under -k, also when one of the nodes dies in the middle of the stream.
func TestPipeBlocksRunOnceEach(t *testing.T) {
	oldDelay := RejoinDelay
	RejoinDelay = 10 * time.Millisecond
	defer func() { RejoinDelay = oldDelay }()
	tests := []struct {
		name  string
		nodes func(t *testing.T) []Node
	}{
		{"one node", func(t *testing.T) []Node {
			return []Node{{Name: "a", Dial: localDial(t, 2, 0), Slots: fixedSlots(2), Prefetch: 2}}
		}},
		{"a node dies mid-stream", func(t *testing.T) []Node {
			var dials atomic.Int32
			healthy, dying := localDial(t, 2, 0), localDial(t, 2, 5)
			return []Node{
				{Name: "good", Dial: localDial(t, 2, 0), Slots: fixedSlots(2)},
				{Name: "bad", Slots: fixedSlots(2), Prefetch: 2, Dial: func(ctx context.Context) (*Conn, error) {
					if dials.Add(1) == 1 {
						return dying(ctx)
					}
					return healthy(ctx)
				}},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var held, most atomic.Int32
			src := &lineBlocks{n: 12, lines: 200000, held: &held, most: &most}
			var stdout, stderr bytes.Buffer
			out := output.New(&stdout, &stderr, output.Options{KeepOrder: true})
			cfg := Config{
				Template: pipeTemplate(t, "cat"),
				Output:   out,
				Input:    &Input{Blocks: src},
				Warn:     func(error) {},
				Progress: progressFunc(func() { held.Add(-1) }),
			}
			sum, err := Run(context.Background(), cfg, tt.nodes(t), nil)
			out.Flush()
			if err != nil || sum.Failed != 0 || sum.Jobs != 12 {
				t.Fatalf("Run: %v, %+v; stderr %q", err, sum, stderr.String())
			}
			if stdout.String() != src.want() {
				t.Fatalf("every record exactly once, in order: got %d bytes, want %d", stdout.Len(), len(src.want()))
			}
			if m := most.Load(); m > 2*4+1 {
				t.Errorf("%d blocks held at once, beyond two per slot", m)
			}
		})
	}
}

// progressFunc counts ended jobs.
type progressFunc func()

func (progressFunc) NodeUp(NodeUp)      {}
func (progressFunc) NodeDown(NodeDown)  {}
func (progressFunc) Started(JobStarted) {}
func (f progressFunc) Ended(JobEnded)   { f() }
func (progressFunc) SourceDone(uint64)  {}

func TestTeeAndRoundRobin(t *testing.T) {
	tests := []struct {
		name  string
		input Input
		src   Source
		words []string
		check func(t *testing.T, out string, src *lineBlocks)
	}{
		{"tee: every job gets everything", Input{Tee: true}, &numbers{n: 3}, []string{"wc -l | sed s/^/{}:/"},
			func(t *testing.T, out string, src *lineBlocks) {
				if want := "1:40000\n2:40000\n3:40000\n"; out != want {
					t.Fatalf("got %q, want %q", out, want)
				}
			}},
		{"round robin: one job per slot, every record once", Input{RoundRobin: true}, nil, []string{"cat"},
			func(t *testing.T, out string, src *lineBlocks) {
				got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				want := strings.Split(strings.TrimSuffix(src.want(), "\n"), "\n")
				sort.Strings(got)
				sort.Strings(want)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("got %d lines, want %d", len(got), len(want))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &lineBlocks{n: 8, lines: 5000}
			in := tt.input
			in.Blocks = src
			var stdout, stderr bytes.Buffer
			out := output.New(&stdout, &stderr, output.Options{KeepOrder: true})
			cfg := Config{Template: pipeTemplate(t, tt.words...), Output: out, Input: &in, Warn: func(error) {}}
			nodes := []Node{{Name: "a", Dial: localDial(t, 3, 0), Slots: fixedSlots(3)}}
			sum, err := Run(context.Background(), cfg, nodes, tt.src)
			out.Flush()
			if err != nil || sum.Failed != 0 {
				t.Fatalf("Run: %v, %+v; stderr %q", err, sum, stderr.String())
			}
			if tt.input.RoundRobin && sum.Jobs != 3 {
				t.Fatalf("%d jobs, want one per slot", sum.Jobs)
			}
			tt.check(t, stdout.String(), src)
		})
	}
}
