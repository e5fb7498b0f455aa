// Package parse owns concurr's command-line grammar: input sources, the
// command template and its replacement strings, and host specifications.
// Its functions are pure apart from reading input files.
package parse

import "errors"

// Kind says which replacement value a template variable holds.
type Kind uint8

// The replacement kinds, with GNU Parallel's default replacement strings.
const (
	KindArg       Kind = iota + 1 // {}   the argument
	KindNoExt                     // {.}  without its extension
	KindBase                      // {/}  basename
	KindDir                       // {//} dirname
	KindBaseNoExt                 // {/.} basename without extension
	KindSeq                       // {#}  the job's sequence number
	KindSlot                      // {%}  the job slot on its node
	KindHost                      // {host} the name of the host running it
)

// Replacements are the strings that stand for replacement values. Empty
// fields take GNU Parallel's defaults.
type Replacements struct {
	Arg       string // -I, default {}
	NoExt     string // --extensionreplace, default {.}
	Base      string // --basenamereplace, default {/}
	Dir       string // --dirnamereplace, default {//}
	BaseNoExt string // --basenameextensionreplace, default {/.}
	Seq       string // --seqreplace, default {#}
	Slot      string // --slotreplace, default {%}
}

// Mode says how a job's arguments fill a replacement string.
type Mode uint8

// The modes.
const (
	ModeSingle  Mode = iota // one input record per job
	ModeXargs               // -m: several records per job, {} becomes them all
	ModeContext             // -X: several records per job, the word around {} is repeated for each
)

// TemplateOptions control how a template compiles.
type TemplateOptions struct {
	Replacements Replacements
	Header       []string // column names from --header, usable as {name}
	Positions    int      // argument positions per job, to refuse {n} beyond them; 0 skips the check
	Mode         Mode
	Quote        bool // -q: each template word is one literal word
}

// Var is one shell variable that a compiled script references.
type Var struct {
	Name           string
	Kind           Kind
	Index          int    // 0: all arguments; n > 0: the n-th; n < 0: n-th from the end
	Prefix, Suffix string // ModeContext: text repeated around each argument
}

// Template is a compiled command template. Replacement strings have become
// references to shell variables, so that values are data, never code.
type Template struct {
	Words     []string // the template as given, for display
	Script    string   // shell source, parsed once per node
	Vars      []Var
	FromInput bool // no template: each job's arguments are its command
	Options   TemplateOptions
}

// Job is what a template is expanded with.
type Job struct {
	Seq  uint64
	Slot uint64
	Host string
	Args []string
}

var errTODO = errors.New("parse: not implemented yet")

// Compile compiles template words. It refuses invalid shell syntax and
// positional replacement strings beyond opts.Positions.
func Compile(words []string, opts TemplateOptions) (*Template, error) { return nil, errTODO }

// MarshalBinary encodes the template for the wire.
func (t *Template) MarshalBinary() ([]byte, error) { return nil, errTODO }

// UnmarshalTemplate decodes a template encoded by MarshalBinary.
func UnmarshalTemplate(b []byte) (*Template, error) { return nil, errTODO }

// Bind computes each variable's values for job j and passes them to set, in
// the order of t.Vars. A list of one element is a plain string.
func (t *Template) Bind(j Job, set func(v *Var, values []string)) {}

// Display returns the command as GNU Parallel would show it with --dry-run,
// -v and in the job log: replacement values shell-quoted in place.
func (t *Template) Display(j Job) string { return "" }

// ExpandText replaces the replacement strings in text with their unquoted
// values, as --tagstring does.
func ExpandText(text string, opts TemplateOptions, j Job) (string, error) { return "", errTODO }

// ShellQuote quotes s as GNU Parallel does for a POSIX shell.
func ShellQuote(s string) string { return s }
