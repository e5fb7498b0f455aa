package agent

import (
	"errors"
	"maps"
	"sort"
	"strings"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// Bash exports a function f as the variable BASH_FUNC_f%% whose value is
// the function's definition without its name: "() { body; }".
const (
	bashFuncPrefix = "BASH_FUNC_"
	bashFuncSuffix = "%%"
)

// BashFuncVar is the environment variable in which bash exports the
// function name.
func BashFuncVar(name string) string { return bashFuncPrefix + name + bashFuncSuffix }

// exportedFuncs are the functions a command's environment exports, parsed
// once for all its slots.
type exportedFuncs struct {
	bodies map[string]*syntax.Stmt // nil when there are none
	bad    map[string]error        // definitions that could not be imported
}

// importFuncs parses the functions that bash exported into pairs (NAME=value
// strings), as bash does at its start. A definition that is not one plain
// function declaration of that name is refused, as bash refuses it, and
// kept with its reason for the job that calls it.
func importFuncs(pairs map[string]string) exportedFuncs {
	var f exportedFuncs
	names := make([]string, 0, 4)
	for name := range pairs {
		if strings.HasPrefix(name, bashFuncPrefix) && strings.HasSuffix(name, bashFuncSuffix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, varName := range names {
		fname := strings.TrimSuffix(strings.TrimPrefix(varName, bashFuncPrefix), bashFuncSuffix)
		if fname == "" {
			continue
		}
		body, err := parseFunc(fname, pairs[varName][len(varName)+1:])
		if err != nil {
			if f.bad == nil {
				f.bad = map[string]error{}
			}
			f.bad[fname] = err
			continue
		}
		if f.bodies == nil {
			f.bodies = map[string]*syntax.Stmt{}
		}
		f.bodies[fname] = body
	}
	return f
}

func parseFunc(name, def string) (*syntax.Stmt, error) {
	if !strings.HasPrefix(def, "()") {
		return nil, errors.New("the value is not a function definition")
	}
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(name+" "+def), "")
	if err != nil {
		return nil, err
	}
	unescapeAssignments(file)
	if len(file.Stmts) != 1 {
		return nil, errors.New("the definition has more than the function")
	}
	st := file.Stmts[0]
	decl, ok := st.Cmd.(*syntax.FuncDecl)
	if !ok || decl.Name == nil || decl.Name.Value != name || len(st.Redirs) > 0 || st.Background || st.Coprocess || st.Negated {
		return nil, errors.New("the definition has more than the function")
	}
	return decl.Body, nil
}

// define gives a freshly reset runner the exported functions. Each job gets
// its own map, since a job may define or unset functions; a command
// without exported functions costs nothing.
func (f *exportedFuncs) define(r *interp.Runner) {
	if f.bodies != nil {
		r.Funcs = maps.Clone(f.bodies)
	}
}
