package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
)

// The embedded shell lacks some of bash's builtins, or reads their options
// as operands. The call handler gives those to concurr: it renames the call
// to one of these internal commands, which no file or function can be
// called (the names hold a NUL byte), and bashMiddleware, first of the exec
// handlers, runs it with bash's meaning.
const (
	internalPrefix = "\x00concurr:"
	internalFail   = internalPrefix + "fail" // args: status, message
	internalUmask  = internalPrefix + "umask"
	internalUlimit = internalPrefix + "ulimit"
)

// bashBuiltin rewrites a call of a builtin that concurr implements; other
// calls come back as they are.
func bashBuiltin(ctx context.Context, args []string) []string {
	switch args[0] {
	case "umask", "ulimit":
		return append([]string{internalPrefix + args[0]}, args[1:]...)
	case "printf":
		if len(args) > 1 && (args[1] == "-v" || strings.HasPrefix(args[1], "-v") && len(args[1]) > 2) {
			return printfToVar(args)
		}
	}
	return args
}

// printfToVar runs printf -v NAME FORMAT [ARGS]: the output is assigned to
// NAME rather than written. The interpreter's printf prints "-v"; its
// formatting is used here, and the assignment is left to eval, so that it
// lands in the scope a plain assignment would, as in bash.
func printfToVar(args []string) []string {
	var name string
	rest := args[1:]
	if rest[0] == "-v" {
		if len(rest) < 2 {
			return fail(2, "printf: -v: option requires an argument")
		}
		name, rest = rest[1], rest[2:]
	} else {
		name, rest = rest[0][2:], rest[1:]
	}
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	if !assignableName(name) {
		return fail(2, fmt.Sprintf("printf: `%s': not a valid identifier", name))
	}
	if len(rest) == 0 {
		return fail(2, "printf: usage: printf [-v var] format [arguments]")
	}
	format, fargs := rest[0], rest[1:]
	var out strings.Builder
	// A nil Config would share the expand package's one string builder
	// between every slot's goroutine, and one job's value would run into
	// another's.
	cfg := &expand.Config{}
	for {
		s, n, err := expand.Format(cfg, format, fargs)
		if err != nil {
			return fail(1, "printf: "+err.Error())
		}
		out.WriteString(s)
		fargs = fargs[n:]
		if n == 0 || len(fargs) == 0 {
			break
		}
	}
	value := out.String()
	if i := strings.IndexByte(value, 0); i >= 0 {
		// A shell variable ends at a NUL byte, as in bash.
		value = value[:i]
	}
	return []string{"eval", name + "=" + doubleQuote(value)}
}

// assignableName reports whether s is a variable name, or an array
// element with a plain subscript (a number, a name, or arithmetic on
// them), that printf -v may assign: it becomes shell source for eval, so
// nothing that expands or quotes may pass.
func assignableName(s string) bool {
	name, sub, hasSub := strings.Cut(s, "[")
	if hasSub {
		var ok bool
		if sub, ok = strings.CutSuffix(sub, "]"); !ok || sub == "" {
			return false
		}
		for _, r := range sub {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+-*/%", r)) {
				return false
			}
		}
	}
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

var doubleQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")

// doubleQuote quotes s for the shell, inside double quotes, where only
// these four characters need a backslash.
func doubleQuote(s string) string {
	return `"` + doubleQuoter.Replace(s) + `"`
}

// fail is a call that prints message on stderr and ends with status.
func fail(status int, message string) []string {
	return []string{internalFail, strconv.Itoa(status), message}
}

// bashMiddleware runs the internal commands that bashBuiltin calls.
func bashMiddleware(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
	return func(ctx context.Context, args []string) error {
		if !strings.HasPrefix(args[0], internalPrefix) {
			return next(ctx, args)
		}
		hc := interp.HandlerCtx(ctx)
		switch args[0] {
		case internalFail:
			fmt.Fprintln(hc.Stderr, args[2])
			status, _ := strconv.Atoi(args[1])
			return interp.ExitStatus(status)
		case internalUmask, internalUlimit:
			j := jobOf(ctx)
			if j == nil {
				break
			}
			builtin := umaskBuiltin
			if args[0] == internalUlimit {
				builtin = ulimitBuiltin
			}
			if status := builtin(&j.proc, args[1:], hc.Stdout, hc.Stderr); status != 0 {
				return interp.ExitStatus(status)
			}
			return nil
		}
		fmt.Fprintf(hc.Stderr, "%s: internal error: unknown builtin\n", strings.TrimPrefix(args[0], internalPrefix))
		return interp.ExitStatus(2)
	}
}
