package main

import (
	"flag"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("u", false, "update testscript output files")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"concurr": main,
	})
}

// TestScripts runs the CLI behaviour scripts in the top-level testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "../../testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			// Jobs must not see the developer's own settings.
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
	})
}
