package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"concurr/internal/sched"
)

// progressMeter draws --bar, --eta and --progress on stderr as GNU Parallel
// draws them, redrawing the line at most every tenth of a second:
//
//	--bar       25% 1:3=2s running:2 failed:0 a.txt      done:left=ETA, then the newest job's arguments
//	--progress  local:2/1/100%/0.3s failed:0             host:running/completed/% of started/average seconds
//	--eta       ETA: 2s Left: 3 AVG: 0.30s  local:2/1/100%/0.3s failed:0
//
// --progress and --eta first list the hosts (number:host / cores / jobs at
// once), a line each as it joins, and the header that names the status
// line's columns; the status line, like GNU Parallel's, gets terser when
// the terminal is too narrow for it. Beyond GNU Parallel, every form counts
// the failed jobs, labelled. A job counts as running from when its node
// starts it: jobs sent ahead to a node wait there for a free slot, and are
// not counted.
type progressMeter struct {
	mu       sync.Mutex
	say      *messages
	bar, eta bool // else --progress
	columns  func() int
	now      func() time.Time

	start, drawn time.Time
	hosts        []*hostProgress // in the order given
	byName       map[string]*hostProgress
	listed       bool   // the hosts' header is printed
	header       string // the status line's header as last printed
	running      map[uint64]*hostProgress
	done, failed uint64
	total        uint64
	newestArgs   []string // of the job that started last
	known        bool     // total is known: the inputs were read to their end
	preset       bool     // total was known before the run, and the run's own count replaces it

	// GNU Parallel's smoothing of the ETA (compute_eta).
	firstDone   time.Time
	smoothedAvg float64
	lastETA     int
}

type hostProgress struct {
	number       int
	name         string
	cores, slots int
	up           bool
	inflight     []sentJob // sent to it and not ended, oldest first
	completed    int
}

type sentJob struct {
	seq  uint64
	args []string
}

// running is how many of its jobs are running: a node starts the jobs it
// is sent in order, and the ones beyond its slots wait there.
func (h *hostProgress) running() int { return min(len(h.inflight), h.slots) }

// remove takes a job that ended, or was lost, off the host, and returns the
// job that starts in its place, if one was waiting.
func (h *hostProgress) remove(seq uint64) *sentJob {
	wasRunning := slices.IndexFunc(h.inflight, func(j sentJob) bool { return j.seq == seq }) < h.slots
	h.inflight = slices.DeleteFunc(h.inflight, func(j sentJob) bool { return j.seq == seq })
	if wasRunning && len(h.inflight) >= h.slots && h.slots > 0 {
		return &h.inflight[h.slots-1]
	}
	return nil
}

func newProgressMeter(say *messages, hosts []string, bar, eta bool) *progressMeter {
	m := &progressMeter{say: say, bar: bar, eta: eta && !bar, columns: terminalColumns, now: time.Now,
		byName: map[string]*hostProgress{}, running: map[uint64]*hostProgress{}}
	m.start = m.now()
	for i, name := range hosts {
		h := &hostProgress{number: i + 1, name: name}
		m.hosts = append(m.hosts, h)
		m.byName[name] = h
	}
	return m
}

// terminalColumns is the width of the terminal on stderr, or of the one
// $COLUMNS names, or 80, as GNU Parallel assumes.
func terminalColumns() int {
	if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 0 {
		return w
	}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	return 80
}

// setTotal gives the number of jobs, when it is known before the run.
func (m *progressMeter) setTotal(n uint64) {
	m.mu.Lock()
	m.total, m.known, m.preset = n, true, true
	m.mu.Unlock()
}

func (m *progressMeter) host(name string) *hostProgress {
	h := m.byName[name]
	if h == nil {
		h = &hostProgress{number: len(m.hosts) + 1, name: name}
		m.hosts = append(m.hosts, h)
		m.byName[name] = h
	}
	return h
}

func (m *progressMeter) NodeUp(u sched.NodeUp) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.host(u.Name)
	h.cores, h.slots, h.up = u.Cores, u.Slots, true
	if m.bar || u.Rejoin {
		return
	}
	var lines string
	if !m.listed {
		m.listed = true
		lines = "\nComputers / CPU cores / Max jobs to run\n"
	}
	lines += fmt.Sprintf("%d:%s / %d / %d\n", h.number, hostName(h.name), h.cores, h.slots)
	m.say.aside(func() { m.say.w.Write([]byte(lines)) })
}

func (m *progressMeter) NodeDown(d sched.NodeDown) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.host(d.Name)
	h.up = false
	for _, seq := range d.Requeued {
		if r := m.running[seq]; r != nil {
			r.remove(seq)
			delete(m.running, seq)
		}
	}
	m.draw(false)
}

func (m *progressMeter) Started(s sched.JobStarted) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.host(s.Host)
	h.inflight = append(h.inflight, sentJob{s.Seq, s.Args})
	m.running[s.Seq] = h
	if len(h.inflight) <= h.slots {
		// GNU Parallel's --bar shows the arguments of the job that
		// started last; one sent ahead starts when a slot frees.
		m.newestArgs = s.Args
	}
	m.draw(false)
}

func (m *progressMeter) Ended(e sched.JobEnded) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h := m.running[e.Seq]; h != nil {
		if next := h.remove(e.Seq); next != nil {
			m.newestArgs = next.args
		}
		delete(m.running, e.Seq)
	}
	m.host(e.Host).completed++
	if !e.Retry {
		m.done++
		if e.Failed {
			m.failed++
		}
	}
	m.draw(false)
}

// SourceDone adds up: --onall runs the jobs once per host, each run
// telling its own total.
func (m *progressMeter) SourceDone(total uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.preset {
		m.total, m.preset = 0, false
	}
	m.total += total
	m.known = true
}

// finish draws the line a last time and ends it.
func (m *progressMeter) finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.draw(true)
	m.say.endProgress()
}

// draw redraws the line; m.mu is held.
func (m *progressMeter) draw(force bool) {
	now := m.now()
	if !force && now.Sub(m.drawn) < 100*time.Millisecond {
		return
	}
	m.drawn = now
	if m.bar {
		m.say.progress(m.barLine(now))
		return
	}
	header, status := m.statusLine(now)
	if header != m.header {
		// As GNU Parallel, the header is printed again when the line
		// changes form.
		m.header = header
		if !m.listed {
			// No host has joined yet: GNU Parallel's list is printed
			// before the first job, so it comes first here too.
			m.listed = true
			header = "\nComputers / CPU cores / Max jobs to run\n\n" + header
		} else {
			header = "\n" + header
		}
		m.say.aside(func() { m.say.w.Write([]byte(header + "\n")) })
	}
	m.say.progress(status)
}

// eta is GNU Parallel's compute_eta: jobs left, the average seconds per
// job since the first ended, and the estimate, smoothed so that it does
// not jump.
func (m *progressMeter) computeETA(now time.Time) (left uint64, pct, avg float64, eta int) {
	if !m.known {
		return 0, 0, 0, 0
	}
	total := max(m.total, m.done)
	left = total - m.done
	if m.done == 0 || total == 0 {
		return left, 0, 0, 0
	}
	pct = min(float64(m.done)/float64(total), 1)
	if m.firstDone.IsZero() {
		m.firstDone = now
	}
	avg = now.Sub(m.firstDone).Seconds() / float64(m.done)
	if m.smoothedAvg == 0 {
		m.smoothedAvg = avg
	}
	m.smoothedAvg = (1-pct)*m.smoothedAvg + pct*avg
	eta = int(float64(left) * m.smoothedAvg)
	if float64(eta)*0.9 < float64(m.lastETA) && m.lastETA < eta {
		eta = m.lastETA // it rose less than 10%: keep the last one
	} else {
		m.lastETA = eta
	}
	return left, pct, avg, eta
}

func (m *progressMeter) runningJobs() int {
	n := 0
	for _, h := range m.hosts {
		n += h.running()
	}
	return n
}

// barLine is GNU Parallel's --bar: "pct% done:left=ETA", the newest job's
// arguments, in reverse video up to the share done, padded to the
// terminal's width. Before it come the lines that zenity reads when
// stderr is piped to it: "# ETA sec args" and the percentage.
func (m *progressMeter) barLine(now time.Time) string {
	left, pct, _, eta := m.computeETA(now)
	leftText := strconv.FormatUint(left, 10)
	if !m.known {
		leftText = "?"
	}
	args := strings.Join(m.newestArgs, " ")
	text := fmt.Sprintf("%d%% %d:%s=%s running:%d failed:%d %s", int(pct*100), m.done, leftText,
		timeUnits(eta), m.runningJobs(), m.failed, args)
	width := m.columns()
	padded := padTo(text, width)
	cut := min(int(float64(width)*pct), len(padded))
	const rev, reset = "\x1b[7m", "\x1b[0m"
	zenity := padTo(fmt.Sprintf("#   %d sec %s", eta, args), width)
	return zenity + "\r" + strconv.FormatFloat(pct*100, 'g', 15, 64) + "\r" +
		rev + padded[:cut] + reset + padded[cut:] + reset
}

// padTo cuts or pads s to width bytes.
func padTo(s string, width int) string {
	if len(s) >= width {
		return s[:width]
	}
	return s + strings.Repeat(" ", width-len(s))
}

// statusLine is GNU Parallel's --progress and --eta line with the header
// that names its columns: the fullest form that fits the terminal.
func (m *progressMeter) statusLine(now time.Time) (header, status string) {
	prefix := ""
	if m.eta {
		left, _, avg, eta := m.computeETA(now)
		leftText := strconv.FormatUint(left, 10)
		if !m.known {
			leftText = "?"
		}
		prefix = fmt.Sprintf("ETA: %ds Left: %s AVG: %.2fs  ", eta, leftText, avg)
	}
	suffix := fmt.Sprintf("failed:%d", m.failed)
	var up []*hostProgress
	started := 0
	for _, h := range m.hosts {
		if h.up || h.completed > 0 {
			up = append(up, h)
			started += h.running() + h.completed
		}
	}
	elapsed := now.Sub(m.start).Seconds()
	pctOf := func(h *hostProgress) int {
		if started == 0 {
			return 0
		}
		return (h.running() + h.completed) * 100 / started
	}
	avgOf := func(h *hostProgress) float64 {
		if h.completed == 0 {
			return 0
		}
		return elapsed / float64(h.completed)
	}
	forms := []struct {
		header string
		host   func(h *hostProgress, name string) string
		byNum  bool
	}{
		{"Computer:jobs running/jobs completed/%of started jobs/Average seconds to complete",
			func(h *hostProgress, name string) string {
				return fmt.Sprintf("%s:%d/%d/%d%%/%.1fs", name, h.running(), h.completed, pctOf(h), avgOf(h))
			}, false},
		{"Computer:jobs running/jobs completed/%of started jobs",
			func(h *hostProgress, name string) string {
				return fmt.Sprintf("%s:%d/%d/%d%%/%.1fs", name, h.running(), h.completed, pctOf(h), avgOf(h))
			}, true},
		{"Computer:jobs running/jobs completed/%of started jobs",
			func(h *hostProgress, name string) string {
				return fmt.Sprintf("%s:%d/%d/%d%%", name, h.running(), h.completed, pctOf(h))
			}, false},
		{"Computer:jobs running/jobs completed/%of started jobs",
			func(h *hostProgress, name string) string {
				return fmt.Sprintf("%s:%d/%d/%d%%", name, h.running(), h.completed, pctOf(h))
			}, true},
		{"Computer:jobs running/jobs completed",
			func(h *hostProgress, name string) string {
				return fmt.Sprintf("%s:%d/%d", name, h.running(), h.completed)
			}, false},
		{"Computer:jobs running/jobs completed",
			func(h *hostProgress, name string) string {
				return fmt.Sprintf("%s:%d/%d", name, h.running(), h.completed)
			}, true},
		{"Computer:jobs completed",
			func(h *hostProgress, name string) string { return fmt.Sprintf("%s:%d", name, h.completed) }, false},
		{"Computer:jobs completed",
			func(h *hostProgress, name string) string { return fmt.Sprintf("%s:%d", name, h.completed) }, true},
	}
	columns := m.columns()
	for _, f := range forms {
		parts := make([]string, 0, len(up)+1)
		for _, h := range up {
			name := hostName(h.name)
			if f.byNum {
				name = strconv.Itoa(h.number)
			}
			parts = append(parts, f.host(h, name))
		}
		parts = append(parts, suffix)
		header, status = f.header, prefix+strings.Join(parts, " ")
		if len(status) <= columns {
			break
		}
	}
	return header, status
}

// hostName names a host as GNU Parallel's progress does.
func hostName(name string) string {
	if name == ":" {
		return "local"
	}
	return name
}

// timeUnits is GNU Parallel's seconds_to_time_units: 1d02h03m04s.
func timeUnits(s int) string {
	d, h, mins := s/86400, s%86400/3600, s%3600/60
	s %= 60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd%02dh%02dm%02ds", d, h, mins, s)
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, mins, s)
	case mins > 0:
		return fmt.Sprintf("%dm%02ds", mins, s)
	}
	return fmt.Sprintf("%ds", s)
}
