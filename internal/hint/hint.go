// Package hint attaches advice for the user to an error. Libraries return
// errors carrying a hint; only the command prints them, each hint on its
// own line after the message it explains.
package hint

import (
	"errors"
	"fmt"
)

// Hinter is an error that says what the user can do about it. Error types
// of their own, such as a failed host key check, implement it directly;
// others are wrapped with New or Errorf.
type Hinter interface {
	error
	Hint() string
}

// New returns err carrying hint. With an empty hint it returns err itself.
func New(err error, hint string) error {
	if err == nil || hint == "" {
		return err
	}
	return &hinted{err: err, hint: hint}
}

// Errorf formats an error, as fmt.Errorf does, carrying hint.
func Errorf(hint, format string, args ...any) error {
	return New(fmt.Errorf(format, args...), hint)
}

// Of returns the hint of the first error in err's chain that has one, or "".
func Of(err error) string {
	for err != nil {
		var h Hinter
		if !errors.As(err, &h) {
			return ""
		}
		if s := h.Hint(); s != "" {
			return s
		}
		// A Hinter without a hint for this case: look further down.
		err = errors.Unwrap(h)
	}
	return ""
}

type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }
func (h *hinted) Hint() string  { return h.hint }
