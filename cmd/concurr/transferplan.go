package main

import (
	"os"
	"path/filepath"
	"strings"

	"concurr/internal/sched"
	"concurr/internal/template"
)

// planTransfer compiles --transferfile, --transfer, --return, --cleanup,
// --trc and --basefile into the run's Transfer, as GNU Parallel reads them:
// --transfer is --transferfile {}, --trc FILE is --transfer --return FILE
// --cleanup. A --basefile is a plain name, without replacement strings.
func planTransfer(o *options, p *runPlan, opts template.Options) error {
	sends := append([]string(nil), o.transferFiles...)
	returns := append([]string(nil), o.returns...)
	cleanup := o.cleanup
	if o.transfer || len(o.trc) > 0 {
		sends = append(sends, "{}")
	}
	if len(o.trc) > 0 {
		returns = append(returns, o.trc...)
		cleanup = true
	}
	if len(sends) == 0 && len(returns) == 0 && len(o.basefiles) == 0 {
		return nil
	}
	t := &sched.Transfer{Cleanup: cleanup}
	for _, name := range o.basefiles {
		b, err := sched.NewBaseFile(name)
		if err != nil {
			return usagef("", "bad --basefile %v", err)
		}
		t.Base = append(t.Base, b)
	}
	for _, name := range sends {
		x, err := template.CompileText(name, opts)
		if err != nil {
			return usagef("", "bad --transferfile: %v", err)
		}
		t.Send = append(t.Send, x)
	}
	for _, name := range returns {
		x, err := template.CompileText(name, opts)
		if err != nil {
			return usagef("", "bad --return: %v", err)
		}
		t.Return = append(t.Return, x)
	}
	p.cfg.Transfer = t
	return nil
}

// workdirHere is --workdir . as GNU Parallel means it: this directory's
// path below the home directory, taken on each host from its own home, or
// the absolute path of a directory outside home.
func workdirHere() string {
	cwd, err := os.Getwd()
	if err != nil {
		return ""
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return cwd
	}
	rel, err := filepath.Rel(home, cwd)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return cwd
	}
	if rel == "." {
		return "~"
	}
	return "~/" + filepath.ToSlash(rel)
}
