# fish completion for concurr, generated from concurr's option table by tools/gendocs (make man).

# __concurr_hosts prints the hosts named on Host lines of the ssh_config
# that the command line names with -F, or else of the user's and the
# system's, each after the part of a -S list already typed.
function __concurr_hosts
    set -l words (commandline -opc)
    set -l configs
    for i in (seq (count $words))
        switch $words[$i]
            case -F --ssh-config
                set -q words[(math $i + 1)]; and set -a configs $words[(math $i + 1)]
            case '--ssh-config=*'
                set -a configs (string replace -- --ssh-config= '' $words[$i])
        end
    end
    set -q configs[1]; or set configs ~/.ssh/config /etc/ssh/ssh_config
    set -l typed (commandline -ct)
    set -l before (string match -r -- '^.*[,/@]' $typed)
    for config in $configs
        test -r $config; and awk 'tolower($1) == "host" { for (i = 2; i <= NF; i++) if ($i !~ /[*?!]/) print $i }' $config | string replace -r -- '^' "$before"
    end
end

complete -c concurr -s j -l jobs -x -d 'jobs at once per host: N, N% of cores, +N or -N cores (default: usable cores)'
complete -c concurr -s P -l max-procs -l maxprocs -x -d 'same as -j'
complete -c concurr -s k -l keep-order -l keeporder -d 'print jobs\' output in input order'
complete -c concurr -l no-keep-order -l nokeeporder -l nok -l no-k -d 'cancel an earlier --keep-order, as from --config'
complete -c concurr -l group -d 'print each job\'s output together when it ends (default)'
complete -c concurr -l line-buffer -l line-buffered -l linebuffer -l linebuffered -l lb -d 'print whole lines as jobs produce them'
complete -c concurr -s u -l ungroup -d 'print output as it comes, unbuffered'
complete -c concurr -l tag -d 'prefix output lines with the job\'s arguments'
complete -c concurr -l tagstring -l tag-string -x -d 'prefix output lines with STR (replacement strings allowed)'
complete -c concurr -s I -x -d 'use STR instead of {}'
complete -c concurr -s i -l replace -d 'as -I; alone, or with a value attached (-iSTR), as xargs -i'
complete -c concurr -l extensionreplace -l er -x -d 'use STR instead of {.}'
complete -c concurr -l basenamereplace -l bnr -x -d 'use STR instead of {/}'
complete -c concurr -l dirnamereplace -l dnr -x -d 'use STR instead of {//}'
complete -c concurr -l basenameextensionreplace -l bner -x -d 'use STR instead of {/.}'
complete -c concurr -l seqreplace -x -d 'use STR instead of {#}'
complete -c concurr -l slotreplace -x -d 'use STR instead of {%}'
complete -c concurr -s m -l xargs -d 'put as many arguments as fit in one command'
complete -c concurr -s X -l context-replace -d 'like -m, repeating each word that holds a replacement string for each argument'
complete -c concurr -s s -l max-chars -l maxchars -x -d 'with -m and -X, limit a command to N characters (k, M, G suffixes)'
complete -c concurr -s q -l quote -d 'quote the command so that it is not shell code'
complete -c concurr -l plus -d 'add GNU Parallel\'s --plus replacement strings: {..} {+.} {%.gz} {/a/b} {:1:2} ...'
complete -c concurr -s a -l arg-file -l argfile -r -F -d 'read arguments from FILE (- is stdin); repeatable'
complete -c concurr -s d -l delimiter -x -d 'input items end with DELIM (\\n, \\t, \\0 understood)'
complete -c concurr -s 0 -l null -d 'input items end with NUL'
complete -c concurr -s C -l colsep -l col-sep -x -d 'split each input line into columns {1} {2} …'
complete -c concurr -l header -x -d 'the first input line names the columns, for {name} (use :)'
complete -c concurr -s n -l max-args -l maxargs -x -d 'N arguments per job at most, as xargs -n (k, M, G suffixes)'
complete -c concurr -s N -l max-replace-args -l maxreplaceargs -x -d 'N arguments per job ({1}…{N}), each word around {} repeated for each; -N0 runs once per input with none'
complete -c concurr -l trim -x -d 'trim white space from arguments: n, l, r, lr'
complete -c concurr -s E -x -d 'an input item equal to STR ends the input'
complete -c concurr -s e -l eof -d 'as -E; alone, it ends nothing'
complete -c concurr -s r -l no-run-if-empty -l norunifempty -d 'skip input items that are only white space'
complete -c concurr -l arg-sep -l argsep -x -d 'use SEP instead of ::: (and disable the : alias)'
complete -c concurr -l arg-file-sep -l argfilesep -x -d 'use SEP instead of :::: (and disable the :: alias)'
complete -c concurr -l link -l xapply -d 'link input sources instead of combining them'
complete -c concurr -l halt -l halt-on-error -l haltonerror -x -d 'stop on failures: now|soon,fail|success|done=N|N%'
complete -c concurr -l retries -x -d 'run a failing job up to N times, on another host if there is one'
complete -c concurr -l timeout -x -d 'kill jobs running longer than SECS, or N% of the median runtime'
complete -c concurr -l delay -x -d 'wait SECS between job starts'
complete -c concurr -l dry-run -l dryrun -l dr -d 'print the commands instead of running them'
complete -c concurr -s v -d 'print each command on stdout, before its output'
complete -c concurr -s t -l verbose -d 'print each command on stderr as it starts'
complete -c concurr -l joblog -l jl -r -F -d 'log finished jobs to FILE (- is stdout, +FILE appends)'
complete -c concurr -l resume -d 'with --joblog, skip jobs the log shows as run'
complete -c concurr -l resume-failed -l resumefailed -d 'with --joblog, skip jobs the log shows as succeeded'
complete -c concurr -l results -l result -l res -x -a '(__fish_complete_directories)' -d 'save each job\'s output in files under DIR'
complete -c concurr -l env -x -d 'pass the variable VAR to remote jobs; repeatable'
complete -c concurr -l bar -d 'show a progress bar on stderr'
complete -c concurr -l eta -d 'show the estimated time left on stderr'
complete -c concurr -l progress -d 'show progress on stderr'
complete -c concurr -l json-events -r -F -d 'write the run\'s events to FILE as JSON lines, live (- is stdout)'
complete -c concurr -s S -l sshlogin -x -a '(__concurr_hosts)' -d 'run on [N/][user@]host[:port], comma-separated; : is this machine'
complete -c concurr -l sshloginfile -l slf -r -F -d 'read hosts from FILE, one per line'
complete -c concurr -s M -l controlmaster -d 'accepted: concurr always shares one connection per host'
complete -c concurr -l scheduler-hosts -d 'run on the hosts of the Slurm or PBS job this runs in, over srun or pbs_tmrsh where there is one (--scheduler-hosts=ssh for SSH)'
complete -c concurr -l ssh -x -a '(__fish_complete_command)' -d 'reach hosts with this OpenSSH command instead of the built-in client'
complete -c concurr -s F -l ssh-config -r -F -d 'ssh_config file to resolve hosts with'
complete -c concurr -l sshdelay -l ssh-delay -x -d 'wait SECS between starting SSH connections'
complete -c concurr -l onall -d 'run every job on every host'
complete -c concurr -l nonall -d 'run the command, without arguments, on every host'
complete -c concurr -l workdir -l work-dir -l wd -x -a '(__fish_complete_directories)' -d 'run jobs in DIR on each host (... makes a temporary one)'
complete -c concurr -l tmpdir -l tempdir -x -a '(__fish_complete_directories)' -d 'where held output spills to files'
complete -c concurr -l config -r -F -d 'read options from FILE (one \'name value\' per line, dashes optional)'
complete -c concurr -l will-cite -l willcite -l nn -l nonotice -l no-notice -d 'accepted: concurr shows no citation notice'
complete -c concurr -l transferfile -l tf -r -F -d 'send FILE (replacement strings allowed) to the remote host before each job'
complete -c concurr -l transfer -d 'send the input file ({}) to the remote host before each job'
complete -c concurr -l return -r -F -d 'bring FILE back from the remote host after each job'
complete -c concurr -l cleanup -d 'remove transferred and returned files from the remote host after each job'
complete -c concurr -l trc -r -F -d '--transfer, --return FILE and --cleanup'
complete -c concurr -l pipe -l spreadstdin -d 'split stdin into blocks, one per job, on the job\'s stdin'
complete -c concurr -l pipepart -l pipe-part -d 'like --pipe, with blocks of the file named by -a, read in place'
complete -c concurr -l block -l block-size -l blocksize -x -d 'with --pipe, bytes per block (K, M, G; default 1M); negative with --pipepart: blocks per slot'
complete -c concurr -l recstart -x -d 'with --pipe, records start with STR'
complete -c concurr -l recend -x -d 'with --pipe, records end with STR (default \\n; \'\' for none)'
complete -c concurr -l regexp -l regex -d '--recstart and --recend are regular expressions'
complete -c concurr -l round-robin -l roundrobin -l round -d 'with --pipe, one job per slot, blocks spread over them'
complete -c concurr -l cat -d 'with --pipe, give each job its block as a temporary file named by {}'
complete -c concurr -l fifo -d 'with --pipe, give each job its block through a named pipe named by {}'
complete -c concurr -l tee -d 'with --pipe, give every job (of ::: arguments) the whole input'
complete -c concurr -l group-by -l groupby -x -d 'with --pipe, records are runs of lines with the same value in column COL (number or --header name)'
complete -c concurr -l csv -d 'read input records as CSV (RFC 4180), fields split at --colsep (default ,)'
complete -c concurr -s L -x -d 'N input lines per job, a line ending in a blank going on with the next (as -N, repeating words); with --pipe, records of N lines'
complete -c concurr -s l -l max-lines -d 'N input lines per job (default 1), a line ending in a blank going on with the next (as -n)'
complete -c concurr -l shuf -d 'run the jobs in a random order; {#} numbers them in that order'
complete -c concurr -l nice -x -d 'run jobs at niceness N, on every host'
complete -c concurr -l retry-failed -d 'with --joblog, run again the commands the log shows as failed, and only them'
complete -c concurr -l ctag -d '--tag, with each job\'s lines in a colour of its own'
complete -c concurr -l ctagstring -l ctag-string -x -d '--tagstring STR, with each job\'s lines in a colour of its own'
complete -c concurr -l color -l colour -d 'print each job\'s lines in a colour of its own'
complete -c concurr -l limit -x -a '(__fish_complete_command)' -d 'run CMD before starting a job: 0 starts it, 1 waits, 2 also kills the youngest job'
complete -c concurr -l memfree -x -d 'start a job on a host only while it has SIZE (k, M, G) of memory available'
complete -c concurr -l load -x -d 'start a job on a host only while fewer than MAX (or N% of cores) processes run there'
complete -c concurr -s V -l version -d 'print the version'
complete -c concurr -s h -l help -d 'print this help'
