package agent

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ulimitResource is one of ulimit's options: the resource it limits, the
// unit its values count in bytes (1 for plain numbers), and bash's words.
type ulimitResource struct {
	option   byte
	resource int
	scale    uint64
	desc     string
	unit     string
}

// pipeSizeResource stands for -p, the size of a pipe, which bash reports
// but no process can change.
const pipeSizeResource = -1

func findResource(option byte) (ulimitResource, bool) {
	for _, r := range ulimitResources {
		if r.option == option {
			return r, true
		}
	}
	return ulimitResource{}, false
}

// ulimitBuiltin is bash's ulimit [-HSa] [-option] [limit]: a limit set
// applies to the processes the job starts from then on, not to the
// embedded shell's own builtins, which run inside the agent.
func ulimitBuiltin(p *procSettings, args []string, stdout, stderr io.Writer) int {
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "ulimit: %s\nulimit: usage: ulimit [-SHa%s] [limit]\n", msg, resourceOptions())
		return 2
	}
	hard, soft, all := false, false, false
	var chosen []ulimitResource
	var value string
	hasValue := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest := args[i+1:]
			if len(rest) > 1 || len(rest) == 1 && hasValue {
				return usage("too many arguments")
			}
			if len(rest) == 1 {
				value, hasValue = rest[0], true
			}
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if hasValue {
				return usage("too many arguments")
			}
			value, hasValue = a, true
			continue
		}
		for k := 1; k < len(a); k++ {
			switch o := a[k]; o {
			case 'H':
				hard = true
			case 'S':
				soft = true
			case 'a':
				all = true
			default:
				r, ok := findResource(o)
				if !ok {
					return usage(fmt.Sprintf("-%c: invalid option", o))
				}
				chosen = append(chosen, r)
			}
		}
	}
	if all {
		chosen = ulimitResources
	}
	if len(chosen) == 0 {
		r, _ := findResource('f')
		chosen = []ulimitResource{r}
	}
	if !hasValue || all {
		for _, r := range chosen {
			cur, err := queryLimit(p, r, hard && !soft)
			if err != nil {
				fmt.Fprintf(stderr, "ulimit: %s: cannot get limit: %s\n", r.desc, errnoText(err))
				return 1
			}
			if len(chosen) > 1 {
				fmt.Fprintf(stdout, "%s%s\n", limitLabel(r), cur)
			} else {
				fmt.Fprintln(stdout, cur)
			}
		}
		return 0
	}
	if len(chosen) > 1 {
		return usage("one limit at a time, as in ulimit -n 100")
	}
	r := chosen[0]
	if r.resource == pipeSizeResource {
		fmt.Fprintf(stderr, "ulimit: %s: cannot modify limit: %s\n", r.desc, errnoText(syscall.EINVAL))
		return 1
	}
	old, err := p.limit(r.resource)
	if err != nil {
		fmt.Fprintf(stderr, "ulimit: %s: cannot get limit: %s\n", r.desc, errnoText(err))
		return 1
	}
	var n uint64
	switch value {
	case "unlimited":
		n = unix.RLIM_INFINITY
	case "hard":
		n = fromRlimit(old.Max)
	case "soft":
		n = fromRlimit(old.Cur)
	default:
		v, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "ulimit: %s: invalid number\n", value)
			return 1
		}
		if v > math.MaxUint64/r.scale {
			fmt.Fprintf(stderr, "ulimit: %s: limit out of range\n", value)
			return 1
		}
		n = v * r.scale
	}
	l := old
	if !hard && !soft {
		hard, soft = true, true
	}
	if hard {
		setRlimit(&l.Max, n)
	}
	if soft {
		setRlimit(&l.Cur, n)
	}
	// Refuse here what the kernel would refuse each process: a soft limit
	// above the hard one, or a hard limit raised without the privilege.
	if l.Cur > l.Max {
		fmt.Fprintf(stderr, "ulimit: %s: cannot modify limit: %s\n", r.desc, errnoText(syscall.EINVAL))
		return 1
	}
	if l.Max > old.Max && os.Geteuid() != 0 {
		fmt.Fprintf(stderr, "ulimit: %s: cannot modify limit: %s\n", r.desc, errnoText(syscall.EPERM))
		return 1
	}
	p.setLimit(r.resource, l)
	return 0
}

// queryLimit is the job's soft (or hard) limit for r as ulimit prints it.
func queryLimit(p *procSettings, r ulimitResource, hard bool) (string, error) {
	if r.resource == pipeSizeResource {
		return "8", nil
	}
	l, err := p.limit(r.resource)
	if err != nil {
		return "", err
	}
	v := l.Cur
	if hard {
		v = l.Max
	}
	if v == unix.RLIM_INFINITY {
		return "unlimited", nil
	}
	return strconv.FormatUint(fromRlimit(v)/r.scale, 10), nil
}

// limitLabel is the line's start in ulimit -a, as bash aligns it.
func limitLabel(r ulimitResource) string {
	opt := fmt.Sprintf("(-%c) ", r.option)
	if r.unit != "" {
		opt = fmt.Sprintf("(%s, -%c) ", r.unit, r.option)
	}
	return fmt.Sprintf("%-20s %20s", r.desc, opt)
}

func resourceOptions() string {
	var b strings.Builder
	for _, r := range ulimitResources {
		b.WriteByte(r.option)
	}
	return b.String()
}

// Rlimit's fields are unsigned on Linux and darwin and signed on FreeBSD:
// these convert either way.
func fromRlimit[T int64 | uint64](v T) uint64      { return uint64(v) }
func setRlimit[T int64 | uint64](dst *T, v uint64) { *dst = T(v) }
