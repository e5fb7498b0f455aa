package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// standIns are stand-in docker, podman and kubectl commands: no container
// engine runs where the tests do, so these log how concurr called them to
// $STANDIN_LOG and exec the command they were given here, as the real ones
// would inside the container. A container or pod named "missing" does not
// exist. Jobs see the target they ran in as $STANDIN_TARGET.
var standIns = map[string]string{
	"docker": containerStandIn,
	"podman": containerStandIn,
	"kubectl": `#!/bin/sh
echo "kubectl $*" >> "$STANDIN_LOG"
[ "$1" = exec ] && [ "$2" = -i ] || { echo "stand-in kubectl: want exec -i" >&2; exit 2; }
shift 2
target=
while [ $# -gt 0 ]; do
	case "$1" in
	--) shift; break;;
	--namespace=*|--container=*) target="$target${1#--*=}/";;
	-*) echo "stand-in kubectl: unexpected $1" >&2; exit 2;;
	*) pod=$1;;
	esac
	shift
done
[ "$pod" = missing ] && { echo "Error from server (NotFound): pods \"$pod\" not found" >&2; exit 1; }
STANDIN_TARGET="$target$pod" exec "$@"
`,
}

const containerStandIn = `#!/bin/sh
echo "${0##*/} $*" >> "$STANDIN_LOG"
[ "$1" = exec ] && [ "$2" = -i ] || { echo "stand-in: want exec -i" >&2; exit 2; }
[ "$3" = missing ] && { echo "Error response from daemon: No such container: $3" >&2; exit 1; }
name=$3
shift 3
STANDIN_TARGET=$name exec "$@"
`

// TestTransportScripts runs the scripts in the top-level testdata/transport,
// which reach "containers" through the stand-ins above, first on PATH, and
// nodes through exec://. $CONCURR_ONLY is a PATH with concurr and nothing
// else, for a transport's command that is missing.
func TestTransportScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "../../testdata/transport",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			bin := filepath.Join(env.WorkDir, ".standins")
			if err := os.Mkdir(bin, 0o755); err != nil {
				return err
			}
			for name, script := range standIns {
				if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
					return err
				}
			}
			path := env.Getenv("PATH")
			testBin, _, _ := strings.Cut(path, string(os.PathListSeparator))
			env.Setenv("CONCURR_ONLY", testBin)
			env.Setenv("PATH", bin+string(os.PathListSeparator)+path)
			env.Setenv("STANDIN_LOG", filepath.Join(env.WorkDir, "argv.log"))
			return nil
		},
	})
}
