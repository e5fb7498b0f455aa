package agent

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"concurr/internal/template"
	"concurr/internal/wire"
)

// script makes a template program whose $A1, $A2 ... are argument
// positions, $ARGS all arguments, $SEQ the sequence number, $SLOT the slot
// and $HOST the host, encoded as the client sends it.
func script(src string) []byte {
	return encode(&template.Program{Script: src, Vars: []template.Var{
		{Name: "A1", Kind: template.KindArg, Index: 1},
		{Name: "A2", Kind: template.KindArg, Index: 2},
		{Name: "ARGS", Kind: template.KindArg},
		{Name: "SEQ", Kind: template.KindSeq},
		{Name: "SLOT", Kind: template.KindSlot},
		{Name: "HOST", Kind: template.KindHost},
	}})
}

// fromInput makes a program whose jobs' arguments are their command.
func fromInput() []byte { return encode(&template.Program{FromInput: true}) }

func encode(p *template.Program) []byte {
	b, err := p.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// client is a test client speaking the protocol to an agent.
type client struct {
	t       *testing.T
	toAgent io.WriteCloser
	bw      *bufio.Writer
	fw      *wire.Writer
	msgs    chan wire.Message
	readErr chan error
	served  chan error // Serve's return, for in-process agents
	hello   *wire.Hello
	cmd     *exec.Cmd // for subprocess agents
}

// startAgent runs Serve in-process over a pair of pipes.
func startAgent(t *testing.T, opts Options) *client {
	t.Helper()
	if opts.Stderr == nil {
		opts.Stderr = testWriter{t}
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, toAgent: inW, served: make(chan error, 1)}
	go func() {
		err := Serve(context.Background(), inR, outW, opts)
		outW.Close()
		inR.Close()
		c.served <- err
	}()
	c.handshake(outR, inW)
	t.Cleanup(func() { c.close() })
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (c *client) handshake(fromAgent io.Reader, toAgent io.Writer) {
	c.t.Helper()
	br := bufio.NewReader(fromAgent)
	if _, err := wire.ReadMagic(br, 0); err != nil {
		c.t.Fatalf("read magic: %v", err)
	}
	fr := wire.NewReader(br)
	f, err := fr.ReadFrame()
	if err != nil {
		c.t.Fatalf("read hello: %v", err)
	}
	m, err := wire.Decode(f)
	if err != nil {
		c.t.Fatalf("decode hello: %v", err)
	}
	hello, ok := m.(*wire.Hello)
	if !ok {
		c.t.Fatalf("first message is %s, want hello", m.Type())
	}
	c.hello = hello
	c.bw = bufio.NewWriter(toAgent)
	c.fw = wire.NewWriter(c.bw)
	if err := wire.WriteMagic(c.bw); err != nil {
		c.t.Fatal(err)
	}
	c.bw.Flush()
	c.msgs = make(chan wire.Message, 1<<16)
	c.readErr = make(chan error, 1)
	go func() {
		defer close(c.msgs)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				c.readErr <- err
				return
			}
			m, err := wire.Decode(f)
			if err != nil {
				c.readErr <- err
				return
			}
			c.msgs <- m
		}
	}()
}

func (c *client) send(ms ...wire.Message) {
	c.t.Helper()
	for _, m := range ms {
		if err := c.fw.Write(m); err != nil {
			c.t.Fatalf("send %s: %v", m.Type(), err)
		}
	}
	if err := c.bw.Flush(); err != nil {
		c.t.Fatalf("flush: %v", err)
	}
}

// recv returns the next message, failing the test after timeout.
func (c *client) recv(timeout time.Duration) wire.Message {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatalf("agent stream ended: %v", <-c.readErr)
		}
		return m
	case <-time.After(timeout):
		c.t.Fatalf("no message from the agent within %v", timeout)
	}
	return nil
}

// close ends the session with EOF and waits for the agent to finish.
func (c *client) close() error {
	c.toAgent.Close()
	for range c.msgs {
	}
	if c.cmd != nil {
		done := make(chan error, 1)
		go func() { done <- c.cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			c.t.Errorf("agent process did not exit after EOF")
			return <-done
		}
	}
	select {
	case err := <-c.served:
		c.served <- err
		return err
	case <-time.After(10 * time.Second):
		c.t.Errorf("Serve did not return after EOF")
		return nil
	}
}

// jobResult is what the client learns about one job.
type jobResult struct {
	stdout, stderr strings.Builder
	result         *wire.Result
}

// collect reads messages until every seq in want has its Result, and checks
// that no Output follows a Result.
func (c *client) collect(timeout time.Duration, want ...uint64) map[uint64]*jobResult {
	c.t.Helper()
	res := make(map[uint64]*jobResult)
	get := func(seq uint64) *jobResult {
		r := res[seq]
		if r == nil {
			r = &jobResult{}
			res[seq] = r
		}
		return r
	}
	pending := make(map[uint64]bool)
	for _, s := range want {
		pending[s] = true
	}
	deadline := time.Now().Add(timeout)
	for len(pending) > 0 {
		m := c.recv(time.Until(deadline))
		switch m := m.(type) {
		case *wire.Output:
			r := get(m.Seq)
			if r.result != nil {
				c.t.Errorf("job %d: output after its result", m.Seq)
			}
			if len(m.Data) > maxChunk {
				c.t.Errorf("job %d: output chunk of %d bytes", m.Seq, len(m.Data))
			}
			if m.Stream == wire.Stdout {
				r.stdout.Write(m.Data)
			} else {
				r.stderr.Write(m.Data)
			}
		case *wire.Result:
			get(m.Seq).result = m
			delete(pending, m.Seq)
		case *wire.Error:
			c.t.Fatalf("agent error: %+v", m)
		case *wire.Credit:
			// Room for more of a stream that the test has sent whole.
		default:
			c.t.Fatalf("unexpected %s message: %+v", m.Type(), m)
		}
	}
	return res
}

// run creates command 1 with src and runs one job with args.
func (c *client) run(tmpl []byte, args ...string) *jobResult {
	c.t.Helper()
	c.send(&wire.Command{ID: 1, Template: tmpl, Slots: 1},
		&wire.Input{Command: 1, Seq: 1, Args: args})
	r := c.collect(20*time.Second, 1)[1]
	c.send(&wire.Delete{Command: 1})
	return r
}

// helperEnv makes the test binary act as an agent; see TestMain.
const helperEnv = "CONCURR_AGENT_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		err := Serve(context.Background(), os.Stdin, os.Stdout, Options{Slots: 2, Stderr: os.Stderr})
		if err != nil {
			os.Stderr.WriteString("concurr: error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startSubprocess runs the test binary as an agent over its stdin/stdout.
func startSubprocess(t *testing.T) *client {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stderr = testWriter{t}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, toAgent: in, cmd: cmd}
	c.handshake(out, in)
	t.Cleanup(func() { c.close() })
	return c
}
