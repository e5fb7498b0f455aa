package agent

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"concurr/internal/wire"
)

// TestSinkRoundTrip reads what the sink writes with the client's side of
// the protocol: the opening and every frame must come back as sent, in
// order, through the flusher's buffer swaps.
func TestSinkRoundTrip(t *testing.T) {
	hello := &wire.Hello{Version: wire.Version, BuildID: "id", OS: "linux", Arch: "amd64", Hostname: "n", Slots: 2, PID: 7}
	big := bytes.Repeat([]byte("0123456789abcdef"), maxChunk/16)
	type send func(s *sink, jobs map[uint64]*job) error
	output := func(seq uint64, stream uint8, data []byte) send {
		return func(s *sink, jobs map[uint64]*job) error { return s.sendOutput(jobs[seq], stream, data) }
	}
	result := func(m *wire.Result) send {
		return func(s *sink, jobs map[uint64]*job) error { return s.sendResult(jobs[m.Seq], m) }
	}
	message := func(m wire.Message) send {
		return func(s *sink, _ map[uint64]*job) error { return s.send(m) }
	}
	// many is n jobs' output and results, more than the sink buffers at once.
	many := func(n int) (sends []send, want []wire.Message) {
		for seq := uint64(1); seq <= uint64(n); seq++ {
			data := big[:seq*997%maxChunk]
			res := &wire.Result{Seq: seq, Exit: seq % 256, Slot: seq%2 + 1, Start: int64(seq) << 32, Runtime: -int64(seq)}
			sends = append(sends, output(seq, wire.Stdout, data), result(res))
			want = append(want, &wire.Output{Seq: seq, Stream: wire.Stdout, Data: data}, res)
		}
		return sends, want
	}
	manySends, manyWant := many(64)
	tests := []struct {
		name  string
		sends []send
		want  []wire.Message // after the Hello
		errs  []error        // what each send returns, when not all nil
	}{
		{"opening alone", nil, nil, nil},
		{
			"every kind of frame",
			[]send{
				output(1, wire.Stdout, []byte("out\n")),
				output(1, wire.Stderr, []byte("err\x00\xff")),
				output(2, wire.Stdout, nil),
				result(&wire.Result{Seq: 1, Exit: 143, Signal: 15, Slot: 2, Start: 1, Runtime: 2, Flags: wire.ResultCancelled}),
				message(&wire.Ping{Nonce: 99}),
				message(&wire.Error{Command: 1, Seq: 3, Message: "no command 1"}),
				output(2, wire.Stdout, big),
				result(&wire.Result{Seq: 2}),
			},
			[]wire.Message{
				&wire.Output{Seq: 1, Stream: wire.Stdout, Data: []byte("out\n")},
				&wire.Output{Seq: 1, Stream: wire.Stderr, Data: []byte("err\x00\xff")},
				&wire.Output{Seq: 2, Stream: wire.Stdout}, // empty data decodes as nil
				&wire.Result{Seq: 1, Exit: 143, Signal: 15, Slot: 2, Start: 1, Runtime: 2, Flags: wire.ResultCancelled},
				&wire.Ping{Nonce: 99},
				&wire.Error{Command: 1, Seq: 3, Message: "no command 1"},
				&wire.Output{Seq: 2, Stream: wire.Stdout, Data: big},
				&wire.Result{Seq: 2},
			},
			nil,
		},
		{
			"no output after the result",
			[]send{result(&wire.Result{Seq: 1}), output(1, wire.Stdout, []byte("late"))},
			[]wire.Message{&wire.Result{Seq: 1}},
			[]error{nil, errJobEnded},
		},
		{"more than the buffer holds", manySends, manyWant, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stream bytes.Buffer
			s := newSink(&stream, nil, nil)
			go s.run()
			jobs := make(map[uint64]*job)
			for seq := uint64(1); seq <= 64; seq++ {
				jobs[seq] = &job{seq: seq}
			}
			if err := s.sendOpening(hello); err != nil {
				t.Fatal(err)
			}
			for i, send := range tt.sends {
				var want error
				if tt.errs != nil {
					want = tt.errs[i]
				}
				if err := send(s, jobs); !errors.Is(err, want) {
					t.Fatalf("send %d: %v, want %v", i, err, want)
				}
			}
			s.close(false)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the flusher did not finish")
			}

			var answer strings.Builder
			r := wire.NewReader(bufio.NewReader(&stream))
			got, _, err := wire.ClientHandshake(r, wire.NewWriter(bufio.NewWriter(&answer)))
			if err != nil {
				t.Fatalf("client handshake: %v", err)
			}
			if !reflect.DeepEqual(got, hello) {
				t.Fatalf("hello %+v, want %+v", got, hello)
			}
			for i, want := range tt.want {
				f, err := r.ReadFrame()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				m, err := wire.Decode(f)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !reflect.DeepEqual(m, want) {
					t.Fatalf("frame %d: %+v, want %+v", i, m, want)
				}
			}
			if f, err := r.ReadFrame(); err != io.EOF {
				t.Fatalf("after the last frame: %s, %v; want EOF", f.Type, err)
			}
		})
	}
}

// BenchmarkSinkOutput measures the sink's hot path: a short chunk of output
// and a Result per job, encoded and written by the flusher.
func BenchmarkSinkOutput(b *testing.B) {
	s := newSink(io.Discard, nil, nil)
	go s.run()
	data := []byte("some/file/name.txt\n")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := &job{seq: uint64(i + 1)}
		s.sendOutput(j, wire.Stdout, data)
		s.sendResult(j, &wire.Result{Seq: j.seq, Slot: 1, Start: 1, Runtime: 1000})
	}
	s.close(false)
	<-s.done
}
