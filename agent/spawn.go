package agent

import (
	"errors"
	"syscall"
	"time"
)

// errNotSpawned says that the direct path does not apply; the caller uses
// os/exec.
var errNotSpawned = errors.New("not spawned directly")

// retryTextBusy calls start until it fails with anything but ETXTBSY, for
// at most about 300 ms. A concurrently forked process may briefly hold the
// file open for writing (https://go.dev/issue/22315); DefaultExecHandler
// retries the same way.
func retryTextBusy(start func() error) error {
	err := start()
	for delay := time.Millisecond; errors.Is(err, syscall.ETXTBSY) && delay < 300*time.Millisecond; delay *= 2 {
		time.Sleep(delay)
		err = start()
	}
	return err
}
