package sched

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concurr/internal/joblog"
	"concurr/internal/output"
	"concurr/internal/wire"
)

// scriptedDial returns a Dial that starts an agent played by answer: it
// opens with hello, then answer is called with every message the client
// sends and a function to reply with; answer returns false to end the
// stream at once, as a host that crashes does.
func scriptedDial(t *testing.T, hello wire.Hello, answer func(m wire.Message, reply func(wire.Message)) bool) func(context.Context) (*Conn, error) {
	return func(ctx context.Context) (*Conn, error) {
		toAgent, fromClient := io.Pipe()
		toClient, fromAgent := io.Pipe()
		drop := func() {
			fromAgent.CloseWithError(io.ErrUnexpectedEOF)
			toAgent.Close()
		}
		var wg sync.WaitGroup
		t.Cleanup(func() {
			drop()
			wg.Wait()
		})
		wg.Go(func() {
			opening, _ := wire.AppendAgentOpening(nil, &hello)
			if _, err := fromAgent.Write(opening); err != nil {
				return
			}
			r := wire.NewReader(bufio.NewReader(toAgent))
			if r.ReadClientOpening() != nil {
				return
			}
			w := wire.NewWriter(bufio.NewWriter(fromAgent))
			reply := func(m wire.Message) {
				w.Write(m)
				w.Flush()
			}
			for {
				f, err := r.ReadFrame()
				if err != nil {
					fromAgent.Close()
					return
				}
				m, err := wire.Decode(f)
				if err != nil {
					drop()
					return
				}
				if !answer(m, reply) {
					drop()
					return
				}
			}
		})
		return Handshake(ctx, toClient, fromClient, closeFunc(func() error {
			fromClient.Close()
			toClient.Close()
			toAgent.Close()
			return nil
		}))
	}
}

// echoAgent answers every input with a success.
func echoAgent(m wire.Message, reply func(wire.Message)) bool {
	if in, ok := m.(*wire.Input); ok {
		reply(&wire.Result{Seq: in.Seq, Slot: 1})
	}
	return true
}

// announcedSlots is the CLI's default: as many slots as the agent says.
func announcedSlots(h wire.Hello) int { return int(h.Slots) }

// warnings collects a run's warnings.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(err error) {
	w.mu.Lock()
	w.list = append(w.list, err.Error())
	w.mu.Unlock()
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.list, "\n")
}

// runBounded runs Run and fails the test if it does not return in time.
func runBounded(t *testing.T, limit time.Duration, cfg Config, nodes []Node, src Source) (Summary, error) {
	t.Helper()
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Run(context.Background(), cfg, nodes, src)
		done <- result{sum, err}
	}()
	select {
	case r := <-done:
		return r.sum, r.err
	case <-time.After(limit):
		t.Fatalf("the run did not end within %s", limit)
		return Summary{}, nil
	}
}

// A broken or hostile agent's slot count, or a -j beyond reason, neither
// panics the client nor keeps it busy: the node is refused or bounded, and
// the other node does the work.
func TestAbsurdSlotCounts(t *testing.T) {
	tests := []struct {
		name      string
		announced uint64
		slots     func(wire.Hello) int
		wantWarn  string // when the node is refused
	}{
		{"agent announces 2^63-1", 1<<63 - 1, announcedSlots, "more than"},
		{"agent announces 2^40", 1 << 40, announcedSlots, "more than"},
		{"agent announces 2^64-1", 1<<64 - 1, announcedSlots, "more than"},
		{"-j asks for 2^40", 4, fixedSlots(1 << 40), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warned warnings
			var stdout strings.Builder
			cfg := Config{Template: compile(t, "echo", "{}"), Warn: warned.add,
				Output: output.New(&stdout, io.Discard, output.Options{KeepOrder: true})}
			// The good node joins once the odd one's handshake is over:
			// alone, it would finish the jobs before the odd one is up.
			oddDialled := make(chan struct{})
			odd := scriptedDial(t, wire.Hello{Version: wire.Version, Slots: tt.announced}, echoAgent)
			good := localDial(t, 2, 0)
			nodes := []Node{
				{Name: "odd", Slots: tt.slots, Prefetch: 2, Dial: func(ctx context.Context) (*Conn, error) {
					defer close(oddDialled)
					return odd(ctx)
				}},
				{Name: "good", Slots: fixedSlots(2), Dial: func(ctx context.Context) (*Conn, error) {
					<-oddDialled
					// The odd node's slots are checked after its dial
					// returns: a good node quick enough to run every job
					// first would leave it still starting, and dropped
					// without a look. So it waits for the warning, for
					// 10 s at most.
					for deadline := time.Now().Add(10 * time.Second); tt.wantWarn != "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
						if strings.Contains(warned.String(), "odd: ") {
							break
						}
					}
					return good(ctx)
				}},
			}
			sum, err := runBounded(t, 20*time.Second, cfg, nodes, &numbers{n: 20})
			cfg.Output.Flush()
			if err != nil || sum.Jobs != 20 || sum.Failed != 0 {
				t.Fatalf("summary %+v, err %v (warnings %q)", sum, err, warned.String())
			}
			if tt.wantWarn != "" && (!strings.Contains(warned.String(), "odd: ") || !strings.Contains(warned.String(), tt.wantWarn)) {
				t.Fatalf("warnings %q, want one naming the node and containing %q", warned.String(), tt.wantWarn)
			}
		})
	}
}

// list yields one job per value.
type list []string

func (l *list) Next() ([]string, error) {
	if len(*l) == 0 {
		return nil, io.EOF
	}
	v := (*l)[0]
	*l = (*l)[1:]
	return []string{v}, nil
}

// A job whose arguments cannot fit in a frame fails, with GNU Parallel's
// wording and Exitval -1, and the run goes on: it is not sent, so no node
// is lost over it.
func TestArgumentTooLongForAFrame(t *testing.T) {
	huge := strings.Repeat("a", wire.MaxFrame)
	tests := []struct {
		name    string
		retries int
		nodes   int
	}{
		{"one node", 0, 1},
		{"two nodes, retries", 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warned warnings
			var stdout strings.Builder
			logPath := filepath.Join(t.TempDir(), "log")
			log, err := joblog.Create(logPath, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Template: compile(t, "echo", "{}"), Warn: warned.add, JobLog: log, Retries: tt.retries,
				Output: output.New(&stdout, io.Discard, output.Options{KeepOrder: true})}
			var nodes []Node
			for i := range tt.nodes {
				nodes = append(nodes, Node{Name: fmt.Sprint("n", i), Slots: fixedSlots(1), Dial: localDial(t, 1, 0)})
			}
			src := list{"ok1", huge, "ok2"}
			sum, err := runBounded(t, 30*time.Second, cfg, nodes, &src)
			cfg.Output.Flush()
			log.Close()
			if err != nil || sum.Jobs != 3 || sum.Failed != 1 {
				t.Fatalf("summary %+v, err %v (warnings %.300q)", sum, err, warned.String())
			}
			if stdout.String() != "ok1\nok2\n" {
				t.Fatalf("stdout %.100q", stdout.String())
			}
			w := warned.String()
			if !strings.Contains(w, "command line too long") || !strings.Contains(w, "job 2") || strings.Contains(w, "lost") || len(w) > 1000 {
				t.Fatalf("warnings %.300q, want one short line naming job 2 as too long, and no loss", w)
			}
			// By hand: the line of job 2 holds its whole command.
			b, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			exits := map[string]string{}
			for _, l := range lines[1:] {
				f := strings.SplitN(l, "\t", 9)
				exits[f[0]] = f[6]
			}
			if len(lines) != 4 || exits["2"] != "-1" {
				t.Fatalf("job log: %d lines, Exitvals %v; want 3 jobs, job 2's -1", len(lines), exits)
			}
		})
	}
}

// A command whose environment cannot fit in a frame ends the run with an
// error, rather than losing and rejoining every node for ever.
func TestEnvironmentTooLargeForAFrame(t *testing.T) {
	cfg := Config{Template: compile(t, "echo", "{}"), Warn: func(error) {},
		Env:    []string{"BIG=" + strings.Repeat("x", wire.MaxFrame)},
		Output: output.New(io.Discard, io.Discard, output.Options{})}
	nodes := []Node{{Name: "n1", Slots: fixedSlots(1), Dial: localDial(t, 1, 0)}}
	_, err := runBounded(t, 30*time.Second, cfg, nodes, &numbers{n: 3})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want one saying the command is too large", err)
	}
}

// A job that kills its agent, whichever node runs it, is failed after it
// has lost two hosts, or --retries of them when that is more, with
// Exitval -1; the other jobs finish.
func TestJobThatKillsItsAgent(t *testing.T) {
	oldDelay := RejoinDelay
	RejoinDelay = 5 * time.Millisecond
	defer func() { RejoinDelay = oldDelay }()
	tests := []struct {
		name       string
		nodes      int
		retries    int
		wantPoison int // how many times the poison job is sent
		prefetch   int
	}{
		{"two nodes", 2, 0, 2, 0},
		{"one node", 1, 0, 2, 0},
		{"two nodes, --retries 4", 2, 4, 4, 0},
		// The jobs sent ahead are lost with the poison job the first time,
		// and are not blamed for it.
		{"one node, jobs sent ahead", 1, 0, 2, 4},
		{"two nodes, jobs sent ahead", 2, 0, 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var poisoned atomic.Int32
			poisonAgent := func(m wire.Message, reply func(wire.Message)) bool {
				if in, ok := m.(*wire.Input); ok {
					if in.Args[0] == "poison" {
						poisoned.Add(1)
						return false
					}
					reply(&wire.Output{Seq: in.Seq, Stream: wire.Stdout, Data: []byte(in.Args[0] + "\n")})
					reply(&wire.Result{Seq: in.Seq, Slot: 1})
				}
				return true
			}
			var warned warnings
			var stdout strings.Builder
			logPath := filepath.Join(t.TempDir(), "log")
			log, err := joblog.Create(logPath, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Template: compile(t, "echo", "{}"), Warn: warned.add, JobLog: log, Retries: tt.retries,
				Output: output.New(&stdout, io.Discard, output.Options{KeepOrder: true})}
			var nodes []Node
			for i := range tt.nodes {
				nodes = append(nodes, Node{Name: fmt.Sprint("h", i+1), Slots: fixedSlots(1), Prefetch: tt.prefetch,
					Dial: scriptedDial(t, wire.Hello{Version: wire.Version, Slots: 1}, poisonAgent)})
			}
			src := list{"ok1", "poison", "ok2", "ok3"}
			sum, err := runBounded(t, 20*time.Second, cfg, nodes, &src)
			cfg.Output.Flush()
			log.Close()
			if err != nil || sum.Jobs != 4 || sum.Failed != 1 {
				t.Fatalf("summary %+v, err %v (warnings %q)", sum, err, warned.String())
			}
			if stdout.String() != "ok1\nok2\nok3\n" {
				t.Fatalf("stdout %q", stdout.String())
			}
			if n := int(poisoned.Load()); n != tt.wantPoison {
				t.Fatalf("the poison job was sent %d times, want %d", n, tt.wantPoison)
			}
			if !strings.Contains(warned.String(), fmt.Sprintf("job 2 was running each time its host was lost (%d times", tt.wantPoison)) {
				t.Fatalf("warnings %q, want one naming job 2", warned.String())
			}
			entries, err := joblog.Read(logPath, func(err error) { t.Errorf("job log: %v", err) })
			if err != nil || len(entries) != 4 {
				t.Fatalf("job log: %d entries, %v", len(entries), err)
			}
			for _, e := range entries {
				if want := map[uint64]int{2: -1}[e.Seq]; e.Exit != want {
					t.Fatalf("job %d's Exitval is %d, want %d", e.Seq, e.Exit, want)
				}
			}
		})
	}
}

// A node whose agent refuses the command is dropped at once and its jobs
// go to the others, or the run ends with the refusal when none is left;
// an agent's error for one job finishes that job, failed. Nothing waits
// for credit that never comes.
func TestAgentErrors(t *testing.T) {
	hello := wire.Hello{Version: wire.Version, Slots: 2}
	tests := []struct {
		name       string
		agents     []string // "refuse" the command, "refuse job 2", or "echo" once a node has refused
		wantErr    string   // the run's error
		wantWarn   string
		wantFailed int
	}{
		{"the only node refuses the command", []string{"refuse"},
			"n1: the agent refused the command: workdir: mkdir /nope: permission denied", "", 0},
		{"every node refuses the command", []string{"refuse", "refuse"},
			"the agent refused the command", "the agent refused the command", 0},
		{"one node of two refuses the command", []string{"refuse", "echo"},
			"", "n1: the agent refused the command", 0},
		{"the agent refuses one job", []string{"refuse job 2"},
			"", "n1: the agent refused job 2: job 2 is already running", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The healthy node answers only once a node has refused, so
			// that it does not finish every job first.
			var refusedOnce sync.Once
			refused := make(chan struct{})
			agents := map[string]func(wire.Message, func(wire.Message)) bool{
				"refuse": func(m wire.Message, reply func(wire.Message)) bool {
					switch m := m.(type) {
					case *wire.Command:
						reply(&wire.Error{Command: m.ID, Message: "workdir: mkdir /nope: permission denied"})
						refusedOnce.Do(func() { close(refused) })
					case *wire.Input:
						reply(&wire.Error{Command: m.Command, Seq: m.Seq, Message: "no command 1"})
					}
					return true
				},
				"refuse job 2": func(m wire.Message, reply func(wire.Message)) bool {
					if in, ok := m.(*wire.Input); ok && in.Args[0] == "2" {
						reply(&wire.Error{Command: in.Command, Seq: in.Seq, Message: "job 2 is already running"})
						return true
					}
					return echoAgent(m, reply)
				},
				"echo": func(m wire.Message, reply func(wire.Message)) bool {
					select {
					case <-refused:
					case <-time.After(10 * time.Second):
					}
					return echoAgent(m, reply)
				},
			}
			var warned warnings
			cfg := Config{Template: compile(t, "echo", "{}"), Warn: warned.add,
				Output: output.New(io.Discard, io.Discard, output.Options{})}
			var nodes []Node
			for i, a := range tt.agents {
				nodes = append(nodes, Node{Name: fmt.Sprint("n", i+1), Slots: fixedSlots(2), Prefetch: 2, Dial: scriptedDial(t, hello, agents[a])})
			}
			sum, err := runBounded(t, 20*time.Second, cfg, nodes, &numbers{n: 10})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				// The last refusal is the run's error, not a warning too.
				if n := strings.Count(warned.String(), "refused the command"); n != len(tt.agents)-1 {
					t.Fatalf("%d refusals in the warnings %q, want %d", n, warned.String(), len(tt.agents)-1)
				}
			} else if err != nil || sum.Jobs != 10 || sum.Failed != tt.wantFailed {
				t.Fatalf("summary %+v, err %v; want 10 jobs, %d failed (warnings %q)", sum, err, tt.wantFailed, warned.String())
			}
			if w := warned.String(); tt.wantWarn != "" && !strings.Contains(w, tt.wantWarn) || tt.wantWarn == "" && w != "" {
				t.Fatalf("warnings %q, want %q", w, tt.wantWarn)
			}
		})
	}
}

// What a broken agent reports is kept within the protocol's ranges.
func TestBoundResult(t *testing.T) {
	tests := []struct {
		name string
		in   wire.Result
		want wire.Result
	}{
		{"in range", wire.Result{Exit: 2, Signal: 9, Runtime: 5}, wire.Result{Exit: 2, Signal: 9, Runtime: 5}},
		{"huge exit and signal", wire.Result{Exit: 1 << 40, Signal: 1<<64 - 1}, wire.Result{Exit: 255, Signal: 255}},
		{"negative runtime", wire.Result{Runtime: -1 << 62}, wire.Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in
			boundResult(&got)
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := clipMessage(strings.Repeat("é", 1000)); len(got) > 510 || !strings.HasSuffix(got, "é…") {
		t.Fatalf("clipped to %d bytes, %q at the end", len(got), got[len(got)-8:])
	}
}
