package agent

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sendRange moves length bytes of in from offset to out with sendfile(2),
// which hands the file's pages to the job's pipe (or file) in the kernel:
// a --pipepart block then costs no copy through the agent's memory. It
// returns how much it sent; short of length without an error means that
// sendfile cannot serve this pair of files (the caller copies the rest).
func sendRange(out, in *os.File, offset, length int64) (int64, error) {
	raw, err := out.SyscallConn()
	if err != nil {
		return 0, nil
	}
	src := int(in.Fd())
	var total int64
	var serr error
	unsupported := false
	werr := raw.Write(func(fd uintptr) bool {
		for total < length {
			off := offset + total
			n, err := unix.Sendfile(int(fd), src, &off, int(min(length-total, 1<<30)))
			if n > 0 {
				total += int64(n)
			}
			switch {
			case err == syscall.EAGAIN:
				return false // the pipe is full: wait until the job reads
			case err == syscall.EINTR:
				continue
			case err == syscall.EINVAL || err == syscall.ENOSYS:
				unsupported = total == 0
				if !unsupported {
					serr = err
				}
				return true
			case err != nil:
				serr = err
				return true
			case n == 0:
				// The file is shorter than the block: the copy reports it.
				return true
			}
		}
		return true
	})
	if unsupported {
		return 0, nil
	}
	if serr == nil {
		serr = werr
	}
	return total, serr
}
