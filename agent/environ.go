package agent

import (
	"mvdan.cc/sh/v3/expand"
)

// jobEnviron overlays a command's environment with the current job's
// variables: the template's replacement values, as variables the shell
// reads but does not export, and PARALLEL_SEQ and PARALLEL_JOBSLOT, which
// are exported as GNU Parallel does. A slot owns one and refills it for
// every job; the interpreter's own overlay on top of it takes the job's
// assignments, and is discarded by Reset.
type jobEnviron struct {
	parent expand.Environ
	vars   []namedVar
}

type namedVar struct {
	name string
	vr   expand.Variable
}

func (e *jobEnviron) reset() { e.vars = e.vars[:0] }

func (e *jobEnviron) setString(name, value string, exported bool) {
	e.vars = append(e.vars, namedVar{name, expand.Variable{
		Set: true, Exported: exported, Kind: expand.String, Str: value,
	}})
}

// setValues sets a replacement variable: a list of one value is a plain
// string, any other an indexed array.
func (e *jobEnviron) setValues(name string, values []string) {
	if len(values) == 1 {
		e.setString(name, values[0], false)
		return
	}
	e.vars = append(e.vars, namedVar{name, expand.Variable{
		Set: true, Kind: expand.Indexed, List: values,
	}})
}

func (e *jobEnviron) Get(name string) expand.Variable {
	for i := len(e.vars) - 1; i >= 0; i-- {
		if e.vars[i].name == name {
			return e.vars[i].vr
		}
	}
	return e.parent.Get(name)
}

func (e *jobEnviron) Each(f func(name string, vr expand.Variable) bool) {
	for name, vr := range e.parent.Each {
		if e.has(name) {
			continue
		}
		if !f(name, vr) {
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

func (e *jobEnviron) has(name string) bool {
	return e.hasAfter(name, -1)
}

func (e *jobEnviron) hasAfter(name string, i int) bool {
	for _, v := range e.vars[i+1:] {
		if v.name == name {
			return true
		}
	}
	return false
}
