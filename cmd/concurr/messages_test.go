package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"concurr/internal/hint"
)

func TestMessages(t *testing.T) {
	tests := []struct {
		name string
		say  func(m *messages)
		want string
	}{
		{"error", func(m *messages) { m.error(errors.New("no such file")) },
			"concurr: error: no such file\n"},
		{"error with hint", func(m *messages) { m.error(usagef("use N", "bad -j value %q", "x")) },
			"concurr: error: bad -j value \"x\"\nconcurr: hint: use N\n"},
		{"wrapped hint", func(m *messages) { m.warning(fmt.Errorf("node1: %w", hint.New(errors.New("denied"), "add a key"))) },
			"concurr: warning: node1: denied\nconcurr: hint: add a key\n"},
		{"warningf", func(m *messages) { m.warningf("%s: lost the agent", "node1") },
			"concurr: warning: node1: lost the agent\n"},
		{"hint alone", func(m *messages) { m.hint("end them with Ctrl-D") },
			"concurr: hint: end them with Ctrl-D\n"},
		{"log", func(m *messages) { m.logf("%s: agent cached", "node1") },
			"concurr: node1: agent cached\n"},
		{"progress", func(m *messages) { m.progress("running:1"); m.endProgress() },
			"\rrunning:1\x1b[K\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tt.say(newMessages(&b))
			if b.String() != tt.want {
				t.Errorf("printed %q, want %q", b.String(), tt.want)
			}
		})
	}
}
