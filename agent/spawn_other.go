//go:build !linux || nopidfd

package agent

import (
	"context"
	"io"
	"syscall"
)

// spawnDirect always declines: without Linux's pidfds there is no single
// poll(2) loop that waits for a process and reads its pipes, so every
// command runs through os/exec (execExternal), which starts it in a process
// group of its own just the same. The nopidfd build tag selects this file on
// Linux too, so that the os/exec path can be tested where it is not the
// default: go test -tags nopidfd ./agent/
func spawnDirect(ctx context.Context, j *job, path string, args, env []string, dir string, stdin io.Reader, stdout, stderr io.Writer) (syscall.WaitStatus, error) {
	return 0, errNotSpawned
}
