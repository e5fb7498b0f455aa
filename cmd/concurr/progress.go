package main

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// progressMeter draws --bar, --eta and --progress on stderr, redrawing one
// line at most every tenth of a second.
type progressMeter struct {
	mu                 sync.Mutex
	say                *messages
	bar, eta, progress bool
	start, drawn       time.Time
	started, done      uint64
	failed             uint64
	total              uint64 // 0 until the input is read to its end
}

func newProgressMeter(say *messages, bar, eta, progress bool) *progressMeter {
	return &progressMeter{say: say, bar: bar, eta: eta, progress: progress, start: time.Now()}
}

func (m *progressMeter) Started(uint64) {
	m.mu.Lock()
	m.started++
	m.draw(false)
	m.mu.Unlock()
}

func (m *progressMeter) Ended(_ uint64, failed bool) {
	m.mu.Lock()
	m.done++
	if failed {
		m.failed++
	}
	m.draw(false)
	m.mu.Unlock()
}

func (m *progressMeter) SourceDone(total uint64) {
	m.mu.Lock()
	m.total = total
	m.mu.Unlock()
}

func (m *progressMeter) finish() {
	m.mu.Lock()
	m.draw(true)
	m.say.endProgress()
	m.mu.Unlock()
}

// draw redraws the line; m.mu is held.
func (m *progressMeter) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(m.drawn) < 100*time.Millisecond {
		return
	}
	m.drawn = now
	elapsed := now.Sub(m.start).Seconds()
	running := m.started - m.done
	var parts []string
	avg := 0.0
	if m.done > 0 {
		avg = elapsed / float64(m.done)
	}
	left := "?"
	eta := "?"
	if m.total > 0 {
		l := m.total - min(m.done, m.total)
		left = fmt.Sprint(l)
		eta = fmt.Sprintf("%.0fs", avg*float64(l))
	}
	if m.eta {
		parts = append(parts, fmt.Sprintf("ETA: %s Left: %s AVG: %.2fs", eta, left, avg))
	}
	if m.progress || m.eta {
		parts = append(parts, fmt.Sprintf("running:%d done:%d failed:%d", running, m.done, m.failed))
	}
	if m.bar {
		pct := 0.0
		if m.total > 0 {
			pct = 100 * float64(m.done) / float64(m.total)
		}
		const width = 30
		filled := int(pct / 100 * width)
		parts = append(parts, fmt.Sprintf("%3.0f%% %d:%d=%s [%s%s]", pct, m.done, m.failed, eta,
			strings.Repeat("#", filled), strings.Repeat(" ", width-filled)))
	}
	m.say.progress(strings.Join(parts, "  "))
}
