// Package transfer holds the rules that file transfer (--transferfile,
// --return, --basefile) shares between the client and the agent: how a name
// given on the command line splits into the client's path and the path below
// the node's work dir, and which paths may be written at all.
package transfer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Split turns a transfer name into the path on the client and the path
// below the work dir on the node, as GNU Parallel's rsync -R does: a "/./"
// in the name marks where the node's part begins (dir/./sub/f is dir/sub/f
// here and sub/f there), a leading "./" is dropped, and without a marker
// the node's path is the name itself. An absolute name without "/./", or
// one whose node part leaves the work dir (".."), is refused: a job's
// files stay below its work dir.
func Split(name string) (local, remote string, err error) {
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	if name == "" {
		return "", "", fmt.Errorf("an empty file name")
	}
	local, remote = name, name
	if i := strings.LastIndex(name, "/./"); i >= 0 {
		local, remote = name[:i]+"/"+name[i+3:], name[i+3:]
	} else if strings.HasPrefix(name, "/") {
		return "", "", fmt.Errorf("%s is absolute: mark the part to keep below the work dir with /./ (as in /data/./%s)", name, path.Base(name))
	}
	if err := CheckRemote(remote); err != nil {
		return "", "", fmt.Errorf("%s: %w", name, err)
	}
	return path.Clean(local), path.Clean(remote), nil
}

// CheckRemote refuses a path that would not stay below the work dir: an
// absolute one, one with "..", an empty one. The agent checks every path
// it is asked to write, read or remove with it, whatever the client.
func CheckRemote(p string) error {
	if p == "" || p == "." {
		return fmt.Errorf("no file name below the work dir")
	}
	if strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return fmt.Errorf("an absolute path would leave the work dir")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("a path with .. would leave the work dir")
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return fmt.Errorf("the path would leave the work dir")
	}
	return nil
}

// WriteAtomic writes the content of src to a temporary file beside path,
// sets its mode and mtime, and renames it into place, so that no reader
// ever sees half a file.
func WriteAtomic(path string, src io.WriterTo, mode fs.FileMode, mtime int64) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".concurr-*")
	if err != nil {
		return err
	}
	_, err = src.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), mode)
	}
	if err == nil && mtime != 0 {
		t := time.Unix(0, mtime)
		err = os.Chtimes(f.Name(), t, t)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == f.Name() {
			// Name the file being written, not its temporary name.
			pe.Path = path
		}
		if !errors.As(err, &pe) {
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}
	return err
}
