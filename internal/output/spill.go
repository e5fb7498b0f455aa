package output

import (
	"os"
)

// spillFileSize is how large a spill file grows before the next held output
// goes to a new one. A file is closed once all it holds is printed, so the
// disk a long run takes follows what is held, not all it ever held, and the
// files open at once stay few: one per spillFileSize of held output.
const spillFileSize = 64 << 20

// held is one stream of a job's output kept for later: in memory while the
// Writer's budget allows, and from the first byte past it on, in the
// Writer's shared spill files. Many held jobs thus share a few files (a
// file per job would run out of file descriptors behind a slow job).
type held struct {
	mem     []byte
	spilled []extent
	// tail is what came after spilled when a spill failed: it stays in
	// memory, past the budget, rather than be lost.
	tail []byte
}

// extent is a piece of held output in a spill file.
type extent struct {
	file *spillFile
	off  int64
	n    int64
}

// spillFile is one unlinked temporary file that held output is appended to.
type spillFile struct {
	f    *os.File
	size int64 // bytes written
	live int64 // bytes still held for jobs
}

// spiller owns the Writer's spill files.
type spiller struct {
	dir     string
	current *spillFile // where held output is appended
	buf     []byte     // for reading held output back
}

// write appends data to h's spilled output.
func (s *spiller) write(h *held, data []byte) error {
	if s.current == nil || s.current.size >= spillFileSize {
		if s.current != nil && s.current.live == 0 {
			s.current.f.Close()
		}
		f, err := os.CreateTemp(s.dir, "concurr-spool-*")
		if err != nil {
			s.current = nil
			return err
		}
		// Unlinked at once: the file vanishes with the process, whatever
		// happens.
		os.Remove(f.Name())
		s.current = &spillFile{f: f}
	}
	f := s.current
	if _, err := f.f.WriteAt(data, f.size); err != nil {
		return err
	}
	n := int64(len(data))
	if k := len(h.spilled); k > 0 && h.spilled[k-1].file == f && h.spilled[k-1].off+h.spilled[k-1].n == f.size {
		h.spilled[k-1].n += n
	} else {
		h.spilled = append(h.spilled, extent{file: f, off: f.size, n: n})
	}
	f.size += n
	f.live += n
	return nil
}

// drain passes h's spilled output to fn, in pieces, and releases it.
func (s *spiller) drain(h *held, fn func([]byte) error) error {
	defer s.release(h)
	if s.buf == nil {
		s.buf = make([]byte, 64<<10)
	}
	for _, e := range h.spilled {
		for off, end := e.off, e.off+e.n; off < end; {
			n, err := e.file.f.ReadAt(s.buf[:min(int64(len(s.buf)), end-off)], off)
			if n > 0 {
				if err := fn(s.buf[:n]); err != nil {
					return err
				}
			}
			if err != nil {
				return err
			}
			off += int64(n)
		}
	}
	return nil
}

// release drops h's spilled output. A file that holds nothing more is
// closed, or written again from its start when it is the current one.
func (s *spiller) release(h *held) {
	for _, e := range h.spilled {
		f := e.file
		f.live -= e.n
		if f.live > 0 {
			continue
		}
		if f == s.current {
			f.size = 0
		} else if f.f != nil {
			f.f.Close()
			f.f = nil
		}
	}
	h.spilled = nil
}

// files counts the spill files open, for tests.
func (s *spiller) files(jobs []*Job) int {
	open := map[*spillFile]bool{}
	if s.current != nil {
		open[s.current] = true
	}
	for _, j := range jobs {
		for _, h := range j.held {
			for _, e := range h.spilled {
				open[e.file] = true
			}
		}
	}
	return len(open)
}
