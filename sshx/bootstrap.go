package sshx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	dynamic      bool // an ELF file that needs a dynamic loader (a cgo build)
}

// needsLoader reports whether path is an ELF executable that names a
// dynamic loader: a cgo build, which runs only where the C library is at
// least as new as the one it was linked with.
func needsLoader(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}

// dir names the node's cache folder for the build: version and build ID,
// so that the cache is content-addressed.
func (b *build) dir() string { return buildinfo.Version + "-" + b.sum[:16] }

var (
	// agentFilesMu is held while a file is hashed, so that the dozens of
	// nodes a run starts at once wait for one hash of the agent instead of
	// each reading 10 MB.
	agentFilesMu sync.Mutex
	agentFiles   = map[string]agentFile{} // path → what was found
	hashRuns     atomic.Int64             // files hashed, for tests
)

// agentFile is what the client needs to know of an agent executable.
type agentFile struct {
	size    int64
	modTime time.Time
	sum     string // hex SHA-256
	dynamic bool   // needs a dynamic loader (see needsLoader)
}

// identifyAgent returns the SHA-256 and size of path and whether it needs a
// dynamic loader, remembered for as long as the file's size and
// modification time stay the same, since every node needs them, and across
// runs for as long as the file stays the same (see sumcache.go).
func identifyAgent(path string) (agentFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return agentFile{}, err
	}
	agentFilesMu.Lock()
	defer agentFilesMu.Unlock()
	if af, ok := agentFiles[path]; ok && af.size == st.Size() && af.modTime.Equal(st.ModTime()) {
		return af, nil
	}
	key, keyed := keyOf(path)
	if keyed {
		if af, ok := cachedSum(key); ok {
			af.modTime = st.ModTime()
			agentFiles[path] = af
			return af, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return agentFile{}, err
	}
	defer f.Close()
	hashRuns.Add(1)
	d := sha256.New()
	n, err := io.Copy(d, f)
	if err != nil {
		return agentFile{}, fmt.Errorf("hash %s: %w", path, err)
	}
	af := agentFile{size: n, modTime: st.ModTime(), sum: hex.EncodeToString(d.Sum(nil)), dynamic: needsLoader(path)}
	agentFiles[path] = af
	// Only a file that did not change while it was read is remembered.
	if after, ok := keyOf(path); keyed && ok && after == key && n == key.size {
		rememberSum(key, af)
	}
	return af, nil
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
	if ownOS, ownArch := o.platform(); goos != ownOS || goarch != ownArch {
		base := "concurr-" + goos + "-" + goarch
		path = filepath.Join(filepath.Dir(self), base)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%s: no concurr build for %s/%s: put %s beside the client (make dist)", name, goos, goarch, base)
		}
	}
	af, err := identifyAgent(path)
	if err != nil {
		return nil, fmt.Errorf("read the agent executable: %w", err)
	}
	return &build{goos: goos, goarch: goarch, path: path, sum: af.sum, size: af.size, dynamic: af.dynamic}, nil
}

// AgentArg is the argument that starts concurr as the agent, which the
// bootstrap script passes alone. Its version changes when the way the agent
// is started does, and a concurr that does not speak it says so.
const AgentArg = "--agent=v1"

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
// It maps the node's `uname -sm` (read from /proc on Linux); for the
// client's own platform the build is named in the script, for any other it
// asks the client with a "platform" marker and reads "DIR SHA256 SIZE" (or
// "none") from stdin. It then execs the cached agent if it verifies, or
// prints "upload gzip", reads the compressed size on a line and exactly
// that many bytes, which gzip -dc writes into a temp file in the cache
// folder (or, on a node without gzip, prints "upload", reads "raw" on a
// line and exactly SIZE bytes into it), verifies, chmods and renames it
// into place, and execs it. Instead of a size the client may answer
// "peer K", K being the nonce of another node whose upload of the build is
// under way: where that node's temp file is in this cache folder too, the
// script prints "shares", reads a line once the other upload is over,
// checks the cache again and execs the build if it is there now; either
// way, it then asks for the upload a second time (see firstUpload). "exec cached|uploaded PATH" is printed just before the agent starts, "refuse
// writable|owner:UID PATH" for a cache folder that others could change,
// "refuse parent-writable|parent-owner:UID PATH" for a folder above it that
// others could change, and "fail MESSAGE" on other errors.
//
// The cache is a trust boundary: whoever can change the file, or swap any
// folder on its path, can run code as the user. So the checks follow
// OpenSSH's StrictModes for authorized_keys, on the physical path (cd -P
// resolves every symlink once, without a fork): the file and the two cache
// folders must be the user's and writable by no one else, and every folder
// above them up to / must be owned by root or the user and writable by no
// one else, except a sticky folder such as /tmp: the folder below it is
// root's or the user's, and no one else may rename that one. The file must be a regular
// file, not a symlink, whose SHA-256 matches: anything else is replaced,
// never run. The agent is then run by that physical path, which has no
// symlink left to follow and no folder that anyone but root and the user
// could change between the check and the exec. (Not from inside the
// folder, as ./concurr: the agent's working folder is where its jobs run,
// the login folder, and a shell cannot exec from a descriptor.)
//
// Hashing the ~10 MB agent costs a start 15-20 ms of CPU, which adds up
// when dozens of hosts start at once on a few cores. So a copy that has
// verified (after its upload, or by a full check) gets a "verified" stamp
// beside it, and its own mtime is set to 2000-01-01: any later write to the
// file makes it at least as new as the stamp, and then the next start
// checks the hash again. While the stamp is newer, a start checks only
// ownership and modes, with one find over the whole path, and runs the
// agent. What the
// stamp does not catch is a change that also sets the mtime back, which
// needs the user's own rights (and then they could change anything of
// theirs), or a disk that flips bits without a write.
//
// The cache is ${XDG_CACHE_HOME:-$HOME/.cache}/concurr/DIR. When exec from
// there fails (a file system mounted noexec), the client runs the script
// again with fallback set, which uses $HOME/.concurr/DIR instead and removes
// the unusable copy, so that later runs find the fallback first.
func bootstrapScript(nonce string, own *build, fallback bool) string {
	var cases []string
	for _, u := range unamesOf(own.goos, own.goarch) {
		cases = append(cases, `"`+u+`"`)
	}
	parts := []string{
		`set -f`,
		// A relative cd through CDPATH would print the folder on stdout.
		`unset CDPATH`,
		`k=` + nonce,
		`ag=` + AgentArg,
		// wd is the login folder, where the agent must run, since its jobs
		// run where it does; pp leaves it only to learn a physical path.
		`wd=$PWD`,
		`m() { echo; echo "` + markerPrefix + `$k:$*"; }`,
		`command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 || { m fail neither sha256sum nor shasum is installed; exit 1; }`,
		// openssl, where there is one, uses the CPU's SHA instructions:
		// three times faster than sha256sum on the ~10 MB agent, which
		// counts when many hosts start at once. Output that is not a hex
		// digest falls back to sha256sum or shasum.
		`h() { x=; command -v openssl >/dev/null 2>&1 && x=$(openssl dgst -sha256 -r "$1" 2>/dev/null | cut -c1-64); case "$x" in *[!0-9a-f]*|"") if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi 2>/dev/null | cut -c1-64;; *) echo "$x";; esac; }`,
		// Linux tells the platform in /proc, which saves forking uname:
		// a few milliseconds per host, which count when dozens start at
		// once. Elsewhere, or on kernels without kernel.arch, uname.
		`u=; { read -r o < /proc/sys/kernel/ostype && read -r a < /proc/sys/kernel/arch && u="$o $a"; } 2>/dev/null; [ -n "$u" ] || u=$(uname -sm)`,
		`case "$u" in ` + strings.Join(cases, "|") + `) d=` + own.dir() + `; s=` + own.sum + `; n=` + strconv.FormatInt(own.size, 10) +
			`;; *) m platform "$u"; read -r d s n || exit 1;; esac`,
		`[ "$d" = none ] && exit 3`,
		// pp sets r to the physical path of the folder $1, with every
		// symlink resolved, and comes back to the login folder.
		`pp() { cd -P "$1" 2>/dev/null || return 1; r=$PWD; cd "$wd" 2>/dev/null || { m fail cannot return to the login folder "$wd"; exit 1; }; }`,
		// q is the fast check of the build in the cache folder $1, which
		// sets r to its physical path: the build regular, executable, the
		// user's, stamped as verified since its last write; it and the two
		// cache folders the user's and not sticky; every folder above
		// owned by root or the user and writable by no one else, unless
		// sticky (as sa has it). It costs one fork, the
		// find, and needs no uid: a folder that is not the user's ([ -O ])
		// is passed as DIR/. and must then be root's, by name, which the
		// user database answers from its first line rather than from a
		// directory server. When q fails, sa, sd and ok say why or replace
		// the build.
		`q() { pp "$1" || return 1; f="$r/concurr"; x=${r%/*}; [ -f "$f" ] && [ ! -h "$f" ] && [ -x "$f" ] && [ -O "$f" ] && [ -O "$r" ] && [ -O "$x" ] && [ ! -k "$f" ] && [ ! -k "$r" ] && [ ! -k "$x" ] && [ -f "$r/verified" ] && [ ! -h "$r/verified" ] && [ "$r/verified" -nt "$f" ] || return 1; set -- "$f" "$r"; while [ -n "$x" ]; do if [ -O "$x" ]; then set -- "$@" "$x"; else set -- "$@" "$x/."; fi; x=${x%/*}; done; if [ -O / ]; then set -- "$@" /; else set -- "$@" /.; fi; w=$(find "$@" -prune \( \( -path "*/." ! -user root \) -o \( ! -perm -1000 \( -perm -020 -o -perm -002 \) \) \) -print 2>/dev/null) && [ -z "$w" ]; }`,
		// st stamps the build $2 in folder $1 as verified.
		`st() { touch -t 200001010000 "$2" 2>/dev/null; : > "$1/verified"; }`,
		// sd refuses a cache folder that is another user's or that others
		// can write.
		`sd() { [ -d "$1" ] || return 0; set -- "$1" $(ls -ldnL "$1"); case "$2" in ?????w*|????????w*) m refuse writable "$1"; exit 1;; esac; [ "$4" = "$me" ] || { m refuse "owner:$4" "$1"; exit 1; }; }`,
		// sa refuses the path of the folder $1, or of the nearest folder
		// above it that exists, when a folder on it is owned by someone
		// other than root and the user, or writable by others and not
		// sticky; it sets r to the physical path of the folder it checked.
		// (The folder below a sticky one is checked in its turn: root's or
		// the user's, which no one else may rename. sd refuses a writable
		// cache folder, sticky or not.)
		`sa() { x=$1; while [ ! -d "$x" ]; do case "$x" in */?*) x=${x%/*}; x=${x:-/};; *) x=.;; esac; done; pp "$x" || { m fail cannot enter "$x"; exit 1; }; x=$r; while :; do set -- $(ls -ldn "$x"); [ "$3" = 0 ] || [ "$3" = "$me" ] || { m refuse "parent-owner:$3" "$x"; exit 1; }; case "$1" in ?????????[tT]*) ;; ?????w*|????????w*) m refuse parent-writable "$x"; exit 1;; esac; [ "$x" = / ] && break; x=${x%/*}; x=${x:-/}; done; }`,
		// ok says whether $1 is the build: the user's own regular file,
		// executable and writable by no one else, with the right SHA-256.
		`ok() { [ -f "$1" ] && [ ! -h "$1" ] && [ -x "$1" ] || return 1; set -- "$1" $(ls -ldn "$1"); case "$2" in ?????w*|????????w*) return 1;; esac; [ "$4" = "$me" ] && [ "$(h "$1")" = "$s" ]; }`,
		// e checks the chain above the cache folder $1 and the build in
		// it, and runs it if it verifies, by its physical path.
		`e() { sd "$1"; sd "$2"; sa "$2"; [ -d "$2" ] || return 0; f="$r/concurr"; if ok "$f"; then st "$r" "$f"; m exec cached "$f"; exec "$f" "$ag"; fi; }`,
		`c1="${XDG_CACHE_HOME:-$HOME/.cache}/concurr"`,
		`c2="$HOME/.concurr"`,
	}
	if !fallback {
		parts = append(parts,
			`c="$c1"`, `p="$c/$d"`,
			`if q "$p"; then m exec cached "$f"; exec "$f" "$ag"; fi`,
			`if [ ! -f "$p/concurr" ] && q "$c2/$d"; then m exec cached "$f"; exec "$f" "$ag"; fi`,
			`me=$(id -u)`,
			`e "$c" "$p"`,
			`[ -d "$c2/$d" ] && e "$c2" "$c2/$d"`,
		)
	} else {
		parts = append(parts,
			`c="$c2"`, `p="$c/$d"`,
			`me=$(id -u)`,
			`rm -f "$c1/$d/concurr" "$c1/$d/verified"`,
			`e "$c" "$p"`,
		)
	}
	parts = append(parts,
		// Only what the upload creates is made private: the agent, and
		// the jobs it runs, keep the login's umask, as a job under ssh
		// would have it (GNU Parallel's files come back with it).
		`u0=$(umask)`,
		`umask 077`,
		`mkdir -p "$p" || { m fail cannot create "$p"; exit 1; }`,
		`sd "$c"`, `sd "$p"`, `sa "$p"`,
		`f="$r/concurr"`,
		`t="$r/.concurr.$k.tmp"`,
		// gzip -dc alone would read past the agent into the protocol that
		// follows on stdin, so the client sends the compressed size first
		// and head hands gzip exactly that many bytes. Either way the hash
		// checked below is the uncompressed file's.
		// The client answers "upload" with a line: the compressed size,
		// "raw" for the uncompressed file, or "peer K" while another
		// node's upload of the build, whose temp file is .concurr.K.tmp,
		// is under way. When that file is in this cache folder too (a
		// home shared over NFS), the node says "shares", waits for the
		// client's word that the other upload is over, and checks the
		// cache again before it asks a second time. The temp file is made
		// before "upload", so that a node sharing the folder finds it.
		`g=; command -v gzip >/dev/null 2>&1 && g=gzip`,
		`: > "$t"`,
		`m upload $g; read -r z || exit 1`,
		`case "$z" in "peer "*) if [ -f "$r/.concurr.${z#peer }.tmp" ]; then m shares; read -r z || exit 1; rm -f "$t"; e "$c" "$p"; fi; m upload $g; read -r z || exit 1;; esac`,
		`if [ -n "$g" ]; then head -c "$z" | gzip -dc > "$t"; else head -c "$n" > "$t"; fi`,
		`if [ "$(h "$t")" = "$s" ] && chmod 700 "$t" && mv -f "$t" "$f"; then st "$r" "$f"; umask "$u0"; m exec uploaded "$f"; exec "$f" "$ag"; fi`,
		`rm -f "$t"`,
		`m fail the uploaded agent did not verify`,
		`exit 1`,
	)
	return strings.Join(parts, "; ")
}

// remoteCommand wraps the script so that it runs under /bin/sh whatever the
// login shell is.
func remoteCommand(script string) string {
	return "/bin/sh -c '" + script + "'"
}

// started is how the bootstrap ended: the build the node runs and where.
type started struct {
	build  *build
	cached bool   // the agent was already on the node
	path   string // the agent's path on the node
}

// bootstrap drives the script over the session's stdio until it execs the
// agent. stdout is left just after the "exec" marker, where the agent's
// output begins.
func bootstrap(ctx context.Context, name string, nonce string, own *build, stdin io.Writer, stdout *bufio.Reader, opts *Options) (*started, error) {
	b := own
	prefix := []byte(markerPrefix + nonce + ":")
	// The end of another node's upload of the build, once this node has
	// been told of it.
	var peerDone <-chan struct{}
	var noise bytes.Buffer
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line, err := stdout.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if noise.Len() < wire.MaxNoise {
				noise.Write(line)
			}
			continue
		}
		if err != nil {
			return nil, &startFailure{name: name, what: "the connection ended before the agent started", err: err, noise: noise.Bytes()}
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
				return nil, fmt.Errorf("%s: unsupported platform %q (uname -sm)", name, arg)
			}
			b, err = opts.buildFor(name, goos, goarch)
			if err != nil {
				io.WriteString(stdin, "none\n")
				return nil, err
			}
			if _, err := fmt.Fprintf(stdin, "%s %s %d\n", b.dir(), b.sum, b.size); err != nil {
				return nil, fmt.Errorf("%s: send the agent's name: %w", name, err)
			}
		case "upload":
			if peerDone == nil {
				first := firstUploadOf(b.sum)
				isFirst, peer, wait := first.begin(nonce)
				if isFirst {
					defer first.end()
				} else if wait != nil {
					// Another node is uploading this build: the node
					// looks for its temp file in its own cache.
					peerDone = wait
					uploadEvent("peer")
					if _, err := io.WriteString(stdin, "peer "+peer+"\n"); err != nil {
						return nil, &startFailure{name: name, what: "name the other upload", err: err, noise: noise.Bytes()}
					}
					continue
				}
			}
			uploadEvent("upload")
			var err error
			if arg == "gzip" {
				err = uploadCompressed(stdin, b, func(size int) {
					opts.log("%s: uploading agent (%s, %s/%s; %s compressed)", name, megabytes(b.size), b.goos, b.goarch, megabytes(int64(size)))
				})
			} else {
				opts.log("%s: uploading agent (%s, %s/%s; uncompressed: no gzip on the node)", name, megabytes(b.size), b.goos, b.goarch)
				err = upload(stdin, b)
			}
			if err != nil {
				return nil, &startFailure{name: name, what: "upload the agent", err: err, noise: noise.Bytes()}
			}
		case "shares":
			// The node shares its cache with the node uploading: once
			// that upload is over, the build is most likely there.
			uploadEvent("shares")
			awaitFirst(ctx, peerDone)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if _, err := io.WriteString(stdin, "over\n"); err != nil {
				return nil, &startFailure{name: name, what: "say the other upload is over", err: err, noise: noise.Bytes()}
			}
		case "exec":
			how, path, _ := strings.Cut(arg, " ")
			if how == "cached" {
				opts.log("%s: agent cached", name)
			}
			// The client's opening goes out now, while the agent starts:
			// nothing but the agent reads stdin from here on. Sent after the
			// agent's Hello instead, it would wait: over a TCP hop that
			// keeps Nagle's algorithm on (sshd's sessions without a
			// terminal, srun's I/O), the node holds the Hello back until
			// this machine ACKs the marker line, and this machine delays
			// that ACK by up to 40 ms when it has nothing to send. A
			// failed write means that the session ended already: the
			// agent could not start, which the caller finds out and
			// explains (the noexec fallback among others).
			_ = wire.WriteMagic(stdin)
			return &started{build: b, cached: how == "cached", path: path}, nil
		case "refuse":
			return nil, refusal(name, arg)
		case "fail":
			return nil, &startFailure{name: name, what: arg, noise: noise.Bytes()}
		}
	}
}

// refusal explains a "refuse" marker: a cache folder, or a folder above
// it, that someone other than the user could change.
func refusal(name, arg string) error {
	why, path, _ := strings.Cut(arg, " ")
	if parent, ok := strings.CutPrefix(why, "parent-"); ok {
		// A folder above the cache is not concurr's to remove or chmod
		// (it may be HOME or a shared project folder): point elsewhere.
		elsewhere := "set XDG_CACHE_HOME on the node, in its shell's startup file, to a folder outside " + path + " that only you and root can change, down the whole path"
		if uid, ok := strings.CutPrefix(parent, "owner:"); ok {
			return &Error{Node: name,
				Err:  fmt.Errorf("the folder %s, above the agent cache, is owned by another user (uid %s), who could swap the cache for a program of theirs: refusing to run from it", path, uid),
				hint: elsewhere}
		}
		return &Error{Node: name,
			Err:  fmt.Errorf("the folder %s, above the agent cache, is writable by others, who could swap the cache for a program of theirs: refusing to run from it", path),
			hint: "make it writable by its owner only (chmod go-w " + path + "), or " + elsewhere}
	}
	fix := "make it private with chmod 700 " + path + ", or remove it (rm -rf " + path + ") and concurr will create it again"
	if uid, ok := strings.CutPrefix(why, "owner:"); ok {
		return &Error{Node: name,
			Err:  fmt.Errorf("the agent cache %s is owned by another user (uid %s): refusing to run from it", path, uid),
			hint: "remove it (rm -rf " + path + ") and concurr will create it again"}
	}
	return &Error{Node: name,
		Err:  fmt.Errorf("the agent cache %s is writable by others: refusing to run from it", path),
		hint: fix}
}

func upload(w io.Writer, b *build) error {
	f, err := os.Open(b.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.WriteString(w, "raw\n"); err != nil {
		return err
	}
	n, err := io.Copy(w, f)
	if err != nil {
		return err
	}
	if n != b.size {
		return fmt.Errorf("%s changed while it was being uploaded", b.path)
	}
	return nil
}

// uploadCompressed sends the size of the gzip-compressed build on a line,
// then the compressed bytes; logSize is told the size before they go.
func uploadCompressed(w io.Writer, b *build, logSize func(int)) error {
	data, err := compressedAgent(b)
	if err != nil {
		return err
	}
	logSize(len(data))
	if _, err := fmt.Fprintf(w, "%d\n", len(data)); err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// uploadLevel is the gzip level of the upload. Go's levels on the ~8 MB
// agent: 1 (BestSpeed) compresses to 47% in 0.13 s, 4 to 44% in 0.28 s,
// 6 to 43% in 0.5 s and 9 to 43% in 1.3 s. At 10 Mbit/s, levels 1 to 5
// take the same time to compress and send within 3%, and on a faster link
// the compression is what counts: level 1.
const uploadLevel = gzip.BestSpeed

var (
	compressedMu sync.Mutex
	compressed   = map[string]*compressedBuild{} // by SHA-256 of the build
	compressRuns atomic.Int64                    // builds compressed, for tests
)

// compressedBuild is a build compressed once for every node that needs it.
type compressedBuild struct {
	once sync.Once
	data []byte
	err  error
}

// compressedAgent returns the build gzip-compressed, compressing it on the
// first call for that build: the nodes of a run that need an upload wait
// for one compression rather than each doing their own.
func compressedAgent(b *build) ([]byte, error) {
	compressedMu.Lock()
	c, ok := compressed[b.sum]
	if !ok {
		c = &compressedBuild{}
		compressed[b.sum] = c
	}
	compressedMu.Unlock()
	c.once.Do(func() { c.data, c.err = compressFile(b) })
	if c.err != nil {
		// A later start may find the file readable again.
		compressedMu.Lock()
		if compressed[b.sum] == c {
			delete(compressed, b.sum)
		}
		compressedMu.Unlock()
	}
	return c.data, c.err
}

// compressFile compresses the build's file, hashing what it reads, so that
// a file that changed since it was identified is caught here rather than
// on every node.
func compressFile(b *build) ([]byte, error) {
	compressRuns.Add(1)
	f, err := os.Open(b.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out bytes.Buffer
	out.Grow(int(b.size / 2))
	zw, err := gzip.NewWriterLevel(&out, uploadLevel)
	if err != nil {
		return nil, err
	}
	d := sha256.New()
	n, err := io.Copy(zw, io.TeeReader(f, d))
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", b.path, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if n != b.size || hex.EncodeToString(d.Sum(nil)) != b.sum {
		return nil, fmt.Errorf("%s changed while it was being uploaded", b.path)
	}
	return out.Bytes(), nil
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
// node's stderr. It holds back what the bootstrap writes: a start that
// fails is explained by its error, and a failed try that the fallback
// folder fixes is no news. release passes the tail and all later writes on
// to copy once the agent runs.
type tailBuffer struct {
	mu       sync.Mutex
	buf      []byte
	max      int
	copy     io.Writer
	released bool
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
	if t.copy != nil && t.released {
		t.copy.Write(p)
	}
	return len(p), nil
}

func (t *tailBuffer) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.copy != nil && !t.released && len(t.buf) > 0 {
		t.copy.Write(t.buf)
	}
	t.released = true
}

func (t *tailBuffer) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
