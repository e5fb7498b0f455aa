package main

import (
	"fmt"
	"io"
	"strings"
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
//
// It also owns the progress line (--bar, --eta, --progress), the one line
// that is redrawn in place: any other text that reaches the terminal, a
// message or a job's output, first clears it and then draws it again
// below, so that nothing lands on the progress line.
type messages struct {
	mu     sync.Mutex
	w      io.Writer
	status string // the progress line as drawn, "" when none is
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

// summary prints the end-of-run summary's lines (see summary.go).
func (m *messages) summary(lines []string) {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("concurr: " + l + "\n")
	}
	m.write(b.String())
}

// progress redraws the progress line in place.
func (m *messages) progress(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status = line
	io.WriteString(m.w, "\r"+line+"\x1b[K")
}

// endProgress leaves the progress line as it was last drawn, and ends it.
func (m *messages) endProgress() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status != "" {
		io.WriteString(m.w, "\n")
		m.status = ""
	}
}

// aside runs write, which prints something else where the progress line
// is, with the line cleared first and drawn again after.
func (m *messages) aside(write func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status == "" {
		write()
		return
	}
	io.WriteString(m.w, "\r\x1b[K")
	write()
	io.WriteString(m.w, "\r"+m.status+"\x1b[K")
}

// asideWriter is a writer to the terminal the progress line is on (the
// jobs' stdout and stderr, when they go there), whose writes clear the line
// and draw it again.
type asideWriter struct {
	say *messages
	w   io.Writer
}

func (a asideWriter) Write(p []byte) (n int, err error) {
	a.say.aside(func() { n, err = a.w.Write(p) })
	return n, err
}

func (m *messages) print(kind string, err error) {
	text := "concurr: " + kind + ": " + err.Error() + "\n"
	if h := hint.Of(err); h != "" {
		text += "concurr: hint: " + h + "\n"
	}
	m.write(text)
}

func (m *messages) write(text string) {
	m.aside(func() { io.WriteString(m.w, text) })
}

// usagef is an error in how concurr was called, with a hint on what to
// write instead ("" for none).
func usagef(hintText, format string, args ...any) error {
	return hint.Errorf(hintText, format, args...)
}
