package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"concurr/internal/transfer"
	"concurr/internal/wire"
)

// File transfer (--transferfile, --return, --cleanup): a job's files come
// as StreamFile streams opened before its Input, and are written below the
// job's workdir while the job may still wait for a slot; the job starts
// once all of them are in place. After its script, the files it is to
// return go back as StreamReturn streams within the client's credit, and
// then its Result. Every path is checked to stay below the workdir.

// fileWrite is one transferred file being written.
type fileWrite struct {
	st      *inStream
	path    string // final name
	created []string
	done    chan struct{}
	err     error
}

// startFiles begins writing the job's transferred files below dir.
func (j *job) startFiles(dir string, streams []*inStream) {
	for _, st := range streams {
		fw := &fileWrite{st: st, done: make(chan struct{})}
		j.files = append(j.files, fw)
		go func() {
			defer close(fw.done)
			fw.err = fw.write(dir)
			j.s.forgetStream(st)
		}()
	}
}

func (fw *fileWrite) write(dir string) error {
	rel := fw.st.open.Path
	if err := transfer.CheckRemote(rel); err != nil {
		return fmt.Errorf("refused %s: %w", rel, err)
	}
	fw.path = filepath.Join(dir, filepath.FromSlash(rel))
	var err error
	fw.created, err = writeBelow(dir, fw.path, func() error {
		return transfer.WriteAtomic(fw.path, fw.st, fs.FileMode(fw.st.open.Mode)&fs.ModePerm, fw.st.open.Mtime)
	})
	return err
}

// writeBelow creates path's missing folders below root and then calls
// write, which makes path in its folder; it returns the folders it created,
// deepest last, for --cleanup. Another job's --cleanup (on this node, or
// on one sharing the work dir) removes a folder it made once it is empty,
// which it can be between the two steps: then the folder is made again.
func writeBelow(root, path string, write func() error) ([]string, error) {
	var created []string
	for try := 1; ; try++ {
		made, err := mkdirs(root, filepath.Dir(path))
		for _, d := range made {
			if !slices.Contains(created, d) {
				created = append(created, d)
			}
		}
		if err == nil {
			err = write()
		}
		// A folder that vanished under mkdir, open or rename, or that
		// mkdir saw made and then gone, is the race; anything else is not.
		if err == nil || try == maxFolderRaces || !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			return created, err
		}
	}
}

// maxFolderRaces bounds how often writeBelow makes a folder again.
const maxFolderRaces = 10

// mkdirs creates dir's missing parents below root and returns the ones it
// created, deepest last, for --cleanup.
func mkdirs(root, dir string) ([]string, error) {
	var missing []string
	for d := dir; d != root && len(d) > len(root); d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	err := os.MkdirAll(dir, 0o777)
	slices.Reverse(missing)
	if err != nil {
		// Those it made before it failed are still its own.
		missing = slices.DeleteFunc(missing, func(d string) bool { _, serr := os.Lstat(d); return serr != nil })
	}
	return missing, err
}

// awaitFiles waits for the job's transferred files and returns the first
// failure.
func (j *job) awaitFiles(ctx context.Context) error {
	for _, b := range j.bases {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return b.err
		}
	}
	for _, fw := range j.files {
		select {
		case <-fw.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if fw.err != nil {
			return fw.err
		}
	}
	return nil
}

// releaseFiles drops the streams of files still being written (a job that
// will not run) and carries out --cleanup of the job's files.
func (j *job) releaseFiles() {
	for _, fw := range j.files {
		j.s.forgetStream(fw.st)
	}
	var dirs []string
	for _, fw := range j.files {
		<-fw.done
		if fw.st.open.Flags&wire.OpenCleanup != 0 && fw.path != "" {
			os.Remove(fw.path)
			dirs = append(dirs, fw.created...)
		}
	}
	for _, r := range j.returns {
		if r.Flags&wire.OpenCleanup != 0 && transfer.CheckRemote(r.Path) == nil {
			os.RemoveAll(filepath.Join(j.cmd.dir, filepath.FromSlash(r.Path)))
		}
	}
	// Directories made for the files go too, when nothing else is in them.
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

// outStream is a stream the agent sends: a returned file.
type outStream struct {
	id     uint64
	mu     sync.Mutex
	more   sync.Cond
	credit int
	gone   bool
}

func (s *session) newOutStream() *outStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOut++
	st := &outStream{id: s.lastOut, credit: wire.StreamWindow}
	st.more.L = &st.mu
	s.outStreams[st.id] = st
	return st
}

func (s *session) closeOutStream(st *outStream) {
	s.mu.Lock()
	delete(s.outStreams, st.id)
	s.mu.Unlock()
}

// streamCredit handles the client's Credit for a stream the agent sends.
func (s *session) streamCredit(m *wire.Credit) {
	s.mu.Lock()
	st := s.outStreams[m.Stream]
	s.mu.Unlock()
	if st != nil {
		st.mu.Lock()
		st.credit = int(min(uint64(st.credit)+m.Bytes, 1<<40))
		st.more.Broadcast()
		st.mu.Unlock()
	}
}

// take waits for credit for up to want bytes; 0 means the session ended.
func (st *outStream) take(ctx context.Context, want int) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	for st.credit == 0 && !st.gone && ctx.Err() == nil {
		st.more.Wait()
	}
	if st.gone || ctx.Err() != nil {
		return 0
	}
	n := min(want, st.credit)
	st.credit -= n
	return n
}

// wakeOutStreams ends every blocked return at shutdown.
func (s *session) wakeOutStreams() {
	s.mu.Lock()
	all := make([]*outStream, 0, len(s.outStreams))
	for _, st := range s.outStreams {
		all = append(all, st)
	}
	s.mu.Unlock()
	for _, st := range all {
		st.mu.Lock()
		st.gone = true
		st.more.Broadcast()
		st.mu.Unlock()
	}
}

// sendReturns sends the job's --return files and directories back. A
// missing one is a warning on the job's stderr and leaves its exit status
// as it is, as GNU Parallel's rsync after the job does.
func (j *job) sendReturns() {
	for _, r := range j.returns {
		if err := transfer.CheckRemote(r.Path); err != nil {
			fmt.Fprintf(&j.stderr, "concurr: warning: %s: --return %s refused: %v\n", j.cmd.host, r.Path, err)
			continue
		}
		root := filepath.Join(j.cmd.dir, filepath.FromSlash(r.Path))
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(j.cmd.dir, p)
			if err != nil {
				return err
			}
			return j.sendReturn(p, filepath.ToSlash(rel), d)
		})
		if err != nil {
			fmt.Fprintf(&j.stderr, "concurr: warning: %s: --return %s: %v\n", j.cmd.host, r.Path, unwrapPath(err))
		}
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sendReturn sends one file or directory entry of a return.
func (j *job) sendReturn(path, rel string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	open := &wire.Open{Kind: wire.StreamReturn, Seq: j.seq, Path: rel,
		Mode: uint64(info.Mode().Perm()), Mtime: info.ModTime().UnixNano()}
	switch {
	case info.IsDir():
		open.Mode |= wire.ModeDir
	case !info.Mode().IsRegular():
		return nil // sockets, devices, links: not files to bring back
	}
	var f *os.File
	if !info.IsDir() {
		if f, err = os.Open(path); err != nil {
			return err
		}
		defer f.Close()
	}
	s := j.s
	st := s.newOutStream()
	defer s.closeOutStream(st)
	open.Stream = st.id
	if err := s.out.send(open); err != nil {
		return err
	}
	end := &wire.End{Stream: st.id}
	if f != nil {
		buf := *chunkPool.Get().(*[]byte)
		defer chunkPool.Put(&buf)
		for {
			n := st.take(s.ctx, len(buf))
			if n == 0 {
				return s.ctx.Err()
			}
			m, err := f.Read(buf[:n])
			if m < n {
				st.mu.Lock()
				st.credit += n - m
				st.mu.Unlock()
			}
			if m > 0 {
				if err := s.out.send(&wire.Data{Stream: st.id, Data: buf[:m]}); err != nil {
					return err
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				end.Error = err.Error()
				break
			}
		}
	}
	return s.out.send(end)
}

// baseFile is one --basefile of a command (StreamBase): looked up in the
// node's cache by its content's SHA-256, received into the cache when it
// is not there, and copied from there into the command's workdir before
// any of the command's jobs starts.
type baseFile struct {
	st      *inStream
	open    wire.Open
	path    string   // in the workdir
	created []string // folders made for it, for --cleanup
	cached  string   // the cache entry this session added, for --cleanup
	done    chan struct{}
	err     error
}

// openBase starts receiving a basefile of the command m.Seq.
func (s *session) openBase(m *wire.Open) {
	s.mu.Lock()
	c := s.commands[m.Seq]
	if c == nil || s.closing {
		s.mu.Unlock()
		s.out.send(&wire.Error{Seq: 0, Message: fmt.Sprintf("basefile %s: no command %d", m.Path, m.Seq)})
		return
	}
	// The stream's content is its Data alone: Path and Length describe the
	// file, not a range of the agent's own to append.
	content := *m
	content.Path, content.Length = "", 0
	st := newInStream(s, &content)
	s.streams[m.Stream] = st
	b := &baseFile{st: st, open: *m, done: make(chan struct{})}
	c.bases = append(c.bases, b)
	s.mu.Unlock()
	go func() {
		defer close(b.done)
		b.err = b.receive(c)
		s.forgetStream(st)
		if b.err != nil {
			b.err = fmt.Errorf("--basefile %s: %w", m.Path, b.err)
		}
	}()
}

// receive puts the basefile in place, from the cache or from the stream.
func (b *baseFile) receive(c *command) error {
	open := b.open
	if err := transfer.CheckRemote(open.Path); err != nil {
		b.answer(true)
		return fmt.Errorf("refused: %w", err)
	}
	b.path = filepath.Join(c.dir, filepath.FromSlash(open.Path))
	var err error
	if b.created, err = mkdirs(c.dir, filepath.Dir(b.path)); err != nil {
		b.answer(true)
		return err
	}
	mode, size := fs.FileMode(open.Mode)&fs.ModePerm, int64(open.Length)
	home, _ := os.UserHomeDir()
	dir, cacheErr := transfer.OpenCache(transfer.CacheDir(home))
	if cacheErr != nil || !transfer.ValidSum(open.Sum) {
		// No cache to trust: the file goes straight to the workdir.
		if cacheErr != nil && c.s.opts.Debug {
			c.s.logf("basefile %s: not cached: %v", open.Path, cacheErr)
		}
		b.answer(false)
		return transfer.WriteAtomic(b.path, transfer.VerifiedCopy(b.st, open.Sum, size), mode, open.Mtime)
	}
	if f, ok := transfer.OpenCached(dir, open.Sum); ok {
		err := transfer.WriteAtomic(b.path, transfer.VerifiedCopy(f, open.Sum, size), mode, open.Mtime)
		f.Close()
		if err == nil {
			if c.s.opts.Debug {
				c.s.logf("basefile %s: in the cache, nothing sent", open.Path)
			}
			b.answer(true)
			return nil
		}
		if !errors.Is(err, transfer.ErrMismatch) {
			b.answer(true)
			return err
		}
		// A damaged entry is replaced by what the client sends.
		os.Remove(filepath.Join(dir, open.Sum))
	}
	b.answer(false)
	entry := filepath.Join(dir, open.Sum)
	if err := transfer.WriteAtomic(entry, transfer.VerifiedCopy(b.st, open.Sum, size), 0o600, 0); err != nil {
		return err
	}
	if open.Flags&wire.OpenCleanup != 0 {
		b.cached = entry
	}
	f, ok := transfer.OpenCached(dir, open.Sum)
	if !ok {
		return fmt.Errorf("the cache entry %s vanished", entry)
	}
	defer f.Close()
	return transfer.WriteAtomic(b.path, transfer.VerifiedCopy(f, open.Sum, size), mode, open.Mtime)
}

// answer tells the client whether to send the content: a Credit of 0
// bytes says the node has it (or will not take it), a window asks for it.
func (b *baseFile) answer(have bool) {
	var window uint64
	if !have {
		window = wire.StreamWindow
	}
	b.st.s.out.send(&wire.Credit{Stream: b.open.Stream, Bytes: window})
}

// releaseBases carries out --cleanup of the command's basefiles once its
// jobs are done: the copies in the workdir, the folders made for them, and
// the cache entries this session added, never one another run added.
func (c *command) releaseBases() {
	c.s.mu.Lock()
	bases := c.bases
	c.s.mu.Unlock()
	for _, b := range bases {
		c.s.forgetStream(b.st)
	}
	for _, b := range bases {
		<-b.done
		if b.open.Flags&wire.OpenCleanup == 0 {
			continue
		}
		if b.path != "" && b.err == nil {
			os.Remove(b.path)
		}
		if b.cached != "" {
			os.Remove(b.cached)
		}
		for i := len(b.created) - 1; i >= 0; i-- {
			os.Remove(b.created[i])
		}
	}
}
