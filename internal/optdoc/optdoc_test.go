package optdoc

import (
	"reflect"
	"testing"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		width int
		want  []string
	}{
		{"fits", "a b c", 10, []string{"a b c"}},
		{"breaks at spaces", "aaa bbb ccc", 7, []string{"aaa bbb", "ccc"}},
		{"a long word stays whole", "aaaaaaaaaa b", 4, []string{"aaaaaaaaaa", "b"}},
		{"counts characters, not bytes", "{1}…{N} ab", 10, []string{"{1}…{N} ab"}},
		{"empty", "", 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wrap(tc.text, tc.width); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("wrap(%q, %d) = %q, want %q", tc.text, tc.width, got, tc.want)
			}
		})
	}
}

func TestGroupedRefusesUnknownGroup(t *testing.T) {
	_, err := Grouped([]Option{{Long: []string{"frob"}, Group: "Misc"}})
	if err == nil {
		t.Fatal("an option with an unknown group was accepted")
	}
}

func TestNames(t *testing.T) {
	o := Option{Long: []string{"keep-order", "keeporder"}, Short: "k"}
	if got := o.Names(false); got != "-k, --keep-order" {
		t.Errorf("Names(false) = %q", got)
	}
	o = Option{Long: []string{"max-procs", "maxprocs"}, Short: "P", Arg: "N"}
	if got := o.Names(true); got != "-P, --max-procs, --maxprocs N" {
		t.Errorf("Names(true) = %q", got)
	}
}
