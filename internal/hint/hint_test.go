package hint

import (
	"errors"
	"fmt"
	"testing"
)

// ownHint is an error type with a hint of its own, which may be empty.
type ownHint struct {
	err  error
	hint string
}

func (e *ownHint) Error() string { return e.err.Error() }
func (e *ownHint) Unwrap() error { return e.err }
func (e *ownHint) Hint() string  { return e.hint }

func TestOf(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", base, ""},
		{"attached", New(base, "try again"), "try again"},
		{"empty hint", New(base, ""), ""},
		{"formatted", Errorf("try again", "bad %s", "value"), "try again"},
		{"wrapped", fmt.Errorf("dial: %w", New(base, "try again")), "try again"},
		{"outer wins", New(New(base, "inner"), "outer"), "outer"},
		{"own type", &ownHint{err: base, hint: "own"}, "own"},
		{"own type without one looks further", &ownHint{err: New(base, "inner")}, "inner"},
		{"own type without one, none further", &ownHint{err: base}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestNewKeepsMessageAndChain(t *testing.T) {
	base := errors.New("boom")
	err := Errorf("h", "wrap: %w", base)
	if err.Error() != "wrap: boom" {
		t.Errorf("message %q", err.Error())
	}
	if !errors.Is(err, base) {
		t.Error("the chain lost the cause")
	}
	if New(nil, "h") != nil {
		t.Error("New(nil) is not nil")
	}
}
