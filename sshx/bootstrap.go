package sshx

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"concurr/internal/buildinfo"
	"concurr/internal/wire"
)

// unameOS and unameArch map `uname -s` and `uname -m` to Go's names, as
// mutagen's agent bootstrap does.
var (
	unameOS = map[string]string{
		"Linux": "linux", "Darwin": "darwin", "FreeBSD": "freebsd", "NetBSD": "netbsd",
		"OpenBSD": "openbsd", "DragonFly": "dragonfly", "SunOS": "solaris",
	}
	unameArch = map[string]string{
		"i386": "386", "i486": "386", "i586": "386", "i686": "386",
		"x86_64": "amd64", "amd64": "amd64", "i86pc": "amd64",
		"armv5l": "arm", "armv6l": "arm", "armv7l": "arm", "armv8l": "arm", "arm": "arm",
		"aarch64": "arm64", "arm64": "arm64",
		"ppc64": "ppc64", "ppc64le": "ppc64le",
		"mips": "mips", "mipsel": "mipsle", "mips64": "mips64", "mips64el": "mips64le",
		"riscv64": "riscv64", "s390x": "s390x", "loongarch64": "loong64",
	}
)

// platformOf maps `uname -sm` output to GOOS/GOARCH.
func platformOf(uname string) (goos, goarch string, ok bool) {
	f := strings.Fields(uname)
	if len(f) != 2 {
		return "", "", false
	}
	goos, okOS := unameOS[f[0]]
	goarch, okArch := unameArch[f[1]]
	if !okOS || !okArch {
		return "", "", false
	}
	return goos, goarch, true
}

// unamesOf lists the `uname -sm` outputs that map to goos/goarch.
func unamesOf(goos, goarch string) []string {
	var out []string
	for s, o := range unameOS {
		if o != goos {
			continue
		}
		for m, a := range unameArch {
			if a == goarch {
				out = append(out, s+" "+m)
			}
		}
	}
	sort.Strings(out)
	return out
}

// build is an agent executable for one platform.
type build struct {
	goos, goarch string
	path         string
	sum          string // hex SHA-256 of the file
	size         int64
}

// dir names the node's cache folder for the build: version and build ID,
// so that the cache is content-addressed.
func (b *build) dir() string { return buildinfo.Version + "-" + b.sum[:16] }

var (
	hashMu    sync.Mutex
	hashCache = map[string]hashed{} // path → last hash
)

type hashed struct {
	size    int64
	modTime time.Time
	sum     string
}

// hashFile returns the SHA-256 of path, remembered for as long as the file's
// size and modification time stay the same, since every node needs it.
func hashFile(path string) (sum string, size int64, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	hashMu.Lock()
	h, ok := hashCache[path]
	hashMu.Unlock()
	if ok && h.size == st.Size() && h.modTime.Equal(st.ModTime()) {
		return h.sum, h.size, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	d := sha256.New()
	n, err := io.Copy(d, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	sum = hex.EncodeToString(d.Sum(nil))
	hashMu.Lock()
	hashCache[path] = hashed{size: n, modTime: st.ModTime(), sum: sum}
	hashMu.Unlock()
	return sum, n, nil
}

// agentPath is the local executable to run on nodes of the client's own
// platform.
func (o *Options) agentPath() (string, error) {
	if o.AgentPath != "" {
		return o.AgentPath, nil
	}
	return buildinfo.Executable()
}

// buildFor finds the agent for a platform: the client's own executable for
// its own platform, else concurr-GOOS-GOARCH beside it.
func (o *Options) buildFor(name, goos, goarch string) (*build, error) {
	self, err := o.agentPath()
	if err != nil {
		return nil, err
	}
	path := self
	if goos != runtime.GOOS || goarch != runtime.GOARCH {
		base := "concurr-" + goos + "-" + goarch
		path = filepath.Join(filepath.Dir(self), base)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%s: no concurr build for %s/%s: put %s beside the client (make dist)", name, goos, goarch, base)
		}
	}
	sum, size, err := hashFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the agent executable: %w", err)
	}
	return &build{goos: goos, goarch: goarch, path: path, sum: sum, size: size}, nil
}

// The markers the bootstrap script prints are "@@concurr:NONCE:WORD ARGS" on
// a line of their own; the nonce keeps them from matching anything a login
// shell prints, or the script's own text echoed back.
const markerPrefix = "@@concurr:"

func newNonce() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// bootstrapScript returns the remote command: a POSIX sh script, on one line
// and without single quotes, so that it survives being wrapped in
// sh -c '...' for any login shell (csh and fish included).
//
// It maps `uname -sm`; for the client's own platform the build is named in
// the script, for any other it asks the client with a "platform" marker and
// reads "DIR SHA256 SIZE" (or "none") from stdin. It then execs the cached
// agent if its SHA-256 matches, or prints "upload", reads exactly SIZE bytes
// into a temp file in the cache folder, verifies, chmods and renames it into
// place, and execs it. "exec" is printed just before the agent starts, and
// "fail MESSAGE" on errors.
func bootstrapScript(nonce string, own *build) string {
	var cases []string
	for _, u := range unamesOf(own.goos, own.goarch) {
		cases = append(cases, `"`+u+`"`)
	}
	parts := []string{
		`k=` + nonce,
		`m() { echo; echo "` + markerPrefix + `$k:$*"; }`,
		`command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 || { m fail neither sha256sum nor shasum is installed; exit 1; }`,
		`h() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi 2>/dev/null | cut -c1-64; }`,
		`u=$(uname -sm)`,
		`case "$u" in ` + strings.Join(cases, "|") + `) d=` + own.dir() + `; s=` + own.sum + `; n=` + strconv.FormatInt(own.size, 10) +
			`;; *) m platform "$u"; read -r d s n || exit 1;; esac`,
		`[ "$d" = none ] && exit 3`,
		`p="${XDG_CACHE_HOME:-$HOME/.cache}/concurr/$d"`,
		`f="$p/concurr"`,
		`if [ -f "$f" ] && [ "$(h "$f")" = "$s" ]; then m exec cached; exec "$f" --agent; fi`,
		`mkdir -p "$p" && chmod 700 "$p" || { m fail cannot create "$p"; exit 1; }`,
		`t="$p/.concurr.$k.tmp"`,
		`m upload`,
		`head -c "$n" > "$t"`,
		`if [ "$(h "$t")" = "$s" ] && chmod 700 "$t" && mv -f "$t" "$f"; then m exec uploaded; exec "$f" --agent; fi`,
		`rm -f "$t"`,
		`m fail the uploaded agent did not verify`,
		`exit 1`,
	}
	return strings.Join(parts, "; ")
}

// remoteCommand wraps the script so that it runs under /bin/sh whatever the
// login shell is.
func remoteCommand(script string) string {
	return "/bin/sh -c '" + script + "'"
}

// bootstrap drives the script over the session's stdio until the agent
// starts. It returns whether the agent was already cached. stdout is left
// just after the "exec" marker, where the agent's output begins.
func bootstrap(ctx context.Context, name string, nonce string, own *build, stdin io.Writer, stdout *bufio.Reader, opts *Options) (b *build, cached bool, err error) {
	b = own
	prefix := []byte(markerPrefix + nonce + ":")
	var noise bytes.Buffer
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		line, err := stdout.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if noise.Len() < wire.MaxNoise {
				noise.Write(line)
			}
			continue
		}
		if err != nil {
			return nil, false, &startFailure{name: name, what: "the connection ended before the agent started", err: err, noise: noise.Bytes()}
		}
		if !bytes.HasPrefix(line, prefix) {
			if noise.Len() < wire.MaxNoise {
				noise.Write(line)
			}
			continue
		}
		word, arg, _ := strings.Cut(strings.TrimRight(string(line[len(prefix):]), "\r\n"), " ")
		switch word {
		case "platform":
			goos, goarch, ok := platformOf(arg)
			if !ok {
				io.WriteString(stdin, "none\n")
				return nil, false, fmt.Errorf("%s: unsupported platform %q (uname -sm)", name, arg)
			}
			b, err = opts.buildFor(name, goos, goarch)
			if err != nil {
				io.WriteString(stdin, "none\n")
				return nil, false, err
			}
			if _, err := fmt.Fprintf(stdin, "%s %s %d\n", b.dir(), b.sum, b.size); err != nil {
				return nil, false, fmt.Errorf("%s: send the agent's name: %w", name, err)
			}
		case "upload":
			opts.log("%s: uploading agent (%s, %s/%s)", name, megabytes(b.size), b.goos, b.goarch)
			if err := upload(stdin, b); err != nil {
				return nil, false, &startFailure{name: name, what: "upload the agent", err: err, noise: noise.Bytes()}
			}
		case "exec":
			if arg == "cached" {
				opts.log("%s: agent cached", name)
			}
			return b, arg == "cached", nil
		case "fail":
			return nil, false, &startFailure{name: name, what: arg, noise: noise.Bytes()}
		}
	}
}

func upload(w io.Writer, b *build) error {
	f, err := os.Open(b.path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return err
	}
	if n != b.size {
		return fmt.Errorf("%s changed while it was being uploaded", b.path)
	}
	return nil
}

func megabytes(n int64) string {
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// startFailure is a bootstrap that ended without an agent. Its message
// needs the node's stderr, which is complete only once the session has
// ended, so the caller waits for that and then calls explain.
type startFailure struct {
	name, what string
	err        error
	noise      []byte
}

func (f *startFailure) Error() string { return f.explain(nil).Error() }

// explain describes the failure with what the node printed.
func (f *startFailure) explain(stderr *tailBuffer) error {
	msg := f.name + ": " + f.what
	if f.err != nil && !errors.Is(f.err, io.EOF) {
		msg += ": " + f.err.Error()
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		msg += "; the node said: " + lastLines(s, 5)
	} else if s := strings.TrimSpace(string(f.noise)); s != "" {
		msg += "; the node printed: " + lastLines(s, 5)
	}
	return errors.New(msg)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// tailBuffer keeps the last bytes written to it, for error messages about a
// node's stderr.
type tailBuffer struct {
	mu   sync.Mutex
	buf  []byte
	max  int
	copy io.Writer
}

func newTailBuffer(max int, copy io.Writer) *tailBuffer {
	return &tailBuffer{max: max, copy: copy}
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	if t.copy != nil {
		t.copy.Write(p)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
