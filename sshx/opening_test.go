package sshx

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"
	"time"

	"concurr/internal/wire"
)

// As the bootstrap's exec marker arrives, the client's opening goes out at
// once, before the agent has said anything. Over a TCP hop with Nagle's
// algorithm on (srun's I/O forwarding), an opening that waited for the
// agent's Hello held that Hello back by up to 40 ms.
func TestOpeningSentAtExec(t *testing.T) {
	const nonce = "0123456789abcdef"
	own := &build{goos: runtime.GOOS, goarch: runtime.GOARCH, sum: "00", size: 1}
	node, script := io.Pipe()
	defer node.Close()
	go func() {
		// The agent never speaks: the opening must not wait for it.
		io.WriteString(script, "Welcome\n"+markerPrefix+nonce+":exec cached /home/u/.cache/concurr/x/concurr\n")
	}()
	var stdin bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := bootstrap(ctx, "n1", nonce, own, &stdin, bufio.NewReader(node), &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.cached || st.path != "/home/u/.cache/concurr/x/concurr" {
		t.Errorf("started %+v, want the cached agent's path", st)
	}
	if stdin.String() != wire.Magic {
		t.Fatalf("stdin got %q, want the client's opening", stdin.String())
	}
}
