package sched

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"concurr/internal/template"
	"concurr/internal/transfer"
	"concurr/internal/wire"
)

// File transfer (--transferfile, --return, --cleanup) to and from remote
// nodes, as streams on the node's connection (see package wire): each file
// a job needs goes as a StreamFile stream opened before its Input and sent
// within the agent's credit by a goroutine of the node, interleaved with
// everything else; the files it returns come back as StreamReturn streams
// before its Result, written beside their final name and renamed into
// place. A local node shares this machine's files: nothing moves.

// Transfer is what a run moves for each job, names with replacement strings.
type Transfer struct {
	Send    []*template.Text // --transferfile
	Return  []*template.Text // --return
	Cleanup bool             // --cleanup
	Base    []*BaseFile      // --basefile
}

// BaseFile is a --basefile: sent once to each node, before its first job,
// unless the node's cache holds the same content (see wire.StreamBase).
type BaseFile struct {
	Local, Remote string // as transfer.Split gives them

	// Sent counts the nodes the content went to, those whose cache
	// lacked it.
	Sent atomic.Int64

	once sync.Once
	sum  string
	info fs.FileInfo
	err  error
}

// NewBaseFile resolves a --basefile name; its content is hashed when a
// remote node first needs it.
func NewBaseFile(name string) (*BaseFile, error) {
	local, remote, err := transfer.Split(name)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(local)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", local, unwrapPathErr(err))
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", local)
	}
	return &BaseFile{Local: local, Remote: remote}, nil
}

// resolve hashes the file once for all nodes.
func (b *BaseFile) resolve() (string, fs.FileInfo, error) {
	b.once.Do(func() {
		if b.info, b.err = os.Stat(b.Local); b.err != nil {
			return
		}
		var size int64
		b.sum, size, b.err = transfer.SumFile(b.Local)
		if b.err == nil && size != b.info.Size() {
			b.err = fmt.Errorf("the file changed while it was read")
		}
	})
	if b.err != nil {
		return "", nil, fmt.Errorf("--basefile %s: %v", b.Local, unwrapPathErr(b.err))
	}
	return b.sum, b.info, nil
}

// fileToSend is one --transferfile of a job, resolved.
type fileToSend struct {
	local, remote string
	info          fs.FileInfo
}

// transferPlan resolves j's names for node nr: the files to send, and the
// returns (the node's path to this machine's). A name that is refused or
// a file that is missing is the job's error.
func (nr *nodeRun) transferPlan(j *job) (send []fileToSend, returns map[string]string, err error) {
	t := nr.run.cfg.Transfer
	tj := template.Job{Seq: j.seq, Host: nr.node.Name, Args: j.args}
	for _, x := range t.Send {
		name := x.Expand(tj)
		local, remote, err := transfer.Split(name)
		if err != nil {
			return nil, nil, fmt.Errorf("--transferfile %v", err)
		}
		info, err := os.Stat(local)
		if err != nil {
			return nil, nil, fmt.Errorf("--transferfile %s: %v", local, unwrapPathErr(err))
		}
		if !info.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("--transferfile %s: not a regular file", local)
		}
		send = append(send, fileToSend{local: local, remote: remote, info: info})
	}
	for _, x := range t.Return {
		name := x.Expand(tj)
		local, remote, err := transfer.Split(name)
		if err != nil {
			return nil, nil, fmt.Errorf("--return %v", err)
		}
		if returns == nil {
			returns = make(map[string]string)
		}
		returns[remote] = local
	}
	return send, returns, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// openTransfers sends the Opens of j's files and return requests, which
// precede its Input, and returns the streams to send.
func (nr *nodeRun) openTransfers(j *job, send []fileToSend) ([]*outStream, error) {
	var flags uint64
	if nr.run.cfg.Transfer.Cleanup {
		flags = wire.OpenCleanup
	}
	streams := make([]*outStream, 0, len(send))
	for _, f := range send {
		st := nr.newOutStream()
		streams = append(streams, st)
		open := &wire.Open{Stream: st.id, Kind: wire.StreamFile, Seq: j.seq, Path: f.remote,
			Mode: uint64(f.info.Mode().Perm()), Mtime: f.info.ModTime().UnixNano(), Flags: flags}
		if err := nr.conn.Send(open, false); err != nil {
			return streams, err
		}
	}
	for remote := range j.returns {
		if err := nr.conn.Send(&wire.Open{Kind: wire.StreamReturn, Seq: j.seq, Path: remote, Flags: flags}, false); err != nil {
			return streams, err
		}
	}
	return streams, nil
}

func (nr *nodeRun) newOutStream() *outStream {
	nr.mu.Lock()
	defer nr.mu.Unlock()
	nr.lastStream++
	st := &outStream{id: nr.lastStream, nr: nr, credit: wire.StreamWindow,
		more: make(chan struct{}, 1), done: make(chan struct{})}
	nr.streams[st.id] = st
	return st
}

// sendFile sends one transferred file on st and ends the stream. It is the
// stream's goroutine.
func (nr *nodeRun) sendFile(j *job, st *outStream, f fileToSend) {
	defer func() {
		nr.mu.Lock()
		delete(nr.streams, st.id)
		nr.mu.Unlock()
	}()
	ok, err := sendRange(st, Block{Path: f.local, Length: f.info.Size()})
	if !ok && err == nil {
		return
	}
	end := &wire.End{Stream: st.id}
	if err != nil {
		end.Error = err.Error()
		nr.run.warnf("job %d: --transferfile %s: %v", j.seq, f.local, err)
	}
	nr.conn.Send(end, true)
}

// inFile is a returned file being written on this machine: the receiver
// queues its chunks (at most a window, by the credit granted) and a
// goroutine writes them.
type inFile struct {
	nr    *nodeRun
	open  wire.Open
	local string

	mu      sync.Mutex
	more    sync.Cond
	chunks  [][]byte
	ended   bool
	aborted string
	done    chan struct{}
	err     error
}

// returnOpened handles an agent's Open of a returned file or directory.
func (nr *nodeRun) returnOpened(m *wire.Open) {
	j := nr.lookup(m.Seq)
	var returns map[string]string
	if j != nil {
		returns = j.returns
	}
	local, ok := returnTarget(returns, m.Path)
	if !ok && j != nil {
		nr.run.warnf("%s: job %d: refused a returned file %q that was not asked for", hostLabel(nr.node.Name), j.seq, m.Path)
		local = ""
	}
	f := &inFile{nr: nr, open: *m, local: local, done: make(chan struct{})}
	f.more.L = &f.mu
	nr.mu.Lock()
	nr.inFiles[m.Stream] = f
	nr.mu.Unlock()
	if j != nil {
		j.returning = append(j.returning, f)
	}
	go f.write()
}

// returnTarget maps a path below the node's workdir to this machine's path,
// if it is one of the returns asked for or inside one.
func returnTarget(returns map[string]string, remote string) (string, bool) {
	if transfer.CheckRemote(remote) != nil {
		return "", false
	}
	for r, local := range returns {
		if remote == r {
			return local, true
		}
		if rest, ok := strings.CutPrefix(remote, r+"/"); ok {
			return filepath.Join(local, filepath.FromSlash(rest)), true
		}
	}
	return "", false
}

func (f *inFile) write() {
	defer close(f.done)
	mode := fs.FileMode(f.open.Mode) & fs.ModePerm
	if f.local == "" {
		f.WriteTo(io.Discard)
		return
	}
	if f.open.Mode&wire.ModeDir != 0 {
		f.WriteTo(io.Discard)
		if err := os.MkdirAll(f.local, 0o777); err != nil {
			f.err = err
			return
		}
		f.err = os.Chmod(f.local, mode|0o700)
		return
	}
	if err := os.MkdirAll(filepath.Dir(f.local), 0o777); err != nil {
		f.err = err
		f.WriteTo(io.Discard)
		return
	}
	f.err = transfer.WriteAtomic(f.local, f, mode, f.open.Mtime)
	if f.err != nil {
		f.WriteTo(io.Discard) // drain, so that the agent is not left waiting for credit
	}
}

func (f *inFile) push(data []byte) {
	f.mu.Lock()
	if !f.ended {
		f.chunks = append(f.chunks, data)
		f.more.Signal()
	}
	f.mu.Unlock()
}

func (f *inFile) end(msg string) {
	f.mu.Lock()
	f.ended = true
	if msg != "" {
		f.aborted = msg
	}
	f.more.Signal()
	f.mu.Unlock()
}

// WriteTo writes the stream's chunks to w as they come, crediting each
// back to the agent.
func (f *inFile) WriteTo(w io.Writer) (int64, error) {
	var total int64
	var werr error
	unacked := 0
	for {
		f.mu.Lock()
		for len(f.chunks) == 0 && !f.ended {
			f.more.Wait()
		}
		if len(f.chunks) == 0 {
			aborted := f.aborted
			f.mu.Unlock()
			if aborted != "" && werr == nil {
				werr = fmt.Errorf("%s", aborted)
			}
			return total, werr
		}
		c := f.chunks[0]
		f.chunks = f.chunks[1:]
		f.mu.Unlock()
		if werr == nil {
			var n int
			n, werr = w.Write(c)
			total += int64(n)
		}
		unacked += len(c)
		if unacked >= wire.StreamWindow/4 {
			f.nr.conn.Send(&wire.Credit{Stream: f.open.Stream, Bytes: uint64(unacked)}, true)
			unacked = 0
		}
	}
}

// returnData and returnEnd route an agent's Data and End to their file.
func (nr *nodeRun) returnData(m *wire.Data) {
	nr.mu.Lock()
	f := nr.inFiles[m.Stream]
	nr.mu.Unlock()
	if f != nil {
		f.push(m.Data)
	}
}

func (nr *nodeRun) returnEnd(m *wire.End) {
	nr.mu.Lock()
	f := nr.inFiles[m.Stream]
	delete(nr.inFiles, m.Stream)
	nr.mu.Unlock()
	if f != nil {
		f.end(m.Error)
	}
}

// awaitReturns waits for j's returned files, which all ended before its
// Result, and reports each that could not be written.
func (nr *nodeRun) awaitReturns(j *job) {
	for _, f := range j.returning {
		<-f.done
		if f.err != nil {
			nr.run.cfg.Warn(fmt.Errorf("%s: job %d: --return %s: %v", hostLabel(nr.node.Name), j.seq, f.local, f.err))
		}
	}
	j.returning = nil
}

// abortReturns ends every return in progress of a lost node: their
// temporary files are removed, nothing half-written is renamed into place.
func (nr *nodeRun) abortReturnsLocked() {
	for id, f := range nr.inFiles {
		f.mu.Lock()
		f.ended = true
		f.aborted = "the connection to the node was lost"
		f.more.Signal()
		f.mu.Unlock()
		delete(nr.inFiles, id)
	}
}

// finishFiles stops the job's file streams once it has a result.
func finishFiles(j *job) {
	for _, st := range j.files {
		st.finish()
	}
}

// sendBases opens the run's basefiles on the node, after its Command and
// before its first Input, and starts their streams: each waits for the
// agent's answer, and sends the file only when the node's cache lacks it.
// It reports false when the run cannot go on.
func (nr *nodeRun) sendBases() bool {
	t := nr.run.cfg.Transfer
	if t == nil || len(t.Base) == 0 || nr.node.Local {
		return true
	}
	var flags uint64
	if t.Cleanup {
		flags = wire.OpenCleanup
	}
	for _, b := range t.Base {
		sum, info, err := b.resolve()
		if err != nil {
			nr.run.fail(err)
			return false
		}
		st := nr.newOutStream()
		st.mu.Lock()
		st.credit = 0 // the agent's answer opens the window, if it wants the file
		answer := make(chan uint64, 1)
		st.answer = answer
		st.mu.Unlock()
		open := &wire.Open{Stream: st.id, Kind: wire.StreamBase, Seq: 1, Path: b.Remote, Length: uint64(info.Size()),
			Mode: uint64(info.Mode().Perm()), Mtime: info.ModTime().UnixNano(), Flags: flags, Sum: sum}
		if err := nr.conn.Send(open, false); err != nil {
			return true // the node is lost, which its receiver reports
		}
		nr.streamsWG.Go(func() { nr.sendBase(b, st, answer, info.Size()) })
	}
	return true
}

// sendBase is a basefile stream's goroutine.
func (nr *nodeRun) sendBase(b *BaseFile, st *outStream, answer <-chan uint64, size int64) {
	defer func() {
		nr.mu.Lock()
		delete(nr.streams, st.id)
		nr.mu.Unlock()
	}()
	var window uint64
	select {
	case window = <-answer:
	case <-nr.gone:
		return
	}
	end := &wire.End{Stream: st.id}
	if window > 0 {
		b.Sent.Add(1)
		st.addCredit(window)
		ok, err := sendRange(st, Block{Path: b.Local, Length: size})
		if !ok && err == nil {
			return
		}
		if err != nil {
			end.Error = err.Error()
			nr.run.warnf("%s: --basefile %s: %v", hostLabel(nr.node.Name), b.Local, err)
		}
	}
	nr.conn.Send(end, true)
}

// firstCredit hands a basefile stream's first Credit, the agent's answer,
// to its goroutine; it reports false for any other Credit.
func (st *outStream) firstCredit(n uint64) bool {
	st.mu.Lock()
	ch := st.answer
	st.answer = nil
	st.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- n
	return true
}
