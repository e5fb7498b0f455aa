package template

// ShellQuote quotes s as GNU Parallel 20221122 does for a POSIX shell: a
// string of only [-_.+a-zA-Z0-9/] stays bare, the empty string becomes ”,
// and anything else is wrapped in single quotes, each ' written as '"'"',
// with the empty ” that this leaves at either end removed.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if isBare(s) {
		return s
	}
	return string(AppendShellQuote(make([]byte, 0, len(s)+2), s))
}

// AppendShellQuote appends ShellQuote(s) to dst, for callers that build a
// line of many quoted values.
func AppendShellQuote(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "''"...)
	}
	if isBare(s) {
		return append(dst, s...)
	}
	start := len(dst)
	dst = append(dst, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			dst = append(dst, `'"'"'`...)
		} else {
			dst = append(dst, s[i])
		}
	}
	dst = append(dst, '\'')
	// GNU Parallel's s/^''// and s/''$//, each applied once.
	if len(dst)-start >= 2 && dst[start] == '\'' && dst[start+1] == '\'' {
		dst = append(dst[:start], dst[start+2:]...)
	}
	if n := len(dst); n-start >= 2 && dst[n-1] == '\'' && dst[n-2] == '\'' {
		dst = dst[:n-2]
	}
	return dst
}

// isBare reports whether s needs no quoting at all.
func isBare(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
