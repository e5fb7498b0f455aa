package sshx

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A run hashes its agent executable, about 10 MB, to name the build that
// nodes cache: some 17 ms of CPU, which every run paid, even one that
// reaches a single host. So what identifyAgent finds is also kept across
// runs, in the user's cache folder, under a key of everything that changes
// when the file's content can have: its path, device, inode, size,
// modification time and change time. No one can set a change time back, so
// a file written in place, or replaced, is hashed again. The key also holds
// the machine's name, since a home folder shared between machines may see
// files with the same numbers on each.
//
// The cache is the user's, as the agent builds that nodes keep in theirs:
// whoever can write it can already change anything the user runs. A file
// that cannot be read or parsed is ignored, and the sum is computed.

// sumCacheName is the file, in concurr's folder of the user's cache, that
// keeps agent files' sums. Node caches hold folders named VERSION-BUILDID
// there, which never take this name.
const sumCacheName = "local-sums"

// sumCacheEntries bounds the entries kept: one per executable the user runs
// concurr from, and the builds for other platforms beside them.
const sumCacheEntries = 16

// sumCacheVersion begins every line, so that a change of format misses
// instead of misreading.
const sumCacheVersion = "v1"

// sumKey identifies one version of a file.
type sumKey struct {
	host         string
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds since the epoch
	path         string
}

// keyOf stats path for its key. It reports false where the file cannot be
// stat'ed, or its path cannot be written on one line.
func keyOf(path string) (sumKey, bool) {
	var st unix.Stat_t
	if strings.ContainsAny(path, "\n\r") || unix.Stat(path, &st) != nil {
		return sumKey{}, false
	}
	host, err := os.Hostname()
	if err != nil || host == "" || strings.ContainsAny(host, " \n\r") {
		return sumKey{}, false
	}
	return sumKey{
		host: host, dev: uint64(st.Dev), ino: uint64(st.Ino), size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), path: path,
	}, true
}

// sumCachePath is where the sums are kept, or "" without a cache folder.
func sumCachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil || !filepath.IsAbs(dir) {
		return ""
	}
	return filepath.Join(dir, "concurr", sumCacheName)
}

// line is the entry for k and af, without its newline.
func (k sumKey) line(af agentFile) string {
	dynamic := "0"
	if af.dynamic {
		dynamic = "1"
	}
	return fmt.Sprintf("%s %s %d %d %d %d %d %s %s %s", sumCacheVersion, k.host, k.dev, k.ino, k.size, k.mtime, k.ctime, af.sum, dynamic, k.path)
}

// parseSumLine reads one entry.
func parseSumLine(line string) (sumKey, agentFile, bool) {
	f := strings.SplitN(line, " ", 10)
	if len(f) != 10 || f[0] != sumCacheVersion || len(f[7]) != 64 || (f[8] != "0" && f[8] != "1") || f[9] == "" {
		return sumKey{}, agentFile{}, false
	}
	var nums [5]int64
	for i := range nums {
		n, err := strconv.ParseInt(f[2+i], 10, 64)
		if err != nil {
			return sumKey{}, agentFile{}, false
		}
		nums[i] = n
	}
	for _, c := range f[7] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return sumKey{}, agentFile{}, false
		}
	}
	k := sumKey{host: f[1], dev: uint64(nums[0]), ino: uint64(nums[1]), size: nums[2], mtime: nums[3], ctime: nums[4], path: f[9]}
	return k, agentFile{size: k.size, sum: f[7], dynamic: f[8] == "1"}, true
}

// readSumCache returns the lines of the cache file, or none.
func readSumCache(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil || len(b) > 64<<10 {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// cachedSum returns the entry for k, when there is one.
func cachedSum(k sumKey) (agentFile, bool) {
	file := sumCachePath()
	if file == "" {
		return agentFile{}, false
	}
	for _, line := range readSumCache(file) {
		if lk, af, ok := parseSumLine(line); ok && lk == k {
			return af, true
		}
	}
	return agentFile{}, false
}

// rememberSum records af for k, first, with the entries of other files
// after it. The file is replaced whole, by rename, so that runs that write
// it at once each leave a whole file.
func rememberSum(k sumKey, af agentFile) {
	file := sumCachePath()
	if file == "" {
		return
	}
	lines := []string{k.line(af)}
	for _, line := range readSumCache(file) {
		if lk, _, ok := parseSumLine(line); ok && lk.path != k.path && len(lines) < sumCacheEntries {
			lines = append(lines, line)
		}
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, "."+sumCacheName+".*")
	if err != nil {
		return
	}
	_, werr := tmp.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		os.Remove(tmp.Name())
	}
}
