package template

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Compile compiles template words. It refuses invalid shell syntax and
// positional replacement strings beyond opts.Positions.
//
// The words are joined by single spaces (with opts.Quote each first becomes
// one literal shell word) and scanned with the shell's quoting rules. Each
// replacement string becomes a reference to a generated variable: "${v[@]}"
// where it stands unquoted, so that every value is exactly one word,
// ${v[*]} inside double quotes, and '"${v[*]}"' inside single quotes. A
// replacement string right after a $ or a backslash is shell syntax, not a
// replacement. A template without any replacement string gets " {}"
// appended, as in GNU Parallel; no words at all, or a template that is just
// {}, make a template whose jobs' arguments are their shell source.
func Compile(words []string, opts Options) (*Template, error) {
	t := &Template{Words: words, Options: opts}
	text := strings.Join(words, " ")
	if err := findPerl(text); err != nil {
		return nil, err
	}
	if len(words) == 0 {
		t.FromInput = true
		t.display = &displayForm{}
		return t, nil
	}
	r, err := newRecognizer(opts)
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", text, err)
	}
	if !opts.Quote && strings.TrimSpace(text) == r.arg {
		// GNU Parallel does not quote values for a template that starts with
		// a replacement string; for the template {} alone that means the
		// arguments are the command, which is what FromInput does.
		t.FromInput = true
		t.display = &displayForm{}
		return t, nil
	}
	c, err := compileShell(text, words, r, opts)
	if err != nil {
		return nil, err
	}
	t.Script, t.Vars, t.display, t.Raw = c.script, c.vars, c.display, c.raw
	t.chooseK, t.uniq = r.chooseK, r.uniq
	return t, nil
}

// UsesTotal reports whether the template needs the number of jobs ({##},
// {0#}), which the client must then count before the run and set in Total.
func (t *Template) UsesTotal() bool {
	for _, v := range t.Vars {
		if v.Kind == KindTotal || v.Kind == KindSeqPadded {
			return true
		}
	}
	return false
}

// Skips reports whether a job with these arguments is not to run, as
// GNU Parallel skips it for {choose_k} (arguments not in increasing order)
// and {uniq} (two arguments the same). A skipped job keeps its number.
func (t *Template) Skips(args []string) bool {
	if t.chooseK {
		for i := 1; i < len(args); i++ {
			if args[i-1] >= args[i] {
				return true
			}
		}
	}
	if t.uniq {
		seen := make(map[string]bool, len(args))
		for _, a := range args {
			if seen[a] {
				return true
			}
			seen[a] = true
		}
	}
	return false
}

// SkipsJobs reports whether Skips can skip any job.
func (t *Template) SkipsJobs() bool { return t.chooseK || t.uniq }

// completesCommandWord reports whether a replacement string is part of the
// template's first word, before any = (l{}, {}.sh, but not V={}): GNU
// Parallel then pastes every value in unquoted, so that input "s /bin/ls"
// runs ls /bin/ls. Only in one record per job.
func completesCommandWord(text string, r *recognizer, opts Options) bool {
	if opts.Quote || opts.Mode != ModeSingle {
		return false
	}
	segs, err := r.scanText(text)
	if err != nil || len(segs) == 0 {
		return false
	}
	lead := ""
	if !segs[0].ref {
		if len(segs) < 2 {
			return false
		}
		lead = segs[0].lit
	}
	return !strings.ContainsAny(lead, " \t\n=")
}

// compiled is what a template compiles to.
type compiled struct {
	script  string
	vars    []Var
	display *displayForm
	raw     []Part
}

func compileShell(text string, words []string, r *recognizer, opts Options) (*compiled, error) {
	src := text
	var quoteWords [][]seg
	if opts.Quote {
		var err error
		src, quoteWords, err = quoteEachWord(words, r)
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", text, err)
		}
	}
	c := &compiler{src: src, r: r, mode: opts.Mode}
	if err := c.run(); err != nil {
		return nil, fmt.Errorf("template %q: %w", text, atTemplatePosition(text, err))
	}
	if c.nRefs == 0 {
		// No replacement string: the arguments go at the end.
		src += " " + r.arg
		if opts.Quote {
			quoteWords = append(quoteWords, []seg{{ref: true, key: valueKey{kind: KindArg}}})
		}
		c = &compiler{src: src, r: r, mode: opts.Mode}
		if err := c.run(); err != nil {
			return nil, fmt.Errorf("template %q: %w", text, err)
		}
	}
	raw := completesCommandWord(text, r, opts)
	script, vars, rawParts := c.render(raw)
	if raw {
		// Each job's script is parsed when its values are known; a value
		// can only complete what the template starts.
		script = (&Program{Raw: rawParts}).RawScript(Job{Seq: 1, Slot: 1, Args: []string{"x"}})
	}
	if err := checkSyntax(script); err != nil {
		return nil, fmt.Errorf("template %q: %w", text, atTemplatePosition(text, err))
	}
	if raw {
		script = ""
	}
	return &compiled{script: script, vars: vars, raw: rawParts,
		display: &displayForm{segs: c.segs, quoteWords: quoteWords, raw: raw}}, nil
}

// quoteEachWord makes each word one literal shell word in which replacement
// strings still work, for -q.
func quoteEachWord(words []string, r *recognizer) (string, [][]seg, error) {
	var b strings.Builder
	quoteWords := make([][]seg, 0, len(words))
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		segs, err := r.scanText(w)
		if err != nil {
			return "", nil, err
		}
		quoteWords = append(quoteWords, segs)
		if w == "" {
			b.WriteString("''")
		}
		for _, s := range segs {
			if s.ref {
				b.WriteString(s.lit)
			} else {
				b.WriteString(ShellQuote(s.lit))
			}
		}
	}
	return b.String(), quoteWords, nil
}

// checkSyntax parses a generated script as bash, which the agent also
// uses, because arrays need it. A syntax error comes without its line and
// column, which would point into generated code.
func checkSyntax(script string) error {
	_, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			return errors.New(pe.Text)
		}
		var le syntax.LangError
		if errors.As(err, &le) {
			return fmt.Errorf("%s is not supported", le.Feature)
		}
	}
	return err
}

// atTemplatePosition gives a syntax error the line and column where the
// user's own template breaks, as a shell would name them. The script that
// runs has replacement strings rewritten, so its columns are not the
// user's; the template itself parses the same way, since a replacement
// string is a plain word to the shell. Where the template breaks
// elsewhere or not at all (a replacement string that is itself shell
// syntax, as -I ')' or a --plus pattern makes one), err stays as it is.
func atTemplatePosition(text string, err error) error {
	_, perr := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(text), "")
	var pe syntax.ParseError
	if !errors.As(perr, &pe) || pe.Text != err.Error() {
		return err
	}
	return fmt.Errorf("line %d, column %d: %s", pe.Pos.Line(), pe.Pos.Col(), pe.Text)
}

// valueKey identifies a replacement value; occurrences with equal keys share
// one variable.
type valueKey struct {
	kind           Kind
	index          int
	prefix, suffix string
	params         Params
	context        int // n > 0: the compiler's n-th context word of several replacements
}

// quoting is the shell quoting in force where a replacement string stands.
type quoting uint8

const (
	quoteNone quoting = iota
	quoteDouble
	quoteSingle
	quoteANSI  // inside $'...'
	quoteParam // inside "${...}"
)

// piece is part of the generated script: literal source, or a reference.
type piece struct {
	lit string
	ref bool
	key valueKey
	q   quoting
}

// render names the variables, one per distinct replacement, and writes
// the script.
// With raw, the unquoted references are not variables but parts of the
// returned Raw script, between its literal text.
func (c *compiler) render(raw bool) (string, []Var, []Part) {
	names := make(map[valueKey]string)
	var vars []Var
	var parts []Part
	var b strings.Builder
	for _, p := range c.pieces {
		if !p.ref {
			b.WriteString(p.lit)
			continue
		}
		if raw && p.q == quoteNone {
			parts = append(parts, Part{Lit: b.String()}, Part{Kind: p.key.kind, Index: p.key.index, Params: p.key.params})
			b.Reset()
			continue
		}
		name, ok := names[p.key]
		if !ok {
			name = varPrefix + strconv.Itoa(len(vars)+1)
			names[p.key] = name
			v := Var{Name: name, Kind: p.key.kind, Index: p.key.index,
				Prefix: p.key.prefix, Suffix: p.key.suffix, Params: p.key.params}
			if p.key.context > 0 {
				v.Parts = c.contexts[p.key.context-1].parts
			}
			vars = append(vars, v)
		}
		switch p.q {
		case quoteNone:
			b.WriteString(`"${` + name + `[@]}"`)
		case quoteDouble:
			b.WriteString(`${` + name + `[*]}`)
		case quoteSingle:
			b.WriteString(`'"${` + name + `[*]}"'`)
		case quoteANSI:
			b.WriteString(`'"${` + name + `[*]}"$'`)
		case quoteParam:
			// Only reached inside double quotes: see unquotedParam.
			b.WriteString(`${` + name + `[*]}`)
		}
	}
	if raw {
		return "", vars, append(parts, Part{Lit: b.String()})
	}
	return b.String(), vars, nil
}
