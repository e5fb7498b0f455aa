package output

import (
	"bytes"
	"testing"
	"time"
)

// The expected rows are GNU Parallel 20221122's combine_ref and print_json.
func TestTableRows(t *testing.T) {
	rec := &Record{Host: ":", Start: time.Unix(1700000000, 250e6), Runtime: 1500 * time.Millisecond,
		Receive: 2, Exit: 1, Command: "echo 'a b'", Args: []string{"a b"}}
	tests := []struct {
		name  string
		table Table
		want  string
	}{
		{"csv", CSV, "Seq,Host,Starttime,JobRuntime,Send,Receive,Exitval,Signal,Command,V1,Stdout,Stderr\n" +
			"7,:,1700000000.250,1.500,0,2,1,0,\"echo 'a b'\",\"a b\",\"x\"\"\n\",\"e,\"\n"},
		{"tsv", TSV, "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\tV1\tStdout\tStderr\n" +
			"7\t:\t1700000000.250\t1.500\t0\t2\t1\t0\t\"echo 'a b'\"\t\"a b\"\t\"x\"\"\n\"\te,\n"},
		{"json", JSON, `{ "Seq": 7, "Host": ":", "Starttime": 1700000000.250, "JobRuntime": 1.500, "Send": 0, "Receive": 2, ` +
			`"Exitval": 1, "Signal": 0, "Command": "echo 'a b'", "V": [ "a b" ], "Stdout": "x\"\u000a", "Stderr": "e," }` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := New(&bytes.Buffer{}, &bytes.Buffer{}, Options{Table: tc.table, TableOut: &out})
			j := w.Begin(7, nil, "")
			w.Chunk(j, Stdout, []byte("x\"\n"))
			w.Chunk(j, Stderr, []byte("e,"))
			j.Record = rec
			w.Finish(j)
			if got := out.String(); got != tc.want {
				t.Errorf("row\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestTableOf(t *testing.T) {
	for name, want := range map[string]Table{"x.csv": CSV, "X.TSV": TSV, "a/b.json": JSON, "out": NoTable, "csv": NoTable} {
		if got := TableOf(name); got != want {
			t.Errorf("TableOf(%q) = %v, want %v", name, got, want)
		}
	}
}
