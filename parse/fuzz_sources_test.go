package parse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzSplitCommandLine feeds NUL-separated words to SplitCommandLine.
func FuzzSplitCommandLine(f *testing.F) {
	for _, seed := range []string{
		"echo\x00:::\x00a\x00b",
		"echo\x00:::\x00a\x00:::+\x001\x00::::\x00f\x00-",
		"::::+\x00\x00:::",
		":\x00::\x00:::\x00::::",
		"echo\x00:::",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		template, sources, err := SplitCommandLine(args)
		if err != nil {
			return
		}
		for _, w := range template {
			if k, _ := DefaultSeparators.classify(w); k != srcNotSep {
				t.Fatalf("separator %q in template %q", w, template)
			}
		}
		words := len(template)
		for _, s := range sources {
			if s.Files {
				if s.Path == "" {
					t.Fatal("empty path")
				}
				words++
				continue
			}
			for _, v := range s.Values {
				if k, _ := DefaultSeparators.classify(v); k != srcNotSep {
					t.Fatalf("separator %q among values", v)
				}
			}
			words += len(s.Values)
		}
		if words > len(args) {
			t.Fatalf("%d words out of %d args", words, len(args))
		}
	})
}

// FuzzRecords drives random input through OpenInputs and Next with random
// delimiters, column separators and options: it must not panic or hang,
// and plain records must join back into the input.
func FuzzRecords(f *testing.F) {
	f.Add([]byte("a\nb\nc"), "", "", uint16(0), "x\ny")
	f.Add([]byte("h1,h2\n1,2\n"), "", ",", uint16(1<<2), "")
	f.Add([]byte("aXYbXXY"), "XY", "", uint16(0), "")
	f.Add([]byte("a\x00b\x00\x00"), `\0`, "", uint16(1<<6), "1")
	f.Add([]byte(" a \n\n  \nEND\nb"), "", "", uint16(1<<7|1<<8|3<<9), "p\nq\nr")
	f.Add([]byte("a,,b;c\n"), "", "[,;]*", uint16(2|1<<5), "")
	f.Fuzz(func(t *testing.T, data []byte, delim, colsep string, flags uint16, second string) {
		if len(data) > 1<<12 || len(second) > 64 || len(delim) > 8 || len(colsep) > 32 {
			return
		}
		opts := InputOptions{
			Delimiter: delim,
			ColSep:    colsep,
			MaxArgs:   int(flags & 3),
			Trim:      []string{"", "n", "l", "r", "lr", "rl", "x", ""}[flags>>2&7],
			NoArgs:    flags&(1<<5) != 0,
			Null:      flags&(1<<6) != 0,
			SkipEmpty: flags&(1<<7) != 0,
			Link:      flags&(1<<8) != 0,
		}
		if flags&(1<<9) != 0 {
			opts.EOFString = "END"
		}
		if flags&(1<<10) != 0 {
			opts.Header = ":"
		}
		sources := []SourceSpec{{Files: true, Path: "-"}}
		if flags&(1<<11) != 0 {
			sources = append(sources, SourceSpec{Values: strings.Split(second, "\n"), Linked: flags&(1<<12) != 0})
		}
		in, err := OpenInputs(sources, opts, bytes.NewReader(data))
		if err != nil {
			return
		}
		defer in.Close()
		var records []string
		for n := 0; ; n++ {
			if n > 20*(len(data)+2)*(len(second)+2) {
				t.Fatal("too many jobs: Next does not end")
			}
			args, err := in.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.NoArgs && len(args) != 0 {
				t.Fatalf("-N0 job has values %q", args)
			}
			records = append(records, args...)
		}
		plain := len(sources) == 1 && opts.ColSep == "" && opts.MaxArgs <= 1 && !opts.NoArgs &&
			(opts.Trim == "" || opts.Trim == "n") && !opts.SkipEmpty && opts.EOFString == "" && opts.Header == ""
		if !plain {
			return
		}
		d, err := srcDelimiter(opts)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(records, string(d))
		if len(records) > 0 && bytes.HasSuffix(data, d) {
			joined += string(d)
		}
		if joined != string(data) {
			t.Fatalf("records %q with delimiter %q do not rebuild %q", records, d, data)
		}
	})
}
