package agent

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// umaskBuiltin is bash's umask [-p] [-S] [mode]: the mask applies to the
// processes the job starts from then on and to the files its redirections
// create.
func umaskBuiltin(p *procSettings, args []string, stdout, stderr io.Writer) int {
	symbolic, reusable := false, false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		for _, o := range args[0][1:] {
			switch o {
			case 'S':
				symbolic = true
			case 'p':
				reusable = true
			default:
				fmt.Fprintf(stderr, "umask: -%c: invalid option\numask: usage: umask [-p] [-S] [mode]\n", o)
				return 2
			}
		}
		args = args[1:]
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "umask: too many arguments\n")
		return 2
	}
	if len(args) == 0 {
		mask := p.currentUmask()
		text := fmt.Sprintf("%04o", mask)
		if symbolic {
			text = symbolicMode(0o777 &^ mask)
		}
		switch {
		case reusable && symbolic:
			fmt.Fprintf(stdout, "umask -S %s\n", text)
		case reusable:
			fmt.Fprintf(stdout, "umask %s\n", text)
		default:
			fmt.Fprintln(stdout, text)
		}
		return 0
	}
	mode := args[0]
	var mask int
	if mode[0] >= '0' && mode[0] <= '9' {
		n, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || n > 0o777 {
			fmt.Fprintf(stderr, "umask: %s: octal number out of range\n", mode)
			return 1
		}
		mask = int(n)
	} else {
		perm, err := applySymbolic(0o777&^p.currentUmask(), mode)
		if err != nil {
			fmt.Fprintf(stderr, "umask: %v\n", err)
			return 1
		}
		mask = 0o777 &^ perm
	}
	p.setUmask(mask)
	if symbolic {
		fmt.Fprintln(stdout, symbolicMode(0o777&^mask))
	}
	return 0
}

// symbolicMode spells permission bits as umask -S does: u=rwx,g=rx,o=rx.
func symbolicMode(perm int) string {
	var parts []string
	for i, who := range []string{"u", "g", "o"} {
		bits := perm >> (6 - 3*i) & 7
		s := who + "="
		for k, c := range "rwx" {
			if bits&(4>>k) != 0 {
				s += string(c)
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// applySymbolic applies a chmod-style mode, clauses like u=rwx,g+w,o-r,
// to the permissions that a umask allows.
func applySymbolic(perm int, mode string) (int, error) {
	for clause := range strings.SplitSeq(mode, ",") {
		who := 0
		i := 0
		for ; i < len(clause); i++ {
			switch clause[i] {
			case 'u':
				who |= 0o700
			case 'g':
				who |= 0o070
			case 'o':
				who |= 0o007
			case 'a':
				who |= 0o777
			default:
				goto op
			}
		}
	op:
		if who == 0 {
			who = 0o777
		}
		if i >= len(clause) || !strings.ContainsRune("=+-", rune(clause[i])) {
			rest := clause[i:]
			if rest == "" {
				rest = clause
			}
			return 0, fmt.Errorf("`%s': invalid symbolic mode operator", rest[:1])
		}
		op := clause[i]
		bits := 0
		for _, c := range clause[i+1:] {
			switch c {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x':
				bits |= 0o111
			default:
				return 0, fmt.Errorf("`%c': invalid symbolic mode character", c)
			}
		}
		bits &= who
		switch op {
		case '=':
			perm = perm&^who | bits
		case '+':
			perm |= bits
		case '-':
			perm &^= bits
		}
	}
	return perm, nil
}
