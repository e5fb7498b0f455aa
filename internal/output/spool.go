package output

import (
	"bytes"
	"io"
	"os"
)

// spool holds one stream of one job's output: in memory up to a bound, then
// in a temporary file, so that a job printing gigabytes costs the client a
// file, not memory.
type spool struct {
	mem   bytes.Buffer
	file  *os.File
	limit int
	dir   string
	err   error
}

func (s *spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.file == nil && s.mem.Len()+len(p) <= s.limit {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "concurr-spool-*")
		if err != nil {
			s.err = err
			return 0, err
		}
		// Unlinked at once: the file vanishes with the process, whatever happens.
		os.Remove(f.Name())
		s.file = f
		if _, err := f.Write(s.mem.Bytes()); err != nil {
			s.err = err
			return 0, err
		}
		s.mem = bytes.Buffer{}
	}
	n, err := s.file.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// drain passes the spooled bytes to fn, which sees them in
// pieces, and releases the spool.
func (s *spool) drain(fn func([]byte) error) error {
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

func (s *spool) reset() {
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	s.mem.Reset()
	s.err = nil
}
