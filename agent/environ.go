package agent

import (
	"strings"

	"mvdan.cc/sh/v3/expand"
)

// jobEnviron overlays a command's environment with the current job's
// variables: the template's replacement values, as variables the shell
// reads but does not export, and PARALLEL_SEQ and PARALLEL_JOBSLOT, which
// are exported as GNU Parallel does. A slot owns one and refills it for
// every job; the interpreter's own overlay on top of it takes the job's
// assignments, and is discarded by Reset.
type jobEnviron struct {
	parent *baseEnviron
	vars   []namedVar
	values []string // the backing array of the job's lists
}

// baseEnviron is a command's environment: the agent's own with the
// command's pairs on top. It is read-only once built, and shared by the
// command's slots. The interpreter walks the whole environment after every
// job, so it is kept as a ready list rather than parsed from NAME=value
// strings each time.
type baseEnviron struct {
	list   []namedVar // without the names a jobEnviron always sets
	lookup map[string]expand.Variable
	pairs  map[string]string // name → "NAME=value", for processes' environments
}

// newBaseEnviron builds the environment from NAME=value pairs, the last
// pair of a name winning; the names in shadowed are left out of Each, as
// every job sets them.
func newBaseEnviron(pairs []string, shadowed map[string]bool) *baseEnviron {
	b := &baseEnviron{lookup: make(map[string]expand.Variable, len(pairs))}
	order := make([]string, 0, len(pairs))
	for _, kv := range pairs {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if _, seen := b.lookup[name]; !seen {
			order = append(order, name)
		}
		b.lookup[name] = expand.Variable{Set: true, Exported: true, Kind: expand.String, Str: value}
	}
	b.pairs = make(map[string]string, len(order))
	for _, name := range order {
		b.pairs[name] = name + "=" + b.lookup[name].Str
		if !shadowed[name] {
			b.list = append(b.list, namedVar{name, b.lookup[name]})
		}
	}
	return b
}

type namedVar struct {
	name string
	vr   expand.Variable
}

// reset empties e for the next job. The values of the last job stay with
// whatever still holds them (a background statement that copied them), and
// the next job gets a new backing array.
func (e *jobEnviron) reset() {
	e.vars = e.vars[:0]
	e.values = nil
}

func (e *jobEnviron) setString(name, value string, exported bool) {
	e.vars = append(e.vars, namedVar{name, expand.Variable{
		Set: true, Exported: exported, Kind: expand.String, Str: value,
	}})
}

// setValues sets a replacement variable as an indexed array, even for one
// value: the template expands it as "${name[@]}", which for a plain string
// costs the interpreter a failed arithmetic parse of "@" and its error
// allocations. The lists of a job share one backing array, which the job
// owns: Bind may reuse values once set returns, and a nil list would expand
// to one empty word.
func (e *jobEnviron) setValues(name string, values []string) {
	if e.values == nil {
		e.values = make([]string, 0, max(len(values), 4))
	}
	start := len(e.values)
	e.values = append(e.values, values...)
	list := e.values[start:len(e.values):len(e.values)]
	if len(values) == 0 {
		list = []string{}
	}
	e.vars = append(e.vars, namedVar{name, expand.Variable{
		Set: true, Kind: expand.Indexed, List: list,
	}})
}

func (e *jobEnviron) Get(name string) expand.Variable {
	for i := len(e.vars) - 1; i >= 0; i-- {
		if e.vars[i].name == name {
			return e.vars[i].vr
		}
	}
	return e.parent.lookup[name]
}

func (e *jobEnviron) Each(f func(name string, vr expand.Variable) bool) {
	for _, v := range e.parent.list {
		if !f(v.name, v.vr) {
			return
		}
	}
	for i, v := range e.vars {
		if e.hasAfter(v.name, i) {
			continue
		}
		if !f(v.name, v.vr) {
			return
		}
	}
}

func (e *jobEnviron) hasAfter(name string, i int) bool {
	for _, v := range e.vars[i+1:] {
		if v.name == name {
			return true
		}
	}
	return false
}
