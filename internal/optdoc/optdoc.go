// Package optdoc writes the documentation of concurr's options: the
// --help text, the concurr(1) man page and the shell completions. All of
// them come from the one option table, so they cannot drift apart.
package optdoc

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Option is what the documentation needs of one option.
type Option struct {
	Long  []string // long names; the first is the one shown
	Short string   // one-letter name, or ""
	Arg   string   // the value's name; "" for a switch
	// Optional is set when the value may be left out (-i, -e, -l): the
	// next argument is then not taken for granted as the value.
	Optional bool
	Group    string // one of Groups
	Help     string // one line, lower case, no final period
}

// Groups are the headings options are listed under, in order.
var Groups = []string{"Input", "Command", "Output", "Job control", "Remote hosts", "Files", "--pipe", "Other"}

// HelpWidth is the width --help fits in.
const HelpWidth = 80

// Names spells an option as the documentation shows it, every spelling
// included when all is set: "-k, --keep-order" or "-j, --jobs N".
func (o Option) Names(all bool) string {
	var names []string
	if o.Short != "" && o.Short != o.Long[0] {
		names = append(names, "-"+o.Short)
	}
	longs := o.Long
	if !all {
		longs = longs[:1]
	}
	for _, l := range longs {
		names = append(names, Dashed(l))
	}
	s := strings.Join(names, ", ")
	if o.Arg != "" {
		s += " " + o.Arg
	}
	return s
}

// Spellings are every name of the option, with its dashes.
func (o Option) Spellings() []string {
	var s []string
	if o.Short != "" && o.Short != o.Long[0] {
		s = append(s, "-"+o.Short)
	}
	for _, l := range o.Long {
		s = append(s, Dashed(l))
	}
	return s
}

// Dashed puts one dash before a one-letter name and two before a longer one.
func Dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// Grouped returns the options of each group, in the order of Groups and,
// within a group, of the table. It fails on an option with no known group,
// so that a new option is not left out of the documentation.
func Grouped(opts []Option) ([][]Option, error) {
	index := map[string]int{}
	for i, g := range Groups {
		index[g] = i
	}
	grouped := make([][]Option, len(Groups))
	for _, o := range opts {
		i, ok := index[o.Group]
		if !ok {
			return nil, fmt.Errorf("option %s: group %q is none of %q", Dashed(o.Long[0]), o.Group, Groups)
		}
		grouped[i] = append(grouped[i], o)
	}
	return grouped, nil
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// helpIndent is the column option descriptions start at in --help.
const helpIndent = 26

// WriteHelp writes the --help text: a synopsis, the options by group, and
// where to read more. No line is wider than HelpWidth.
func WriteHelp(w io.Writer, opts []Option) error {
	grouped, err := Grouped(opts)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(`usage: concurr [options] [command [args with {}]] [::: args | :::: files]...

Run a command for every input, concurrently, on this machine and on hosts
reached over SSH. Options and replacement strings follow GNU Parallel.

  concurr 'echo job {#} on slot {%}: {}' ::: a b c
  find . -name '*.log' | concurr -k --tag 'wc -l {}'
  concurr -S node1,4/node2 'gzip -9 {}' :::: files.txt
`)
	pad := strings.Repeat(" ", helpIndent)
	for i, group := range Groups {
		if len(grouped[i]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", group)
		for _, o := range grouped[i] {
			names := "  " + o.Names(false)
			help := wrap(o.Help, HelpWidth-helpIndent)
			if len(names)+2 > helpIndent {
				b.WriteString(names + "\n")
			} else {
				b.WriteString(names + strings.Repeat(" ", helpIndent-len(names)) + help[0] + "\n")
				help = help[1:]
			}
			for _, l := range help {
				b.WriteString(pad + l + "\n")
			}
		}
	}
	b.WriteString(`
Replacement strings: {} {.} {/} {//} {/.} {#} {%} {host}, and {n} {n.} {n/}
{n//} {n/.} for input position n (negative n counts from the end).

Options can also be set as CONCURR_<NAME> environment variables (for example
CONCURR_JOBS=4) or in the file named by --config.

Exit status: 0 when every job succeeded; 1-100 the number of failed jobs;
101 more than 100 failed; with --halt ...fail, the failing job's status;
130 or 143 when interrupted; 255 for a usage or setup error.

Every spelling of every option, with examples: man concurr, and the README.
`)
	_, err = io.WriteString(w, b.String())
	return err
}

// A File is one generated file: its path under the repository and how to
// write it.
type File struct {
	Path  string
	Write func(io.Writer, []Option) error
}

// Files are the files make man writes and a test keeps up to date.
var Files = []File{
	{"docs/concurr.1", WriteMan},
	{"docs/completions/concurr.bash", WriteBash},
	{"docs/completions/_concurr", WriteZsh},
	{"docs/completions/concurr.fish", WriteFish},
}
