package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestRemoveStaleCgroups(t *testing.T) {
	dead := 0
	for pid := 4_000_000; pid > 1000; pid-- {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			dead = pid
			break
		}
	}
	tests := []struct {
		name     string
		dir      string
		nonEmpty bool
		kept     bool
	}{
		{name: "a dead agent's", dir: fmt.Sprintf("concurr-%d-1", dead), kept: false},
		{name: "a dead agent's that still holds something", dir: fmt.Sprintf("concurr-%d-2", dead), nonEmpty: true, kept: true},
		{name: "this agent's", dir: fmt.Sprintf("concurr-%d-1", os.Getpid()), kept: true},
		{name: "a live process's", dir: "concurr-1-1", kept: true},
		{name: "someone else's", dir: fmt.Sprintf("other-%d-1", dead), kept: true},
	}
	base := t.TempDir()
	for _, tt := range tests {
		if err := os.Mkdir(filepath.Join(base, tt.dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if tt.nonEmpty {
			if err := os.Mkdir(filepath.Join(base, tt.dir, "child"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	removeStaleCgroups(base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := os.Stat(filepath.Join(base, tt.dir))
			if kept := err == nil; kept != tt.kept {
				t.Errorf("%s kept = %v, want %v", tt.dir, kept, tt.kept)
			}
		})
	}
}
