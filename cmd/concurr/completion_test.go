package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBashCompletion runs the committed bash completion in bash, against
// an ssh_config named with -F, so that the developer's own is never read.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script, err := filepath.Abs("../../docs/completions/concurr.bash")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(config, []byte("Host node1 node2 *.example.com\n  User alice\nhost gpu-box\nHost !bad other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		words []string // the command line, the last word the one completed
		want  []string
	}{
		{"an option", []string{"concurr", "--keep-o"}, []string{"--keep-order"}},
		{"several options", []string{"concurr", "--line-buff"}, []string{"--line-buffer", "--line-buffered"}},
		{"hosts from ssh_config", []string{"concurr", "-F", config, "-S", "no"}, []string{"node1", "node2"}},
		{"patterns left out", []string{"concurr", "-F", config, "-S", ""}, []string{"gpu-box", "node1", "node2", "other"}},
		{"after a comma", []string{"concurr", "-F", config, "--sshlogin", "node1,g"}, []string{"node1,gpu-box"}},
		{"after a slot count and a user", []string{"concurr", "-F", config, "-S", "4/bob@o"}, []string{"4/bob@other"}},
		{"a directory", []string{"concurr", "--results", "lo"}, []string{"logs"}},
		{"a plain value offers nothing", []string{"concurr", "-j", ""}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var quoted []string
			for _, w := range tc.words {
				quoted = append(quoted, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
			}
			cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `source "$1"
COMP_WORDS=(`+strings.Join(quoted, " ")+`)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_concurr
printf '%s\n' "${COMPREPLY[@]}" | sort`, "bash", script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+dir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			got := strings.Fields(string(out))
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("completing %q: got %q, want %q", tc.words, got, tc.want)
			}
		})
	}
}

// TestCompletionSyntax has zsh and fish, where installed, read their
// completions without running them.
func TestCompletionSyntax(t *testing.T) {
	for _, tc := range []struct{ shell, file string }{
		{"bash", "concurr.bash"},
		{"zsh", "_concurr"},
		{"fish", "concurr.fish"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			shell, err := exec.LookPath(tc.shell)
			if err != nil {
				t.Skipf("no %s", tc.shell)
			}
			out, err := exec.Command(shell, "-n", filepath.Join("..", "..", "docs", "completions", tc.file)).CombinedOutput()
			if err != nil {
				t.Errorf("%s -n %s: %v: %s", tc.shell, tc.file, err, out)
			}
		})
	}
}

// TestFishCompletion runs the committed fish completion, where fish is
// installed, against an ssh_config named with -F.
func TestFishCompletion(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("no fish")
	}
	script, err := filepath.Abs("../../docs/completions/concurr.fish")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(config, []byte("Host node1 node2 *.example.com\nHost gpu-box\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, line string
		want       []string
	}{
		{"an option", "concurr --keep-o", []string{"--keep-order"}},
		{"hosts from ssh_config", "concurr -F " + config + " -S no", []string{"node1", "node2"}},
		{"after a comma", "concurr -F " + config + " -S node1,g", []string{"node1,gpu-box"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2] | string replace -r '\t.*' '' | sort`, script, tc.line)
			cmd.Env = append(os.Environ(), "HOME="+dir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("completing %q: got %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

// TestZshCompletionHosts runs the committed zsh completion for -S, where
// zsh is installed, with compadd and compset stood in for (they work only
// inside zsh's completion system), to check which hosts it offers.
func TestZshCompletionHosts(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("no zsh")
	}
	script, err := filepath.Abs("../../docs/completions/_concurr")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ssh_config"), []byte("Host node1 node2 *.example.com\nHost gpu-box\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(zsh, "-f", "-c", `compset() { :; }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
words=(concurr -F ssh_config -S node1,g); CURRENT=5; PREFIX=node1,g
source $1`, "zsh", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got, want := strings.Fields(string(out)), []string{"node1", "node2", "gpu-box"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("hosts offered: got %q, want %q", got, want)
	}
}
