package agent

import "testing"

func TestSSHHost(t *testing.T) {
	tests := []struct{ login, want string }{
		{":", ":"},
		{"node1", "node1"},
		{"alice@node1", "node1"},
		{"4/alice@node1:2222", "node1"},
		{"node1:2222", "node1"},
		{"[::1]:2222", "::1"},
		{"fe80::1", "fe80::1"},
	}
	for _, tt := range tests {
		t.Run(tt.login, func(t *testing.T) {
			if got := sshHost(tt.login); got != tt.want {
				t.Fatalf("sshHost(%q) = %q, want %q", tt.login, got, tt.want)
			}
		})
	}
}
