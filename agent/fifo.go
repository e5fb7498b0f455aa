package agent

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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

// fifoPrefix is how the interpreter names its FIFOs (fifoNamePrefix in
// mvdan.cc/sh/v3/interp).
const fifoPrefix = "sh-interp-"

// newFIFODir makes a slot's directory for FIFOs, where the interpreter
// would make them: under $TMPDIR when it is absolute, else os.TempDir().
func newFIFODir(env expand.Environ) (string, error) {
	tmp := env.Get("TMPDIR").String()
	if !filepath.IsAbs(tmp) {
		tmp = os.TempDir()
	}
	return os.MkdirTemp(tmp, "concurr-fifo-")
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

// mayMakeFIFOs reports whether running file may make process substitutions:
// when it has one, or a command whose name is not a plain word or that runs
// code from a string. Jobs of other scripts skip looking for FIFOs.
func mayMakeFIFOs(file *syntax.File) bool {
	found := false
	syntax.Walk(file, func(n syntax.Node) bool {
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
