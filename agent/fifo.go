package agent

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// The interpreter makes a FIFO for each process substitution, <(…) or >(…),
// in its temporary directory, and opens it in a goroutine that waits for the
// other end on a thread of its own. When the job never opens it, the
// goroutine, its thread and the FIFO stay for the agent's life: a few
// thousand such jobs exhaust the runtime's threads. So each slot gives its
// interpreter a directory of its own for FIFOs, and at the end of a job
// that may have made some, opens the ones left, which lets their goroutines
// go on (the job's context is over, so they run nothing more) and remove
// them; the directory goes when the slot exits.
//
// The directory's name is chosen, and pinned in the interpreter, when the
// slot starts, but the directory is made only before the first job that
// may make FIFOs. Most commands never do: making and removing a directory
// for every slot cost each agent's start a fifth of its CPU when dozens of
// agents shared a node's temporary folder, and an agent that was killed
// left one behind for each of its slots.

// fifoPrefix is how the interpreter names its FIFOs (fifoNamePrefix in
// mvdan.cc/sh/v3/interp).
const fifoPrefix = "sh-interp-"

// fifoDirPrefix begins the name of a slot's directory for FIFOs.
const fifoDirPrefix = "concurr-fifo-"

// slotFIFOs is a slot's directory for FIFOs: its path, chosen at the
// slot's start, and whether it has been made. Its methods are safe for the
// interpreters of one job that run at once.
type slotFIFOs struct {
	path string // "" when the interpreter uses its default

	mu     sync.Mutex
	made   bool
	failed bool // the path could not be made, and will not be
}

// fifoTempDir is where the interpreter would make FIFOs: under $TMPDIR
// when it is absolute, else os.TempDir().
func fifoTempDir(env expand.Environ) string {
	tmp := env.Get("TMPDIR").String()
	if !filepath.IsAbs(tmp) {
		tmp = os.TempDir()
	}
	return tmp
}

// reserveFIFODir names a slot's directory for FIFOs without making it. The
// name is random, as os.MkdirTemp's are, so that no one can make it first.
func reserveFIFODir(env expand.Environ) *slotFIFOs {
	return &slotFIFOs{path: filepath.Join(fifoTempDir(env), fifoDirName())}
}

// fifoDirName names a slot's directory for FIFOs; tests replace it.
var fifoDirName = func() string { return fifoDirPrefix + strconv.FormatUint(rand.Uint64(), 36) }

// makeFIFODir makes a slot's directory for FIFOs now, or returns one that
// leaves the interpreter its default.
func makeFIFODir(env expand.Environ) *slotFIFOs {
	dir, err := os.MkdirTemp(fifoTempDir(env), fifoDirPrefix)
	if err != nil {
		return &slotFIFOs{}
	}
	return &slotFIFOs{path: dir, made: true}
}

// ensure makes the directory if it has not been made, and reports its path
// and whether it is there; dir is "" when the interpreter uses its default.
// A name that someone else took, or a temporary folder that cannot be
// written, leave ok false with the path: the slot's interpreter must then
// be given another directory (see slot.prepareFIFOs).
func (f *slotFIFOs) ensure() (dir string, ok bool) {
	if f == nil || f.path == "" {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.made && !f.failed {
		if err := os.Mkdir(f.path, 0o700); err != nil {
			f.failed = true
		} else {
			f.made = true
		}
	}
	return f.path, f.made
}

// isMade reports whether the directory exists, made by ensure.
func (f *slotFIFOs) isMade() bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.made
}

// remove releases the FIFOs left in the directory and removes it, if it
// was made.
func (f *slotFIFOs) remove() error {
	if !f.isMade() {
		return nil
	}
	releaseFIFOs(f.path)
	return os.RemoveAll(f.path)
}

// pinTempDir makes dir the interpreter's temporary directory. The
// interpreter reads it from $TMPDIR once, at its first Reset, and keeps it;
// the slot's environment shows it a TMPDIR of dir for that Reset only, so
// that jobs still see the TMPDIR they were given.
//
// That first Reset also fixes, for good, the stdout that the interpreter
// gives the commands of >(…): the slot's substStdout, which is the stdout of
// the job that runs them.
func pinTempDir(sl *slot, dir string) {
	r, env := sl.runner, &sl.env
	env.reset(nil)
	env.setString("TMPDIR", dir, false)
	if err := interp.StdIO(sl.devnull, substStdout{sl}, nil)(r); err == nil {
		r.Reset()
	}
	env.reset(nil)
}

// substStdout is the stdout of a slot's >(…) commands. External commands
// write to their own job's stdout (see jobStreams); builtins write to the
// job the slot runs, and nowhere once it has ended.
type substStdout struct{ sl *slot }

func (w substStdout) Write(p []byte) (int, error) {
	w.sl.mu.Lock()
	j := w.sl.current
	w.sl.mu.Unlock()
	if j == nil {
		return len(p), nil
	}
	return processWriter{&j.stdout}.Write(p)
}

// jobStreams returns the job's stdout for a process whose stdout is a
// substStdout, and stdout and stderr as they are otherwise.
func jobStreams(j *job, stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if _, ok := stdout.(substStdout); ok {
		stdout = &j.stdout
	}
	return stdout, stderr
}

// tempDirEnviron is an environment that shows a TMPDIR of dir while pinned
// is set, for interpreters whose environment is not a jobEnviron.
type tempDirEnviron struct {
	expand.Environ
	dir    string
	pinned bool
}

func (e *tempDirEnviron) Get(name string) expand.Variable {
	if e.pinned && name == "TMPDIR" {
		return expand.Variable{Set: true, Kind: expand.String, Str: e.dir}
	}
	return e.Environ.Get(name)
}

// releaseFIFOs opens every FIFO left in dir, so that the goroutine waiting
// to open its other end goes on and removes it, and removes what remains.
func releaseFIFOs(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type()&fs.ModeNamedPipe != 0 && strings.HasPrefix(e.Name(), fifoPrefix) {
			releaseFIFO(filepath.Join(dir, e.Name()))
		}
	}
}

// releaseFIFO opens path for reading and writing, which on a FIFO neither
// blocks nor waits for a peer, so that a goroutine opening it either way
// gets its other end. The FIFO stays open until that goroutine has removed
// it, since one that has yet to reach its open would otherwise miss this
// end and wait again; what it writes meanwhile is drained. A goroutine that
// failed before removing it leaves it to be removed here.
func releaseFIFO(path string) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(path)
		return
	}
	defer unix.Close(fd)
	var buf [4096]byte
	deadline := time.Now().Add(pipeGrace)
	for try := 0; ; try++ {
		for {
			if n, _ := unix.Read(fd, buf[:]); n <= 0 {
				break
			}
		}
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			break
		}
		// The goroutine is usually done within microseconds: yield to it
		// before sleeping.
		if try < 20 {
			runtime.Gosched()
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	os.Remove(path)
}

// codeFromStrings are the commands that run shell code given as data, which
// a look at the parsed script cannot see into.
var codeFromStrings = map[string]bool{
	"eval": true, "source": true, ".": true, "trap": true, "alias": true,
	"command": true, "builtin": true, "exec": true,
}

// mayMakeFIFOs reports whether running node may make process
// substitutions: when it has one, or a command whose name is not a plain
// word or that runs code from a string. Jobs of other scripts skip looking
// for FIFOs, and their slots make no directory for them.
func mayMakeFIFOs(node syntax.Node) bool {
	found := false
	syntax.Walk(node, func(n syntax.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *syntax.ProcSubst:
			found = true
		case *syntax.CallExpr:
			if len(n.Args) > 0 {
				name := n.Args[0].Lit()
				found = name == "" || codeFromStrings[name]
			}
		}
		return !found
	})
	return found
}

// mayMakeFIFOs reports whether calling any of the functions may make
// process substitutions.
func (f *exportedFuncs) mayMakeFIFOs() bool {
	for _, body := range f.bodies {
		if mayMakeFIFOs(body) {
			return true
		}
	}
	return false
}
