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
// nearly all the uploads were through.
//
// So while one node's upload of a build is under way, a node that needs
// the same build is told that upload's nonce ("peer K"), and looks for its
// temp file, .concurr.K.tmp, in its own cache folder. Where it is there,
// the two share the folder: the node waits for that upload to end, checks
// its cache again and, most likely, runs the build from it. Where it is
// not, the node uploads at once, as every node of its own cache must.
// Nodes with caches of their own so pay one round trip, not a wait.
//
// The wait is bounded by firstUploadWait, so that a slow first node (a
// thin link) holds the others up by that much at most.

// firstUploadWait bounds how long a node that shares its cache waits for
// the other node's upload before it checks its cache again and uploads.
// It is ssh's default ConnectTimeout: the upload (compressing the agent,
// sending 4 MB, gzip -dc and a hash on the node) takes a fraction of a
// second on a quiet LAN, but on a client busy starting a hundred logins,
// or over a 10 Mbit/s link, it took 3 to 5 s.
var firstUploadWait = 10 * time.Second

// uploadEvent, when set by a test, is told of each step of the
// coordination: "peer" (a node is told of another's upload), "shares"
// (the node shares that cache) and "upload" (a node's upload begins).
var uploadEvent = func(string) {}

// firstUpload is the upload of one build under way in this process, if
// any: the one that nodes sharing a cache wait for.
type firstUpload struct {
	mu    sync.Mutex
	nonce string        // the uploading node's, naming its temp file
	done  chan struct{} // closed when that upload has ended; nil when none is under way
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

// begin is called when the node of nonce asks for the build. With no
// upload of it under way, this node's becomes the one (first), and end
// must be called once it has ended, in success or not. Otherwise it
// returns the uploading node's nonce and the end of its upload.
func (f *firstUpload) begin(nonce string) (first bool, peer string, done <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done == nil {
		f.nonce, f.done = nonce, make(chan struct{})
		return true, "", nil
	}
	return false, f.nonce, f.done
}

// end marks the upload as over: the next node to need the build, if its
// cache still lacks it, uploads as the first.
func (f *firstUpload) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done != nil {
		close(f.done)
		f.done, f.nonce = nil, ""
	}
}

// awaitFirst waits for the other upload to end, for firstUploadWait, or for
// ctx.
func awaitFirst(ctx context.Context, done <-chan struct{}) {
	timer := time.NewTimer(firstUploadWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	case <-ctx.Done():
	}
}
