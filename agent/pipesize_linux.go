package agent

import (
	"os"

	"golang.org/x/sys/unix"
)

// setPipeSize asks the kernel for a larger pipe buffer; a refusal (a limit
// in /proc/sys/fs/pipe-max-size) leaves the default, which works too.
func setPipeSize(f *os.File, size int) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size) })
	}
}
