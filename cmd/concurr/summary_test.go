package main

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"concurr/internal/sched"
)

func TestRunReportLines(t *testing.T) {
	failed := func(seq uint64, exit int) sched.JobEnded {
		return sched.JobEnded{Seq: seq, Host: ":", Command: "job", Exit: exit, Failed: exit != 0}
	}
	tests := []struct {
		name  string
		hosts int
		feed  func(r *runReport)
		want  []string
	}{
		{"a clean run says nothing", 1, func(r *runReport) {
			r.NodeUp(sched.NodeUp{Name: ":"})
			r.Ended(failed(1, 0))
		}, nil},
		{"failed jobs in input order, the first five", 1, func(r *runReport) {
			for _, seq := range []uint64{7, 3, 1, 6, 2, 5, 4} {
				r.Ended(failed(seq, 2))
			}
			r.Ended(sched.JobEnded{Seq: 8, Command: "sleep 9", Signal: int(syscall.SIGKILL), Failed: true})
		}, []string{
			"summary: 8 of 8 jobs failed",
			"summary:   job 1 (exit 2): job", "summary:   job 2 (exit 2): job", "summary:   job 3 (exit 2): job",
			"summary:   job 4 (exit 2): job", "summary:   job 5 (exit 2): job", "summary:   and 3 more",
		}},
		{"a retried attempt is not an end", 1, func(r *runReport) {
			r.Ended(sched.JobEnded{Seq: 1, Exit: 1, Failed: true, Retry: true})
			r.Ended(failed(1, 0))
		}, nil},
		{"hosts never joined and lost, with causes; moved jobs", 3, func(r *runReport) {
			r.NodeDown(sched.NodeDown{Name: "h3", Err: syscall.ECONNREFUSED, Final: true})
			r.NodeUp(sched.NodeUp{Name: "h1"})
			r.NodeUp(sched.NodeUp{Name: "h2"})
			r.NodeDown(sched.NodeDown{Name: "h2", Err: errors.New("connection closed"), Joined: true, Requeued: []uint64{4}})
			r.Started(sched.JobStarted{Seq: 4, Host: "h1", From: "h2"})
			r.NodeUp(sched.NodeUp{Name: "h2", Rejoin: true})
			r.Ended(failed(4, 0))
		}, []string{
			"summary: 1 of 3 hosts never joined: h3 (refused)",
			"summary: 1 host was lost: h2 (connection, rejoined)",
			"summary: 1 job moved to another host: 4 (h2 to h1)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunReport(tt.hosts)
			tt.feed(r)
			got := r.lines()
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
