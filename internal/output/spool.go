package output

import (
	"bytes"
	"io"
	"os"
)

// Spool holds one stream of output for later: in memory up to a bound, then
// in a temporary file, so that a job printing gigabytes costs the client a
// file, not memory. --onall keeps one per stream of every node; the Writer's
// held jobs, which may be many, share its spill files instead (spill.go).
type Spool struct {
	mem   bytes.Buffer
	file  *os.File
	limit int
	dir   string
	err   error
}

// NewSpool returns a Spool that holds up to limit bytes in memory before it
// spills to a file in dir ("" is the system's temporary folder).
func NewSpool(dir string, limit int) *Spool {
	return &Spool{dir: dir, limit: limit}
}

func (s *Spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.file == nil && s.mem.Len()+len(p) <= s.limit {
		return s.mem.Write(p)
	}
	if err := s.Spill(); err != nil {
		return 0, err
	}
	n, err := s.file.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// Spill moves what the spool holds to its file now, and all that follows.
// Calling it up front shows at once whether the file can be created.
func (s *Spool) Spill() error {
	if s.err != nil || s.file != nil {
		return s.err
	}
	f, err := os.CreateTemp(s.dir, "concurr-spool-*")
	if err != nil {
		s.err = err
		return err
	}
	// Unlinked at once: the file vanishes with the process, whatever happens.
	os.Remove(f.Name())
	s.file = f
	if _, err := f.Write(s.mem.Bytes()); err != nil {
		s.err = err
		return err
	}
	s.mem = bytes.Buffer{}
	return nil
}

// WriteTo writes out what the spool holds and empties it.
func (s *Spool) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := s.drain(func(b []byte) error {
		m, err := w.Write(b)
		n += int64(m)
		return err
	})
	return n, err
}

// Close releases the spool's file, dropping what it holds.
func (s *Spool) Close() error {
	s.reset()
	return nil
}

// drain passes the spooled bytes to fn, which sees them in
// pieces, and releases the spool.
func (s *Spool) drain(fn func([]byte) error) error {
	defer s.reset()
	if s.err != nil {
		return s.err
	}
	if s.file == nil {
		if s.mem.Len() == 0 {
			return nil
		}
		return fn(s.mem.Bytes())
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := s.file.Read(buf)
		if n > 0 {
			if err := fn(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *Spool) reset() {
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	s.mem.Reset()
	s.err = nil
}
