package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	tests := []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{name: "none", in: nil, want: 0},
		{name: "one", in: ms(7), want: 7 * time.Millisecond},
		{name: "odd unsorted", in: ms(9, 1, 5), want: 5 * time.Millisecond},
		{name: "even takes the middle mean", in: ms(4, 1, 3, 100), want: 3500 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Median(tt.in); got != tt.want {
				t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestJobsWithin(t *testing.T) {
	tests := []struct {
		name      string
		budget    time.Duration
		probeJobs int
		probeTime time.Duration
		full      int
		want      int
	}{
		{name: "fast tool runs everything", budget: 5 * time.Second, probeJobs: 200, probeTime: 10 * time.Millisecond, full: 20000, want: 20000},
		{name: "slow tool is cut to the budget, two digits", budget: 5 * time.Second, probeJobs: 200, probeTime: 400 * time.Millisecond, full: 20000, want: 2500},
		{name: "rounding down", budget: 6 * time.Second, probeJobs: 300, probeTime: 700 * time.Millisecond, full: 20000, want: 2500},
		{name: "never below the probe", budget: time.Second, probeJobs: 200, probeTime: 5 * time.Second, full: 20000, want: 200},
		{name: "probe was everything", budget: time.Second, probeJobs: 500, probeTime: 5 * time.Second, full: 500, want: 500},
		{name: "no probe time", budget: time.Second, probeJobs: 5, probeTime: 0, full: 500, want: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JobsWithin(tt.budget, tt.probeJobs, tt.probeTime, tt.full); got != tt.want {
				t.Errorf("JobsWithin = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	stdin := t.TempDir() + "/in"
	if err := os.WriteFile(stdin, []byte("a\nb\nc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cmd     Command
		want    Output
		wantErr string
	}{
		{name: "counts lines", cmd: Command{Argv: []string{"sh", "-c", "printf 'x\\ny\\n'"}}, want: Output{Bytes: 4, Lines: 2, NonZero: true}},
		{name: "stdin file", cmd: Command{Argv: []string{"cat"}, StdinFile: stdin}, want: Output{Bytes: 6, Lines: 3, NonZero: true}},
		{name: "stdin producer", cmd: Command{Argv: []string{"cat"}, StdinFrom: []string{"seq", "1000"}}, want: Output{Bytes: 3893, Lines: 1000, NonZero: true}},
		{name: "tool stops reading early", cmd: Command{Argv: []string{"head", "-n", "2"}, StdinFrom: []string{"seq", "10000000"}}, want: Output{Bytes: 4, Lines: 2, NonZero: true}},
		{name: "zeros", cmd: Command{Argv: []string{"head", "-c", "300000", "/dev/zero"}}, want: Output{Bytes: 300000}},
		{name: "environment", cmd: Command{Argv: []string{"sh", "-c", `test "$BENCH_X" = y`}, Env: []string{"BENCH_X=y"}}},
		{name: "failure quotes stderr", cmd: Command{Argv: []string{"sh", "-c", "echo broken pipe dream >&2; exit 3"}}, wantErr: "exit status 3: broken pipe dream"},
		{name: "timeout kills the group", cmd: Command{Argv: []string{"sh", "-c", "sleep 30 & sleep 30"}, Timeout: 200 * time.Millisecond}, wantErr: "timed out"},
		{name: "empty", cmd: Command{}, wantErr: "empty command line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Measure(context.Background(), tt.cmd)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Output != tt.want {
				t.Errorf("output %+v, want %+v", s.Output, tt.want)
			}
			if s.Elapsed <= 0 || s.MaxRSS <= 0 {
				t.Errorf("elapsed %v, max RSS %d: want both measured", s.Elapsed, s.MaxRSS)
			}
		})
	}
}

func TestMeasurePeakRSS(t *testing.T) {
	// A tool that holds 64 MiB must show at least that much.
	s, err := Measure(context.Background(), Command{Argv: []string{"sh", "-c", `head -c 67108864 /dev/zero | tail -c 67108864 >/dev/null`}})
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxRSS < 60<<20 {
		t.Errorf("peak RSS %d, want ≥ 60 MiB", s.MaxRSS)
	}
}

func TestWriteMarkdown(t *testing.T) {
	m := Machine{CPUs: 2, CPUModel: "Test CPU", Kernel: "6.1", Date: time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC), GoVersion: "go1.26", Tools: [][2]string{{"GNU Parallel", "GNU parallel 20221122"}}}
	rows := []Row{
		{Workload: "echo", Tool: "concurr", Jobs: 20000, Median: 2 * time.Second, VsParallel: 52.4, VsFloor: 0.5, Target: "≥ 50× GNU Parallel", Result: "met"},
		{Workload: "echo", Tool: "GNU Parallel", Jobs: 1000, Median: 5 * time.Second, VsParallel: 1, Note: "ran 1000 jobs | a pipe"},
		{Workload: "remote", Tool: "concurr", Target: "≥ 100×", Result: "not run: no sshd"},
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, m, []string{"Shared machine."}, rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- Machine: 2 CPUs (nproc), Test CPU, Linux 6.1\n",
		"- GNU Parallel: GNU parallel 20221122\n",
		"Shared machine.\n",
		"| echo | concurr | 20000 | 2.000 | 10000 | 52× | 0.50× | — | ≥ 50× GNU Parallel | met |\n",
		"| echo | GNU Parallel [1] | 1000 | 5.000 | 200 | 1.00× | — | — |  |  |\n",
		"| remote | concurr | — | — | — | — | — | — | ≥ 100× | not run: no sshd |\n",
		"1. ran 1000 jobs | a pipe\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestStartSSHDE2E needs a real sshd; it runs under make e2e.
func TestStartSSHDE2E(t *testing.T) {
	if os.Getenv("CONCURR_E2E") != "1" {
		t.Skip("set CONCURR_E2E=1 to start a real sshd")
	}
	d, stop, err := StartSSHD(2, "MaxStartups 64:30:128")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, alias := range d.Aliases {
		out, err := exec.Command("ssh", "-F", d.Config, alias, "echo ok").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("%s: %v: %q", alias, err, out)
		}
	}
	stop()
	if _, err := os.Stat(d.Config); !os.IsNotExist(err) {
		t.Errorf("config %s left behind after stop: %v", d.Config, err)
	}
}
