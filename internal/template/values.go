package template

import (
	"strconv"
	"strings"
)

// The path transformations below follow GNU Parallel 20221122's Perl
// expressions exactly, including their quirks with newlines, because users
// compare outputs byte for byte.

// noExtension is {.}: s:\.[^/.]*$:: — drop the last extension unless a slash
// follows it.
func noExtension(s string) string {
	i := strings.LastIndexByte(s, '.')
	if i < 0 || strings.IndexByte(s[i+1:], '/') >= 0 {
		return s
	}
	return s[:i]
}

// basename is {/}: s:.*/:: without Perl's /s flag, so "." stops at a newline:
// the first line that has a slash loses everything up to its last slash.
func basename(s string) string {
	start := 0
	for {
		end := len(s)
		nl := strings.IndexByte(s[start:], '\n')
		if nl >= 0 {
			end = start + nl
		}
		if k := strings.LastIndexByte(s[start:end], '/'); k >= 0 {
			if start == 0 {
				return s[k+1:]
			}
			return s[:start] + s[start+k+1:]
		}
		if nl < 0 {
			return s
		}
		start = end + 1
	}
}

// dirname is {//}: Perl's File::Basename::dirname on Unix.
func dirname(s string) string {
	dir, base := fileparse(s)
	dir = stripSlashes(dir)
	if base == "" {
		dir, _ = fileparse(dir)
		dir = stripSlashes(dir)
	}
	return dir
}

// fileparse splits like File::Basename's m{^(.*/)?(.*)}s, with "./" for
// a missing directory.
func fileparse(s string) (dir, base string) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "./", s
	}
	return s[:i+1], s[i+1:]
}

// stripSlashes is s{(.)/*\z}{$1}s: trailing slashes go, but not the
// first character.
func stripSlashes(s string) string {
	t := strings.TrimRight(s, "/")
	if t == "" && s != "" {
		return s[:1]
	}
	return t
}

// transformArg applies a per-argument kind to one argument.
func transformArg(k Kind, s string) string {
	switch k {
	case KindNoExt:
		return noExtension(s)
	case KindBase:
		return basename(s)
	case KindDir:
		return dirname(s)
	case KindBaseNoExt:
		return noExtension(basename(s))
	}
	return s
}

// argIndex maps a 1-based (or negative, from the end) position to an
// index into args, or -1 when the job has no such argument.
func argIndex(index, n int) int {
	switch {
	case index > 0 && index <= n:
		return index - 1
	case index < 0 && -index <= n:
		return n + index
	}
	return -1
}

// appendValues appends the values of a replacement to dst, without a
// context prefix or suffix.
func appendValues(dst []string, k Kind, index int, j Job) []string {
	switch k {
	case KindSeq:
		return append(dst, strconv.FormatUint(j.Seq, 10))
	case KindSlot:
		return append(dst, strconv.FormatUint(j.Slot, 10))
	case KindHost:
		return append(dst, j.Host)
	}
	if index == 0 {
		for _, a := range j.Args {
			dst = append(dst, transformArg(k, a))
		}
		return dst
	}
	if i := argIndex(index, len(j.Args)); i >= 0 {
		dst = append(dst, transformArg(k, j.Args[i]))
	}
	return dst
}
