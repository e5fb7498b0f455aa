package sshx

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsMu serialises appending to known_hosts files, and accepted
// remembers the keys this process recorded, because each connection read
// the files before the others wrote to them.
var (
	knownHostsMu sync.Mutex
	accepted     = map[string]bool{} // known_hosts line → recorded
	// warnedChanged remembers the changed keys warned about, by host and
	// key, so that a host that rejoins does not repeat the warning.
	warnedChanged = map[string]bool{}
)

// HostKeyError is a host key that did not verify. Hint says how to fix it.
type HostKeyError struct {
	Addr    string // host:port as looked up in known_hosts
	Changed bool   // a different key is known: possibly an attack
	Msg     string
	hint    string
}

func (e *HostKeyError) Error() string { return e.Msg }

// Hint says what the user can do.
func (e *HostKeyError) Hint() string { return e.hint }

// hostKeyChecker verifies host keys against known_hosts files following
// StrictHostKeyChecking.
type hostKeyChecker struct {
	e     *endpoint
	db    ssh.HostKeyCallback // nil when no known_hosts file exists
	warn  func(format string, args ...any)
	log   func(format string, args ...any)
	known []string // algorithms of the keys known for this host
}

func newHostKeyChecker(e *endpoint, opts *Options) (*hostKeyChecker, error) {
	k := &hostKeyChecker{e: e, warn: opts.warn, log: opts.log}
	var files []string
	var version strings.Builder
	for _, f := range e.knownHosts {
		if st, err := os.Stat(f); err == nil {
			files = append(files, f)
			fmt.Fprintf(&version, "%s\x00%d\x00%d\x00%d\x00", f, fileID(st), st.Size(), st.ModTime().UnixNano())
		}
	}
	if len(files) > 0 {
		db, err := parsedKnownHosts(files, version.String())
		if err != nil {
			return nil, fmt.Errorf("read known hosts: %w", err)
		}
		k.db = db
		k.known = k.knownAlgorithms()
	}
	return k, nil
}

// lastKnownHosts is the last set of known_hosts files parsed, by its
// version: each file's name, inode, size and modification time. Every host
// of a run reads the same files, and a file of thousands of lines took
// longer to parse than the host's key exchange; a file that changes, as
// when a key is recorded, is parsed again.
var lastKnownHosts struct {
	sync.Mutex
	version string
	db      ssh.HostKeyCallback
}

var knownHostsParses atomic.Int64 // parses made, for tests

// parsedKnownHosts returns the database of files, whose version is as
// lastKnownHosts has it. The database is only read once made, so the hosts
// share it.
func parsedKnownHosts(files []string, version string) (ssh.HostKeyCallback, error) {
	lastKnownHosts.Lock()
	defer lastKnownHosts.Unlock()
	if lastKnownHosts.db != nil && lastKnownHosts.version == version {
		return lastKnownHosts.db, nil
	}
	knownHostsParses.Add(1)
	db, err := knownhosts.New(files...)
	if err != nil {
		return nil, err
	}
	lastKnownHosts.version, lastKnownHosts.db = version, db
	return db, nil
}

// fileID is st's inode, or 0 where the platform has none to give.
func fileID(st os.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino)
	}
	return 0
}

var probeKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, _ := ssh.NewPublicKey(pub)
	return k
})

// knownAlgorithms lists the host key algorithms known_hosts holds for the
// host, so that the server is asked for a key of a type that can verify,
// as OpenSSH does.
func (k *hostKeyChecker) knownAlgorithms() []string {
	addr := k.e.knownHostsAddr()
	err := k.db(addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, probeKey())
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, w := range ke.Want {
		switch t := w.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

func (k *hostKeyChecker) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	addr := k.e.knownHostsAddr()
	norm := knownhosts.Normalize(addr)
	line := knownhosts.Line([]string{norm}, key)
	var err error
	if k.db != nil {
		err = k.db(addr, remote, key)
		if err == nil {
			return nil
		}
	} else {
		err = &knownhosts.KeyError{}
	}
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		var re *knownhosts.RevokedError
		if errors.As(err, &re) {
			return &HostKeyError{Addr: norm, Msg: fmt.Sprintf("host key verification failed: the %s host key of %s is revoked (%s:%d)",
				key.Type(), norm, re.Revoked.Filename, re.Revoked.Line)}
		}
		return fmt.Errorf("host key verification failed: %w", err)
	}
	fp := ssh.FingerprintSHA256(key)
	if len(ke.Want) > 0 {
		w := ke.Want[0]
		remove := fmt.Sprintf("ssh-keygen -f %q -R %q", w.Filename, norm)
		if k.e.strict == "no" {
			// OpenSSH connects even then, but says so as loudly as when it
			// refuses, and allows only authentication that an attacker in
			// the middle cannot reuse: public keys, all concurr offers.
			k.warnChanged(key, norm, w, remove)
			return nil
		}
		return &HostKeyError{Addr: norm, Changed: true,
			Msg: fmt.Sprintf("REMOTE HOST IDENTIFICATION HAS CHANGED for %s (%s): the server sent the %s key %s, but %s:%d holds a different key; someone could be eavesdropping (a man-in-the-middle attack), or the host key has just been changed",
				k.e.alias, norm, key.Type(), fp, w.Filename, w.Line),
			hint: "if the change is expected, remove the old key with: " + remove}
	}
	if k.e.strict == "no" {
		k.warn("%s: StrictHostKeyChecking is off: accepting the %s host key %s of %s without verifying it", k.e.alias, key.Type(), fp, norm)
		return nil
	}
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if accepted[line] {
		return nil
	}
	if k.e.strict != "accept-new" {
		hint := "add the key with ssh-keyscan, connect once with ssh, or set StrictHostKeyChecking accept-new"
		if k.e.strict == "ask" {
			hint = "concurr cannot ask for confirmation: " + hint
		}
		return &HostKeyError{Addr: norm,
			Msg:  fmt.Sprintf("host key verification failed: no host key is known for %s (%s %s) in %s", norm, key.Type(), fp, strings.Join(k.e.knownHosts, ", ")),
			hint: hint}
	}
	if len(k.e.knownHosts) == 0 {
		return &HostKeyError{Addr: norm, Msg: fmt.Sprintf("host key verification failed: cannot record the key of %s: UserKnownHostsFile is none", norm)}
	}
	if err := appendKnownHost(k.e.knownHosts[0], line); err != nil {
		return fmt.Errorf("record the host key of %s: %w", norm, err)
	}
	accepted[line] = true
	k.log("%s: permanently added %s (%s %s) to %s", k.e.alias, norm, key.Type(), fp, k.e.knownHosts[0])
	return nil
}

// warnChanged prints OpenSSH's warning for a changed host key, once per
// host and key in this process (a host that rejoins is dialled again).
func (k *hostKeyChecker) warnChanged(key ssh.PublicKey, norm string, known knownhosts.KnownKey, remove string) {
	knownHostsMu.Lock()
	seen := warnedChanged[norm+" "+string(key.Marshal())]
	warnedChanged[norm+" "+string(key.Marshal())] = true
	knownHostsMu.Unlock()
	if seen {
		return
	}
	name := k.e.alias
	k.warn("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
	k.warn("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @")
	k.warn("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@")
	k.warn("%s: IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY! Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host key of %s has just been changed", name, norm)
	k.warn("%s: the %s key sent by the remote host is %s; the offending %s key is in %s:%d (remove it with: %s)",
		name, key.Type(), ssh.FingerprintSHA256(key), known.Key.Type(), known.Filename, known.Line, remove)
	k.warn("%s: StrictHostKeyChecking is off: connecting anyway, with public key authentication only (concurr offers no password, keyboard-interactive or forwarding to the host)", name)
}

// appendKnownHost appends one line with a single O_APPEND write, so that
// other processes appending at the same time do not interleave with it.
func appendKnownHost(path, line string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	// A file that does not end in a newline would glue our line to its last.
	prefix := ""
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(path); err == nil {
			if _, err := r.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
				prefix = "\n"
			}
			r.Close()
		}
	}
	if _, err := f.WriteString(prefix + line + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
