package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"concurr/internal/sshtest"
)

// TestRemoteScripts runs the scripts in the top-level testdata/remote
// against two in-process SSH servers on loopback, so remote runs are tested
// wherever the tests run, sshd or not. The scripts reach the servers as the hosts
// node1 and node2 (and node1b, a second alias of the first server) through
// the ssh_config in $SSH_CONFIG; the nodes' HOME is $NODE1_HOME and
// $NODE2_HOME. The host fresh, with HOME $FRESH_HOME, is for one script
// only, which watches its agent cache.
func TestRemoteScripts(t *testing.T) {
	keys := sshtest.NewKeys(t)
	s1 := sshtest.StartServerWithKeys(t, keys)
	s2 := sshtest.StartServerWithKeys(t, keys)
	s3 := sshtest.StartServerWithKeys(t, keys) // for the cache script alone
	config := filepath.Join(keys.Dir, ".ssh", "config")
	blocks := s1.ConfigBlock("node1") + s1.ConfigBlock("node1b") + s2.ConfigBlock("node2") + s3.ConfigBlock("fresh") +
		"Host unreachable\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(sshtest.ClosedPort(t)) + "\n  ConnectTimeout 2\n"
	if err := os.WriteFile(config, []byte(blocks), 0o600); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "../../testdata/remote",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", keys.Dir)
			env.Setenv("SSH_CONFIG", config)
			env.Setenv("NODE1_HOME", s1.Home)
			env.Setenv("NODE2_HOME", s2.Home)
			env.Setenv("FRESH_HOME", s3.Home)
			return nil
		},
	})
}
