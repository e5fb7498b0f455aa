package main

import (
	"fmt"
	"io"
	"sync"

	"concurr/internal/hint"
)

// Every line concurr itself prints goes through this file, so that all share
// one form: "concurr: error: …", "concurr: warning: …" and "concurr: hint: …"
// on stderr, in lower case and without a final period. A hint travels
// attached to an error (package hint) and is printed on the line after the
// error it explains. Jobs' own output, and -v's commands, which GNU Parallel
// prints as part of each job's output, do not pass here.

// messages prints concurr's own lines on stderr. Each message, with its
// hint, is one write, so that messages from several nodes do not mix.
type messages struct {
	mu sync.Mutex
	w  io.Writer
}

func newMessages(stderr io.Writer) *messages { return &messages{w: stderr} }

// error reports the error that ends the run.
func (m *messages) error(err error) { m.print("error", err) }

// warning reports a problem the run survives.
func (m *messages) warning(err error) { m.print("warning", err) }

func (m *messages) warningf(format string, args ...any) {
	m.warning(fmt.Errorf(format, args...))
}

// hint gives advice that no error prompted.
func (m *messages) hint(text string) { m.write("concurr: hint: " + text + "\n") }

// logf prints -v's account of what concurr does, such as uploading the
// agent to a node.
func (m *messages) logf(format string, args ...any) {
	m.write("concurr: " + fmt.Sprintf(format, args...) + "\n")
}

// progress redraws the --bar, --eta and --progress line in place.
func (m *messages) progress(line string) { m.write("\r" + line + "\x1b[K") }

// endProgress leaves the progress line as it was last drawn.
func (m *messages) endProgress() { m.write("\n") }

func (m *messages) print(kind string, err error) {
	text := "concurr: " + kind + ": " + err.Error() + "\n"
	if h := hint.Of(err); h != "" {
		text += "concurr: hint: " + h + "\n"
	}
	m.write(text)
}

func (m *messages) write(text string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	io.WriteString(m.w, text)
}

// usagef is an error in how concurr was called, with a hint on what to
// write instead ("" for none).
func usagef(hintText, format string, args ...any) error {
	return hint.Errorf(hintText, format, args...)
}
