package sshx

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"concurr/internal/hint"
	"concurr/internal/sshtest"
)

// TestAlgorithmList checks ssh_config's list forms against the defaults.
func TestAlgorithmList(t *testing.T) {
	defaults := []string{"a-256", "b-256", "ecdh-1", "ecdh-2"}
	implemented := append(slices.Clone(defaults), "old-sha1")
	tests := []struct {
		value   string
		want    []string
		wantErr string
	}{
		{value: "b-256,a-256", want: []string{"b-256", "a-256"}},
		{value: "openssh-only,ecdh-2", want: []string{"ecdh-2"}},
		{value: "+old-sha1", want: []string{"a-256", "b-256", "ecdh-1", "ecdh-2", "old-sha1"}},
		{value: "+a-256", want: defaults},
		{value: "-ecdh-*", want: []string{"a-256", "b-256"}},
		{value: "-?-256,ecdh-1", want: []string{"ecdh-2"}},
		{value: "^ecdh-2,old-sha1", want: []string{"ecdh-2", "old-sha1", "a-256", "b-256", "ecdh-1"}},
		{value: "openssh-only", wantErr: "implements none of openssh-only"},
		{value: "-*", wantErr: "implements none of"},
		{value: "+", wantErr: "no algorithm named"},
	}
	for _, tt := range tests {
		got, err := algorithmList(tt.value, defaults, implemented)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: %v, %v; want an error with %q", tt.value, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%q: %v, %v; want %v", tt.value, got, err, tt.want)
		}
	}
}

// TestAlgorithmsFromConfig checks that KexAlgorithms and Ciphers decide the
// login: a server that offers only ecdh-sha2-nistp256 and aes128-ctr is
// reached only by a config that allows both.
func TestAlgorithmsFromConfig(t *testing.T) {
	srv := sshtest.StartServer(t)
	srv.OfferOnly([]string{"ecdh-sha2-nistp256"}, []string{"aes128-ctr"})
	tests := []struct {
		name    string
		extra   string
		wantErr string
	}{
		{name: "defaults", extra: ""},
		{name: "the offered key exchange", extra: "  KexAlgorithms ecdh-sha2-nistp256,curve25519-sha256\n"},
		{name: "another key exchange only", extra: "  KexAlgorithms curve25519-sha256\n", wantErr: "key exchange"},
		{name: "the offered one removed", extra: "  KexAlgorithms -ecdh-sha2-*\n", wantErr: "key exchange"},
		{name: "another cipher only", extra: "  Ciphers aes256-gcm@openssh.com\n", wantErr: "cipher"},
		{name: "the offered cipher in front", extra: "  Ciphers ^aes128-ctr\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := writeConfig(t, srv.ConfigBlock("node")+tt.extra)
			var log logLines
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			n, err := Start(ctx, host(t, "node"), options(config, &log))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				hello(t, n)
				return
			}
			if err == nil {
				n.Close()
				t.Fatalf("logged in; want an error about the %s", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one about the %s", err, tt.wantErr)
			}
		})
	}
}

// TestAlgorithmsNoneImplemented checks that a list the built-in client can
// honour with no algorithm of its own is refused before dialling, with the
// hint to use ssh.
func TestAlgorithmsNoneImplemented(t *testing.T) {
	srv := sshtest.StartServer(t)
	config := writeConfig(t, srv.ConfigBlock("node")+"  KexAlgorithms sntrup761x25519-sha512@openssh.com\n")
	var log logLines
	_, err := Start(context.Background(), host(t, "node"), options(config, &log))
	if err == nil || !strings.Contains(err.Error(), "KexAlgorithms") || !strings.Contains(hint.Of(err), "--ssh ssh") {
		t.Errorf("err = %v (hint %q)", err, hint.Of(err))
	}
	if len(srv.Execs()) != 0 {
		t.Errorf("the server ran %q", srv.Execs())
	}
}

// TestAlgorithmsSSHD checks the same against OpenSSH's sshd, set to offer
// one key exchange and one cipher.
func TestAlgorithmsSSHD(t *testing.T) {
	sshtest.RequireE2E(t)
	d := sshtest.StartSSHD(t, 1, sshtest.WithSSHDConfig("KexAlgorithms ecdh-sha2-nistp256", "Ciphers aes128-ctr"))
	base, err := os.ReadFile(d.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ extra, wantErr string }{
		{extra: "  KexAlgorithms ecdh-sha2-nistp256,curve25519-sha256\n  Ciphers ^aes128-ctr\n"},
		{extra: "  KexAlgorithms curve25519-sha256\n", wantErr: "key exchange"},
		{extra: "  Ciphers chacha20-poly1305@openssh.com\n", wantErr: "cipher"},
	} {
		config := writeConfig(t, string(base)+"Host node1\n"+tt.extra)
		var log logLines
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		n, err := Start(ctx, host(t, "node1"), options(config, &log))
		cancel()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.extra, err)
		case tt.wantErr == "":
			hello(t, n)
			n.Close()
		case err == nil:
			n.Close()
			t.Errorf("%q: logged in, want an error about the %s", tt.extra, tt.wantErr)
		case !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("%q: %v, want one about the %s", tt.extra, err, tt.wantErr)
		}
	}
}
