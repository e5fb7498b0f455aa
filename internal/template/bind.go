package template

import "sync"

// scratch holds the value lists that Bind hands out, reused across jobs
// so that binding allocates nothing in the common cases.
type scratch struct{ vals []string }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Bind computes each variable's values for job j and passes them to set, in
// the order of p.Vars. The list is lent for the call only: set must not
// modify it and must copy what it keeps.
func (p *Program) Bind(j Job, set func(v *Var, values []string)) {
	var sc *scratch
	for i := range p.Vars {
		v := &p.Vars[i]
		if v.Kind == KindArg && v.Prefix == "" && v.Suffix == "" && v.Parts == nil {
			// The raw arguments need no copy.
			if v.Index == 0 {
				set(v, j.Args)
			} else if k := argIndex(v.Index, len(j.Args)); k >= 0 {
				set(v, j.Args[k:k+1])
			} else {
				set(v, nil)
			}
			continue
		}
		if sc == nil {
			sc = scratchPool.Get().(*scratch)
		}
		var vals []string
		if v.Parts != nil {
			vals = contextValues(sc.vals[:0], v.Parts, p.Total, j)
		} else {
			vals = appendValues(sc.vals[:0], v.Kind, v.Index, &v.Params, p.Total, j)
		}
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
			scratchPool.Put(sc)
		}
	}
}
