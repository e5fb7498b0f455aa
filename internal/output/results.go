package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ResultsDir returns where --results puts a job's files, as GNU Parallel
// lays them out: for each position, its name (the header's, or the position
// number) and then its value. Names are escaped as values are, so that no
// column name can lead out of root (see escapeResultsName).
func ResultsDir(root string, names []string, args []string) string {
	parts := []string{root}
	for i, a := range args {
		name := fmt.Sprint(i + 1)
		if i < len(names) {
			name = names[i]
		}
		parts = append(parts, escapeResultsName(name), escapeResultsName(a))
	}
	return filepath.Join(parts...)
}

// escapeResultsName makes s one folder name, as GNU Parallel escapes values:
// "\" doubled, "/" as "\_", a tab as "\t" and NUL as "\0". The names that
// would not be a folder of their own, "", "." and "..", become "\empty",
// "\." and "\.\.": an escaped string never has a backslash before any other
// character, so these are no other string's escape.
func escapeResultsName(s string) string {
	switch s {
	case "":
		return `\empty`
	case ".":
		return `\.`
	case "..":
		return `\.\.`
	}
	if !strings.ContainsAny(s, "\\/\t\x00") {
		return s
	}
	return resultsEscaper.Replace(s)
}

var resultsEscaper = strings.NewReplacer(`\`, `\\`, "/", `\_`, "\t", `\t`, "\x00", `\0`)

// resultsRoot is what the Writer learns about the --results folder once.
type resultsRoot struct {
	resolved string // the folder, symbolic links resolved
	maxName  int    // the longest name its file system takes, once one was too long
}

// openResults makes the job's folder and files. A problem with them is the
// job's own (its value may make a name too long, a file may be in the way):
// it is kept in the job, which then fails alone, and the run goes on.
func (w *Writer) openResults(j *Job, dir string) {
	var err error
	seqName, names := filepath.Join(dir, "seq"), [2]string{filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")}
	switch {
	case !w.opts.ResultsFiles:
		if dir, err = w.resultsFolder(dir); err == nil {
			seqName, names = filepath.Join(dir, "seq"), [2]string{filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")}
		}
	case strings.HasSuffix(dir, "/"):
		err = os.MkdirAll(dir, 0o755)
	default:
		// The name is the file of stdout, as the user wrote it.
		seqName, names = dir+".seq", [2]string{dir, dir + ".err"}
		err = os.MkdirAll(filepath.Dir(dir), 0o755)
	}
	if err == nil {
		err = os.WriteFile(seqName, fmt.Appendf(nil, "%d", j.Seq), 0o644)
	}
	for i, name := range names {
		if err != nil {
			break
		}
		j.files[i], err = os.Create(name)
	}
	if err != nil {
		w.closeResults(j)
		j.resultsErr = fmt.Errorf("--results: %w", err)
	}
}

// resultsFolder makes dir, which must lie under the --results folder, and
// returns it, shortened as GNU Parallel does when a name is too long for
// the file system: every name is cut to the longest it takes.
func (w *Writer) resultsFolder(dir string) (string, error) {
	root := filepath.Clean(w.opts.Results)
	rel, err := filepath.Rel(root, dir)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s is not under the results folder %s", dir, root)
	}
	if w.results.resolved == "" {
		if err := os.MkdirAll(root, 0o755); err != nil {
			return "", err
		}
		if w.results.resolved, err = filepath.EvalSymlinks(root); err != nil {
			return "", err
		}
	}
	err = w.mkdirUnderRoot(dir, root)
	if errors.Is(err, syscall.ENAMETOOLONG) {
		if w.results.maxName == 0 {
			w.results.maxName = longestName(root)
		}
		names := strings.Split(rel, string(filepath.Separator))
		for i, n := range names {
			if len(n) > w.results.maxName {
				names[i] = n[:w.results.maxName]
			}
		}
		dir = filepath.Join(root, filepath.Join(names...))
		err = w.mkdirUnderRoot(dir, root)
	}
	return dir, err
}

// mkdirUnderRoot makes dir unless the part of it that exists already leads
// out of the results folder, through a symbolic link.
func (w *Writer) mkdirUnderRoot(dir, root string) error {
	existing := dir
	for {
		if _, err := os.Lstat(existing); err == nil || existing == root {
			break
		}
		existing = filepath.Dir(existing)
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(w.results.resolved, real); err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("%s leads to %s, outside the results folder %s", existing, real, root)
	}
	return os.MkdirAll(dir, 0o755)
}

// longestName finds the longest folder name that dir's file system takes,
// as GNU Parallel does: by trying, growing sixteenfold, then by halves.
func longestName(dir string) int {
	takes := func(n int) bool {
		p := filepath.Join(dir, strings.Repeat("d", n))
		err := os.Mkdir(p, 0o700)
		if err == nil {
			os.Remove(p)
		}
		return err == nil || errors.Is(err, os.ErrExist)
	}
	const most = 1 << 20
	short, long := 8, 8*16 // short is taken, long is not known to be
	for long < most && takes(long) {
		short, long = long, long*16
	}
	for long-short > 1 {
		mid := (short + long) / 2
		if takes(mid) {
			short = mid
		} else {
			long = mid
		}
	}
	return short
}

func (w *Writer) closeResults(j *Job) {
	for i, f := range j.files {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil && w.err == nil {
			w.err = fmt.Errorf("--results: %w", err)
		}
		j.files[i] = nil
	}
}
