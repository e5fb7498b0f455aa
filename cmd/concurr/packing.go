package main

// maxPack bounds the records of one packed job when neither -n nor -N
// does: the command length limit always comes first, as in GNU Parallel,
// which has no count limit at all.
const maxPack = 1 << 20

// maxArgStrlen is the longest single argument Linux's execve takes
// (MAX_ARG_STRLEN, 32 pages of 4 KiB). GNU Parallel hands each job to the
// shell as one argument, so this is its limit on every system it probes;
// concurr uses the same figure on every system, so that jobs are the same.
const maxArgStrlen = 32 * 4096

// usableCommandLength is GNU Parallel 20221122's default limit on a packed
// job's command line: the longest line it finds it can run, less 3000 for
// its wrapping, halved for the hex encoding of remote commands
// (63664 on Linux). concurr's jobs need neither allowance, but packing as
// GNU Parallel packs gives the same jobs, and keeps every job far below
// the kernel's limit whatever the number of {} words.
func usableCommandLength() int {
	return (gnuLineMax() - 3000) / 2
}

// gnuLineMax replays GNU Parallel's search for the longest command line
// (Limits::Command::real_max_length): it runs "/usr/bin/echo c…c", one
// argument, at growing lengths, grows by 16 times from 324 until a length
// fails, then halves the interval until it is within 1%. Replaying it
// against the kernel's limit gives the exact figure it finds, 130329 on
// Linux, rather than the limit itself.
func gnuLineMax() int {
	const echo = len("/usr/bin/echo")
	runs := func(n int) bool { return n-1-echo < maxArgStrlen }
	n := 324
	for runs(n * 16) {
		n *= 16
	}
	lower, upper := n, n*16
	for lower != upper && lower != upper-1 && float64(lower)/float64(upper) <= 0.99 {
		middle := (upper-lower)/2 + lower
		if runs(middle) {
			lower = middle
		} else {
			upper = middle
		}
	}
	return lower
}
