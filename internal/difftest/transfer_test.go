package difftest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"concurr/internal/sshtest"
)

// transferCase is a run with files moving to and from two loopback sshd
// hosts, through both tools in turn.
type transferCase struct {
	name  string
	args  []string          // after -k and the hosts
	files map[string]string // created in the client's directory
}

// TestTransferSSHD compares GNU Parallel's --transferfile, --return,
// --cleanup, --trc and --basefile (rsync over a new ssh login per file)
// with concurr's (streams on the agent's connection): the output, the files
// left in the client's directory, and the files left in the hosts' work
// dir, their home, which is not the client's directory.
func TestTransferSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	for _, tool := range []string{"parallel", "perl", "rsync"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("GNU Parallel's transfers need %s on the host", tool)
		}
	}
	d := sshtest.StartSSHD(t, 2)
	ours := concurrBinary(t)
	hosts := strings.Join(d.Aliases, ",")
	files := map[string]string{"a.txt": "alpha\n", "sub/b.txt": "bravo bravo\n", "dir/deep/c.txt": "charlie\n", "base.txt": "base\n"}
	tests := []transferCase{
		{"trc", []string{"--trc", "{}.out", "wc -c < {} > {}.out; echo {}"}, files},
		{"transfer and return, no cleanup", []string{"--transferfile", "{}", "--return", "{}.out", "tr a-z A-Z < {} > {}.out"}, files},
		{"transfer and cleanup", []string{"--transfer", "--cleanup", "cat {}"}, files},
		{"the /./ marker", []string{"--tf", "dir/./{/}", "--return", "dir/./{/}.n", "wc -l < {/} > {/}.n"}, files},
		{"return into a directory", []string{"--tf", "{}", "--return", "out/{/}", "--cleanup", "mkdir -p out && cp {} out/{/}"}, files},
		{"basefile", []string{"--basefile", "base.txt", "--tf", "{}", "cat base.txt {}"}, files},
		{"basefile cleaned up", []string{"--bf", "base.txt", "--trc", "{}.both", "cat base.txt {} > {}.both"}, files},
	}
	inputs := []string{":::", "a.txt", "sub/b.txt"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]transferOutcome
			for i, tool := range []string{"parallel", ours} {
				dir := t.TempDir()
				writeTree(t, dir, tc.files)
				clearHome(t, d.Home)
				args := append([]string{"-k", "-S", hosts}, tc.args...)
				args = append(args, inputs...)
				var cmd *exec.Cmd
				if tool == "parallel" {
					cmd = exec.Command("parallel", append([]string{"--will-cite", "--ssh", "ssh -F " + d.Config}, args...)...)
				} else {
					cmd = exec.Command(tool, append([]string{"-F", d.Config}, args...)...)
				}
				ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
				defer cancel()
				cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				got[i] = transferOutcome{stdout: stdout.String(), exit: exitCode(err),
					client: snapshot(t, dir), node: snapshot(t, d.Home)}
				t.Logf("%s: exit %d, stderr:\n%s", filepath.Base(tool), got[i].exit, stderr.String())
			}
			gnu, con := got[0], got[1]
			if gnu.stdout != con.stdout || gnu.exit != con.exit {
				t.Errorf("output differs:\nGNU Parallel (exit %d):\n%s\nconcurr (exit %d):\n%s", gnu.exit, gnu.stdout, con.exit, con.stdout)
			}
			if gnu.client != con.client {
				t.Errorf("the client's directory differs:\nGNU Parallel:\n%s\nconcurr:\n%s", gnu.client, con.client)
			}
			if gnu.node != con.node {
				t.Errorf("the hosts' work dir differs:\nGNU Parallel:\n%s\nconcurr:\n%s", gnu.node, con.node)
			}
		})
	}
}

type transferOutcome struct {
	stdout       string
	exit         int
	client, node string
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// toolDirs are the folders each tool keeps in a home for itself: its
// caches and ssh's, not files the jobs moved.
var toolDirs = map[string]bool{".cache": true, ".ssh": true, ".parallel": true, ".concurr": true}

// clearHome empties the hosts' home of what the last run left, but for
// the tools' own folders.
func clearHome(t *testing.T, home string) {
	entries, err := os.ReadDir(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !toolDirs[e.Name()] {
			os.RemoveAll(filepath.Join(home, e.Name()))
		}
	}
}

// snapshot lists the files and folders below root, with their modes and
// a digest of each file's content.
func snapshot(t *testing.T, root string) string {
	var b strings.Builder
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && toolDirs[rel] {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/ %v\n", rel, info.Mode().Perm())
			return nil
		}
		content, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "%s %v %x\n", rel, info.Mode().Perm(), sha256.Sum256(content))
		return nil
	})
	return b.String()
}
