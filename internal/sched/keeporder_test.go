package sched

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"concurr/internal/output"
)

// startedSeqs records the jobs that started, for a Progress.
type startedSeqs struct {
	mu   sync.Mutex
	most uint64
}

func (s *startedSeqs) Started(j JobStarted) {
	s.mu.Lock()
	s.most = max(s.most, j.Seq)
	s.mu.Unlock()
}
func (s *startedSeqs) Ended(JobEnded)    {}
func (s *startedSeqs) NodeUp(NodeUp)     {}
func (s *startedSeqs) NodeDown(NodeDown) {}
func (s *startedSeqs) SourceDone(uint64) {}
func (s *startedSeqs) get() uint64       { s.mu.Lock(); defer s.mu.Unlock(); return s.most }

// TestKeepOrderWindow: under -k, behind a job that does not end, the run
// starts at most the window's jobs, so that what it holds stays bounded;
// once that job ends, the rest run, and all the output comes in order. A
// run stopped meanwhile ends too.
func TestKeepOrderWindow(t *testing.T) {
	const jobs, window = 200, 16
	tests := []struct {
		name string
		stop bool // cancel the run instead of letting job 1 end
		halt bool // job 2 fails and halts the run at once
	}{
		{"the rest run once the head job ends", false, false},
		{"a run cancelled while the feeder waits ends", true, false},
		{"a run halted while the feeder waits ends", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := filepath.Join(t.TempDir(), "release")
			var stdout bytes.Buffer
			started := &startedSeqs{}
			cfg := Config{
				Template: compile(t, fmt.Sprintf(`if [ {} = 1 ]; then while [ ! -e %s ]; do sleep 0.01; done; fi; echo {}`, release)),
				Output:   output.New(&stdout, &bytes.Buffer{}, output.Options{KeepOrder: true, Window: window}),
				Progress: started,
			}
			if tt.halt {
				cfg.Template = compile(t, fmt.Sprintf(`if [ {} = 1 ]; then while [ ! -e %s ]; do sleep 0.01; done; fi; [ {} = 2 ] && sleep 0.3 && exit 1; echo {}`, release))
				cfg.Halt = Halt{When: HaltOnFail, Now: true, Count: 1}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := Run(ctx, cfg, []Node{{Name: ":", Dial: localDial(t, 4, 0), Slots: fixedSlots(4), Prefetch: 4}}, &numbers{n: jobs})
				done <- err
			}()
			// Wait until the window is full, and a while longer for any job
			// that would start past it.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				if started.get() >= window {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			if most := started.get(); most != window && !tt.halt {
				t.Fatalf("behind a job that does not end, jobs up to %d started; want up to %d", most, window)
			}
			switch {
			case tt.stop:
				cancel()
			case tt.halt:
			default:
				os.WriteFile(release, nil, 0o644)
			}
			select {
			case err := <-done:
				if tt.stop || tt.halt {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the run did not end")
			}
			cfg.Output.Flush()
			var want strings.Builder
			for i := 1; i <= jobs; i++ {
				fmt.Fprintf(&want, "%d\n", i)
			}
			if stdout.String() != want.String() {
				t.Fatalf("output not whole and in order:\n%s", stdout.String())
			}
		})
	}
}
