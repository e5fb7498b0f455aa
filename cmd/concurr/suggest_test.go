package main

import "testing"

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		want       int
	}{
		{"same", "keep-order", "keep-order", 0},
		{"one letter missing", "keep-ordr", "keep-order", 1},
		{"one letter extra", "keep-orderr", "keep-order", 1},
		{"substituted", "keep-ordet", "keep-order", 1},
		{"swapped neighbours", "keep-oredr", "keep-order", 1},
		{"empty", "", "abc", 3},
		{"unrelated", "abc", "xyz", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := editDistance(tc.a, tc.b); got != tc.want {
				t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestNearestOption(t *testing.T) {
	var o options
	specs := o.specs()
	for _, tc := range []struct {
		name, typed, want string
	}{
		{"misspelled", "keep-ordr", "--keep-order"},
		{"alias misspelled suggests the shown name", "keeporderr", "--keep-order"},
		{"upper case", "KEEP-ORDER", "--keep-order"},
		{"swapped", "jbos", "--jobs"},
		{"dashes lost", "dryrun-", "--dry-run"},
		{"too far", "no-such-option", ""},
		{"one letter", "Z", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nearestOption(tc.typed, specs); got != tc.want {
				t.Errorf("nearestOption(%q) = %q, want %q", tc.typed, got, tc.want)
			}
		})
	}
}
