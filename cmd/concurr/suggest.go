package main

import (
	"strings"
)

// flagHint is the hint for an option the flag package refused: the
// nearest option's name when the unknown one looks like a misspelling of
// it, otherwise where to find the options.
func flagHint(err error, specs []optionSpec) string {
	msg := flagError(err)
	name, ok := strings.CutPrefix(msg, "unknown option ")
	if !ok {
		return helpHint
	}
	name, _, _ = strings.Cut(name, " ")
	if near := nearestOption(strings.TrimLeft(name, "-"), specs); near != "" {
		return "did you mean " + near + "?"
	}
	return helpHint
}

// nearestOption returns the option, spelled with its dashes, whose name
// is closest to name by edit distance, or "" when none is close enough to
// be a likely misspelling. A match on an alias suggests the option's shown
// name, which is the one the help and the man page use.
func nearestOption(name string, specs []optionSpec) string {
	if len(name) < 2 {
		return "" // one letter is too little to guess from
	}
	best, bestDistance := "", maxSuggestDistance(name)+1
	for _, s := range specs {
		if s.help == "" {
			continue
		}
		for _, l := range s.long {
			if len(l) < 2 {
				continue
			}
			if d := editDistance(strings.ToLower(name), l); d < bestDistance {
				best, bestDistance = s.long[0], d
			}
		}
	}
	if best == "" {
		return ""
	}
	return optionName(best)
}

// maxSuggestDistance is how many edits a misspelling may hold: one for
// short names, where two edits reach unrelated options, and about a third
// of the name for longer ones.
func maxSuggestDistance(name string) int {
	if len(name) <= 4 {
		return 1
	}
	return max(2, len(name)/3)
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours, the usual
// slips of typing, each count one.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
