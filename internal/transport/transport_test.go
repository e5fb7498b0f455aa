package transport

import (
	"reflect"
	"strings"
	"testing"

	"concurr/parse"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		environ []string
		want    []string
		err     string
	}{
		{name: "srun", spec: "srun://n2", environ: []string{"SLURM_JOB_ID=5"},
			want: []string{"srun", "--jobid=5", "--overlap", "--nodes=1", "--ntasks=1", "--nodelist=n2", "--cpu-bind=none", "--mpi=none", "--unbuffered", "--job-name=concurr", "/bin/sh"}},
		{name: "srun outside a job", spec: "srun://n2", err: "not inside a Slurm allocation"},
		{name: "docker", spec: "docker://box", want: []string{"docker", "exec", "-i", "box", "/bin/sh"}},
		{name: "kubectl", spec: "kubectl://ns/pod/c", want: []string{"kubectl", "exec", "-i", "--namespace=ns", "--container=c", "pod", "--", "/bin/sh"}},
		{name: "exec keeps quoted words whole", spec: `exec://ssh -o "ProxyCommand nc %h 22" host`, want: []string{"ssh", "-o", "ProxyCommand nc %h 22", "host"}},
		{name: "exec expands variables", spec: `exec://env X=$HOME Y='$HOME' sh`, environ: []string{"HOME=/h"}, want: []string{"env", "X=/h", "Y=$HOME", "sh"}},
		{name: "exec unclosed quote", spec: `exec://sh "a`, err: "bad exec:// command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts, err := parse.ParseSSHLogins([]string{tt.spec})
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := Command(hosts[0], tt.environ)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
