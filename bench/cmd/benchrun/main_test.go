package main

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"concurr/bench"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantReps  int
		wantErr   string
		wantMatch string
	}{
		{name: "defaults", args: nil, wantReps: 5, wantMatch: workloadRemoteFan},
		{name: "quick is one repetition", args: []string{"-quick", "-reps", "5"}, wantReps: 1},
		{name: "only", args: []string{"-only", "^local"}, wantReps: 5, wantMatch: workloadEcho},
		{name: "bad reps", args: []string{"-reps", "0"}, wantErr: "-reps must be at least 1"},
		{name: "bad regexp", args: []string{"-only", "("}, wantErr: "-only"},
		{name: "stray argument", args: []string{"x"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.reps != tt.wantReps {
				t.Errorf("reps %d, want %d", c.reps, tt.wantReps)
			}
			if tt.wantMatch != "" && !c.only.MatchString(tt.wantMatch) {
				t.Errorf("-only does not select %q", tt.wantMatch)
			}
		})
	}
}

func TestHostBlock(t *testing.T) {
	config := "Host node1\n  HostName 127.0.0.1\n  Port 1\nHost node2\n  HostName 127.0.0.1\n  Port 2\n"
	tests := []struct {
		name, alias, want, wantErr string
	}{
		{name: "first", alias: "node1", want: "  HostName 127.0.0.1\n  Port 1\n"},
		{name: "last", alias: "node2", want: "  HostName 127.0.0.1\n  Port 2\n"},
		{name: "missing", alias: "node3", wantErr: "no Host node3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := hostBlock(config, tt.alias)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("hostBlock = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestInstallFailure(t *testing.T) {
	tests := []struct {
		name, out, want string
	}{
		{name: "proxy refuses", out: "go: reading https://proxy.golang.org/x/@v/list: 403 Forbidden\n\tserver response: not available", want: "the Go module proxy refused `go install " + rushModule + "` (403 Forbidden)"},
		{name: "other failure", out: "build failed\nline 2\nline 3\nline 4", want: "go install " + rushModule + " failed: build failed / line 2 / line 3"},
		{name: "no output", out: "", want: "go install " + rushModule + " failed: exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := installFailure([]byte(tt.out), errors.New("exit status 1")); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddRowsRatiosAndNotRun(t *testing.T) {
	r := &runner{cfg: config{budget: 5 * time.Second}}
	ms := []measured{
		{c: contender{tool: "concurr", role: subject, jobs: 1000}, jobs: 1000, samples: []time.Duration{time.Second}},
		{c: contender{tool: "GNU Parallel", role: peerParallel, jobs: 1000}, jobs: 100, samples: []time.Duration{2 * time.Second}},
		{c: contender{tool: "floor", role: floor, jobs: 1000}, jobs: 1000, samples: []time.Duration{500 * time.Millisecond}},
		{c: contender{tool: "rush", role: peer, jobs: 1000}, err: errors.New("rush is not available")},
	}
	r.addRows("w", ms, func(m measured, row *bench.Row) { row.Result = verdict(row.VsParallel >= 10) })
	tests := []struct {
		name                string
		row                 bench.Row
		vsParallel, vsFloor float64
		result              string
		jobs                int
		noteHas             string
	}{
		{name: "subject", row: r.rows[0], vsParallel: 20, vsFloor: 0.5, result: "met", jobs: 1000},
		{name: "scaled peer", row: r.rows[1], vsParallel: 1, vsFloor: 0.025, jobs: 100, noteHas: "ran 100 of the workload's 1000 jobs"},
		{name: "missing peer", row: r.rows[3], result: "not run: rush is not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.row.VsParallel != tt.vsParallel || tt.row.VsFloor != tt.vsFloor || tt.row.Result != tt.result || tt.row.Jobs != tt.jobs {
				t.Errorf("row %+v, want vs parallel %v, vs floor %v, result %q, jobs %d", tt.row, tt.vsParallel, tt.vsFloor, tt.result, tt.jobs)
			}
			if !strings.Contains(tt.row.Note, tt.noteHas) {
				t.Errorf("note %q lacks %q", tt.row.Note, tt.noteHas)
			}
		})
	}
}

// TestPairedRatio checks that the ratio of two workloads is taken round by
// round: a round of the whole machine slowed down moves both of its times,
// not the ratio.
func TestPairedRatio(t *testing.T) {
	s := func(ms ...int) []time.Duration {
		var ds []time.Duration
		for _, m := range ms {
			ds = append(ds, time.Duration(m)*time.Millisecond)
		}
		return ds
	}
	tests := []struct {
		name string
		a, b []time.Duration
		want float64
	}{
		{"load drifts between rounds", s(1200, 2400, 1500), s(1000, 2000, 1250), 1.2},
		{"an even number of rounds", s(1100, 1300), s(1000, 1000), 1.2},
		{"a round the floor missed", s(1100, 1200, 1300), s(1000, 1000), 1.15},
		{"no floor", s(1000), nil, 0},
	}
	for _, tt := range tests {
		if got := pairedRatio(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}
