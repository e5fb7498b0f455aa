package pipe

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"1", 1, false}, {"10M", 10 << 20, false}, {"1k", 1000, false}, {"1K", 1024, false},
		{"2Gi", 2 << 30, false}, {"1.5M", 3 << 19, false}, {"-10", -10, false},
		{"", 0, true}, {"10Q", 0, true}, {"M", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.bad || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.bad)
			}
		})
	}
}

func blocks(t *testing.T, input string, o Options) []string {
	t.Helper()
	s, err := NewSplitter(strings.NewReader(input), o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		b, at, err := s.NextAt()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		// Every block is a stretch of the input, after its header: what
		// a regular file's blocks are sent by.
		body := b[len(s.Header()):]
		if at < 0 || at+int64(len(body)) > int64(len(input)) || input[at:at+int64(len(body))] != string(body) {
			t.Fatalf("block %q said to be at %d of %q", b, at, input)
		}
		got = append(got, string(b))
	}
}

func TestSplitter(t *testing.T) {
	var warned []string
	tests := []struct {
		name  string
		input string
		o     Options
		want  []string
	}{
		{"empty input, no block", "", Options{BlockSize: 4}, nil},
		{"whole records", "aa\nbb\ncc\n", Options{BlockSize: 4}, []string{"aa\n", "bb\n", "cc\n"}},
		{"a record larger than the block grows it", "a\n" + strings.Repeat("x", 20) + "\nb\n", Options{BlockSize: 4, Warn: func(s string) { warned = append(warned, s) }},
			[]string{"a\n", strings.Repeat("x", 20) + "\n", "b\n"}},
		{"last record without its end", "aa\nbb", Options{BlockSize: 3}, []string{"aa\n", "bb"}},
		{"NUL bytes pass", "\x00\x00\n\x00\n", Options{BlockSize: 3}, []string{"\x00\x00\n", "\x00\n"}},
		{"block of one byte", "a\nb\n", Options{BlockSize: 1}, []string{"a\n", "b\n"}},
		{"no separator cuts anywhere", "abcdefg", Options{BlockSize: 3, RecEndSet: true}, []string{"abc", "def", "g"}},
		{"multi-byte --recend", "a;;b;;c;;", Options{BlockSize: 4, RecEnd: ";;", RecEndSet: true}, []string{"a;;", "b;;", "c;;"}},
		{"-N records", "1\n2\n3\n4\n5\n", Options{Records: 2}, []string{"1\n2\n", "3\n4\n", "5\n"}},
		{"--header on every block", "h\n1\n2\n", Options{Records: 1, Header: ":"}, []string{"h\n1\n", "h\n2\n"}},
		{"--header with blocks by size", "hh\n1\n22\n333\n", Options{BlockSize: 3, Header: ":"}, []string{"hh\n1\n", "hh\n22\n", "hh\n333\n"}},
		{"-L lines", "1\n2\n3\n4\n5\n", Options{BlockSize: 5, Lines: 2}, []string{"1\n2\n", "3\n4\n", "5\n"}},
		{"--regexp --recstart", "<a>x<a>yy<a>z", Options{BlockSize: 5, RecStart: "<a>", RecStartSet: true, Regexp: true}, []string{"<a>x", "<a>yy", "<a>z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := blocks(t, tt.input, tt.o); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	if len(warned) == 0 {
		t.Errorf("a growing block was not warned about")
	}
}

func TestSplitFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, []byte("h\naaaa\nbb\ncccccc\nd"), 0o644); err != nil {
		t.Fatal(err)
	}
	header, parts, err := SplitFile(path, Options{BlockSize: 3, Header: ":"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// As GNU Parallel cuts it: the first record end at or after each
	// block size past the header.
	want := []Part{{path, 2, 5}, {path, 7, 10}, {path, 17, 1}}
	if string(header) != "h\n" || !reflect.DeepEqual(parts, want) {
		t.Fatalf("header %q, parts %v; want %v", header, parts, want)
	}
	if _, _, err := SplitFile(filepath.Dir(path), Options{}, 1); err == nil {
		t.Fatal("a directory was split")
	}
}
