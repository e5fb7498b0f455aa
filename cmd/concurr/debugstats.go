package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// CONCURR_DEBUG=stats makes the client print, as it exits, one line of what
// it held at its peak: goroutines, open file descriptors, and how many
// hosts joined and when the last did. It is how the benchmark's scale
// workload sees inside the client (peak RSS it reads from wait4); it is not
// an option, so it stays out of --help and out of a user's way.
const debugStatsValue = "stats"

// debugStats samples the client while it runs.
type debugStats struct {
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup

	peakGoroutines atomic.Int64
	peakFDs        atomic.Int64
	joined         atomic.Int64
	lastJoin       atomic.Int64 // nanoseconds after start
}

// stats is the running sampler, or nil when CONCURR_DEBUG does not ask.
var stats *debugStats

// statsSampleEvery is often enough to catch the peak of a start that takes
// a fraction of a second, and rare enough to cost nothing measurable.
const statsSampleEvery = 5 * time.Millisecond

// startDebugStats starts sampling when CONCURR_DEBUG=stats; the returned
// function stops it and prints the line on stderr.
func startDebugStats(stderr io.Writer) (finish func()) {
	if os.Getenv("CONCURR_DEBUG") != debugStatsValue {
		return func() {}
	}
	s := &debugStats{start: time.Now(), stop: make(chan struct{})}
	stats = s
	s.sample()
	s.wg.Go(func() {
		t := time.NewTicker(statsSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	})
	return func() {
		close(s.stop)
		s.wg.Wait()
		s.sample()
		fmt.Fprintf(stderr, "concurr: debug: stats goroutines=%d fds=%d joined=%d last_join_ms=%.1f rss_kb=%d\n",
			s.peakGoroutines.Load(), s.peakFDs.Load(), s.joined.Load(), float64(s.lastJoin.Load())/1e6, peakRSSKiB())
	}
}

func (s *debugStats) sample() {
	raise(&s.peakGoroutines, int64(runtime.NumGoroutine()))
	if n, err := openDescriptors(); err == nil {
		raise(&s.peakFDs, int64(n))
	}
}

// hostJoined counts a host whose agent has answered the handshake.
func (s *debugStats) hostJoined() {
	if s == nil {
		return
	}
	s.joined.Add(1)
	raise(&s.lastJoin, int64(time.Since(s.start)))
}

func raise(peak *atomic.Int64, v int64) {
	for {
		old := peak.Load()
		if v <= old || peak.CompareAndSwap(old, v) {
			return
		}
	}
}

// openDescriptors counts this process's open descriptors, less the one
// that reading the folder opens.
func openDescriptors() (int, error) {
	f, err := os.Open("/dev/fd")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, err
	}
	return len(names) - 1, nil
}

// peakRSSKiB is the client's own peak resident size. wait4's figure also
// covers the local agent, a child of the client's; getrusage's own covers
// the process that started the client, up to its exec, since Linux keeps
// the larger of the two across exec (and Go starts children by vfork, so
// the parent's whole size counts). The memory map's own high-water mark,
// VmHWM, starts afresh at exec; elsewhere getrusage is the best there is.
func peakRSSKiB() int64 {
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(status)) {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					return kb
				}
			}
		}
	}
	var self syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	return int64(self.Maxrss)
}
