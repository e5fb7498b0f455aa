package wire

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// FuzzDecode feeds arbitrary streams to the frame reader and decoder, and
// to the client's side of the handshake: they must return errors, never
// panic or allocate beyond the stream's size.
func FuzzDecode(f *testing.F) {
	var seed bytes.Buffer
	bw := bufio.NewWriter(&seed)
	w := NewWriter(bw)
	w.Write(&Hello{Version: 1, BuildID: "x", Slots: 2})
	w.Write(&Input{Command: 1, Seq: 1, Args: []string{"a", ""}})
	w.Write(&Output{Seq: 1, Stream: 1, Data: []byte("hi\n")})
	w.Write(&Result{Seq: 1, Exit: 1})
	w.Write(&Open{Stream: 1, Kind: StreamStdin, Seq: 1, Path: "f", Length: 9})
	w.Write(&Data{Stream: 1, Data: []byte("a\x00b\n")})
	w.Write(&End{Stream: 1})
	w.Write(&Credit{Stream: 1, Bytes: 1 << 20})
	w.Flush()
	f.Add(seed.Bytes())
	f.Add([]byte{0, 0, 0, 1, 42})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(agentStream("motd\n", &Hello{Version: Version, Slots: 2}, &Ping{Nonce: 1}))
	f.Add(agentStream("", &Hello{Version: Version, Slots: 1<<63 - 1}))
	f.Add(agentStream("", &Hello{Version: Version, Slots: 1 << 40}))
	f.Fuzz(func(t *testing.T, data []byte) {
		hello, _, answer, err := clientHandshake(data)
		if err == nil && (hello.Version != Version || hello.Slots == 0 || hello.Slots > MaxSlots || answer != Magic) {
			t.Fatalf("accepted hello %+v, answered %q", hello, answer)
		}
		r := NewReader(bufio.NewReader(bytes.NewReader(data)))
		for range 64 {
			fr, err := r.ReadFrame()
			if err != nil {
				if err == io.EOF && len(data) == 0 {
					return
				}
				return
			}
			m, err := Decode(fr)
			if err != nil {
				continue
			}
			// A decoded message re-encodes and decodes to the same type.
			var out bytes.Buffer
			ow := NewWriter(bufio.NewWriter(&out))
			if err := ow.Write(m); err != nil {
				t.Fatalf("re-encode %s: %v", m.Type(), err)
			}
			ow.Flush()
			f2, err := NewReader(bufio.NewReader(&out)).ReadFrame()
			if err != nil {
				t.Fatalf("re-read %s: %v", m.Type(), err)
			}
			if f2.Type != m.Type() {
				t.Fatalf("type changed: %s → %s", m.Type(), f2.Type)
			}
		}
	})
}
