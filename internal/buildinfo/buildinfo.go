// Package buildinfo owns the identity of this build of concurr: its version
// and the content hash of the running executable, which names the agent
// binary cached on remote nodes and lets a client tell whether a node already
// runs the same build.
package buildinfo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Version is concurr's release version.
const Version = "0.1.0"

// idLen is how many hex digits of the SHA-256 make the build ID: 64 bits is
// far beyond accidental collision among builds, and keeps cache paths short.
const idLen = 16

// Executable returns the path of the running executable with symbolic links
// resolved, so that the file hashed is the file that runs.
func Executable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locate the running executable: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(p); err == nil {
		p = resolved
	}
	return p, nil
}

// ID returns the build ID: the first 16 hex digits of the SHA-256 of the
// running executable. It is computed once, and reads the whole executable:
// tens of milliseconds. When the executable cannot be read it is "unknown",
// which never matches a cached build.
func ID() string { return id() }

// InstalledID returns the build ID of the running executable without reading
// it, when the executable runs from a node's build cache: a folder named
// "<Version>-<build ID>" (see sshx), whose file the bootstrap verified by its
// SHA-256 before moving it into place. It reports false for an executable
// anywhere else, such as the client's own.
func InstalledID() (string, bool) {
	p, err := Executable()
	if err != nil {
		return "", false
	}
	return idFromPath(p)
}

// idFromPath returns the build ID that the cache folder holding path names.
func idFromPath(path string) (string, bool) {
	dir := filepath.Base(filepath.Dir(path))
	hash, ok := strings.CutPrefix(dir, Version+"-")
	if !ok || len(hash) != idLen {
		return "", false
	}
	for _, c := range []byte(hash) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return hash, true
}

var id = sync.OnceValue(func() string {
	s, err := hashExecutable()
	if err != nil {
		return "unknown"
	}
	return s
})

func hashExecutable() (string, error) {
	p, err := Executable()
	if err != nil {
		return "", err
	}
	return HashFile(p)
}

// HashFile returns the build ID that the executable at path would have.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:idLen], nil
}
