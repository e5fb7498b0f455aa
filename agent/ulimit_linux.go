package agent

import "golang.org/x/sys/unix"

// ulimitResources are bash's ulimit options, in the order of ulimit -a.
var ulimitResources = []ulimitResource{
	{'R', unix.RLIMIT_RTTIME, 1, "real-time non-blocking time", "microseconds"},
	{'c', unix.RLIMIT_CORE, 1024, "core file size", "blocks"},
	{'d', unix.RLIMIT_DATA, 1024, "data seg size", "kbytes"},
	{'e', unix.RLIMIT_NICE, 1, "scheduling priority", ""},
	{'f', unix.RLIMIT_FSIZE, 1024, "file size", "blocks"},
	{'i', unix.RLIMIT_SIGPENDING, 1, "pending signals", ""},
	{'l', unix.RLIMIT_MEMLOCK, 1024, "max locked memory", "kbytes"},
	{'m', unix.RLIMIT_RSS, 1024, "max memory size", "kbytes"},
	{'n', unix.RLIMIT_NOFILE, 1, "open files", ""},
	{'p', pipeSizeResource, 512, "pipe size", "512 bytes"},
	{'q', unix.RLIMIT_MSGQUEUE, 1, "POSIX message queues", "bytes"},
	{'r', unix.RLIMIT_RTPRIO, 1, "real-time priority", ""},
	{'s', unix.RLIMIT_STACK, 1024, "stack size", "kbytes"},
	{'t', unix.RLIMIT_CPU, 1, "cpu time", "seconds"},
	{'u', unix.RLIMIT_NPROC, 1, "max user processes", ""},
	{'v', unix.RLIMIT_AS, 1024, "virtual memory", "kbytes"},
	{'x', unix.RLIMIT_LOCKS, 1, "file locks", ""},
}
