package parse

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseSSHLogins(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		want  []Host
		err   string
	}{
		{name: "plain", specs: []string{"node1"}, want: []Host{{Spec: "node1", Name: "node1"}}},
		{name: "local", specs: []string{":"}, want: []Host{{Spec: ":", Local: true}}},
		{name: "local with slots", specs: []string{"2/:"}, want: []Host{{Spec: "2/:", Local: true, Slots: 2}}},
		{name: "full", specs: []string{"4/alice@node1:2222"}, want: []Host{{Spec: "4/alice@node1:2222", Slots: 4, User: "alice", Name: "node1", Port: 2222}}},
		{name: "comma list", specs: []string{"a,2/b", "c"}, want: []Host{
			{Spec: "a", Name: "a"}, {Spec: "2/b", Name: "b", Slots: 2}, {Spec: "c", Name: "c"}}},
		{name: "ipv6 bracketed with port", specs: []string{"bob@[::1]:22"}, want: []Host{{Spec: "bob@[::1]:22", User: "bob", Name: "::1", Port: 22}}},
		{name: "ipv6 bracketed", specs: []string{"[fe80::1]"}, want: []Host{{Spec: "[fe80::1]", Name: "fe80::1"}}},
		{name: "ipv6 bare", specs: []string{"::1"}, want: []Host{{Spec: "[::1]", Name: "::1"}}},
		{name: "range padded", specs: []string{"node[08-10]"}, want: []Host{
			{Spec: "node08", Name: "node08"}, {Spec: "node09", Name: "node09"}, {Spec: "node10", Name: "node10"}}},
		{name: "range list inside a comma list", specs: []string{"2/u@n[1-2,7]:22,x"}, want: []Host{
			{Spec: "2/u@n1:22", Slots: 2, User: "u", Name: "n1", Port: 22},
			{Spec: "2/u@n2:22", Slots: 2, User: "u", Name: "n2", Port: 22},
			{Spec: "2/u@n7:22", Slots: 2, User: "u", Name: "n7", Port: 22},
			{Spec: "x", Name: "x"}}},
		{name: "range product", specs: []string{"r[1-2]n[0-1]"}, want: []Host{
			{Spec: "r1n0", Name: "r1n0"}, {Spec: "r1n1", Name: "r1n1"}, {Spec: "r2n0", Name: "r2n0"}, {Spec: "r2n1", Name: "r2n1"}}},
		{name: "empty items skipped", specs: []string{"a,,b,"}, want: []Host{{Spec: "a", Name: "a"}, {Spec: "b", Name: "b"}}},
		{name: "bad port", specs: []string{"a:http"}, err: "bad port"},
		{name: "port out of range", specs: []string{"a:70000"}, err: "bad port"},
		{name: "zero slots", specs: []string{"0/a"}, err: "bad slot count"},
		{name: "empty user", specs: []string{"@a"}, err: "empty user"},
		{name: "empty host", specs: []string{"u@"}, err: "empty host"},
		{name: "unbalanced", specs: []string{"n[1-3"}, err: "unbalanced"},
		{name: "reversed range", specs: []string{"n[3-1]"}, err: "bad range"},
		{name: "letters in range", specs: []string{"n[a-c]"}, err: "bad range"},
		{name: "huge range", specs: []string{"n[1-999999999]"}, err: "more than"},
		{name: "ssh scheme", specs: []string{"2/ssh://u@h:22"}, want: []Host{{Spec: "2/u@h:22", Slots: 2, User: "u", Name: "h", Port: 22}}},
		{name: "srun", specs: []string{"srun://n1"}, want: []Host{{Spec: "srun://n1", Name: "n1", Transport: "srun"}}},
		{name: "srun range with slots", specs: []string{"4/srun://n[1-2],x"}, want: []Host{
			{Spec: "4/srun://n1", Slots: 4, Name: "n1", Transport: "srun"},
			{Spec: "4/srun://n2", Slots: 4, Name: "n2", Transport: "srun"},
			{Spec: "x", Name: "x"}}},
		{name: "docker", specs: []string{"docker://box"}, want: []Host{{Spec: "docker://box", Name: "box", Transport: "docker"}}},
		{name: "podman", specs: []string{"podman://box"}, want: []Host{{Spec: "podman://box", Name: "box", Transport: "podman"}}},
		{name: "kubectl pod", specs: []string{"kubectl://web-0"}, want: []Host{{Spec: "kubectl://web-0", Name: "web-0", Transport: "kubectl"}}},
		{name: "kubectl namespace", specs: []string{"kubectl://ci/web-0"}, want: []Host{{Spec: "kubectl://ci/web-0", Name: "web-0", Namespace: "ci", Transport: "kubectl"}}},
		{name: "kubectl container", specs: []string{"kubectl://ci/web-0/app"}, want: []Host{{Spec: "kubectl://ci/web-0/app", Name: "web-0", Namespace: "ci", Container: "app", Transport: "kubectl"}}},
		{name: "kubectl container in current namespace", specs: []string{"kubectl:///web-0/app"}, want: []Host{{Spec: "kubectl:///web-0/app", Name: "web-0", Container: "app", Transport: "kubectl"}}},
		{name: "kubectl pod range", specs: []string{"kubectl://ci/web-[0-1]"}, want: []Host{
			{Spec: "kubectl://ci/web-0", Name: "web-0", Namespace: "ci", Transport: "kubectl"},
			{Spec: "kubectl://ci/web-1", Name: "web-1", Namespace: "ci", Transport: "kubectl"}}},
		{name: "exec runs to the end of the value", specs: []string{"a,2/exec://ssh -o Ciphers=x,y h sh"}, want: []Host{
			{Spec: "a", Name: "a"},
			{Spec: "2/exec://ssh -o Ciphers=x,y h sh", Slots: 2, Transport: "exec", Command: "ssh -o Ciphers=x,y h sh"}}},
		{name: "exec alone", specs: []string{"exec://sh"}, want: []Host{{Spec: "exec://sh", Transport: "exec", Command: "sh"}}},
		{name: "exec inside a word is no login", specs: []string{"a/exec://sh"}, err: "unknown transport"},
		{name: "exec without a command", specs: []string{"exec:// "}, err: "exec:// needs a command"},
		{name: "unknown scheme", specs: []string{"rsh://h"}, err: `unknown transport "rsh://"`},
		{name: "srun without node", specs: []string{"srun://"}, err: "srun:// needs a NODE"},
		{name: "srun with a slash", specs: []string{"srun://a/b"}, err: "want srun://NODE"},
		{name: "docker with a user", specs: []string{"docker://u@box"}, err: "want docker://CONTAINER"},
		{name: "docker option", specs: []string{"docker://-it"}, err: "want docker://CONTAINER"},
		{name: "kubectl too deep", specs: []string{"kubectl://a/b/c/d"}, err: "want kubectl://"},
		{name: "kubectl empty pod", specs: []string{"kubectl://ns/"}, err: "want kubectl://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSSHLogins(tt.specs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestExpandHostlist(t *testing.T) {
	tests := []struct {
		name string
		list string
		want []string
		err  string
	}{
		{name: "single", list: "node1", want: []string{"node1"}},
		{name: "slurm mixed", list: "d05-[41-42],gpu[1-3]", want: []string{"d05-41", "d05-42", "gpu1", "gpu2", "gpu3"}},
		{name: "padding and list", list: "node[001-003,007]", want: []string{"node001", "node002", "node003", "node007"}},
		{name: "product", list: "r[1-2]-n[01-02]", want: []string{"r1-n01", "r1-n02", "r2-n01", "r2-n02"}},
		{name: "empty", list: ",", err: "names no hosts"},
		{name: "nested", list: "n[[1-2]]", err: "nested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandHostlist(tt.list)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadSSHLoginFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slf")
	text := "# cluster\n\n4/node1 # the fast one\n  alice@node[2-3]:2200\t# two more\n:\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSSHLoginFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Host{
		{Spec: "4/node1", Name: "node1", Slots: 4},
		{Spec: "alice@node2:2200", User: "alice", Name: "node2", Port: 2200},
		{Spec: "alice@node3:2200", User: "alice", Name: "node3", Port: 2200},
		{Spec: ":", Local: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("ok\nn[2-1]\n"), 0o600)
	if _, err := ReadSSHLoginFile(bad); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("err = %v, want the line number", err)
	}
}

func TestHostsFromScheduler(t *testing.T) {
	nodefile := filepath.Join(t.TempDir(), "nodes")
	os.WriteFile(nodefile, []byte("n1\nn1\nn2\nn1\n"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		want []Host
		err  string
	}{
		{name: "slurm with cpus", env: map[string]string{
			"SLURM_JOB_NODELIST": "d05-[41-42],gpu1", "SLURM_JOB_CPUS_PER_NODE": "8(x2),4"},
			want: []Host{{Spec: "8/d05-41", Name: "d05-41", Slots: 8}, {Spec: "8/d05-42", Name: "d05-42", Slots: 8}, {Spec: "4/gpu1", Name: "gpu1", Slots: 4}}},
		{name: "slurm without cpus", env: map[string]string{"SLURM_JOB_NODELIST": "n[1-2]"},
			want: []Host{{Spec: "n1", Name: "n1"}, {Spec: "n2", Name: "n2"}}},
		{name: "slurm cpus mismatch", env: map[string]string{"SLURM_JOB_NODELIST": "n[1-2]", "SLURM_JOB_CPUS_PER_NODE": "8(x3)"}, err: "does not match"},
		{name: "slurm cpus short", env: map[string]string{"SLURM_JOB_NODELIST": "n[1-2]", "SLURM_JOB_CPUS_PER_NODE": "8"}, err: "gives counts for 1"},
		{name: "pbs", env: map[string]string{"PBS_NODEFILE": nodefile},
			want: []Host{{Spec: "3/n1", Name: "n1", Slots: 3}, {Spec: "1/n2", Name: "n2", Slots: 1}}},
		{name: "pbs missing file", env: map[string]string{"PBS_NODEFILE": nodefile + ".missing"}, err: "PBS_NODEFILE"},
		{name: "neither", env: map[string]string{}, err: "no batch scheduler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HostsFromScheduler(func(k string) string { return tt.env[k] })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseSSHLogins checks that no spec panics or expands without bound,
// and that every host it yields parses back to itself.
func FuzzParseSSHLogins(f *testing.F) {
	for _, s := range []string{"node1", "4/alice@node[01-16]:2222", ":", "[::1]:22,n[1-3,7]", "r[1-2]n[0-1]", "a,,b", "n[3-1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		hosts, err := ParseSSHLogins([]string{spec})
		if err != nil {
			return
		}
		if len(hosts) > MaxHosts {
			t.Fatalf("%d hosts", len(hosts))
		}
		for _, h := range hosts {
			again, err := ParseSSHLogins([]string{h.Spec})
			if err != nil {
				// A name that still holds brackets after expansion is not
				// possible; anything else must parse back.
				t.Fatalf("%q from %q does not parse: %v", h.Spec, spec, err)
			}
			if len(again) != 1 || !reflect.DeepEqual(again[0], h) {
				t.Fatalf("%q from %q parses to %+v", h.Spec, spec, again)
			}
		}
	})
}

// FuzzExpandHostlist checks the Slurm hostlist parser never panics or
// expands without bound.
func FuzzExpandHostlist(f *testing.F) {
	for _, s := range []string{"d05-[41-42],gpu[1-3]", "node[001-003,007]", "r[1-2]-n[01-02]", "n[", "]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		names, err := ExpandHostlist(list)
		if err == nil && (len(names) == 0 || len(names) > MaxHosts) {
			t.Fatalf("%d names", len(names))
		}
	})
}

func TestStripComment(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"whole line", "# cluster", ""},
		{"indented", "   # cluster", "   "},
		{"trailing after a space", "node1 # the fast one", "node1 "},
		{"trailing after a tab", "4/node2\t#gpu", "4/node2\t"},
		{"a # inside a word stays", "exec://ssh -p 22 host#1", "exec://ssh -p 22 host#1"},
		{"none", "alice@node3:2200", "alice@node3:2200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stripComment(tt.line); got != tt.want {
				t.Errorf("stripComment(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

// TestSSHCommandLogins covers logins written as ssh command lines, as GNU
// Parallel takes them.
func TestSSHCommandLogins(t *testing.T) {
	sshHost := func(login, name, user string, port int, command []string, builtin bool, options []string) Host {
		return Host{Spec: login, Login: login, Name: name, User: user, Port: port, SSHCommand: command, SSHBuiltin: builtin, SSHOptions: options}
	}
	withSlots := func(h Host, n int) Host {
		h.Slots = n
		h.Spec = strconv.Itoa(n) + "/" + h.Spec
		return h
	}
	withConfig := sshHost("ssh -F cfg h", "h", "", 0, []string{"ssh", "-F", "cfg"}, true, nil)
	withConfig.SSHConfigFile = "cfg"
	tests := []struct {
		name string
		spec string
		want []Host
		err  string
	}{
		{name: "port and user", spec: "ssh -p 2222 -l ops node1",
			want: []Host{sshHost("ssh -p 2222 -l ops node1", "node1", "ops", 2222, []string{"ssh", "-p", "2222", "-l", "ops"}, true, nil)}},
		{name: "slots, path, identity, jump with GNU's doubled comma", spec: "4//usr/bin/ssh -i 'my key' -J a,,b -oUser=x -qC u@h",
			want: []Host{withSlots(sshHost("/usr/bin/ssh -i 'my key' -J a,b -oUser=x -qC u@h", "h", "u", 0,
				[]string{"/usr/bin/ssh", "-i", "my key", "-J", "a,b", "-oUser=x", "-qC"}, true,
				[]string{"IdentityFile my key", "ProxyJump a,b", "User x"}), 4)}},
		{name: "-F is the host's config", spec: "ssh -F cfg h", want: []Host{withConfig}},
		{name: "an option the built-in client lacks", spec: "ssh -A -p 22 h",
			want: []Host{sshHost("ssh -A -p 22 h", "h", "", 22, []string{"ssh", "-A", "-p", "22"}, false, nil)}},
		{name: "an -o key the built-in client lacks", spec: "ssh -o Tunnel=yes h",
			want: []Host{sshHost("ssh -o Tunnel=yes h", "h", "", 0, []string{"ssh", "-o", "Tunnel=yes"}, false, []string{"Tunnel yes"})}},
		{name: "another program goes through exec://", spec: "2/myssh -x h",
			want: []Host{{Spec: "2/myssh -x h", Login: "myssh -x h", Slots: 2, Transport: "exec", Command: "myssh -x h /bin/sh"}}},
		{name: "beside a plain login", spec: "a,ssh -p 2 b",
			want: []Host{{Spec: "a", Name: "a"}, sshHost("ssh -p 2 b", "b", "", 2, []string{"ssh", "-p", "2"}, true, nil)}},
		{name: "ranges expand", spec: "ssh -p 2 n[1-2]", want: []Host{
			sshHost("ssh -p 2 n1", "n1", "", 2, []string{"ssh", "-p", "2"}, true, nil),
			sshHost("ssh -p 2 n2", "n2", "", 2, []string{"ssh", "-p", "2"}, true, nil)}},
		{name: "no host", spec: "ssh -p 2222", err: "-p needs a value"},
		{name: "a value missing", spec: "ssh h -p", err: "ends with an option"},
		{name: "a command after the host", spec: "ssh h uptime", err: "before the host"},
		{name: "bad port", spec: "ssh -p x h", err: "bad port"},
		{name: "unknown option", spec: "ssh -Z h", err: "unknown option -Z"},
		{name: "unterminated quote", spec: "ssh -i 'k h", err: "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSSHLogins([]string{tt.spec})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one holding %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
