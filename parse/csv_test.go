package parse

import (
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCSVSplitter(t *testing.T) {
	tests := []struct {
		name    string
		sep     byte
		rec     string
		want    []string
		wantErr bool
	}{
		{"plain", ',', "a,b,c", []string{"a", "b", "c"}, false},
		{"quoted separator", ',', `a,"b,c",d`, []string{"a", "b,c", "d"}, false},
		{"doubled quote", ',', `"q""uote"`, []string{`q"uote`}, false},
		{"newline in quotes", ',', "\"multi\nline\",x", []string{"multi\nline", "x"}, false},
		{"empty fields", ',', ",empty,", []string{"", "empty", ""}, false},
		{"empty quoted", ',', `"",x`, []string{"", "x"}, false},
		{"other separator", ';', `a;"b;c"`, []string{"a", "b;c"}, false},
		{"spaces kept", ',', "  a , b ", []string{"  a ", " b "}, false},
		{"quote in unquoted field", ',', `x"y,z`, nil, true},
		{"text after closing quote", ',', `"a"b,z`, nil, true},
		{"unterminated", ',', `a,"open`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := csvSplitter(tt.sep)(tt.rec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func readAllJobs(t *testing.T, opts InputOptions, stdin string) ([][]string, error) {
	t.Helper()
	in, err := OpenInputs(nil, opts, strings.NewReader(stdin))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var jobs [][]string
	for {
		job, err := in.Next()
		if err == io.EOF {
			return jobs, nil
		}
		if err != nil {
			return jobs, err
		}
		jobs = append(jobs, job)
	}
}

func TestInputsCSVAndLines(t *testing.T) {
	tests := []struct {
		name    string
		opts    InputOptions
		stdin   string
		want    [][]string
		wantErr bool
	}{
		{"csv record over two lines", InputOptions{CSV: true}, "a,\"b\nc\",d\ne,f\n",
			[][]string{{"a", "b\nc", "d"}, {"e", "f"}}, false},
		{"csv with a colsep trims", InputOptions{CSV: true, ColSep: ";"}, "a; b \n", [][]string{{"a", "b"}}, false},
		{"csv crlf", InputOptions{CSV: true}, "a,b\r\n", [][]string{{"a", "b"}}, false},
		{"csv tab escape", InputOptions{CSV: true, ColSep: `\t`}, "a\tb\n", [][]string{{"a", "b"}}, false},
		{"csv header", InputOptions{CSV: true, Header: ":"}, "x,y\n1,\"2,3\"\n", [][]string{{"1", "2,3"}}, false},
		{"csv malformed", InputOptions{CSV: true}, "x\"y,z\n", nil, true},
		{"lines continue after a blank", InputOptions{JoinLines: true}, "a b\nc d \ne\nf\n",
			[][]string{{"a b"}, {"c d e"}, {"f"}}, false},
		{"lines grouped", InputOptions{JoinLines: true, MaxArgs: 2}, "a\nb \nc\nd\n",
			[][]string{{"a", "b c"}, {"d"}}, false},
		{"a trailing blank at the end", InputOptions{JoinLines: true}, "a \n", [][]string{{"a "}}, false},
		{"without -L a blank ends nothing", InputOptions{}, "a \nb\n", [][]string{{"a "}, {"b"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllJobs(t, tt.opts, tt.stdin)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInputsShuffle(t *testing.T) {
	var stdin strings.Builder
	var want []string
	for i := range 200 {
		v := strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
		stdin.WriteString(v + "\n")
		want = append(want, v)
	}
	t.Run("a permutation", func(t *testing.T) {
		jobs, err := readAllJobs(t, InputOptions{Shuffle: true}, stdin.String())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, j := range jobs {
			got = append(got, j[0])
		}
		if slices.Equal(got, want) {
			t.Error("200 values came out in input order")
		}
		slices.Sort(got)
		sorted := slices.Clone(want)
		slices.Sort(sorted)
		if !slices.Equal(got, sorted) {
			t.Error("the shuffled jobs are not the input's values")
		}
	})
	t.Run("grouped after shuffling", func(t *testing.T) {
		jobs, err := readAllJobs(t, InputOptions{Shuffle: true, MaxArgs: 3}, stdin.String())
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 67 || len(jobs[66]) != 2 {
			t.Errorf("%d jobs, the last of %d values; want 67, the last of 2", len(jobs), len(jobs[len(jobs)-1]))
		}
	})
}
