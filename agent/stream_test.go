package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

// feed runs job 1 of a one-slot command with data as its input stream of
// the given kind, sending the data as a client must: within the stream's
// credit. It returns the job's result once the job has ended.
func (c *client) feed(tmpl []byte, kind uint64, open wire.Open, data []byte, args ...string) *jobResult {
	c.t.Helper()
	open.Stream, open.Kind, open.Seq = 7, kind, 1
	c.send(&wire.Command{ID: 1, Template: tmpl, Slots: 1}, &open,
		&wire.Input{Command: 1, Seq: 1, Args: args})
	res := &jobResult{}
	credit := wire.StreamWindow
	ended := false
	deadline := time.Now().Add(20 * time.Second)
	for res.result == nil {
		if !ended && credit > 0 {
			n := min(len(data), credit, wire.StreamChunk)
			if n > 0 {
				c.send(&wire.Data{Stream: 7, Data: data[:n]})
				data, credit = data[n:], credit-n
				continue
			}
			if len(data) == 0 {
				c.send(&wire.End{Stream: 7})
				ended = true
			}
		}
		switch m := c.recv(time.Until(deadline)).(type) {
		case *wire.Credit:
			if m.Stream != 7 {
				c.t.Errorf("credit for stream %d", m.Stream)
			}
			credit += int(m.Bytes)
			if credit > wire.StreamWindow {
				c.t.Errorf("credit grew to %d, beyond the window", credit)
			}
		case *wire.Output:
			if m.Stream == wire.Stdout {
				res.stdout.Write(m.Data)
			} else {
				res.stderr.Write(m.Data)
			}
		case *wire.Result:
			res.result = m
		case *wire.Error:
			c.t.Fatalf("agent error: %+v", m)
		}
	}
	c.send(&wire.Delete{Command: 1})
	return res
}

func TestJobInputStreams(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcde\n"), 3<<20/16*3) // 9 MB, beyond the window
	binary := []byte("a\x00b\xff\n\x00")
	file := filepath.Join(t.TempDir(), "part")
	if err := os.WriteFile(file, []byte("skip|the middle|skip"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		kind   uint64
		open   wire.Open
		script string
		data   []byte
		args   []string
		want   string
	}{
		{"stdin", wire.StreamStdin, wire.Open{}, "cat", []byte("one\ntwo\n"), nil, "one\ntwo\n"},
		{"binary stdin", wire.StreamStdin, wire.Open{}, "od -An -c | tr -s ' '", binary, nil, " a \\0 b 377 \\n \\0\n"},
		{"stdin beyond the window", wire.StreamStdin, wire.Open{}, "wc -c", big, nil, "9437184\n"},
		{"shared by the job's commands", wire.StreamStdin, wire.Open{}, "read a; read b; echo $b; cat", []byte("1\n2\n3\n"), nil, "2\n3\n"},
		{"not read at all", wire.StreamStdin, wire.Open{}, "echo done", big, nil, "done\n"},
		{"partly read", wire.StreamStdin, wire.Open{}, "head -c 3", big, nil, "012"},
		{"empty", wire.StreamStdin, wire.Open{}, "wc -c", nil, nil, "0\n"},
		{"a file range after the data", wire.StreamStdin, wire.Open{Path: file, Offset: 5, Length: 10}, "cat; echo", []byte("head:"), nil, "head:the middle\n"},
		{"cat", wire.StreamCat, wire.Open{}, `wc -c < "$A1"; case $A1 in /*) echo absolute;; esac`, big, []string{""}, "9437184\nabsolute\n"},
		{"cat keeps later arguments", wire.StreamCat, wire.Open{}, `cat "$A1"; echo "$A2"`, []byte("x\n"), []string{"", "second"}, "x\nsecond\n"},
		{"fifo", wire.StreamFifo, wire.Open{}, `wc -c < "$A1"`, big, []string{""}, "9437184\n"},
		{"fifo never opened", wire.StreamFifo, wire.Open{}, `echo no reader`, big, []string{""}, "no reader\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := startAgent(t, Options{Slots: 1})
			defer c.close()
			r := c.feed(script(tt.script), tt.kind, tt.open, tt.data, tt.args...)
			if got := r.stdout.String(); got != tt.want || r.result.Exit != 0 {
				t.Fatalf("stdout %q, exit %d, stderr %q; want %q", got, r.result.Exit, r.stderr.String(), tt.want)
			}
		})
	}
}

// TestJobInputFilesRemoved checks that --cat's file and --fifo's fifo are
// gone once the job has ended.
func TestJobInputFilesRemoved(t *testing.T) {
	for _, kind := range []uint64{wire.StreamCat, wire.StreamFifo} {
		c := startAgent(t, Options{Slots: 1})
		r := c.feed(script(`echo "$A1"; cat < "$A1" >/dev/null`), kind, wire.Open{}, []byte("x\n"), "")
		c.close()
		name := strings.TrimSpace(r.stdout.String())
		if name == "" {
			t.Fatalf("kind %d: no name printed; stderr %q", kind, r.stderr.String())
		}
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Errorf("kind %d: %s still exists after the job: %v", kind, name, err)
		}
	}
}

// TestJobWithoutInputReadsNothing is GNU Parallel's behaviour: a job that
// reads stdin without --pipe gets EOF at once.
func TestJobWithoutInputReadsNothing(t *testing.T) {
	c := startAgent(t, Options{Slots: 1})
	defer c.close()
	r := c.run(script("cat; read x || echo eof"))
	if got := r.stdout.String(); got != "eof\n" {
		t.Fatalf("got %q", got)
	}
}
