package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestMakeInstall runs make install into a temporary PREFIX and checks
// that the binary is static (no program interpreter, so it starts on a
// node with any C library, or none), and that the man page and the
// completions are where man and the shells look for them.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	prefix := t.TempDir()
	cmd := exec.Command("make", "-C", "../..", "install", "PREFIX="+prefix, "BIN="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, f := range []string{
		"bin/concurr",
		"share/man/man1/concurr.1",
		"share/bash-completion/completions/concurr",
		"share/zsh/site-functions/_concurr",
		"share/fish/vendor_completions.d/concurr.fish",
	} {
		t.Run(f, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("static", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("checks an ELF binary")
		}
		bin, err := elf.Open(filepath.Join(prefix, "bin", "concurr"))
		if err != nil {
			t.Fatal(err)
		}
		defer bin.Close()
		for _, p := range bin.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the installed binary is dynamically linked")
			}
		}
	})
}
