package agent

import (
	"testing"
	"time"

	"concurr/internal/wire"
	"concurr/parse"
)

// TestRealTemplates runs templates compiled and encoded by parse, through
// the real codec and Bind. It skips while parse does not implement them.
func TestRealTemplates(t *testing.T) {
	tests := []struct {
		name   string
		words  []string
		args   []string
		stdout string
	}{
		{name: "argument, sequence and slot", words: []string{"echo", "{}", "{#}", "{%}"}, args: []string{"x"}, stdout: "x 1 1\n"},
		{name: "injection stays literal", words: []string{"printf", "'[%s]\\n'", "{}"}, args: []string{"a b; echo pwned $(id) `id` *"}, stdout: "[a b; echo pwned $(id) `id` *]\n"},
		{name: "basename without extension", words: []string{"echo", "{/.}"}, args: []string{"/tmp/dir/file.tar.gz"}, stdout: "file.tar\n"},
	}
	c := startAgent(t, Options{Slots: 1})
	defer func(u, b any) {
		unmarshalTemplate = u.(func([]byte) (*parse.Template, error))
		bindTemplate = b.(func(*parse.Template, parse.Job, func(*parse.Var, []string)))
	}(unmarshalTemplate, bindTemplate)
	unmarshalTemplate = parse.UnmarshalTemplate
	bindTemplate = (*parse.Template).Bind
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			tmpl, err := parse.Compile(tt.words, parse.TemplateOptions{})
			if err != nil {
				t.Skipf("parse.Compile: %v", err)
			}
			b, err := tmpl.MarshalBinary()
			if err != nil {
				t.Skipf("MarshalBinary: %v", err)
			}
			id := uint64(i + 1)
			c.send(&wire.Command{ID: id, Template: b, Slots: 1}, &wire.Input{Command: id, Seq: id, Args: tt.args})
			r := c.collect(10*time.Second, id)[id]
			c.send(&wire.Delete{Command: id})
			if r.stdout.String() != tt.stdout || r.result.Exit != 0 {
				t.Errorf("stdout %q stderr %q exit %d, want %q", r.stdout.String(), r.stderr.String(), r.result.Exit, tt.stdout)
			}
		})
	}
}
