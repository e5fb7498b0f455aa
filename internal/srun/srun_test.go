package srun

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		name     string
		node     string
		environ  []string
		wantArgv []string
		wantEnv  []string
		wantErr  error
	}{
		{
			name:     "in a job",
			node:     "n2",
			environ:  []string{"HOME=/h", "SLURM_JOB_ID=42", "SLURM_JOB_NODELIST=n[1-3]"},
			wantArgv: []string{"srun", "--jobid=42", "--overlap", "--nodes=1", "--ntasks=1", "--nodelist=n2", "--cpu-bind=none", "--mpi=none", "--unbuffered", "--job-name=concurr", "/bin/sh"},
			wantEnv:  []string{"HOME=/h", "SLURM_JOB_ID=42", "SLURM_JOB_NODELIST=n[1-3]"},
		},
		{
			name:     "the old name of the job id",
			node:     "n1",
			environ:  []string{"SLURM_JOBID=7"},
			wantArgv: []string{"srun", "--jobid=7", "--overlap", "--nodes=1", "--ntasks=1", "--nodelist=n1", "--cpu-bind=none", "--mpi=none", "--unbuffered", "--job-name=concurr", "/bin/sh"},
			wantEnv:  []string{"SLURM_JOBID=7"},
		},
		{
			name: "salloc -c and --exact do not shrink the step",
			node: "n1",
			environ: []string{"SLURM_JOB_ID=9", "SRUN_CPUS_PER_TASK=4", "SLURM_CPUS_PER_TASK=4", "SLURM_EXACT=1",
				"SLURM_TRES_PER_TASK=cpu:4", "SLURM_NTASKS_PER_NODE=2", "SLURM_CPUS_ON_NODE=8"},
			wantArgv: []string{"srun", "--jobid=9", "--overlap", "--nodes=1", "--ntasks=1", "--nodelist=n1", "--cpu-bind=none", "--mpi=none", "--unbuffered", "--job-name=concurr", "/bin/sh"},
			wantEnv:  []string{"SLURM_JOB_ID=9", "SLURM_CPUS_ON_NODE=8"},
		},
		{name: "outside a job", node: "n1", environ: []string{"HOME=/h", "SLURM_JOB_ID="}, wantErr: ErrNoAllocation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, env, err := Command(tt.node, tt.environ)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(argv, tt.wantArgv) {
				t.Errorf("argv = %q\nwant   %q", argv, tt.wantArgv)
			}
			if !reflect.DeepEqual(env, tt.wantEnv) {
				t.Errorf("env = %q\nwant  %q", env, tt.wantEnv)
			}
		})
	}
}

func TestStderr(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{name: "other lines pass", writes: []string{"srun: error: x\n", "partial"}, want: "srun: error: x\npartial"},
		{name: "the binding warning goes", writes: []string{bindingWarning + "\n"}, want: ""},
		{name: "among others", writes: []string{"a\n" + bindingWarning + "\nb\n"}, want: "a\nb\n"},
		{name: "quoted in a longer line it stays", writes: []string{"x " + bindingWarning + "\n"}, want: "x " + bindingWarning + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := Stderr(&b)
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}
