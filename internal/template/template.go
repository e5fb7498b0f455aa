// Package template owns concurr's compiled command template, which client
// and agent share: Compile turns template words into shell source whose
// replacement strings are references to variables, Bind gives a job's
// values to those variables, Display shows a job's command line as GNU
// Parallel does, and the codec carries what the agent runs over the wire.
package template

import (
	"regexp"
	"strings"
)

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

	// --plus: more of the argument's path.
	KindNoExt2        // {..}    without its last two extensions
	KindNoExt3        // {...}   without its last three extensions
	KindBaseNoExt2    // {/..}   basename without two extensions
	KindBaseNoExt3    // {/...}  basename without three extensions
	KindDirPlus       // {+/}    the dirname, or "" when there is no slash
	KindExt           // {+.}    the last extension
	KindExt2          // {+..}   the last two extensions
	KindExt3          // {+...}  the last three extensions
	KindTotal         // {##}    the number of jobs
	KindSeqPadded     // {0#}    {#} zero-padded to the width of {##}
	KindSlotPadded    // {0%}    {%} zero-padded to the width of the slot count
	KindShell         // {slot} {sshlogin} ...: shell text, Params.With
	KindDefault       // {:-with}  with when the argument is "" or "0"
	KindSubstr        // {:from} {:from:len}  a substring, in bytes
	KindTrimPrefix    // {#re}   without the shortest prefix matching re
	KindTrimPrefixAll // {##re}  without the longest prefix matching re
	KindTrimSuffix    // {%re}   without the shortest suffix matching re
	KindTrimSuffixAll // {%%re}  without the longest suffix matching re
	KindSubstFirst    // {/re/with}   the first match of re replaced by with
	KindSubstAll      // {//re/with}  every match replaced
	KindSubstPrefix   // {/#re/with}  a match at the start replaced
	KindSubstSuffix   // {/%re/with}  a match at the end replaced
	KindUpperFirst    // {^re}   a match at the start in upper case
	KindUpperAll      // {^^re}  every match in upper case
	KindLowerFirst    // {,re}   a match at the start in lower case
	KindLowerAll      // {,,re}  every match in lower case

	kindLast = KindLowerAll
)

// perArg reports whether a kind is a value of each argument, with
// positional forms ({2.}, {-1%.gz}), rather than of the job.
func (k Kind) perArg() bool {
	switch k {
	case KindSeq, KindSlot, KindHost, KindTotal, KindSeqPadded, KindSlotPadded, KindShell:
		return false
	}
	return true
}

// Params are the parameters of --plus's dynamic replacement strings, such as
// {%.gz} or {:2:3}.
type Params struct {
	Pattern   string // the regexp, as written (a Perl regexp in GNU Parallel)
	With      string // the replacement text, the default of {:-with}, or shell text
	From, Len int    // {:from:len}; Len < 0 runs to the end

	re *regexp.Regexp // Pattern compiled as each kind uses it
}

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

// Options control how a template compiles.
type Options struct {
	Replacements Replacements
	Header       []string // column names from --header, usable as {name}
	Positions    int      // argument positions per job, to refuse {n} beyond them; 0 skips the check
	Mode         Mode
	Quote        bool // -q: each template word is one literal word
	Plus         bool // --plus: GNU Parallel's additional replacement strings
}

// Var is one shell variable that a compiled script references.
type Var struct {
	Name           string
	Kind           Kind
	Index          int    // 0: all arguments; n > 0: the n-th; n < 0: n-th from the end
	Prefix, Suffix string // ModeContext: text repeated around each argument
	Params
	// Parts, in ModeContext, is a word that holds several replacement
	// strings, repeated for each argument: its literal text and its
	// references in order. A reference with Index 0 to a per-argument kind
	// takes the argument being repeated; the others ({1}, {#}) take the
	// same value in every repetition. Kind and Index are then unused.
	Parts []Part
}

// Part is literal text (Kind 0) or a replacement in a context word.
type Part struct {
	Lit   string
	Kind  Kind
	Index int
	Params
}

// Template is a compiled command template. Replacement strings have become
// references to shell variables, so that values are data, never code. The
// client keeps the whole of it, to display jobs; its binary form
// (MarshalBinary) is its Program's alone, which is all the agent needs.
type Template struct {
	Program
	Words   []string // the template as given, for display
	Options Options

	// display is how Display rebuilds the command line; nil only in a
	// Template that Compile did not make.
	display *displayForm

	chooseK, uniq bool // {choose_k}, {uniq}: see Skips
}

// Program is what runs for every job of a template: shell source and the
// variables that carry a job's replacement values into it. It is what the
// client sends and the agent decodes, binds and runs.
type Program struct {
	Script    string // shell source, parsed once per node
	Vars      []Var
	FromInput bool // no template: each job's arguments are its command

	// Total is the number of jobs, for {##} and {0#}; the client counts
	// them before the run when the template needs it (UsesTotal).
	Total uint64
	// Raw, when set, is the script of a template whose command word is
	// completed by a replacement string (l{}): literal script text, and
	// the unquoted replacements, whose values GNU Parallel pastes in
	// unquoted. Each job's script is then built from it (RawScript) and
	// parsed; Script is unused. Replacements inside quotes stay variables.
	Raw []Part
}

// RawScript is the script of job j for a Raw program: the job's values
// pasted in place, several joined by spaces.
func (p *Program) RawScript(j Job) string {
	var b strings.Builder
	var vals []string
	for _, part := range p.Raw {
		if part.Kind == 0 {
			b.WriteString(part.Lit)
			continue
		}
		vals = appendValues(vals[:0], part.Kind, part.Index, &part.Params, p.Total, j)
		b.WriteString(strings.Join(vals, " "))
	}
	return b.String()
}

// Job is what a template is expanded with.
type Job struct {
	Seq   uint64
	Slot  uint64
	Slots uint64 // the slot count, for {0%}; 0 pads to the width of Slot
	Host  string
	Args  []string
}

// varPrefix starts the name of every generated variable. The names are
// not exported, so they never reach a job's child processes.
const varPrefix = "__concurr_"

// The default replacement strings. {host} cannot be renamed.
const (
	defaultArg       = "{}"
	defaultNoExt     = "{.}"
	defaultBase      = "{/}"
	defaultDir       = "{//}"
	defaultBaseNoExt = "{/.}"
	defaultSeq       = "{#}"
	defaultSlot      = "{%}"
	hostToken        = "{host}"
)

// maxIndex bounds positional numbers; larger ones select nothing.
const maxIndex = 1 << 30
