package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"concurr/internal/proctest"
	"concurr/internal/wire"
)

func TestHello(t *testing.T) {
	tests := []struct {
		name        string
		buildID     string
		wantBuildID string
	}{
		// A test binary runs from no build cache, and the agent does not
		// hash its executable to find an ID.
		{name: "not installed", wantBuildID: ""},
		{name: "given", buildID: "0123456789abcdef", wantBuildID: "0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startAgent(t, Options{Slots: 3, BuildID: tt.buildID})
			h := c.hello
			if h.Version != wire.Version || h.Slots != 3 || h.PID != uint64(os.Getpid()) || h.BuildID != tt.wantBuildID || h.OS == "" || h.Arch == "" {
				t.Errorf("hello = %+v", h)
			}
			c.send(&wire.Ping{Nonce: 42})
			if m, ok := c.recv(5 * time.Second).(*wire.Ping); !ok || m.Nonce != 42 {
				t.Errorf("ping answer = %+v", m)
			}
		})
	}
}

func TestJobs(t *testing.T) {
	big := 5 << 20
	tests := []struct {
		name       string
		tmpl       []byte
		env        []string
		args       []string
		timeout    uint64
		stdout     string
		stdoutLen  int    // when stdout is too long to spell
		stderr     string // a substring of stderr
		exit       uint64
		signal     uint64
		flags      uint64
		maxRuntime time.Duration
	}{
		{name: "echo builtin", tmpl: script(`echo "$A1"`), args: []string{"hello"}, stdout: "hello\n"},
		{name: "external command", tmpl: script(`/bin/echo "$A1" "$A2"`), args: []string{"a", "b"}, stdout: "a b\n"},
		{name: "external through PATH", tmpl: script(`printf '%s\n' "$A1" | tr a-z A-Z`), args: []string{"abc"}, stdout: "ABC\n"},
		{name: "exit builtin", tmpl: script(`exit 3`), exit: 3},
		{name: "exit of external", tmpl: script(`sh -c 'exit 7'`), exit: 7},
		{name: "status of last command", tmpl: script(`false`), exit: 1},
		{name: "killed by a signal", tmpl: script(`sh -c 'kill -9 $$'`), exit: 137, signal: 9},
		{name: "kill $$ ends the job, not the agent", tmpl: script(`echo before; kill -9 $$; echo after`), stdout: "before\n", exit: 137, signal: 9},
		{name: "kill -s INT $$", tmpl: script(`kill -s INT $$; echo after`), exit: 130, signal: 2},
		{name: "kill $$ defaults to TERM", tmpl: script(`/bin/kill $$`), exit: 143, signal: 15},
		{name: "kill -0 $$ only asks", tmpl: script(`kill -0 $$ && echo alive; kill -s 0 $$ && echo still`), stdout: "alive\nstill\n"},
		{name: "killed by TERM then more", tmpl: script(`sh -c 'kill -TERM $$'; echo after`), stdout: "after\n"},
		{name: "missing command", tmpl: script(`no-such-command-for-concurr`), exit: 127, stderr: "no-such-command-for-concurr: command not found\n"},
		{name: "stdout and stderr apart",
			tmpl:   script(`echo out1; echo err1 >&2; sh -c 'echo out2; echo err2 >&2'; echo out3`),
			stdout: "out1\nout2\nout3\n", stderr: "err1\nerr2\n"},
		{name: "builtin and external output keep their order",
			tmpl:   script(`echo 1; /bin/echo 2; echo 3; /bin/echo 4`),
			stdout: "1\n2\n3\n4\n"},
		{name: "values arrive literally",
			tmpl:   script(`printf '[%s]\n' "$A1" "$A2"`),
			args:   []string{"a b; echo pwned", "$(id) `id` * ~ \\ ' \" \n x"},
			stdout: "[a b; echo pwned]\n[$(id) `id` * ~ \\ ' \" \n x]\n"},
		{name: "non UTF-8 and NUL pass through",
			tmpl:   script(`printf '%s' "$A1"; printf '\000\377\n'`),
			args:   []string{"\xff\xfe"},
			stdout: "\xff\xfe\x00\xff\n"},
		{name: "all arguments", tmpl: script(`printf '<%s>' "${ARGS[@]}"`), args: []string{"x", "y z"}, stdout: "<x><y z>"},
		{name: "sequence, slot and host", tmpl: script(`echo "$SEQ $SLOT $HOST $PARALLEL_SEQ $PARALLEL_JOBSLOT"`), stdout: "1 1 node1 1 1\n"},
		{name: "PARALLEL_SEQ exported, values not",
			tmpl:   script(`sh -c 'echo "$PARALLEL_SEQ $PARALLEL_JOBSLOT [$A1]"'`),
			args:   []string{"secret"},
			stdout: "1 1 []\n"},
		{name: "command env", tmpl: script(`echo "$FOO"; sh -c 'echo "$FOO $BAR"'`), env: []string{"FOO=bar", "BAR=a=b"}, stdout: "bar\nbar a=b\n"},
		{name: "command env overrides the agent's", tmpl: script(`sh -c 'echo "$HOME"'`), env: []string{"HOME=/elsewhere"}, stdout: "/elsewhere\n"},
		{name: "output of a leftover is read after its parent exits", tmpl: script(`sh -c '(sleep 0.3; echo late) & echo early'`), stdout: "early\nlate\n"},
		{name: "not executable", tmpl: script(`f=$(mktemp); "$f"; s=$?; rm "$f"; exit $s`), exit: 126, stderr: ": Permission denied\n"},
		{name: "a directory", tmpl: script(`/`), exit: 126, stderr: "/: Is a directory\n"},
		{name: "argument list too long", tmpl: script(`/bin/true "$A1"`), args: []string{strings.Repeat("a", 200000)}, exit: 126, stderr: "/bin/true: Argument list too long\n"},
		{name: "missing file with a slash", tmpl: script(`/no/such/file`), exit: 127, stderr: "/no/such/file: No such file or directory\n"},
		{name: "missing relative file", tmpl: script(`./no-such-file-here`), exit: 127, stderr: "./no-such-file-here: No such file or directory\n"},
		{name: "not executable in PATH",
			tmpl: script(`d=$(mktemp -d); printf 'echo no\n' > "$d/plain-file"; PATH="$d:$PATH" plain-file; s=$?; rm -r "$d"; exit $s`),
			exit: 126, stderr: "/plain-file: Permission denied\n"},
		{name: "missing #! interpreter",
			tmpl: script(`f=$(mktemp); printf '#!/no/such/shell\n' > "$f"; chmod +x "$f"; "$f"; s=$?; rm "$f"; exit $s`),
			exit: 127, stderr: ": cannot execute: required file not found\n"},
		{name: "stdin is empty", tmpl: script(`cat; read x || echo eof`), stdout: "eof\n"},
		{name: "from input", tmpl: fromInput(), args: []string{"echo", "hi;", "echo", "there"}, stdout: "hi\nthere\n"},
		{name: "from input bad syntax", tmpl: fromInput(), args: []string{`echo "`}, exit: 2, stderr: "quote"},
		{name: "5 MiB from an external command", tmpl: script(`head -c 5242880 /dev/zero`), stdoutLen: big},
		{name: "5 MiB from a builtin loop",
			tmpl:      script(`i=0; while [ $i -lt 5120 ]; do printf '%1023s\n' x; i=$((i+1)); done`),
			stdoutLen: big},
		{name: "5 MiB on each stream at once",
			tmpl:      script(`sh -c 'head -c 5242880 /dev/zero >&2 & head -c 5242880 /dev/zero; wait'`),
			stdoutLen: big},
		{name: "timeout kills an external command",
			tmpl: script(`sleep 10`), timeout: 200,
			exit: 143, signal: 15, flags: wire.ResultTimedOut, maxRuntime: 3 * time.Second},
		{name: "timeout stops a builtin loop",
			tmpl: script(`while :; do :; done`), timeout: 200,
			exit: 143, signal: 15, flags: wire.ResultTimedOut, maxRuntime: 3 * time.Second},
		{name: "timeout escalates to KILL",
			tmpl: script(`sh -c 'trap "" TERM; while :; do sleep 1; done'`), timeout: 500,
			exit: 137, signal: 9, flags: wire.ResultTimedOut, maxRuntime: 3 * time.Second},
		{name: "script without #! line", tmpl: script(`f=$(mktemp); printf 'echo from script $1\n' > $f; chmod +x $f; $f x; rm $f`), stdout: "from script x\n"},
	}
	c := startAgent(t, Options{Slots: 2})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			id := uint64(i + 1)
			c.send(&wire.Command{ID: id, Template: tt.tmpl, Env: tt.env, Host: "node1", Slots: 1},
				&wire.Input{Command: id, Seq: 1, Args: tt.args, Timeout: tt.timeout})
			r := c.collect(30*time.Second, 1)[1]
			c.send(&wire.Delete{Command: id})
			res := r.result
			if tt.stdoutLen > 0 {
				if r.stdout.Len() != tt.stdoutLen {
					t.Errorf("stdout has %d bytes, want %d", r.stdout.Len(), tt.stdoutLen)
				}
			} else if got := r.stdout.String(); got != tt.stdout {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
			if tt.stderr == "" && tt.stdoutLen == 0 && r.stderr.Len() > 0 {
				t.Errorf("stderr = %q, want none", r.stderr.String())
			}
			if !strings.Contains(r.stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr.String(), tt.stderr)
			}
			if res.Exit != tt.exit || res.Signal != tt.signal || res.Flags != tt.flags {
				t.Errorf("result exit=%d signal=%d flags=%d, want %d %d %d", res.Exit, res.Signal, res.Flags, tt.exit, tt.signal, tt.flags)
			}
			if res.Slot != 1 || res.Start == 0 || res.Runtime <= 0 {
				t.Errorf("result = %+v", res)
			}
			if tt.maxRuntime > 0 && time.Duration(res.Runtime) > tt.maxRuntime {
				t.Errorf("runtime %v, want at most %v", time.Duration(res.Runtime), tt.maxRuntime)
			}
		})
	}
}

func TestManyJobsFewSlots(t *testing.T) {
	c := startAgent(t, Options{Slots: 3})
	c.send(&wire.Command{ID: 7, Template: script(`echo "$A1 $SLOT"`)})
	const n = 500
	var seqs []uint64
	for i := 1; i <= n; i++ {
		c.send(&wire.Input{Command: 7, Seq: uint64(i), Args: []string{strconv.Itoa(i)}})
		seqs = append(seqs, uint64(i))
	}
	res := c.collect(30*time.Second, seqs...)
	for i := 1; i <= n; i++ {
		r := res[uint64(i)]
		slot := r.result.Slot
		if slot < 1 || slot > 3 {
			t.Fatalf("job %d ran on slot %d", i, slot)
		}
		if want := fmt.Sprintf("%d %d\n", i, slot); r.stdout.String() != want {
			t.Fatalf("job %d stdout = %q, want %q", i, r.stdout.String(), want)
		}
	}
}

func TestWorkdir(t *testing.T) {
	base := t.TempDir()
	home, _ := os.UserHomeDir()
	cwd, _ := os.Getwd()
	tests := []struct {
		name    string
		workdir string
		want    string // "" means: a fresh temporary directory
	}{
		{name: "agent directory", workdir: "", want: cwd},
		{name: "absolute", workdir: base, want: base},
		{name: "created when missing", workdir: filepath.Join(base, "new", "dir"), want: filepath.Join(base, "new", "dir")},
		{name: "home relative", workdir: "~/", want: home},
		{name: "relative to the agent", workdir: "testdata", want: filepath.Join(cwd, "testdata")},
		{name: "temporary", workdir: "..."},
	}
	c := startAgent(t, Options{Slots: 1})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			id := uint64(i + 1)
			c.send(&wire.Command{ID: id, Template: script(`pwd; /bin/pwd; touch marker`), Workdir: tt.workdir},
				&wire.Input{Command: id, Seq: id, Args: nil})
			r := c.collect(10*time.Second, id)[id]
			lines := strings.Split(strings.TrimSpace(r.stdout.String()), "\n")
			if len(lines) != 2 || lines[0] != lines[1] {
				t.Fatalf("pwd printed %q; stderr %q", r.stdout.String(), r.stderr.String())
			}
			got := lines[0]
			if tt.want != "" {
				if got != tt.want {
					t.Errorf("ran in %q, want %q", got, tt.want)
				}
				os.Remove(filepath.Join(got, "marker"))
				c.send(&wire.Delete{Command: id})
				return
			}
			if !strings.HasPrefix(got, os.TempDir()) {
				t.Errorf("temporary workdir %q is not under %q", got, os.TempDir())
			}
			c.send(&wire.Delete{Command: id})
			deadline := time.Now().Add(5 * time.Second)
			for {
				if _, err := os.Stat(got); os.IsNotExist(err) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("temporary workdir %s still exists after delete", got)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestTemporaryWorkdirRemovedAtExit(t *testing.T) {
	c := startAgent(t, Options{Slots: 1})
	c.send(&wire.Command{ID: 1, Template: script(`pwd`), Workdir: "..."},
		&wire.Input{Command: 1, Seq: 1})
	dir := strings.TrimSpace(c.collect(10*time.Second, 1)[1].stdout.String())
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("workdir %q: %v", dir, err)
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary workdir %s still exists after the agent ended", dir)
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name   string
		cancel wire.Cancel
		want   map[uint64]uint64 // seq → flags
	}{
		{name: "one job", cancel: wire.Cancel{Seq: 2}, want: map[uint64]uint64{2: wire.ResultCancelled}},
		{name: "one job with SIGINT", cancel: wire.Cancel{Seq: 1, Signal: uint64(syscall.SIGINT)}, want: map[uint64]uint64{1: wire.ResultCancelled}},
		{name: "all jobs", cancel: wire.Cancel{}, want: map[uint64]uint64{1: wire.ResultCancelled, 2: wire.ResultCancelled, 3: wire.ResultCancelled | wire.ResultNotRun}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startAgent(t, Options{Slots: 2})
			// Jobs 1 and 2 run; job 3 waits for a slot. A job that is not
			// cancelled finishes by itself after its sleep.
			c.send(&wire.Command{ID: 1, Template: script(`echo started; sleep "$A1"; echo slept`)},
				&wire.Input{Command: 1, Seq: 1, Args: []string{"2"}},
				&wire.Input{Command: 1, Seq: 2, Args: []string{"2"}},
				&wire.Input{Command: 1, Seq: 3, Args: []string{"0"}})
			started := map[uint64]string{}
			for started[1] != "started\n" || started[2] != "started\n" {
				if m, ok := c.recv(5 * time.Second).(*wire.Output); ok {
					started[m.Seq] += string(m.Data)
				}
			}
			time.Sleep(50 * time.Millisecond) // let sleep start
			begin := time.Now()
			c.send(&tt.cancel)
			res := c.collect(10*time.Second, 1, 2, 3)
			for seq, r := range res {
				flags, cancelled := tt.want[seq]
				if r.result.Flags != flags {
					t.Errorf("job %d flags = %d, want %d", seq, r.result.Flags, flags)
				}
				if !cancelled {
					if r.result.Exit != 0 {
						t.Errorf("job %d exit = %d, want 0", seq, r.result.Exit)
					}
					continue
				}
				sig := tt.cancel.Signal
				if sig == 0 {
					sig = uint64(syscall.SIGTERM)
				}
				if r.result.Exit != 128+sig || r.result.Signal != sig {
					t.Errorf("job %d exit=%d signal=%d, want %d %d", seq, r.result.Exit, r.result.Signal, 128+sig, sig)
				}
				if strings.Contains(r.stdout.String(), "slept") {
					t.Errorf("cancelled job %d went on after its sleep", seq)
				}
				if end := time.Unix(0, r.result.Start+r.result.Runtime); r.result.Flags&wire.ResultNotRun == 0 && end.Sub(begin) > time.Second {
					t.Errorf("job %d ended %v after the cancel", seq, end.Sub(begin))
				}
			}
		})
	}
}

// processesWith lists the processes whose command line contains marker.
func processesWith(t *testing.T, marker string) []proctest.Process {
	t.Helper()
	if !proctest.Supported() {
		t.Skip("no /proc")
	}
	return proctest.Cmdline(marker).List()
}

func waitNoProcesses(t *testing.T, marker string, within time.Duration) {
	t.Helper()
	if !proctest.Supported() {
		t.Skip("no /proc")
	}
	if left := proctest.Cmdline(marker).WaitNone(within); len(left) != 0 {
		t.Fatalf("processes left behind: %v", left)
	}
}

func waitProcesses(t *testing.T, marker string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(processesWith(t, marker)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d processes with %q started", n, marker)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sleeper returns a sleep duration that no other test uses, so that it marks
// this test's processes in /proc.
func sleeper(t *testing.T) string {
	return fmt.Sprintf("3%d.%d", os.Getpid()%1000, time.Now().UnixNano()%1000000)
}

func TestEOFKillsProcessTree(t *testing.T) {
	tests := []struct {
		name   string
		script string
	}{
		{name: "shell with background children", script: `sh -c 'sleep $1 & sleep $1' sh "$A1"`},
		{name: "interpreter background statement", script: `/bin/sleep $A1 & /bin/sleep $A1`},
		{name: "child that ignores TERM", script: `sh -c 'trap "" TERM; sleep $1; :' sh "$A1"`},
		{name: "grandchild holding the output open", script: `sh -c '(sleep $1; :) & wait' sh "$A1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := sleeper(t)
			for _, sub := range []bool{false, true} {
				var c *client
				if sub {
					c = startSubprocess(t)
				} else {
					c = startAgent(t, Options{Slots: 1})
				}
				c.send(&wire.Command{ID: 1, Template: script(tt.script)},
					&wire.Input{Command: 1, Seq: 1, Args: []string{marker}})
				waitProcesses(t, marker, 1)
				begin := time.Now()
				if err := c.close(); err != nil {
					t.Errorf("agent: %v", err)
				}
				if d := time.Since(begin); d > 3*time.Second {
					t.Errorf("agent took %v to exit", d)
				}
				waitNoProcesses(t, marker, 2*time.Second)
			}
		})
	}
}

func TestJobEndStopsWhatItLeft(t *testing.T) {
	marker := sleeper(t)
	c := startAgent(t, Options{Slots: 1})
	r := c.run(script(`sh -c 'sleep $A1 >/dev/null 2>&1 &'; sleep $A1 & echo done`), marker)
	if r.stdout.String() != "done\n" || r.result.Exit != 0 {
		t.Errorf("stdout %q exit %d", r.stdout.String(), r.result.Exit)
	}
	waitNoProcesses(t, marker, 2*time.Second)
}

func TestProtocolErrors(t *testing.T) {
	t.Run("unknown frame type is tolerated", func(t *testing.T) {
		c := startAgent(t, Options{Slots: 1})
		c.send(&wire.Unknown{T: 200, Payload: []byte("future")})
		c.send(&wire.Result{Seq: 9}) // agent-to-client type: ignored too
		r := c.run(script(`echo ok`))
		if r.stdout.String() != "ok\n" {
			t.Errorf("stdout = %q", r.stdout.String())
		}
	})
	t.Run("bad template is an error for that command", func(t *testing.T) {
		c := startAgent(t, Options{Slots: 1})
		c.send(&wire.Command{ID: 5, Template: []byte("not a program")})
		c.send(&wire.Command{ID: 6, Template: script(`echo "`)})
		for _, id := range []uint64{5, 6} {
			m, ok := c.recv(5 * time.Second).(*wire.Error)
			if !ok || m.Command != id || m.Message == "" {
				t.Fatalf("got %+v, want an error for command %d", m, id)
			}
		}
		c.send(&wire.Input{Command: 5, Seq: 1})
		if m, ok := c.recv(5 * time.Second).(*wire.Error); !ok || m.Seq != 1 {
			t.Fatalf("input for a refused command: got %+v", m)
		}
		r := c.run(script(`echo still`))
		if r.stdout.String() != "still\n" {
			t.Errorf("stdout = %q", r.stdout.String())
		}
	})
	garbage := []struct {
		name string
		data string
	}{
		{name: "malformed payload", data: "\x00\x00\x00\x02\x03\xff"},
		{name: "oversized frame", data: "\xff\xff\xff\xff\x03"},
		{name: "empty frame", data: "\x00\x00\x00\x00"},
		{name: "truncated frame", data: "\x00\x00\x00\x10\x03ab"},
	}
	for _, g := range garbage {
		t.Run(g.name, func(t *testing.T) {
			c := startAgent(t, Options{Slots: 1})
			io.WriteString(c.bw, g.data)
			c.bw.Flush()
			if g.name == "truncated frame" {
				c.toAgent.Close()
			}
			select {
			case err := <-c.served:
				c.served <- err
				if err == nil {
					t.Error("Serve returned nil for garbage")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Serve did not return")
			}
		})
	}
	t.Run("wrong magic", func(t *testing.T) {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		served := make(chan error, 1)
		go func() {
			served <- Serve(context.Background(), inR, outW, Options{Slots: 1})
			outW.Close()
		}()
		go io.Copy(io.Discard, outR)
		io.WriteString(inW, "hello, I am not an agent client")
		select {
		case err := <-served:
			if err == nil {
				t.Error("Serve accepted a wrong magic")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return")
		}
		inW.Close()
	})
}

func TestContextEndsServe(t *testing.T) {
	marker := sleeper(t)
	c, cancel, served := startCancellableAgent(t)
	c.send(&wire.Command{ID: 1, Template: script(`/bin/sleep $A1`)}, &wire.Input{Command: 1, Seq: 1, Args: []string{marker}})
	waitProcesses(t, marker, 1)
	cancel()
	waitServed(t, served)
	waitNoProcesses(t, marker, 2*time.Second)
}

// startCancellableAgent serves a one-slot agent under a context the test
// cancels; Serve's result arrives on served.
func startCancellableAgent(t *testing.T) (c *client, cancel context.CancelFunc, served <-chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- Serve(ctx, inR, outW, Options{Slots: 1}) }()
	t.Cleanup(func() {
		cancel()
		outW.Close()
	})
	c = &client{t: t, toAgent: inW}
	c.handshake(outR, inW)
	return c, cancel, result
}

// A client that stops reading blocks the jobs' output; it must not grow the
// agent's memory, and EOF must still end everything.
func TestSlowClientBackPressure(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- Serve(context.Background(), inR, outW, Options{Slots: 1})
		outW.Close()
	}()
	br := bufio.NewReader(outR)
	if _, err := wire.ReadMagic(br, 0); err != nil {
		t.Fatal(err)
	}
	fr := wire.NewReader(br)
	if _, err := fr.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(inW)
	fw := wire.NewWriter(bw)
	wire.WriteMagic(bw)
	fw.Write(&wire.Command{ID: 1, Template: script(`while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done`)})
	fw.Write(&wire.Input{Command: 1, Seq: 1})
	bw.Flush()
	// Read a little, then stop reading for a while.
	for range 10 {
		if _, err := fr.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	var ms runtimeMem
	ms.read()
	if ms.heap > 64<<20 {
		t.Errorf("heap grew to %d bytes while the client was not reading", ms.heap)
	}
	inW.Close()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after EOF with a client that does not read")
	}
}

func TestSubprocessAgent(t *testing.T) {
	c := startSubprocess(t)
	if c.hello.Slots != 2 || c.hello.PID == uint64(os.Getpid()) {
		t.Errorf("hello = %+v", c.hello)
	}
	c.send(&wire.Command{ID: 1, Template: script(`echo "$A1"; sh -c 'echo "$PARALLEL_SEQ" >&2'`)})
	for i := uint64(1); i <= 20; i++ {
		c.send(&wire.Input{Command: 1, Seq: i, Args: []string{fmt.Sprint("arg", i)}})
	}
	res := c.collect(20*time.Second, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
	for i := uint64(1); i <= 20; i++ {
		r := res[i]
		if r.stdout.String() != fmt.Sprint("arg", i, "\n") || r.stderr.String() != fmt.Sprint(i, "\n") || r.result.Exit != 0 {
			t.Errorf("job %d: stdout %q stderr %q exit %d", i, r.stdout.String(), r.stderr.String(), r.result.Exit)
		}
	}
	if err := c.close(); err != nil {
		t.Errorf("agent exit: %v", err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestDebugTrace(t *testing.T) {
	var log lockedBuffer
	c := startAgent(t, Options{Slots: 1, Debug: true, Stderr: &log})
	c.send(&wire.Unknown{T: 99, Payload: []byte{1}})
	r := c.run(script(`echo traced`))
	if r.stdout.String() != "traced\n" {
		t.Errorf("stdout = %q", r.stdout.String())
	}
	c.close()
	for _, want := range []string{"-> hello", "<- command id=1", "<- input", "-> output seq=1 stream=1 7 bytes", "-> result", "ignoring a type(99) frame"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, log.String())
		}
	}
}

func TestNoGoroutineLeftAfterServe(t *testing.T) {
	before := runtime.NumGoroutine()
	c := startAgent(t, Options{Slots: 2})
	c.send(&wire.Command{ID: 1, Template: script(`echo "$A1"; sh -c 'echo x >&2'; sleep "$A2" & wait`), Workdir: "..."},
		&wire.Input{Command: 1, Seq: 1, Args: []string{"a", "0"}},
		&wire.Input{Command: 1, Seq: 2, Args: []string{"b", "5"}, Timeout: 100},
		&wire.Input{Command: 1, Seq: 3, Args: []string{"c", "5"}})
	c.collect(10*time.Second, 1, 2)
	c.close()
	waitGoroutines(t, before)
}

// waitServed waits for Serve's result after its context ended.
func waitServed(t *testing.T, served <-chan error) {
	t.Helper()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
}

// waitGoroutines waits up to 3 s for the goroutine count to fall back to
// before, and prints every stack if it does not.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSlotNumberIsLowestFree checks that a job takes the lowest slot number
// ({%}, PARALLEL_JOBSLOT) free when it starts, as in GNU Parallel: not the
// number of whichever slot goroutine happened to run.
func TestSlotNumberIsLowestFree(t *testing.T) {
	c := startAgent(t, Options{Slots: 3})
	c.send(&wire.Command{ID: 1, Template: script(`if [ "$A1" = hold ]; then sleep 0.5; fi; echo "$PARALLEL_JOBSLOT"`)})
	// One at a time, every job finds slot 1 free.
	for seq := uint64(1); seq <= 6; seq++ {
		c.send(&wire.Input{Command: 1, Seq: seq, Args: []string{"quick"}})
		r := c.collect(10*time.Second, seq)[seq]
		if r.result.Slot != 1 || r.stdout.String() != "1\n" {
			t.Fatalf("job %d alone ran on slot %d, printed %q; want 1", seq, r.result.Slot, r.stdout.String())
		}
	}
	// While a job holds slot 1, the next ones take slot 2.
	c.send(&wire.Input{Command: 1, Seq: 7, Args: []string{"hold"}})
	time.Sleep(100 * time.Millisecond)
	for seq := uint64(8); seq <= 10; seq++ {
		c.send(&wire.Input{Command: 1, Seq: seq, Args: []string{"quick"}})
		r := c.collect(10*time.Second, seq)[seq]
		if r.result.Slot != 2 || r.stdout.String() != "2\n" {
			t.Errorf("job %d beside a running job ran on slot %d, printed %q; want 2", seq, r.result.Slot, r.stdout.String())
		}
	}
	if r := c.collect(10*time.Second, 7)[7]; r.result.Slot != 1 {
		t.Errorf("the holding job ran on slot %d, want 1", r.result.Slot)
	}
}
