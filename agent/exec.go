package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// pipeGrace is how long a command's output is still read after the command
// exits, while background processes it left hold the pipes open. Bash would
// wait for them; GNU Parallel would not wait at all.
const pipeGrace = 2 * time.Second

type jobKey struct{}

// jobContext is a job's context, carrying the job for its handlers; it lives
// in the job, so that each job costs no allocation of a context.WithValue.
type jobContext struct {
	context.Context
	j *job
}

func (c *jobContext) Value(key any) any {
	if _, ok := key.(jobKey); ok {
		return c.j
	}
	return c.Context.Value(key)
}

// jobOf returns the job that a handler call belongs to. Background
// statements of the interpreter carry their own job in ctx, so a handler
// never confuses it with the next job of the same slot.
func jobOf(ctx context.Context) *job {
	j, _ := ctx.Value(jobKey{}).(*job)
	return j
}

// execMiddleware replaces the interpreter's exec handler. It follows the
// recipe of interp.DefaultExecHandler, but starts every process in a
// process group of its own and records it in the job, so that cancel,
// timeout and the agent's exit kill everything the job started.
func execMiddleware(_ interp.ExecHandlerFunc) interp.ExecHandlerFunc {
	return execExternal
}

func execExternal(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	j := jobOf(ctx)
	if j == nil {
		return errors.New("internal error: exec outside a job")
	}
	j.active.Add(1)
	defer j.active.Done()
	if ctx.Err() != nil {
		// The job is being killed: start nothing more.
		return interp.ExitStatus(128 + int(syscall.SIGTERM))
	}
	path, err := interp.LookPathDir(hc.Dir, hc.Env, args[0])
	if err != nil {
		if ferr, ok := j.cmd.funcs.bad[args[0]]; ok {
			// Bash would have warned at its start; the job that calls
			// the function is where the user looks.
			fmt.Fprintf(hc.Stderr, "%s: cannot import the exported function %s: %v\n", args[0], BashFuncVar(args[0]), ferr)
			return interp.ExitStatus(127)
		}
		return notFound(hc.Stderr, hc.Dir, hc.Env, args[0])
	}
	if filepath.Base(path) == "kill" {
		if sig, ok := killsShell(args); ok {
			return j.killShell(sig)
		}
	}
	name := args[0]
	path, args = j.proc.wrap(path, args)
	env := execEnv(hc.Env, j.cmd.env)
	stdout, stderr := jobStreams(j, hc.Stdout, hc.Stderr)
	ws, err := spawnDirect(ctx, j, path, args, env, hc.Dir, hc.Stdin, stdout, stderr)
	switch {
	case err == nil:
		return exitOf(j, ws)
	case errors.Is(err, syscall.ENOEXEC):
		return runScript(ctx, hc, path, args)
	case !errors.Is(err, errNotSpawned):
		return startFailed(hc.Stderr, name, err)
	}
	stdout, stderr = processWriters(j, stdout, stderr)
	newCmd := func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, path)
		cmd.Args = args
		cmd.Env = env
		cmd.Dir = hc.Dir
		cmd.Stdin = hc.Stdin
		cmd.Stdout = stdout
		cmd.Stderr = stderr
		cmd.SysProcAttr = j.cgroup.sysProcAttr()
		j.onTerminal(cmd.SysProcAttr)
		// The job kills its process groups itself; the context only bounds
		// how long Wait reads pipes that escaped processes hold.
		cmd.Cancel = func() error { return os.ErrProcessDone }
		cmd.WaitDelay = pipeGrace
		return cmd
	}
	var cmd *exec.Cmd
	err = retryTextBusy(func() error {
		cmd = newCmd()
		return cmd.Start()
	})
	if errors.Is(err, syscall.ENOEXEC) {
		return runScript(ctx, hc, path, args)
	}
	if err != nil && ctx.Err() != nil {
		// The job ended as the command was starting: as above, it starts
		// nothing more, and has nothing to say about it.
		return interp.ExitStatus(128 + int(syscall.SIGTERM))
	}
	if err != nil {
		return startFailed(hc.Stderr, name, err)
	}
	j.addStarted(cmd.Process.Pid)
	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		j.setLastSignal(0)
		return nil
	case errors.As(err, &exitErr):
		if st, ok := exitErr.Sys().(syscall.WaitStatus); ok {
			return exitOf(j, st)
		}
		j.setLastSignal(0)
		return interp.ExitStatus(exitErr.ExitCode())
	default:
		fmt.Fprintln(hc.Stderr, err)
		return interp.ExitStatus(127)
	}
}

// exitOf returns the interpreter's status for a process that ended with ws,
// and records its signal in j.
func exitOf(j *job, ws syscall.WaitStatus) error {
	if ws.Signaled() {
		j.setLastSignal(int(ws.Signal()))
		return interp.ExitStatus(128 + int(ws.Signal()))
	}
	j.setLastSignal(0)
	if ws.ExitStatus() == 0 {
		return nil
	}
	return interp.ExitStatus(ws.ExitStatus())
}

// killsShell reports whether a kill command targets $$, which in the
// embedded shell is the agent's PID, and with which signal. In a shell that
// is the job's own shell, so the job ends by that signal; it must not take
// the agent, and every other job, with it.
func killsShell(args []string) (syscall.Signal, bool) {
	self := strconv.Itoa(os.Getpid())
	sig := syscall.SIGTERM
	hit := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == self:
			hit = true
		case a == "-s" || a == "-n" || a == "--signal":
			if i+1 < len(args) {
				i++
				if s, ok := signalByName(args[i]); ok {
					sig = s
				}
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if s, ok := signalByName(a[1:]); ok {
				sig = s
			}
		}
	}
	// Signal 0 only asks whether the process exists: the real kill answers
	// that, and ends nothing.
	return sig, hit && sig != 0
}

func signalByName(s string) (syscall.Signal, bool) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < 65 {
		return syscall.Signal(n), true
	}
	n := unix.SignalNum("SIG" + strings.TrimPrefix(strings.ToUpper(s), "SIG"))
	return n, n != 0
}

// processWriters returns where a process writes: the job's own streams
// become processWriters, so that its output is sent as it arrives; a
// redirection's file is given to the process itself, as the direct spawn
// path does, rather than through a pipe and a copier; other files and pipes
// of the interpreter are passed on as they are.
func processWriters(j *job, stdout, stderr io.Writer) (io.Writer, io.Writer) {
	conv := func(w io.Writer) io.Writer {
		switch w {
		case &j.stdout:
			return processWriter{&j.stdout}
		case &j.stderr:
			return processWriter{&j.stderr}
		}
		if l, ok := w.(*lineFile); ok {
			return l.file()
		}
		return w
	}
	return conv(stdout), conv(stderr)
}

// runScript runs a file that the kernel refuses to execute (a script
// without a #! line) as a shell script, as POSIX shells do, in a new
// interpreter whose commands stay in the job's process groups.
func runScript(ctx context.Context, hc interp.HandlerContext, path string, args []string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(hc.Stderr, err)
		return interp.ExitStatus(126)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if bytes.IndexByte(line, 0) >= 0 {
		fmt.Fprintf(hc.Stderr, "%s: cannot execute binary file\n", args[0])
		return interp.ExitStatus(126)
	}
	file, err := syntax.NewParser().Parse(bytes.NewReader(b), args[0])
	if err != nil {
		fmt.Fprintln(hc.Stderr, err)
		return interp.ExitStatus(2)
	}
	unescapeAssignments(file)
	var stdin io.Reader
	if hc.Stdin != nil {
		stdin = hc.Stdin
	}
	env := &tempDirEnviron{Environ: expand.ListEnviron(execEnv(hc.Env, nil)...)}
	r, err := interp.New(
		interp.Dir(hc.Dir),
		interp.Env(env),
		interp.StdIO(stdin, hc.Stdout, hc.Stderr),
		interp.ExecHandlers(bashMiddleware, execMiddleware),
		interp.CallHandler(beforeCall),
	)
	if err != nil {
		fmt.Fprintln(hc.Stderr, err)
		return interp.ExitStatus(126)
	}
	r.Params = args[1:]
	if j := jobOf(ctx); j != nil && mayMakeFIFOs(file) {
		// Its FIFOs go where the slot releases them at the job's end.
		if dir, ok := j.fifos.ensure(); ok {
			env.dir, env.pinned = dir, true
			r.Reset()
			env.pinned = false
			j.mayMakeFIFOs = true
		}
	}
	return r.Run(ctx, file)
}

// execEnv lists the exported variables of env for a new process, as the
// interpreter does for its own exec handler. A variable that still has its
// value in base, the command's environment, reuses base's NAME=value string
// instead of building it again for every process.
func execEnv(env expand.Environ, base *baseEnviron) []string {
	list := make([]string, 0, 64)
	for name, vr := range env.Each {
		if !vr.IsSet() {
			// A variable unset in the interpreter but set in a parent
			// environment must not reach the process.
			list = removeName(list, name)
			continue
		}
		if vr.Exported && vr.Kind == expand.String {
			if base != nil {
				if kv, ok := base.pairs[name]; ok && len(kv) == len(name)+1+len(vr.Str) && kv[len(name)+1:] == vr.Str {
					list = append(list, kv)
					continue
				}
			}
			list = append(list, name+"="+vr.String())
		}
	}
	return list
}

func removeName(list []string, name string) []string {
	out := list[:0]
	for _, kv := range list {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
