package transfer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The basefile cache: a node keeps each --basefile it was sent under the
// SHA-256 of its content, in ${XDG_CACHE_HOME:-$HOME/.cache}/concurr/base,
// beside the agent cache, so that a later run with the same content sends
// nothing. Its content ends up in jobs' work dirs, where it may be a script
// that runs, so the cache is held to the agent cache's rules (OpenSSH's
// StrictModes): the folder and the concurr folder above it are the user's
// and writable by no one else, and every folder above them is root's or the
// user's and writable by no one else unless sticky. A cached file is also
// hashed again each time it is used, as it is copied into the work dir.

// CacheDir is the basefile cache of the user whose home is home.
func CacheDir(home string) string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "concurr", "base")
}

// OpenCache creates the cache folder dir if it is missing, and checks it
// and the folders above it. It returns the folder's physical path.
func OpenCache(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	phys, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	uid := uint32(os.Getuid())
	for d, depth := phys, 0; ; d, depth = filepath.Dir(d), depth+1 {
		fi, err := os.Lstat(d)
		if err != nil {
			return "", err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return "", fmt.Errorf("%s: cannot learn its owner", d)
		}
		mode := fi.Mode()
		writable := mode.Perm()&0o022 != 0
		own := depth < 2 // the base folder and the concurr folder
		switch {
		case own && st.Uid != uid:
			return "", fmt.Errorf("the basefile cache folder %s is owned by another user (uid %d)", d, st.Uid)
		case own && writable:
			return "", fmt.Errorf("the basefile cache folder %s is writable by others", d)
		case st.Uid != uid && st.Uid != 0:
			return "", fmt.Errorf("the folder %s, above the basefile cache, is owned by another user (uid %d)", d, st.Uid)
		case writable && mode&fs.ModeSticky == 0:
			return "", fmt.Errorf("the folder %s, above the basefile cache, is writable by others", d)
		}
		if d == filepath.Dir(d) {
			return phys, nil
		}
	}
}

// OpenCached opens the cached file of sum in the cache folder dir, if
// there is one that may be trusted: a regular file, not a link, the user's,
// writable by no one else. Anything else is as good as missing.
func OpenCached(dir, sum string) (*os.File, bool) {
	if !ValidSum(sum) {
		return nil, false
	}
	p := filepath.Join(dir, sum)
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, false
	}
	fi, err := f.Stat()
	st, ok := fi.Sys().(*syscall.Stat_t)
	if err != nil || !ok || !fi.Mode().IsRegular() || st.Uid != uint32(os.Getuid()) || fi.Mode().Perm()&0o022 != 0 {
		f.Close()
		return nil, false
	}
	return f, true
}

// ValidSum says whether s is a SHA-256 in lower-case hex, and so a safe
// file name.
func ValidSum(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// SumFile is the SHA-256 of the file at path, in hex, and its size.
func SumFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// VerifiedCopy is an io.WriterTo that copies src and fails, once src is
// written out, if what it wrote does not have the SHA-256 sum and the
// size: a write that uses it (WriteAtomic) then leaves nothing in place.
func VerifiedCopy(src io.WriterTo, sum string, size int64) io.WriterTo {
	return &verifiedCopy{src: src, sum: sum, size: size}
}

type verifiedCopy struct {
	src  io.WriterTo
	sum  string
	size int64
}

func (v *verifiedCopy) WriteTo(w io.Writer) (int64, error) {
	h := sha256.New()
	n, err := v.src.WriteTo(io.MultiWriter(w, h))
	if err != nil {
		return n, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != v.size || got != v.sum {
		return n, fmt.Errorf("%w: %d bytes with SHA-256 %s, not %d bytes with %s", ErrMismatch, n, got, v.size, v.sum)
	}
	return n, nil
}

// ErrMismatch is a copy whose content is not what its sum says.
var ErrMismatch = errors.New("the content does not match its checksum")
