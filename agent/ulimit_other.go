//go:build !linux

package agent

import "golang.org/x/sys/unix"

// ulimitResources are bash's ulimit options that every Unix has, in the
// order of ulimit -a.
var ulimitResources = []ulimitResource{
	{'c', unix.RLIMIT_CORE, 1024, "core file size", "blocks"},
	{'d', unix.RLIMIT_DATA, 1024, "data seg size", "kbytes"},
	{'f', unix.RLIMIT_FSIZE, 1024, "file size", "blocks"},
	{'n', unix.RLIMIT_NOFILE, 1, "open files", ""},
	{'p', pipeSizeResource, 512, "pipe size", "512 bytes"},
	{'s', unix.RLIMIT_STACK, 1024, "stack size", "kbytes"},
	{'t', unix.RLIMIT_CPU, 1, "cpu time", "seconds"},
	{'v', unix.RLIMIT_AS, 1024, "virtual memory", "kbytes"},
}
