package sshx

import (
	"errors"
	"testing"
)

func TestAuthRefusal(t *testing.T) {
	tests := []struct {
		name string
		err  string
		keys int
		want string
	}{
		{"methods named", "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain", 2,
			"the server refused every method tried (none, publickey; 2 keys offered)"},
		{"no key to offer", "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none], no supported methods remain", 0,
			"the server refused every method tried (none; 0 keys offered)"},
		{"no list", "ssh: unable to authenticate", 1, "the server refused every method tried (no method; 1 key offered)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authRefusal(errors.New(tt.err), tt.keys); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
