package template

import (
	"reflect"
	"strings"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words []string
		opts  Options
	}{
		{"plain", []string{"echo", "{}"}, Options{}},
		{"from input", nil, Options{}},
		{"context word of several references", []string{"echo", "a{}b{.}c{-1}d{#}"}, Options{Mode: ModeContext}},
		{"everything", []string{"echo", "x{}y", "{-2/.}", "{n}"}, Options{
			Replacements: Replacements{Arg: "{}", NoExt: "N", Base: "B", Dir: "D", BaseNoExt: "E", Seq: "S", Slot: "L"},
			Header:       []string{"n", "m"}, Positions: 2, Mode: ModeContext, Quote: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.words, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tpl.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalProgram(b)
			if err != nil {
				t.Fatal(err)
			}
			if !programsEqual(&tpl.Program, got) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, tpl.Program)
			}
			job := Job{Seq: 1, Slot: 2, Host: "h", Args: []string{"a b", "c"}}
			if want, got := boundValues(&tpl.Program, job), boundValues(got, job); !reflect.DeepEqual(got, want) {
				t.Errorf("Bind after decoding = %q, want %q", got, want)
			}
			// Every truncation is an error, never a panic.
			for n := range len(b) {
				if _, err := UnmarshalProgram(b[:n]); err == nil {
					t.Errorf("decoding %d of %d bytes succeeded", n, len(b))
				}
			}
		})
	}
}

func TestUnmarshalRefusesOtherFormats(t *testing.T) {
	tpl, err := Compile([]string{"echo", "{}"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := tpl.MarshalBinary()
	b[0] = 1 // the format that also carried the words and options
	if _, err := UnmarshalProgram(b); err == nil || !strings.Contains(err.Error(), "format 1") {
		t.Errorf("UnmarshalProgram of format 1: %v, want an error naming the format", err)
	}
}

// programsEqual compares two programs, with nil and empty lists alike.
func programsEqual(a, b *Program) bool {
	norm := func(p *Program) Program {
		c := *p
		if len(c.Vars) == 0 {
			c.Vars = nil
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// boundValues returns what Bind gives each variable for job j.
func boundValues(p *Program, j Job) [][]string {
	var got [][]string
	// nil and empty lists alike: both are no word at all.
	p.Bind(j, func(_ *Var, values []string) { got = append(got, append([]string(nil), values...)) })
	return got
}
