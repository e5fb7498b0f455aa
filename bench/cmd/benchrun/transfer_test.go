package main

import (
	"strings"
	"testing"
)

// TestSCPScript: each host gets its share of the files in one scp, and
// sends them back in one more, with one remote argument for all of them.
func TestSCPScript(t *testing.T) {
	script := scpScript("/c/cfg", "/d", []string{"node1", "node2"}, []string{"/d/f001", "/d/f002", "/d/f003"})
	for _, want := range []string{
		"scp -O -q -F '/c/cfg' '/d/f001' '/d/f003' node1:",
		"scp -O -q -F '/c/cfg' '/d/f002' node2:",
		"'node1:f001 f003' '/d/back-node1'/",
		"'node2:f002' '/d/back-node2'/",
		"wait $p0 || s=1; wait $p1 || s=1; exit $s",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
}
