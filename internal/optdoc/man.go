package optdoc

import (
	"fmt"
	"io"
	"strings"
)

// roff escapes text for a man page: backslashes, hyphens (so that option
// names stay ASCII hyphens when rendered and can be searched for) and a
// leading dot or quote, which roff would read as a request; the one
// non-ASCII character the help uses, an ellipsis, by its name.
func roff(text string) string {
	text = strings.ReplaceAll(text, `\`, `\e`)
	text = strings.ReplaceAll(text, "-", `\-`)
	text = strings.ReplaceAll(text, "…", `\[u2026]`)
	if strings.HasPrefix(text, ".") || strings.HasPrefix(text, "'") {
		text = `\&` + text
	}
	return text
}

// WriteMan writes the concurr(1) man page. The OPTIONS section comes from
// opts; the other sections are prose, shared with the README.
func WriteMan(w io.Writer, opts []Option) error {
	grouped, err := Grouped(opts)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(manHead)
	b.WriteString(".SH OPTIONS\n")
	b.WriteString("Short options bundle (\\fB\\-kv\\fR) and take their value attached or as the next\n" +
		"argument (\\fB\\-j4\\fR, \\fB\\-j 4\\fR); long ones take it as \\fB\\-\\-jobs=4\\fR or \\fB\\-\\-jobs 4\\fR.\n" +
		"Every option can also be set as a \\fBCONCURR_\\fR\\fINAME\\fR environment variable, named by\n" +
		"its first long name in upper case with dashes as underscores, or in the file named by \\fB\\-\\-config\\fR.\n")
	for i, group := range Groups {
		if len(grouped[i]) == 0 {
			continue
		}
		fmt.Fprintf(&b, ".SS %s\n", roff(group))
		for _, o := range grouped[i] {
			var names []string
			for _, s := range o.Spellings() {
				names = append(names, `\fB`+roff(s)+`\fR`)
			}
			head := strings.Join(names, ", ")
			if o.Arg != "" {
				head += ` \fI` + roff(o.Arg) + `\fR`
			}
			fmt.Fprintf(&b, ".TP\n%s\n%s.\n", head, roff(capitalize(o.Help)))
		}
	}
	b.WriteString(manBody)
	_, err = io.WriteString(w, b.String())
	return err
}

// capitalize starts a help line with a capital, as a sentence in the man
// page; --help keeps the lower case of concurr's messages.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

const manHead = `.\" Generated from concurr's option table by tools/gendocs: edit
.\" cmd/concurr/flags.go or internal/optdoc, then run make man.
.TH CONCURR 1 "" concurr "User Commands"
.SH NAME
concurr \- run a command for many inputs at once, here and on SSH hosts
.SH SYNOPSIS
.B concurr
[\fIoptions\fR] [\fIcommand\fR [\fIargs with {}\fR]]
[\fB:::\fR \fIargs\fR | \fB::::\fR \fIfiles\fR]...
.br
\fIcommand\fR | \fBconcurr\fR [\fIoptions\fR] [\fIcommand\fR]
.SH DESCRIPTION
\fBconcurr\fR runs a command template once for every input, many at a time, on this
machine and on any number of other machines reached over SSH.
It follows GNU Parallel's option names, replacement strings, quoting and exit status,
so it is a drop\-in for the common uses of \fBparallel\fR(1).
.PP
Inputs come from the arguments after \fB:::\fR, from the files after \fB::::\fR or
named by \fB\-a\fR, or else from standard input, one per line.
Several input sources are combined, every value of one with every value of the next,
unless \fB\-\-link\fR pairs them.
When the template holds no replacement string, \fB {}\fR is appended to it.
.PP
Every job runs in an embedded POSIX shell, so hosts need neither Perl nor any
particular shell.
Remote hosts need no daemon and no install: \fBconcurr\fR logs in with SSH, copies
its own binary over when that build is not already cached there, and streams jobs to it.
.PP
Values are data, never code: an input such as \fBa b; rm \-rf ~\fR reaches the
command as one literal word, inside quotes too.
`

const manBody = `.SH REPLACEMENT STRINGS
.TP
.B {}
The input, as read: \fBdir/file.tar.gz\fR.
.TP
.B {.}
The input without its extension: \fBdir/file.tar\fR.
.TP
.B {/}
The input's base name: \fBfile.tar.gz\fR.
.TP
.B {//}
The input's directory: \fBdir\fR.
.TP
.B {/.}
The base name without its extension: \fBfile.tar\fR.
.TP
.B {#}
The job's sequence number, from 1.
.TP
.B {%}
The job slot, from 1: the lowest slot free on its host when the job starts.
.TP
.B {host}
The name of the host that runs the job.
.TP
\fB{\fR\fIn\fR\fB}\fR, \fB{\fR\fIn\fR\fB.}\fR, \fB{\fR\fIn\fR\fB/}\fR, \fB{\fR\fIn\fR\fB//}\fR, \fB{\fR\fIn\fR\fB/.}\fR
The same for the \fIn\fRth input source, or column with \fB\-\-colsep\fR;
\fB{\-1}\fR is the last.
\fB{\fR\fIname\fR\fB}\fR names a column by its \fB\-\-header\fR.
.PP
\fB\-\-plus\fR adds GNU Parallel's further strings, such as \fB{..}\fR, \fB{+.}\fR,
\fB{%.gz}\fR, \fB{/a/b}\fR and \fB{:1:2}\fR.
\fB\-I\fR, \fB\-\-extensionreplace\fR and the other \fB...replace\fR options rename the strings.
.SH REMOTE HOSTS
\fB\-S\fR takes hosts as \fB[\fR\fIN\fR\fB/][\fR\fIuser\fR\fB@]\fR\fIhost\fR\fB[:\fR\fIport\fR\fB]\fR,
comma\-separated or repeated; \fIN\fR is the number of jobs it runs at once, \fB:\fR is
this machine, and ranges such as \fBnode[01\-16]\fR expand.
\fB\-\-slf\fR reads hosts from a file, one per line, \fB#\fR starting a comment.
.PP
Hosts resolve through \fI~/.ssh/config\fR, or the file named by \fB\-F\fR, as
\fBssh\fR(1) resolves them: \fBUser\fR, \fBPort\fR, \fBIdentityFile\fR, \fBProxyJump\fR,
\fBInclude\fR, \fBConnectTimeout\fR and \fBServerAliveInterval\fR are honoured, keys come
from \fBssh\-agent\fR(1) and the identity files, and \fIknown_hosts\fR is checked.
A host whose configuration needs what the built\-in client does not implement, such as
\fBProxyCommand\fR, is refused with an error naming the key; \fB\-\-ssh ssh\fR uses
OpenSSH instead.
.PP
On first contact \fBconcurr\fR probes the host with \fBuname \-sm\fR and looks for its own
build at \fI${XDG_CACHE_HOME:\-$HOME/.cache}/concurr/<version>\-<hash>/concurr\fR.
When it is not there, it uploads its binary, checks its SHA\-256 and renames it into
place. A host of another platform gets \fBconcurr\-\fR\fIGOOS\fR\fB\-\fR\fIGOARCH\fR from
beside the client's executable (\fBmake dist\fR builds them).
.PP
All hosts share one queue: each takes jobs as its slots free up. A host that cannot
be reached is reported, and the others do its share; a host lost during the run has its
unfinished jobs run elsewhere and is dialled again. When the run ends, normally or by
Ctrl\-C, every job it started ends too.
.SH ENVIRONMENT
.TP
.BI CONCURR_ NAME
The value of the option \fB\-\-\fR\fIname\fR, as \fBCONCURR_JOBS=4\fR for \fB\-\-jobs 4\fR.
.TP
.B PARALLEL
Options read before the command line's, as GNU Parallel reads them.
.TP
.B PARALLEL_SEQ, PARALLEL_JOBSLOT, PARALLEL_SSHHOST
Set in each job's environment: its \fB{#}\fR, its \fB{%}\fR and its host.
.SH EXIT STATUS
.TP
.B 0
Every job succeeded.
.TP
.B 1\-100
That many jobs failed.
.TP
.B 101
More than 100 jobs failed.
.TP
.B 130, 143
Interrupted by SIGINT (Ctrl\-C) or SIGTERM.
.TP
.B 255
A usage or setup error, before any job ran; or the run could not go on: no host could
be used, or every host was lost.
.PP
With \fB\-\-halt\fR, the status follows GNU Parallel: the status of the job that caused
the halt when one job was enough (\fBfail=1\fR), the number of failed jobs for a larger
count, the failed share in percent for \fIN\fR\fB%\fR, and 0 for \fBsuccess\fR.
.PP
A host that never joins does not fail the run by itself: its share of the jobs runs on
the other hosts, and the run exits 0 when every job succeeded; the end\-of\-run summary
still names the host and the cause.
.PP
Errors are printed on standard error as \fBconcurr: error: ...\fR, often followed by
\fBconcurr: hint: ...\fR.
.SH JSON EVENTS
\fB\-\-json\-events\fR \fIFILE\fR writes one JSON object per line, as the run goes:
\fBrun_start\fR, \fBinput_end\fR, \fBhost_up\fR, \fBhost_down\fR (with a \fBcause\fR:
\fBdns\fR, \fBrefused\fR, \fBauth\fR, \fBhostkey\fR, \fBtimeout\fR, \fBbootstrap\fR,
\fBconnection\fR or \fBcommand\fR), \fBjob_start\fR, \fBjob_end\fR and \fBrun_end\fR.
Every object has \fB"v":1\fR, the schema's version, \fBtype\fR and \fBtime\fR.
New fields and event types may appear without a new version; the version changes only
when a field changes meaning or goes away. The fields of each type are listed in
\fIdocs/json\-events.md\fR in the source.
.SH EXAMPLES
.TP
.B concurr \-k 'echo job {#} on slot {%}: {}' ::: a b c
One line per input, in input order.
.TP
.B find . \-name '*.log' | concurr \-k \-\-tag 'wc \-l {}'
Count the lines of every log file, each count tagged with its file.
.TP
.B concurr \-j4 convert {} {.}.png ::: *.jpg
Convert images, four at a time.
.TP
.B concurr \-\-dry\-run echo ::: 'a b' "it's"
Print the commands, quoted, without running them.
.TP
.B concurr \-S node1,8/node2,: \-\-trc {}.gz 'gzip \-9 {}' :::: files.txt
Compress files on two hosts and this machine, sending each file to its host and
bringing the result back.
.TP
.B concurr \-S node1,node2 \-\-nonall uptime
Run a command once on every host.
.TP
.B concurr \-\-pipe \-\-block 10M wc \-l < big.txt
Count the lines of a large file in blocks of about 10 MB.
.TP
.B concurr \-\-joblog jobs.log \-\-retries 3 \-\-halt soon,fail=10% ./task {} :::: ids
Log every job, retry failures up to three times and stop starting jobs once a tenth fail.
.SH DIFFERENCES FROM GNU PARALLEL
Where \fBconcurr\fR has an option, it behaves as GNU Parallel 20221122 does.
Where it does not, on purpose:
.IP \(bu 2
\fB{= perl expression =}\fR and Perl regular expressions: refused, with a hint; there is no
Perl on the hosts. \fB\-\-plus\fR patterns are Go RE2 expressions.
.IP \(bu 2
Values inside quotes (\fB'{}'\fR, \fB"{}"\fR) stay one literal string, where GNU Parallel
lets \fB$(...)\fR in a value run.
.IP \(bu 2
\fB\-\-config\fR \fIFILE\fR and \fBCONCURR_\fR variables take the place of profiles
(\fB\-J\fR) and \fI~/.parallel/config\fR.
.IP \(bu 2
\fB{%}\fR is the slot on the host that runs the job.
\fB\-\-memfree\fR and \fB\-\-load\fR are measured by each host on that host.
.IP \(bu 2
A run with failures or lost hosts ends with a short summary on standard error;
\fB\-\-bar\fR also shows running and failed jobs.
.IP \(bu 2
\fB\-\-nonall\fR or \fB\-\-onall\fR with no command, and a \fB\-\-tmpdir\fR that is
missing, are errors before any job starts.
.IP \(bu 2
\fB\-\-json\-events\fR, a live event stream, is beyond GNU Parallel.
.PP
Left out: \fB\-\-tmux\fR, \fB\-\-sql*\fR, \fB\-\-semaphore\fR and \fBsem\fR,
\fB\-\-memsuspend\fR, \fB\-\-noswap\fR, \fB\-\-filter\-hosts\fR, \fB\-\-interactive\fR
and logins that hold their own ssh command. An option GNU Parallel has and
\fBconcurr\fR lacks is refused before any job runs, naming it, with a hint.
The README lists each difference with its reason.
.SH SEE ALSO
\fBparallel\fR(1), \fBxargs\fR(1), \fBssh\fR(1), \fBssh_config\fR(5)
`
