package agent

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"mvdan.cc/sh/v3/interp"
)

// lineFile is a file opened for writing by a redirection. The embedded
// shell's builtins write a line in pieces (echo writes each word apart);
// lineFile gathers the pieces and writes whole lines with one write(2), as
// bash's builtins do, so that jobs appending to one file at once never mix
// inside a line.
type lineFile struct {
	f   *os.File
	buf []byte
	err error
}

// maxLine is how much a line may grow before it is written in parts.
const maxLine = 64 << 10

func (l *lineFile) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	l.buf = append(l.buf, p...)
	if n := len(l.buf); n >= maxLine || l.buf[n-1] == '\n' {
		l.flush()
	}
	if l.err != nil {
		return 0, l.err
	}
	return len(p), nil
}

func (l *lineFile) flush() {
	if len(l.buf) == 0 || l.err != nil {
		return
	}
	_, l.err = l.f.Write(l.buf)
	l.buf = l.buf[:0]
}

// file returns the file for a process to write to, after what builtins left
// pending, so that the order of the output stays.
func (l *lineFile) file() *os.File {
	l.flush()
	return l.f
}

func (l *lineFile) Read(p []byte) (int, error) { return l.f.Read(p) }

func (l *lineFile) Close() error {
	l.flush()
	err := l.f.Close()
	if l.err != nil {
		return l.err
	}
	return err
}

// openRedirect is the interpreter's open handler: files opened for writing
// become lineFiles.
func openRedirect(ctx context.Context, path string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(interp.HandlerCtx(ctx).Dir, path)
	}
	var created bool
	mask, masked := 0, false
	if j := jobOf(ctx); j != nil && flag&os.O_CREATE != 0 {
		if mask, masked = j.proc.jobUmask(); masked {
			// The agent's umask is not the job's: a file the redirection
			// creates gets the job's mask instead. The file may appear
			// between the two calls; then it keeps the mode it was made with.
			_, serr := os.Lstat(path)
			created = os.IsNotExist(serr)
		}
	}
	f, err := os.OpenFile(path, flag, perm)
	if err == nil && created {
		// Bash creates files with 0666 less the umask; the interpreter
		// asks for fewer permissions than that.
		if cerr := f.Chmod(0o666 &^ os.FileMode(mask)); cerr != nil {
			f.Close()
			return nil, cerr
		}
	}
	if err != nil || flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return f, err
	}
	return &lineFile{f: f}, nil
}
