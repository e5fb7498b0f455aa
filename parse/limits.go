package parse

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a size as GNU Parallel's --memfree does: a number with an
// optional prefix, where K, M, G, T, P and Ki, Mi … are powers of 1024 and
// k, m, g, t, p powers of 1000. The empty string is 0.
func ParseSize(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	num := strings.TrimRight(s, "KMGTPkmgtpi")
	suffix := s[len(num):]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a size such as 500M or 2G")
	}
	if suffix != "" {
		unit := suffix[0]
		binary := unit >= 'A' && unit <= 'Z'
		switch {
		case len(suffix) == 2 && suffix[1] == 'i':
			binary = true
		case len(suffix) != 1:
			return 0, fmt.Errorf("unknown size suffix %q", suffix)
		}
		power := strings.IndexByte("kmgtp", unit|0x20) + 1
		if power == 0 {
			return 0, fmt.Errorf("unknown size suffix %q", suffix)
		}
		base := 1000.0
		if binary {
			base = 1024
		}
		for range power {
			v *= base
		}
	}
	return uint64(v), nil
}

// Load is --load: the number of running processes at which a host takes
// no new job, or a percentage of its cores.
type Load struct {
	Max     float64
	Percent bool
}

// ParseLoad reads --load: N or N%. The empty string is no limit.
func ParseLoad(s string) (Load, error) {
	if s == "" {
		return Load{}, nil
	}
	num, percent := strings.CutSuffix(s, "%")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return Load{}, fmt.Errorf("want a number of processes or a percentage of the cores, such as 4 or 100%%")
	}
	return Load{Max: v, Percent: percent}, nil
}

// Of is the limit on a host with this many cores.
func (l Load) Of(cores int) float64 {
	if l.Percent {
		return l.Max * float64(cores) / 100
	}
	return l.Max
}
