package agent

import (
	"os"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
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

	// runner is the slot's interpreter. After every job its Run copies
	// the whole environment into runner.Vars, which Reset then clears
	// again; see Each.
	runner *interp.Runner
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
	}
	for _, v := range shellDefaults() {
		if _, ok := b.lookup[v.name]; !ok {
			b.lookup[v.name] = v.vr
			order = append(order, v.name)
		}
	}
	for _, name := range order {
		if !shadowed[name] {
			b.list = append(b.list, namedVar{name, b.lookup[name]})
		}
	}
	return b
}

// shellDefaults are the variables that the interpreter's Reset gives every
// job when the environment lacks them, with the same values and attributes:
// set once here, they save every job the system calls, conversions and
// map insertions.
func shellDefaults() []namedVar {
	home, _ := os.UserHomeDir()
	readOnly := func(n int) expand.Variable {
		return expand.Variable{Set: true, ReadOnly: true, Kind: expand.String, Str: strconv.Itoa(n)}
	}
	return []namedVar{
		{"HOME", expand.Variable{Set: true, Kind: expand.String, Str: home}},
		{"UID", readOnly(os.Getuid())},
		{"EUID", readOnly(os.Geteuid())},
		{"GID", readOnly(os.Getgid())},
	}
}

type namedVar struct {
	name string
	vr   expand.Variable
}

// reset empties e for the next job, whose replacement values go to values
// first. The values of the last job stay with whatever still holds them (a
// background statement that copied them): each job brings a backing array
// of its own.
func (e *jobEnviron) reset(values []string) {
	e.vars = e.vars[:0]
	e.values = values[:0]
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

// Each lists the job's variables, then the command's environment. The
// command's environment is left out when the caller is Run copying the
// environment into runner.Vars once the job is over: that copy cost every
// short job a sixth of its time, concurr never reads it, and Reset discards
// it before the next job. Nothing else in the interpreter writes
// runner.Vars, which Reset leaves empty (as does a slot that skips Reset,
// see slot.interpret), so a first variable that lands in
// it tells that copy apart from every other caller (processes'
// environments, background statements' copies, ${!prefix*}), which all
// still get everything. Should the interpreter change, the test only
// misses and the copy is whole again.
func (e *jobEnviron) Each(f func(name string, vr expand.Variable) bool) {
	copying := e.runner != nil && len(e.runner.Vars) == 0
	for i, v := range e.vars {
		if e.hasAfter(v.name, i) {
			continue
		}
		if !f(v.name, v.vr) {
			return
		}
	}
	if copying && len(e.runner.Vars) > 0 {
		return
	}
	for _, v := range e.parent.list {
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

// GNU Parallel's variables that every job gets. PARALLEL_PID, the client's
// process, comes from the client with the command's environment.
const (
	envSeq      = "PARALLEL_SEQ"      // the job's sequence number, {#}
	envJobSlot  = "PARALLEL_JOBSLOT"  // the job's slot, {%}
	envTmp      = "PARALLEL_TMP"      // a file name of the job's own, not created
	envSSHLogin = "PARALLEL_SSHLOGIN" // the host as the client names it; ":" is the client's machine
	envSSHHost  = "PARALLEL_SSHHOST"  // the same without user, port or slot count
)

// jobVarNames are the variables set per job, which the command's
// environment leaves out.
var jobVarNames = []string{envSeq, envJobSlot, envTmp}

// hostVars are the PARALLEL_ variables that depend on the host alone, as
// NAME=value pairs.
func hostVars(host string) []string {
	if host == "" {
		host = ":"
	}
	return []string{envSSHLogin + "=" + host, envSSHHost + "=" + sshHost(host)}
}

// sshHost is the host name in a host as the client names it:
// [N/][user@]host[:port].
func sshHost(login string) string {
	if login == ":" {
		return login
	}
	if i := strings.IndexByte(login, '/'); i >= 0 {
		login = login[i+1:]
	}
	if i := strings.LastIndexByte(login, '@'); i >= 0 {
		login = login[i+1:]
	}
	if strings.HasPrefix(login, "[") {
		// [IPv6]:port
		if end := strings.IndexByte(login, ']'); end > 0 {
			return login[1:end]
		}
	}
	if strings.Count(login, ":") == 1 {
		login, _, _ = strings.Cut(login, ":")
	}
	return login
}

// setJobVars sets the per-job PARALLEL_ variables, exported as GNU
// Parallel does. PARALLEL_TMP is unique to the command and job, in the
// node's temporary directory.
func (e *jobEnviron) setJobVars(tmpPrefix string, seq uint64, slot string) {
	s := strconv.FormatUint(seq, 10)
	e.setString(envSeq, s, true)
	e.setString(envJobSlot, slot, true)
	e.setString(envTmp, tmpPrefix+s, true)
}
