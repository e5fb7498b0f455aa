package agent

import "runtime"

type runtimeMem struct{ heap uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.heap = s.HeapInuse
}
