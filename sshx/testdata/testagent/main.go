// Command testagent stands in for `concurr --agent=v1` in sshx's tests: it
// opens the stream with wire.Magic and a Hello, answers pings, and exits
// when its stdin closes, as the real agent does.
package main

import (
	"bufio"
	"os"
	"runtime"

	"concurr/internal/wire"
)

// agentArg is agentArg, spelled out: importing sshx would pull in net,
// and with it cgo, and the test agent must stay a static executable.
const agentArg = "--agent=v1"

func main() {
	if len(os.Args) != 2 || os.Args[1] != agentArg {
		os.Stderr.WriteString("testagent: want " + agentArg + "\n")
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	w := wire.NewWriter(out)
	host, _ := os.Hostname()
	wire.WriteMagic(out)
	w.Write(&wire.Hello{Version: wire.Version, BuildID: "test", OS: runtime.GOOS, Arch: runtime.GOARCH,
		Hostname: host, Slots: 2, PID: uint64(os.Getpid())})
	if w.Flush() != nil {
		os.Exit(1)
	}
	in := bufio.NewReader(os.Stdin)
	if _, err := wire.ReadMagic(in, 0); err != nil {
		os.Exit(0)
	}
	r := wire.NewReader(in)
	for {
		f, err := r.ReadFrame()
		if err != nil {
			os.Exit(0)
		}
		m, err := wire.Decode(f)
		if err != nil {
			os.Exit(1)
		}
		if p, ok := m.(*wire.Ping); ok {
			w.Write(p)
			if w.Flush() != nil {
				os.Exit(1)
			}
		}
	}
}
