package optdoc

import (
	"fmt"
	"io"
	"strings"
)

// valueKind is what an option's value is, for completing it.
type valueKind int

const (
	noValue    valueKind = iota // a switch
	plainValue                  // a number or a string: nothing to offer
	fileValue
	dirValue
	hostsValue
	commandValue
)

func (o Option) valueKind() valueKind {
	switch o.Arg {
	case "":
		return noValue
	}
	if o.Optional {
		return noValue // the next word may as well be the command
	}
	switch o.Arg {
	case "FILE":
		return fileValue
	case "DIR":
		return dirValue
	case "HOSTS":
		return hostsValue
	case "CMD":
		return commandValue
	}
	return plainValue
}

// sshConfigHosts is POSIX awk that prints the names on the Host lines of
// the ssh_config files it is given, leaving out patterns (*, ?, !), which
// name no one host.
const sshConfigHosts = `awk 'tolower($1) == "host" { for (i = 2; i <= NF; i++) if ($i !~ /[*?!]/) print $i }'`

// shellQuote quotes s for sh, bash, zsh and fish alike.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish, where a backslash escapes a quote inside
// single quotes.
func fishQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// spellingsOf returns the spellings of the options whose value is of kind.
func spellingsOf(opts []Option, kind valueKind) []string {
	var s []string
	for _, o := range opts {
		if o.valueKind() == kind {
			s = append(s, o.Spellings()...)
		}
	}
	return s
}

const completionHead = "generated from concurr's option table by tools/gendocs (make man)"

// WriteBash writes the bash completion.
func WriteBash(w io.Writer, opts []Option) error {
	var all []string
	for _, o := range opts {
		all = append(all, o.Spellings()...)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# bash completion for concurr, %s.\n", completionHead)
	b.WriteString(`
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
		[ -r "$i" ] && ` + sshConfigHosts + ` "$i"
	done
}

_concurr() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	case $prev in
`)
	cases := []struct {
		kind   valueKind
		action string
	}{
		{hostsValue, `local host=${cur##*[,/@]}
		COMPREPLY=($(compgen -P "${cur%"$host"}" -W "$(_concurr_hosts)" -- "$host"))`},
		{fileValue, `compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))`},
		{dirValue, `compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur"))`},
		{commandValue, `COMPREPLY=($(compgen -c -- "$cur"))`},
		{plainValue, `: # a value of the user's own`},
	}
	for _, c := range cases {
		fmt.Fprintf(&b, "\t%s)\n\t\t%s\n\t\treturn\n\t\t;;\n", strings.Join(spellingsOf(opts, c.kind), " | "), c.action)
	}
	b.WriteString(`	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$_concurr_options" -- "$cur"))
		return
	fi
	compopt -o default 2>/dev/null
}

`)
	fmt.Fprintf(&b, "_concurr_options=%s\n", shellQuote(strings.Join(all, " ")))
	b.WriteString("complete -F _concurr concurr\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteZsh writes the zsh completion, a file named _concurr for $fpath.
func WriteZsh(w io.Writer, opts []Option) error {
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef concurr\n# zsh completion for concurr, %s.\n", completionHead)
	b.WriteString(`
# _concurr_hosts prints the hosts named on Host lines of the ssh_config
# that the command line names with -F, or else of the user's and the
# system's.
_concurr_hosts() {
	local i
	local -a configs
	for ((i = 2; i < CURRENT; i++)); do
		case $words[i] in
		-F | --ssh-config) configs+=(${~words[i + 1]}) ;;
		--ssh-config=*) configs+=(${~words[i]#*=}) ;;
		esac
	done
	(( $#configs )) || configs=(~/.ssh/config /etc/ssh/ssh_config)
	for i in $configs; do
		[[ -r $i ]] && ` + sshConfigHosts + ` $i
	done
}

_concurr() {
	local -a options
	options=(
`)
	for _, o := range opts {
		for _, s := range o.Spellings() {
			fmt.Fprintf(&b, "\t\t%s\n", shellQuote(s+":"+o.Help))
		}
	}
	b.WriteString("\t)\n\tcase $words[CURRENT-1] in\n")
	cases := []struct {
		kind   valueKind
		action string
	}{
		{hostsValue, `compset -P '*[,/@]'
		compadd -- $(_concurr_hosts)`},
		{fileValue, `_files`},
		{dirValue, `_files -/`},
		{commandValue, `_command_names -e`},
		{plainValue, `_message -e value 'value'`},
	}
	for _, c := range cases {
		fmt.Fprintf(&b, "\t%s)\n\t\t%s\n\t\treturn\n\t\t;;\n", strings.Join(spellingsOf(opts, c.kind), " | "), c.action)
	}
	b.WriteString(`	esac
	if [[ $PREFIX == -* ]]; then
		_describe -t options 'concurr option' options
	else
		_files
	fi
}

_concurr "$@"
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFish writes the fish completion.
func WriteFish(w io.Writer, opts []Option) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# fish completion for concurr, %s.\n", completionHead)
	b.WriteString(`
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
        test -r $config; and ` + sshConfigHosts + ` $config | string replace -r -- '^' "$before"
    end
end

`)
	for _, o := range opts {
		line := "complete -c concurr"
		if o.Short != "" && o.Short != o.Long[0] {
			line += " -s " + o.Short
		}
		for _, l := range o.Long {
			if len(l) == 1 {
				line += " -s " + l
			} else {
				line += " -l " + l
			}
		}
		switch o.valueKind() {
		case fileValue:
			line += " -r -F"
		case dirValue:
			line += " -x -a '(__fish_complete_directories)'"
		case hostsValue:
			line += " -x -a '(__concurr_hosts)'"
		case commandValue:
			line += " -x -a '(__fish_complete_command)'"
		case plainValue:
			line += " -x"
		}
		line += " -d " + fishQuote(o.Help)
		b.WriteString(line + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
