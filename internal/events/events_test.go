package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"concurr/internal/sched"
)

func TestCause(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		joined bool
		want   string
	}{
		{"none", nil, false, ""},
		{"dns, typed", fmt.Errorf("h: connect: %w", &net.DNSError{Err: "no such host", Name: "h"}), false, CauseDNS},
		{"dns, from ssh", errors.New("ssh: Could not resolve hostname h: Name or service not known"), false, CauseDNS},
		{"refused, typed", fmt.Errorf("h: connect: %w", syscall.ECONNREFUSED), false, CauseRefused},
		{"refused, from ssh", errors.New("ssh: connect to host h port 22: Connection refused"), false, CauseRefused},
		{"auth", errors.New("h: permission denied (publickey) for nobody@h:22"), false, CauseAuth},
		{"auth, from x/crypto", errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain"), false, CauseAuth},
		{"host key", errors.New("h: host key verification failed: no host key is known for h"), false, CauseHostKey},
		{"timeout, typed", fmt.Errorf("h: %w", context.DeadlineExceeded), false, CauseTimeout},
		{"timeout, text", errors.New("h: connect to h (h:22): timed out after 10s"), false, CauseTimeout},
		{"timeout, unanswered pings", errors.New("h: the agent answered nothing for 6s"), true, CauseTimeout},
		{"the agent did not start", errors.New("h: the agent did not start: sh: 1: concurr: not found"), false, CauseBootstrap},
		{"a lost connection", errors.New("connection closed"), true, CauseConnection},
		{"a refused command", errors.New("h: the agent refused the command: --workdir /x: permission denied"), true, CauseCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cause(tt.err, tt.joined); got != tt.want {
				t.Errorf("Cause(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestWriter: each event is one whole JSON line, with the schema's version
// and its type's fields.
func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := New(&b)
	w.now = func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC) }
	w.RunStart("1.0", []string{"h1", ":"})
	w.NodeUp(sched.NodeUp{Name: "h1", Cores: 8, Slots: 4})
	w.NodeDown(sched.NodeDown{Name: "h2", Err: syscall.ECONNREFUSED, Final: true})
	w.Started(sched.JobStarted{Seq: 3, Host: "h1", Attempt: 2, From: "h2"})
	w.Ended(sched.JobEnded{Seq: 3, Host: "h1", Slot: 2, Command: "echo a", Exit: 1, Start: w.now(),
		Runtime: 1500 * time.Millisecond, Stdout: 2, Failed: true})
	w.SourceDone(3)
	w.RunEnd(Totals{Jobs: 3, Failed: 1, HostsUp: 1, HostsNeverUp: []string{"h2"}, Exit: 1})
	want := []string{
		`{"v":1,"type":"run_start","time":"2024-01-02T03:04:05.000000006Z","concurr":"1.0","hosts":["h1",":"]}`,
		`{"v":1,"type":"host_up","time":"2024-01-02T03:04:05.000000006Z","host":"h1","cores":8,"slots":4,"rejoin":false}`,
		`{"v":1,"type":"host_down","time":"2024-01-02T03:04:05.000000006Z","host":"h2","joined":false,"final":true,"cause":"refused","error":"connection refused"}`,
		`{"v":1,"type":"job_start","time":"2024-01-02T03:04:05.000000006Z","host":"h1","seq":3,"attempt":2,"from":"h2"}`,
		`{"v":1,"type":"job_end","time":"2024-01-02T03:04:05.000000006Z","host":"h1","seq":3,"slot":2,"command":"echo a","exit":1,"signal":0,"start":"2024-01-02T03:04:05.000000006Z","runtime":1.5,"stdout_bytes":2,"stderr_bytes":0,"failed":true}`,
		`{"v":1,"type":"input_end","time":"2024-01-02T03:04:05.000000006Z","total":3}`,
		`{"v":1,"type":"run_end","time":"2024-01-02T03:04:05.000000006Z","totals":{"jobs":3,"failed":1,"moved":0,"hosts_up":1,"hosts_never_joined":["h2"],"hosts_lost":[],"elapsed":0,"exit":1}}`,
	}
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), b.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
		if !json.Valid([]byte(got[i])) {
			t.Errorf("line %d is not JSON", i+1)
		}
	}
}
