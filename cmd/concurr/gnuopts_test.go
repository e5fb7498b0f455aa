package main

import (
	"slices"
	"testing"
)

func TestNormalizeOptionalAndOneLetterOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"-l alone", []string{"-l", "echo"}, []string{"--max-lines=", "echo"}},
		{"-l glued", []string{"-l2", "echo"}, []string{"--max-lines=2", "echo"}},
		{"-l then a number", []string{"-l", "2", "echo"}, []string{"--max-lines=2", "echo"}},
		{"-l before -0", []string{"-l", "-0", "echo"}, []string{"--max-lines=", "--null", "echo"}},
		{"--max-lines then a number", []string{"--max-lines", "3", "echo"}, []string{"--max-lines=3", "echo"}},
		{"--max-lines then a command", []string{"--max-lines", "echo"}, []string{"--max-lines=", "echo"}},
		{"-L glued", []string{"-L2", "echo"}, []string{"--L=2", "echo"}},
		{"-L spaced", []string{"-L", "2", "echo"}, []string{"--L=2", "echo"}},
		{"bundle ending in -l", []string{"-kl", "echo"}, []string{"--keep-order", "--max-lines=", "echo"}},
	}
	var o options
	_, specs := o.newFlagSet()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			options, rest, err := normalizeArgs(tt.args, specs)
			if err != nil {
				t.Fatal(err)
			}
			got := append(options, rest...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("normalizeArgs(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

func TestGNUColors(t *testing.T) {
	// GNU Parallel's first two jobs, numbers 1 and 2, as it prints them.
	for seq, want := range map[uint64]string{1: "\033[48;5;134;38;5;231m", 2: "\033[48;5;021;38;5;231m"} {
		if got := gnuColors()[seq%uint64(len(gnuColors()))]; got != want {
			t.Errorf("colour of job %d = %q, want %q", seq, got, want)
		}
	}
	if len(gnuColors()) != 307 {
		t.Errorf("%d colours, want GNU Parallel's 307", len(gnuColors()))
	}
}
