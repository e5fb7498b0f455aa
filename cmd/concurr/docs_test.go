package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"concurr/internal/optdoc"
)

// TestGeneratedDocsUpToDate renders the man page and the completions from
// the compiled option table and compares them with the committed files,
// which tools/gendocs writes from the table's source: a changed option
// without make man, or a misreading by gendocs, fails here.
func TestGeneratedDocsUpToDate(t *testing.T) {
	var o options
	opts := docOptions(o.specs())
	for _, f := range optdoc.Files {
		t.Run(f.Path, func(t *testing.T) {
			var want bytes.Buffer
			if err := f.Write(&want, opts); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(f.Path)))
			if err != nil {
				t.Fatalf("%v (run make man)", err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%s is not up to date with the option table: run make man", f.Path)
			}
		})
	}
}

// TestManPageRenders has groff, where installed, format the committed man
// page with every warning on: a roff mistake fails here.
func TestManPageRenders(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff")
	}
	out, err := exec.Command(groff, "-man", "-ww", "-z", filepath.Join("..", "..", "docs", "concurr.1")).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
}
