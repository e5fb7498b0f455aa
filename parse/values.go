package parse

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/expand"
)

// The path transformations below follow GNU Parallel 20221122's Perl
// expressions exactly, including their quirks with newlines, because users
// compare outputs byte for byte.

// tplNoExt is {.}: s:\.[^/.]*$:: — drop the last extension unless a slash
// follows it.
func tplNoExt(s string) string {
	i := strings.LastIndexByte(s, '.')
	if i < 0 || strings.IndexByte(s[i+1:], '/') >= 0 {
		return s
	}
	return s[:i]
}

// tplBase is {/}: s:.*/:: without Perl's /s flag, so "." stops at a newline:
// the first line that has a slash loses everything up to its last slash.
func tplBase(s string) string {
	start := 0
	for {
		end := len(s)
		nl := strings.IndexByte(s[start:], '\n')
		if nl >= 0 {
			end = start + nl
		}
		if k := strings.LastIndexByte(s[start:end], '/'); k >= 0 {
			if start == 0 {
				return s[k+1:]
			}
			return s[:start] + s[start+k+1:]
		}
		if nl < 0 {
			return s
		}
		start = end + 1
	}
}

// tplDir is {//}: Perl's File::Basename::dirname on Unix.
func tplDir(s string) string {
	dir, base := tplFileparse(s)
	dir = tplStripSlashes(dir)
	if base == "" {
		dir, _ = tplFileparse(dir)
		dir = tplStripSlashes(dir)
	}
	return dir
}

// tplFileparse splits like File::Basename's m{^(.*/)?(.*)}s, with "./" for
// a missing directory.
func tplFileparse(s string) (dir, base string) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "./", s
	}
	return s[:i+1], s[i+1:]
}

// tplStripSlashes is s{(.)/*\z}{$1}s: trailing slashes go, but not the
// first character.
func tplStripSlashes(s string) string {
	t := strings.TrimRight(s, "/")
	if t == "" && s != "" {
		return s[:1]
	}
	return t
}

// tplTransform applies a per-argument kind to one argument.
func tplTransform(k Kind, s string) string {
	switch k {
	case KindNoExt:
		return tplNoExt(s)
	case KindBase:
		return tplBase(s)
	case KindDir:
		return tplDir(s)
	case KindBaseNoExt:
		return tplNoExt(tplBase(s))
	}
	return s
}

// tplArgIndex maps a 1-based (or negative, from the end) position to an
// index into args, or -1 when the job has no such argument.
func tplArgIndex(index, n int) int {
	switch {
	case index > 0 && index <= n:
		return index - 1
	case index < 0 && -index <= n:
		return n + index
	}
	return -1
}

// tplAppendValues appends the values of a replacement to dst, without a
// context prefix or suffix.
func tplAppendValues(dst []string, k Kind, index int, j Job) []string {
	switch k {
	case KindSeq:
		return append(dst, strconv.FormatUint(j.Seq, 10))
	case KindSlot:
		return append(dst, strconv.FormatUint(j.Slot, 10))
	case KindHost:
		return append(dst, j.Host)
	}
	if index == 0 {
		for _, a := range j.Args {
			dst = append(dst, tplTransform(k, a))
		}
		return dst
	}
	if i := tplArgIndex(index, len(j.Args)); i >= 0 {
		dst = append(dst, tplTransform(k, j.Args[i]))
	}
	return dst
}

// tplScratch holds the value lists that Bind hands out, reused across jobs
// so that binding allocates nothing in the common cases.
type tplScratch struct{ vals []string }

var tplScratchPool = sync.Pool{New: func() any { return new(tplScratch) }}

// bind is Template.Bind.
func (t *Template) bind(j Job, set func(v *Var, values []string)) {
	var sc *tplScratch
	for i := range t.Vars {
		v := &t.Vars[i]
		if v.Kind == KindArg && v.Prefix == "" && v.Suffix == "" {
			// The raw arguments need no copy.
			if v.Index == 0 {
				set(v, j.Args)
			} else if k := tplArgIndex(v.Index, len(j.Args)); k >= 0 {
				set(v, j.Args[k:k+1])
			} else {
				set(v, nil)
			}
			continue
		}
		if sc == nil {
			sc = tplScratchPool.Get().(*tplScratch)
		}
		vals := tplAppendValues(sc.vals[:0], v.Kind, v.Index, j)
		if v.Prefix != "" || v.Suffix != "" {
			for k, s := range vals {
				vals[k] = v.Prefix + s + v.Suffix
			}
		}
		sc.vals = vals
		set(v, vals)
	}
	if sc != nil {
		clear(sc.vals)
		sc.vals = sc.vals[:0]
		if cap(sc.vals) <= 1024 {
			tplScratchPool.Put(sc)
		}
	}
}

// JobEnviron is the shell environment a job runs in: a parent environment
// overlaid with the current job's template variables. The variables are not
// exported, so child processes never see them; the agent sets one
// JobEnviron per slot as the interp.Runner's Env and calls Bind before each
// job. Bind must not be called while a job of this environ still runs.
type JobEnviron struct {
	parent expand.Environ
	vars   []Var
	values []expand.Variable
	next   int
	set    func(v *Var, values []string)
}

// NewJobEnviron returns an environ over parent; nil means the current
// process's environment, as interp.Env does.
func NewJobEnviron(parent expand.Environ) *JobEnviron {
	if parent == nil {
		parent = expand.ListEnviron(os.Environ()...)
	}
	e := &JobEnviron{parent: parent}
	e.set = e.setValues
	return e
}

// tplNoValues is a set, empty list: "${v[@]}" of it is no word at all,
// where a nil list would be one empty word in mvdan.cc/sh.
var tplNoValues = []string{}

// Bind makes t's variables hold job j's values, replacing those of the
// previous job.
func (e *JobEnviron) Bind(t *Template, j Job) {
	e.vars = t.Vars
	if cap(e.values) < len(t.Vars) {
		e.values = make([]expand.Variable, len(t.Vars))
	}
	e.values = e.values[:len(t.Vars)]
	e.next = 0
	t.Bind(j, e.set)
}

func (e *JobEnviron) setValues(_ *Var, values []string) {
	vr := &e.values[e.next]
	e.next++
	switch len(values) {
	case 0:
		*vr = expand.Variable{Set: true, Kind: expand.Indexed, List: tplNoValues}
	case 1:
		// A plain string expands as one word under [@] and [*] alike.
		*vr = expand.Variable{Set: true, Kind: expand.String, Str: values[0]}
	default:
		// Bind's lists are only lent for the call.
		*vr = expand.Variable{Set: true, Kind: expand.Indexed, List: append([]string(nil), values...)}
	}
}

// Get returns a job variable, or the parent's variable of that name.
func (e *JobEnviron) Get(name string) expand.Variable {
	if strings.HasPrefix(name, tplVarPrefix) {
		for i := range e.vars {
			if e.vars[i].Name == name && i < len(e.values) {
				return e.values[i]
			}
		}
	}
	return e.parent.Get(name)
}

// Each calls f for the parent's variables, then the job's, so that the
// job's win where names repeat.
func (e *JobEnviron) Each(f func(name string, vr expand.Variable) bool) {
	stopped := false
	e.parent.Each(func(name string, vr expand.Variable) bool {
		if !f(name, vr) {
			stopped = true
			return false
		}
		return true
	})
	if stopped {
		return
	}
	for i := range e.vars {
		if i >= len(e.values) || !f(e.vars[i].Name, e.values[i]) {
			return
		}
	}
}
