package sshx

import (
	"context"
	"sync"
	"time"
)

// Nodes often share their home folder, and with it the agent cache: the
// nodes of an HPC allocation mount it over NFS. A run that starts on a
// thousand such nodes with the cache empty would upload the agent a
// thousand times, into the same folder, and no node would be up until
// nearly all the uploads were through. So the first node that needs a
// build uploads it alone; the others that need it meanwhile wait for that
// upload, then check their cache once more, and most find the build there.
// When a node that waited still lacks the build, the caches are not shared,
// and from then on every node uploads at once, as each has to.
//
// The wait is bounded by firstUploadWait, so that a slow first node (a
// thin link) holds the others up by that much at most.

// firstUploadWait bounds how long a node waits for the first upload of
// its build before it checks its cache again and uploads. It is ssh's
// default ConnectTimeout: the first upload (compressing the agent, sending
// 4 MB, gzip -dc and a hash on the node) takes a fraction of a second on a
// quiet LAN, but on a client busy starting a hundred logins, or over a
// 10 Mbit/s link, it took 3 to 5 s, and a shorter bound then sent every
// node its own copy after all.
var firstUploadWait = 10 * time.Second

// firstUpload is the first upload of one build in this process.
type firstUpload struct {
	mu       sync.Mutex
	done     chan struct{} // closed when the first upload has ended; nil before it began
	ended    bool
	unshared bool // a node that waited for the first upload still lacked the build
}

var (
	firstUploadsMu sync.Mutex
	firstUploads   = map[string]*firstUpload{} // by the build's SHA-256
)

func firstUploadOf(sum string) *firstUpload {
	firstUploadsMu.Lock()
	defer firstUploadsMu.Unlock()
	f := firstUploads[sum]
	if f == nil {
		f = &firstUpload{}
		firstUploads[sum] = f
	}
	return f
}

// begin is called when a node asks for the build. It returns first when
// this node's upload is the first, and end must then be called once that
// upload has ended, in success or not. Otherwise, when the caches may be
// shared, wait is the first upload's end, which the node waits for before
// checking its cache again.
func (f *firstUpload) begin() (first bool, wait <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.done == nil:
		f.done = make(chan struct{})
		return true, nil
	case f.unshared:
		return false, nil
	default:
		return false, f.done
	}
}

// end marks the first upload as over.
func (f *firstUpload) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ended {
		f.ended = true
		close(f.done)
	}
}

// awaitFirst waits for the first upload to end, for firstUploadWait, or for
// ctx. It reports whether the first upload had ended.
func awaitFirst(ctx context.Context, wait <-chan struct{}) bool {
	timer := time.NewTimer(firstUploadWait)
	defer timer.Stop()
	select {
	case <-wait:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// stillMissing records that a node which waited for the first upload to
// end still lacked the build: its cache is not the first node's.
func (f *firstUpload) stillMissing() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unshared = true
}
