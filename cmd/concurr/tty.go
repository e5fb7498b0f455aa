package main

// planTerminal applies --tty's defaults, as GNU Parallel's: one job at a
// time, its output unbuffered, unless -j, --group, --line-buffer or -k
// says otherwise. --open-tty gives jobs the terminal without them.
func planTerminal(o *options) error {
	if !o.tty && !o.openTTY {
		return nil
	}
	if o.pipeMode() {
		return usagef("a job's stdin is either its block of --pipe or the terminal of --tty",
			"--tty cannot be used with --pipe")
	}
	if o.tty {
		if o.jobs == "" {
			o.jobs = "1"
		}
		if !o.group && !o.lineBuffer && !o.keepOrder {
			o.ungroup = true
		}
	}
	return nil
}

// terminalJobs reports whether jobs read the terminal (--tty, --open-tty).
func (o *options) terminalJobs() bool { return o.tty || o.openTTY }

// remoteTerminalError refuses --tty on hosts: the agent's SSH session has
// no terminal, as its stream is binary, and a job there would wait for
// input that no one can type.
func remoteTerminalError(host string) error {
	return usagef("run interactive commands on this machine (without -S), or as ssh -t "+host+" CMD",
		"--tty needs a terminal, and jobs on host %s have none", host)
}
