package pipe

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// GroupBy makes --group-by's records: a run of consecutive lines with the
// same value in one column is one record, so that a block never splits a
// group (the input is expected sorted by that column, as GNU Parallel
// expects it).
type GroupBy struct {
	Column int    // 1-based; 0 until a name is resolved against the header
	Name   string // the column's name, found in the --header line
	sep    *regexp.Regexp
}

// ParseGroupBy reads a --group-by value: a column number, or a column
// name that the header line (--header :) names. Columns are split by
// colsep, a regular expression, tab by default. GNU Parallel's Perl
// expressions are refused: there is no Perl here.
func ParseGroupBy(value, colsep string) (*GroupBy, error) {
	if colsep == "" {
		colsep = "\t"
	}
	sep, err := regexp.Compile(colsep)
	if err != nil {
		return nil, fmt.Errorf("bad --colsep: %w", err)
	}
	value = strings.TrimSpace(value)
	if n, err := strconv.Atoi(value); err == nil {
		if n < 1 {
			return nil, fmt.Errorf("column %d: columns count from 1", n)
		}
		return &GroupBy{Column: n, sep: sep}, nil
	}
	if value == "" || strings.ContainsAny(value, " \t$;(){}") {
		return nil, fmt.Errorf("only a column number or name is supported, not a Perl expression")
	}
	return &GroupBy{Name: value, sep: sep}, nil
}

// resolve finds a named column in the header line.
func (g *GroupBy) resolve(header []byte) error {
	if g.Name == "" {
		return nil
	}
	for i, name := range g.sep.Split(strings.TrimSuffix(string(header), "\n"), -1) {
		if name == g.Name {
			g.Column = i + 1
			return nil
		}
	}
	return fmt.Errorf("--group-by: no column %q in the header %q", g.Name, strings.TrimSuffix(string(header), "\n"))
}

// key is the value a line is grouped by; the whole line, newline included,
// is split, as GNU Parallel's perl -a splits it.
func (g *GroupBy) key(line []byte) string {
	fields := g.sep.Split(string(line), g.Column+1)
	if g.Column > len(fields) {
		return ""
	}
	return fields[g.Column-1]
}

// boundaries returns where groups start in buf, after offset 0, among its
// complete lines; most stops after that many.
func (g *GroupBy) boundaries(buf []byte, most int) []int {
	var cuts []int
	var last string
	first := true
	for pos := 0; pos < len(buf); {
		nl := bytes.IndexByte(buf[pos:], '\n')
		if nl < 0 {
			break
		}
		k := g.key(buf[pos : pos+nl+1])
		if !first && k != last {
			cuts = append(cuts, pos)
			if most > 0 && len(cuts) == most {
				break
			}
		}
		first, last = false, k
		pos += nl + 1
	}
	return cuts
}
