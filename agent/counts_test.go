package agent

import (
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

// Counts a client sends are bounded before the agent sizes anything by
// them: a command asking for absurdly many slots is refused with an error
// for that command, and a timeout that would overflow is none.
func TestAbsurdCountsFromClient(t *testing.T) {
	t.Run("slots", func(t *testing.T) {
		tests := []struct {
			name    string
			slots   uint64
			wantErr bool
		}{
			{"a few", 64, false},
			{"one past the most", wire.MaxSlots + 1, true},
			{"2^40", 1 << 40, true},
			{"2^63-1", 1<<63 - 1, true},
			{"2^64-1", 1<<64 - 1, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := startAgent(t, Options{Slots: 1})
				c.send(&wire.Command{ID: 7, Template: script(`echo $A1`), Slots: tt.slots},
					&wire.Input{Command: 7, Seq: 1, Args: []string{"ran"}})
				m := c.recv(10 * time.Second)
				if tt.wantErr {
					e, ok := m.(*wire.Error)
					if !ok || e.Command != 7 || e.Seq != 0 || !strings.Contains(e.Message, "slots") {
						t.Fatalf("got %+v, want an error for command 7 about its slots", m)
					}
					return
				}
				for {
					if r, ok := m.(*wire.Result); ok {
						if r.Exit != 0 {
							t.Fatalf("result %+v", r)
						}
						return
					}
					if _, ok := m.(*wire.Error); ok {
						t.Fatalf("got %+v, want the job to run", m)
					}
					m = c.recv(10 * time.Second)
				}
			})
		}
	})
	t.Run("timeout past a time.Duration", func(t *testing.T) {
		for _, ms := range []uint64{maxTimeoutMillis + 1, 1<<63 + 5, 1<<64 - 1} {
			c := startAgent(t, Options{Slots: 1})
			c.send(&wire.Command{ID: 1, Template: script(`sleep 0.2; echo $A1`)},
				&wire.Input{Command: 1, Seq: 1, Args: []string{"ran"}, Timeout: ms})
			res := c.collect(10*time.Second, 1)[1]
			if res.result.Exit != 0 || res.result.Flags&wire.ResultTimedOut != 0 || res.stdout.String() != "ran\n" {
				t.Fatalf("timeout %d ms: result %+v stdout %q, want the job to run to its end", ms, res.result, res.stdout.String())
			}
		}
	})
}
