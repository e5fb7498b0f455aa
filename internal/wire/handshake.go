package wire

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// The handshake. The agent speaks first: its opening (Magic) and a Hello,
// which the client checks before it answers with its own opening. Then the
// client sends commands and inputs, and the agent outputs and results. The
// agent's stream may be preceded by what a login shell prints; the client's
// may not. A client that knows the agent is starting may send its opening
// without waiting for the Hello (ReadAgentOpening): sshx does, as the
// bootstrap execs the agent.

// AppendAgentOpening appends what an agent sends before anything else: the
// magic bytes and its Hello.
func AppendAgentOpening(b []byte, h *Hello) ([]byte, error) {
	return AppendFrame(append(b, Magic...), h)
}

// ReadClientOpening is the agent's side of the handshake: it reads the
// client's opening, which must come first on the stream. It returns io.EOF
// when the stream ends before the opening is complete: the client left
// before the protocol began.
func (fr *Reader) ReadClientOpening() error {
	_, err := ReadMagic(fr.r, 0)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return err
}

// ClientHandshake is the client's side of the handshake on a stream to a
// freshly started agent. It reads the agent's opening, skipping up to
// MaxNoise bytes of other output before it (returned as noise, so that the
// caller can show what a login shell printed), and its Hello, which must
// speak this Version and announce between 1 and MaxSlots slots. Then it writes and flushes the
// client's opening.
func ClientHandshake(r *Reader, w *Writer) (hello *Hello, noise []byte, err error) {
	hello, noise, err = ReadAgentOpening(r)
	if err != nil {
		return nil, noise, err
	}
	if err := WriteMagic(w.w); err != nil {
		return nil, noise, fmt.Errorf("write opening: %w", err)
	}
	if err := w.Flush(); err != nil {
		return nil, noise, fmt.Errorf("write opening: %w", err)
	}
	return hello, noise, nil
}

// ReadAgentOpening is ClientHandshake without the client's answer, for a
// client that sent its opening already.
func ReadAgentOpening(r *Reader) (hello *Hello, noise []byte, err error) {
	noise, err = ReadMagic(r.r, MaxNoise)
	if err != nil {
		if len(noise) > 0 {
			return nil, noise, fmt.Errorf("%w (it printed %q)", err, clip(noise, 200))
		}
		return nil, noise, err
	}
	f, err := r.ReadFrame()
	if err != nil {
		return nil, noise, fmt.Errorf("read hello: %w", err)
	}
	m, err := Decode(f)
	if err != nil {
		return nil, noise, fmt.Errorf("read hello: %w", err)
	}
	hello, ok := m.(*Hello)
	if !ok {
		return nil, noise, fmt.Errorf("agent spoke %s before hello", f.Type)
	}
	if hello.Version != Version {
		return nil, noise, fmt.Errorf("agent speaks protocol version %d, this client speaks %d", hello.Version, Version)
	}
	if hello.Slots == 0 {
		return nil, noise, errors.New("agent announced no slots")
	}
	if hello.Slots > MaxSlots {
		// The count sizes the client's credit for the node: a broken or
		// hostile agent must not make it allocate or loop without bound.
		return nil, noise, fmt.Errorf("agent announced %d slots, more than the %d a node may have", hello.Slots, MaxSlots)
	}
	return hello, noise, nil
}

// clip shortens what a peer printed for an error message.
func clip(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
