package pipe

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Part is a --pipepart block: a range of a file, read by whoever runs the
// job rather than by the client.
type Part struct {
	Path   string
	Offset int64
	Length int64
}

// partChunk is how much of the file is read at a time while looking for a
// boundary, as GNU Parallel reads it.
const partChunk = 128 << 10

// SplitFile finds the --pipepart blocks of the file path as GNU Parallel
// finds them: the --header at the top, then a boundary at the first
// record end at or after every block size. A negative BlockSize is a number
// of blocks per slot, of which there are slots.
func SplitFile(path string, o Options, slots int) (header []byte, parts []Part, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w", path, ErrNotSeekable)
	}
	size := fi.Size()
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	block := o.BlockSize
	switch {
	case block == 0:
		block = 1 << 20
	case block < 0:
		block = 1 + size/int64(max(slots, 1))/-block
	}
	sep, err := o.separators()
	if err != nil {
		return nil, nil, err
	}
	if head, err := headerPattern(o.Header); err != nil {
		return nil, nil, err
	} else if head != nil {
		if header, err = readFileHeader(f, head, block); err != nil {
			return nil, nil, err
		}
	}
	skip := int64(len(header))
	pos := []int64{skip}
	buf := make([]byte, 0, partChunk)
	for p := block + skip; p < size; p += block {
		if !sep.regexp && len(sep.split) == 0 {
			pos = append(pos, p)
			continue
		}
		buf = buf[:0]
		for off := p; ; {
			buf = grow(buf, partChunk)
			n, rerr := f.ReadAt(buf[len(buf):len(buf)+partChunk], off)
			buf = buf[:len(buf)+n]
			off += int64(n)
			if n > 0 {
				if sep.regexp {
					if m := sep.last.FindSubmatchIndex(buf); m != nil {
						p += int64(m[3])
						pos = append(pos, p)
						break
					}
				} else if i := bytes.Index(buf, sep.split); i >= 0 {
					p += int64(i + len(sep.end))
					pos = append(pos, p)
					break
				}
			}
			if rerr == io.EOF || n == 0 {
				break
			}
			if rerr != nil {
				return nil, nil, rerr
			}
		}
	}
	if pos[len(pos)-1] != size {
		pos = append(pos, size)
	}
	for i := 0; i+1 < len(pos); i++ {
		if pos[i+1] > pos[i] {
			parts = append(parts, Part{Path: path, Offset: pos[i], Length: pos[i+1] - pos[i]})
		}
	}
	return header, parts, nil
}

func readFileHeader(f *os.File, head interface{ FindIndex([]byte) []int }, block int64) ([]byte, error) {
	var buf []byte
	chunk := make([]byte, min(block, 1<<20))
	for off := int64(0); ; {
		n, err := f.ReadAt(chunk, off)
		buf = append(buf, chunk[:n]...)
		off += int64(n)
		if loc := head.FindIndex(buf); loc != nil && loc[1] > 0 {
			return buf[:loc[1]:loc[1]], nil
		}
		if err == io.EOF || n == 0 {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
