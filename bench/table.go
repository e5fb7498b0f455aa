package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Row is one line of the results table: one tool on one workload.
type Row struct {
	Workload string
	Tool     string
	Jobs     int
	// Median is the median wall time over Reps runs; 0 when the tool did
	// not run.
	Median time.Duration
	Reps   int
	// VsParallel and VsFloor are this tool's jobs/s divided by GNU
	// Parallel's and by the floor's on the same workload; 0 when there is
	// no such measurement.
	VsParallel float64
	VsFloor    float64
	PeakRSS    int64 // bytes; 0 when not measured
	Target     string
	// Result is "met", "missed", "not run: <reason>", or "" for a
	// reference row that has no target.
	Result string
	Note   string
}

// JobsPerSecond is the row's throughput, 0 when it did not run.
func (r Row) JobsPerSecond() float64 {
	if r.Median <= 0 {
		return 0
	}
	return float64(r.Jobs) / r.Median.Seconds()
}

// Machine describes where a run happened, for the table's header.
type Machine struct {
	CPUs      int
	CPUModel  string
	Kernel    string
	Date      time.Time
	GoVersion string
	// Tools maps a tool's name to its version line, or to why it is
	// missing.
	Tools [][2]string
}

// DescribeMachine reads the CPU model and kernel release from /proc.
func DescribeMachine(now time.Time) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Date: now, GoVersion: runtime.Version(), CPUModel: "unknown", Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	return m
}

// VersionLine runs argv and returns the first non-empty line it prints on
// stdout or stderr (ssh -V uses stderr), or why it could not.
func VersionLine(argv ...string) string {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	for line := range strings.SplitSeq(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	if err != nil {
		return "unavailable: " + err.Error()
	}
	return "unknown"
}

// WriteMarkdown writes the header describing m, the preamble paragraphs,
// the table and the rows' notes.
func WriteMarkdown(w io.Writer, m Machine, preamble []string, rows []Row) error {
	var b strings.Builder
	b.WriteString("# concurr benchmarks\n\n")
	b.WriteString("Written by `make bench` (bench/cmd/benchrun). Do not edit by hand.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", m.Date.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %d CPUs (nproc), %s, Linux %s\n", m.CPUs, m.CPUModel, m.Kernel)
	fmt.Fprintf(&b, "- Go: %s\n", m.GoVersion)
	for _, t := range m.Tools {
		fmt.Fprintf(&b, "- %s: %s\n", t[0], t[1])
	}
	b.WriteString("\n")
	for _, p := range preamble {
		b.WriteString(p + "\n\n")
	}
	b.WriteString("| Workload | Tool | Jobs | Median s | Jobs/s | vs GNU Parallel | vs floor | Peak RSS | Target | Result |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n")
	var notes []string
	for _, r := range rows {
		tool := r.Tool
		if r.Note != "" {
			notes = append(notes, r.Note)
			tool += fmt.Sprintf(" [%d]", len(notes))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			cell(r.Workload), cell(tool), count(r.Jobs), seconds(r), perSecond(r),
			ratio(r.VsParallel), ratio(r.VsFloor), megabytes(r.PeakRSS), cell(r.Target), cell(r.Result))
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for i, n := range notes {
			fmt.Fprintf(&b, "%d. %s\n", i+1, n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string {
	if s == "" {
		return ""
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

func count(n int) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprint(n)
}

func seconds(r Row) string {
	if r.Median <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.3f", r.Median.Seconds())
}

func perSecond(r Row) string {
	v := r.JobsPerSecond()
	switch {
	case v <= 0:
		return "—"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func ratio(v float64) string {
	switch {
	case v <= 0:
		return "—"
	case v >= 10:
		return fmt.Sprintf("%.0f×", v)
	default:
		return fmt.Sprintf("%.2f×", v)
	}
}

func megabytes(n int64) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
