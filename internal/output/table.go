package output

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Table is a --results file that holds every job as a row: --results
// x.csv, x.tsv or x.json, in GNU Parallel's formats.
type Table int

// The table formats.
const (
	NoTable Table = iota
	CSV
	TSV
	JSON
)

// TableOf returns the format GNU Parallel gives a --results name by its
// suffix, in any case, or NoTable.
func TableOf(name string) Table {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".csv"):
		return CSV
	case strings.HasSuffix(lower, ".tsv"):
		return TSV
	case strings.HasSuffix(lower, ".json"):
		return JSON
	}
	return NoTable
}

// TableSuffix is the suffix that names a table format.
func TableSuffix(t Table) string {
	return map[Table]string{CSV: ".csv", TSV: ".tsv", JSON: ".json"}[t]
}

// Record is what a table row says about a finished job besides its output.
type Record struct {
	Host          string // ":" for this machine
	Start         time.Time
	Runtime       time.Duration
	Send, Receive int64
	Exit, Signal  int
	Command       string
	Args          []string
}

// writeRow writes a finished job's row, with its held output, and flushes
// it, so that a run cut short keeps the rows of the jobs that ended.
func (w *Writer) writeRow(j *Job) {
	var out [2]bytes.Buffer
	for i := range j.held {
		h := &j.held[i]
		out[i].Write(h.mem)
		w.memory -= len(h.mem)
		h.mem = nil
		if len(h.spilled) > 0 {
			err := w.spill.drain(h, func(b []byte) error { out[i].Write(b); return nil })
			if err != nil && w.err == nil {
				w.err = fmt.Errorf("read back the output of job %d: %w", j.Seq, err)
			}
		}
		out[i].Write(j.partial[i])
		j.partial[i] = nil
	}
	r := j.Record
	if r == nil {
		r = &Record{}
	}
	var b []byte
	if w.opts.Table == JSON {
		b = jsonRow(b, j.Seq, r, out[0].Bytes(), out[1].Bytes())
	} else {
		sep := byte(',')
		if w.opts.Table == TSV {
			sep = '\t'
		}
		if !w.tableHeader {
			w.tableHeader = true
			names := make([]string, len(r.Args))
			for i := range names {
				names[i] = fmt.Sprintf("V%d", i+1)
				if i < len(w.opts.TableNames) {
					names[i] = w.opts.TableNames[i]
				}
			}
			cols := append([]string{"Seq", "Host", "Starttime", "JobRuntime", "Send", "Receive", "Exitval", "Signal", "Command"}, names...)
			b = csvRow(b, sep, append(cols, "Stdout", "Stderr"))
		}
		cols := append(recordFields(j.Seq, r), r.Command)
		cols = append(cols, r.Args...)
		b = csvRow(b, sep, append(cols, out[0].String(), out[1].String()))
	}
	if w.err != nil {
		return
	}
	if _, err := w.opts.TableOut.Write(b); err != nil {
		w.err = fmt.Errorf("--results: %w", err)
	}
}

// recordFields are the numbers of a row, as GNU Parallel prints them.
func recordFields(seq uint64, r *Record) []string {
	return []string{fmt.Sprint(seq), r.Host,
		fmt.Sprintf("%.3f", float64(r.Start.UnixNano())/1e9), fmt.Sprintf("%.3f", r.Runtime.Seconds()),
		fmt.Sprint(r.Send), fmt.Sprint(r.Receive), fmt.Sprint(r.Exit), fmt.Sprint(r.Signal)}
}

// csvRow is GNU Parallel's combine_ref: a field is quoted, with its quotes
// doubled, when it holds a quote, white space, the separator or NUL.
func csvRow(b []byte, sep byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, sep)
		}
		if strings.ContainsAny(f, "\" \t\n\r\f\v\x00"+string(sep)) {
			b = append(b, '"')
			b = append(b, strings.ReplaceAll(f, `"`, `""`)...)
			b = append(b, '"')
		} else {
			b = append(b, f...)
		}
	}
	return append(b, '\n')
}

// jsonRow is GNU Parallel's print_json: one object per line, with its own
// spacing.
func jsonRow(b []byte, seq uint64, r *Record, stdout, stderr []byte) []byte {
	f := recordFields(seq, r)
	b = fmt.Appendf(b, `{ "Seq": %s, "Host": "%s", "Starttime": %s, "JobRuntime": %s, "Send": %s, "Receive": %s, "Exitval": %s, "Signal": %s, "Command": "%s", "V": [ `,
		f[0], jsonQuote(f[1]), f[2], f[3], f[4], f[5], f[6], f[7], jsonQuote(r.Command))
	for i, a := range r.Args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, jsonQuote(a)...)
		b = append(b, '"')
	}
	return fmt.Appendf(b, ` ], "Stdout": "%s", "Stderr": "%s" }`+"\n", jsonQuote(string(stdout)), jsonQuote(string(stderr)))
}

// jsonQuote escapes as GNU Parallel does: backslash, quote and the control
// bytes below 32; other bytes, UTF-8 or not, pass as they are.
func jsonQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 32:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
