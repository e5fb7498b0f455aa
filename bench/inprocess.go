package bench

import (
	"time"

	"concurr/internal/sshtest"
)

// StartServers runs n of internal/sshtest's in-process SSH servers, sharing
// one client key, each serving exec requests with handler inside this
// process. stop ends them and removes every file the harness made.
func StartServers(n int, handler sshtest.ExecHandler) (servers []*sshtest.Server, stop func(), err error) {
	tb := &harnessTB{}
	tb.run(func() {
		keys := sshtest.NewKeys(tb)
		for range n {
			s := sshtest.StartServerWithKeys(tb, keys)
			s.SetExecHandler(handler)
			// The benchmark logs in to all of them at once, on a machine
			// whose few cores they share with the client.
			s.SetHandshakeTimeout(time.Minute)
			servers = append(servers, s)
		}
	})
	if tb.err != nil {
		tb.cleanup()
		return nil, func() {}, tb.err
	}
	return servers, tb.cleanup, nil
}
