package parse

import (
	"fmt"
	"strings"
)

// csvSplitter splits one CSV record into its fields as RFC 4180 has them:
// fields end at sep, a field that starts with a double quote runs to the
// closing quote and may hold sep, newlines and doubled quotes. As in GNU
// Parallel's Text::CSV, a quote inside an unquoted field, or anything but
// sep after a closing quote, is an error, not a guess.
func csvSplitter(sep byte) func(string) ([]string, error) {
	return func(rec string) ([]string, error) {
		var fields []string
		var field strings.Builder
		i := 0
		for {
			field.Reset()
			if i < len(rec) && rec[i] == '"' {
				i++
				for {
					q := strings.IndexByte(rec[i:], '"')
					if q < 0 {
						return nil, fmt.Errorf("a quoted field is not closed")
					}
					field.WriteString(rec[i : i+q])
					i += q + 1
					if i < len(rec) && rec[i] == '"' {
						field.WriteByte('"')
						i++
						continue
					}
					break
				}
				if i < len(rec) && rec[i] != sep {
					return nil, fmt.Errorf("%q follows a closing quote", rec[i])
				}
			} else {
				end := strings.IndexByte(rec[i:], sep)
				if end < 0 {
					end = len(rec) - i
				}
				value := rec[i : i+end]
				if strings.IndexByte(value, '"') >= 0 {
					return nil, fmt.Errorf("a quote inside the unquoted field %q", value)
				}
				field.WriteString(value)
				i += end
			}
			fields = append(fields, field.String())
			if i >= len(rec) {
				return fields, nil
			}
			i++ // the separator
		}
	}
}

// csvSeparator is the one byte --colsep names for --csv: "," by default,
// and \t and the other escapes of -d understood.
func csvSeparator(colsep string) (byte, error) {
	if colsep == "" {
		return ',', nil
	}
	sep := UnescapePrintf(colsep)
	if len(sep) != 1 || sep[0] == '"' || sep[0] == '\n' {
		return 0, fmt.Errorf("--csv needs --colsep to be one character other than a quote or a newline, not %q", colsep)
	}
	return sep[0], nil
}

// csvOpen reports whether rec leaves a quoted field open: an odd number of
// quotes means the record goes on after the delimiter, as GNU Parallel
// reads a CSV record that holds a newline.
func csvOpen(rec []byte) bool {
	n := 0
	for _, c := range rec {
		if c == '"' {
			n++
		}
	}
	return n%2 == 1
}
