package main

import (
	"io"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "true", args: []string{"-n", "50", "-p", "3"}},
		{name: "zero jobs", args: []string{"-n", "0"}},
		{name: "fixed argument", args: []string{"-n", "4", "-p", "4", "-path", "/bin/sleep", "-arg", "0.01"}},
		{name: "failures are counted", args: []string{"-n", "7", "-p", "2", "-path", "/bin/false"}, wantErr: "7 of 7 runs of /bin/false failed"},
		{name: "missing program", args: []string{"-n", "1", "-path", "/nonexistent/true"}, wantErr: "fork/exec /nonexistent/true"},
		{name: "bad workers", args: []string{"-p", "0"}, wantErr: "need -n ≥ 0 and -p ≥ 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.args, io.Discard)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
