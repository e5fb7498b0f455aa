package template

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
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

// The --plus path forms, as GNU Parallel 20221122 writes them in Perl.
var (
	// {..} s:\.[^/.]*\.[^/.]*$::  and  {...} with three.
	noExt2 = lazyRegexp(`\.[^/.]*\.[^/.]*$`)
	noExt3 = lazyRegexp(`\.[^/.]*\.[^/.]*\.[^/.]*$`)
	// {+..} s:.*\.([^/.]*\.[^/.]*)$:$1: || s:.*$::  and  {+...}.
	ext2 = lazyRegexp(`.*\.([^/.]*\.[^/.]*)$`)
	ext3 = lazyRegexp(`.*\.([^/.]*\.[^/.]*\.[^/.]*)$`)
)

// dirPlus is {+/}: s:/[^/]*$:: || s:.*$:: — everything before the last
// slash, or else what dropLastLine leaves.
func dirPlus(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return dropLastLine(s)
}

// dropLastLine is s:.*$::, where Perl's . stops at a newline and $ matches
// before a final one: the last line goes, but not a newline that ends s.
// For a value of one line, that is all of it.
func dropLastLine(s string) string {
	t := strings.TrimSuffix(s, "\n")
	return s[:strings.LastIndexByte(t, '\n')+1] + s[len(t):]
}

// extension is {+.}: s:.*\.:: || s:.*$:: — after the last dot of the first
// line that has one.
func extension(s string) string {
	start := 0
	for {
		end := len(s)
		nl := strings.IndexByte(s[start:], '\n')
		if nl >= 0 {
			end = start + nl
		}
		if k := strings.LastIndexByte(s[start:end], '.'); k >= 0 {
			return s[:start] + s[start+k+1:]
		}
		if nl < 0 {
			return dropLastLine(s)
		}
		start = end + 1
	}
}

// extensions is {+..} and {+...}: the captured extensions, or s:.*$::.
func extensions(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatchIndex(s); m != nil {
		return s[:m[0]] + s[m[2]:m[3]] + s[m[1]:]
	}
	return dropLastLine(s)
}

// transformArg applies a per-argument kind to one argument.
func transformArg(k Kind, s string) string {
	return transform(k, &Params{}, s)
}

// transform applies a per-argument kind, with its parameters, to one
// argument.
func transform(k Kind, p *Params, s string) string {
	switch k {
	case KindNoExt:
		return noExtension(s)
	case KindBase:
		return basename(s)
	case KindDir:
		return dirname(s)
	case KindBaseNoExt:
		return noExtension(basename(s))
	case KindNoExt2:
		return noExt2().ReplaceAllLiteralString(s, "")
	case KindNoExt3:
		return noExt3().ReplaceAllLiteralString(s, "")
	case KindBaseNoExt2:
		return noExt2().ReplaceAllLiteralString(basename(s), "")
	case KindBaseNoExt3:
		return noExt3().ReplaceAllLiteralString(basename(s), "")
	case KindDirPlus:
		return dirPlus(s)
	case KindExt:
		return extension(s)
	case KindExt2:
		return extensions(ext2(), s)
	case KindExt3:
		return extensions(ext3(), s)
	case KindDefault:
		// $_ ||= "with": Perl's false strings are "" and "0".
		if s == "" || s == "0" {
			return p.With
		}
		return s
	case KindSubstr:
		return substr(s, p.From, p.Len)
	}
	if p.re != nil {
		return substitute(k, p, s)
	}
	return s
}

// substr is {:from} and {:from:len}, on bytes as Perl's substr is on
// strings it has not decoded; a start past the end gives "".
func substr(s string, from, n int) string {
	if from >= len(s) {
		return ""
	}
	s = s[from:]
	if n >= 0 && n < len(s) {
		s = s[:n]
	}
	return s
}

// substitute is the Perl s/// behind the regexp forms. Each kind's regexp
// (compileParams) holds the pattern as that kind wraps it.
func substitute(k Kind, p *Params, s string) string {
	re := p.re
	switch k {
	case KindTrimPrefix, KindTrimSuffix:
		// s/^re(.*)/$1/ and s/(.*)re$/$1/: the match gives way to its first
		// group, which is the user's own when the pattern has groups.
		m := re.FindStringSubmatchIndex(s)
		if m == nil {
			return s
		}
		group := ""
		if len(m) > 3 && m[2] >= 0 {
			group = s[m[2]:m[3]]
		}
		return s[:m[0]] + group + s[m[1]:]
	case KindTrimPrefixAll, KindTrimSuffixAll, KindSubstFirst, KindSubstPrefix, KindSubstSuffix:
		m := re.FindStringIndex(s)
		if m == nil {
			return s
		}
		with := p.With
		if k == KindTrimPrefixAll || k == KindTrimSuffixAll {
			with = ""
		}
		return s[:m[0]] + with + s[m[1]:]
	case KindSubstAll:
		return re.ReplaceAllLiteralString(s, p.With)
	case KindUpperFirst, KindLowerFirst:
		m := re.FindStringIndex(s)
		if m == nil {
			return s
		}
		return s[:m[0]] + changeCase(k, s[m[0]:m[1]]) + s[m[1]:]
	case KindUpperAll, KindLowerAll:
		return re.ReplaceAllStringFunc(s, func(x string) string { return changeCase(k, x) })
	}
	return s
}

// changeCase is Perl's uc and lc on a string of bytes: ASCII letters only.
func changeCase(k Kind, s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case (k == KindUpperFirst || k == KindUpperAll) && 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case (k == KindLowerFirst || k == KindLowerAll) && 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
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

// padded is n zero-padded to the width GNU Parallel gives it:
// 1+int(log10(of)) digits.
func padded(n, of uint64) string {
	s := strconv.FormatUint(n, 10)
	width := len(strconv.FormatUint(max(of, 1), 10))
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// appendValues appends the values of a replacement to dst, without a
// context prefix or suffix. total is the number of jobs, for {##}.
func appendValues(dst []string, k Kind, index int, p *Params, total uint64, j Job) []string {
	switch k {
	case KindSeq:
		return append(dst, strconv.FormatUint(j.Seq, 10))
	case KindSlot:
		return append(dst, strconv.FormatUint(j.Slot, 10))
	case KindHost:
		return append(dst, j.Host)
	case KindTotal:
		return append(dst, strconv.FormatUint(total, 10))
	case KindSeqPadded:
		return append(dst, padded(j.Seq, total))
	case KindSlotPadded:
		return append(dst, padded(j.Slot, j.Slots))
	case KindShell:
		return append(dst, p.With)
	}
	if index == 0 {
		for _, a := range j.Args {
			dst = append(dst, transform(k, p, a))
		}
		return dst
	}
	if i := argIndex(index, len(j.Args)); i >= 0 {
		dst = append(dst, transform(k, p, j.Args[i]))
	}
	return dst
}

// lazyRegexp compiles expr on its first use: compiled at package init, the
// expressions would cost every start of the binary, agents' included, for
// options most runs do not use.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
