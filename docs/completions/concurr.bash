# bash completion for concurr, generated from concurr's option table by tools/gendocs (make man).

# _concurr_hosts prints the hosts named on Host lines of the ssh_config
# that the command line names with -F, or else of the user's and the
# system's.
_concurr_hosts() {
	local i configs=()
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		-F | --ssh-config) configs+=("${COMP_WORDS[i + 1]/#\~/$HOME}") ;;
		--ssh-config=*) configs+=("${COMP_WORDS[i]#*=}") ;;
		esac
	done
	[ ${#configs[@]} -eq 0 ] && configs=("$HOME/.ssh/config" /etc/ssh/ssh_config)
	for i in "${configs[@]}"; do
		[ -r "$i" ] && awk 'tolower($1) == "host" { for (i = 2; i <= NF; i++) if ($i !~ /[*?!]/) print $i }' "$i"
	done
}

_concurr() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
	-S | --sshlogin)
		local host=${cur##*[,/@]}
		COMPREPLY=($(compgen -P "${cur%"$host"}" -W "$(_concurr_hosts)" -- "$host"))
		return
		;;
	-a | --arg-file | --argfile | --joblog | --jl | --json-events | --sshloginfile | --slf | -F | --ssh-config | --config | --transferfile | --tf | --transfer-file | --transferfiles | --transfer-files | --return | --trc | --basefile | --bf)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--results | --result | --res | --workdir | --work-dir | --wd | --tmpdir | --tempdir)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--ssh | --limit)
		COMPREPLY=($(compgen -c -- "$cur"))
		return
		;;
	-j | --jobs | -P | --max-procs | --maxprocs | --tagstring | --tag-string | -I | --extensionreplace | --er | --basenamereplace | --bnr | --dirnamereplace | --dnr | --basenameextensionreplace | --bner | --seqreplace | --slotreplace | -s | --max-chars | --maxchars | --shell | -d | --delimiter | -C | --colsep | --col-sep | --header | -n | --max-args | --maxargs | -N | --max-replace-args | --maxreplaceargs | --trim | -E | --arg-sep | --argsep | --arg-file-sep | --argfilesep | --halt | --halt-on-error | --haltonerror | --retries | --timeout | --delay | --env | --sshdelay | --ssh-delay | --block | --block-size | --blocksize | --recstart | --recend | --group-by | --groupby | -L | --nice | --ctagstring | --ctag-string | --memfree | --load)
		: # a value of the user's own
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$_concurr_options" -- "$cur"))
		return
	fi
	compopt -o default 2>/dev/null
}

_concurr_options='-j --jobs -P --max-procs --maxprocs -k --keep-order --keeporder --no-keep-order --nokeeporder --nok --no-k --group --line-buffer --line-buffered --linebuffer --linebuffered --lb -u --ungroup --tag --tagstring --tag-string -I -i --replace --extensionreplace --er --basenamereplace --bnr --dirnamereplace --dnr --basenameextensionreplace --bner --seqreplace --slotreplace -m --xargs -X --context-replace -s --max-chars --maxchars -q --quote --plus --shell -a --arg-file --argfile -d --delimiter -0 --null -C --colsep --col-sep --header -n --max-args --maxargs -N --max-replace-args --maxreplaceargs --trim -E -e --eof -r --no-run-if-empty --norunifempty --arg-sep --argsep --arg-file-sep --argfilesep --link --xapply --halt --halt-on-error --haltonerror --retries --timeout --delay --dry-run --dryrun --dr -v -t --verbose --joblog --jl --resume --resume-failed --resumefailed --results --result --res --env --record-env --bar --eta --progress --json-events -S --sshlogin --sshloginfile --slf --filter-hosts --filterhosts --filter-host -M --controlmaster --scheduler-hosts --ssh -F --ssh-config --sshdelay --ssh-delay --onall --nonall --workdir --work-dir --wd --tmpdir --tempdir --config --will-cite --willcite --nn --nonotice --no-notice --transferfile --tf --transfer-file --transferfiles --transfer-files --transfer --return --cleanup --trc --basefile --bf --pipe --spreadstdin --pipepart --pipe-part --block --block-size --blocksize --recstart --recend --regexp --regex --round-robin --roundrobin --round --cat --fifo --tee --group-by --groupby --tty -o --open-tty --csv -L -l --max-lines --shuf --nice --retry-failed --ctag --ctagstring --ctag-string --color --colour --limit --memfree --load -V --version -h --help'
complete -F _concurr concurr
