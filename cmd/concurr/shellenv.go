package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"concurr/agent"
	"concurr/internal/sched"
)

// planShell chooses the external shell, if any, that runs every job's
// command: --shell, else GNU Parallel's PARALLEL_SHELL. The embedded shell
// is the default.
func planShell(o *options, cfg *sched.Config) error {
	shell, from := o.shell, "--shell"
	if shell == "" {
		shell, from = os.Getenv("PARALLEL_SHELL"), "PARALLEL_SHELL"
		if shell == "" {
			return nil
		}
	}
	if err := agent.CheckShell(shell); err != nil {
		return usagef("leave --shell and PARALLEL_SHELL unset to run jobs in the embedded shell", "%s %s: %v", from, shell, err)
	}
	cfg.Shell = shell
	return nil
}

// envNames are the variables that --env sends: each option's names, split
// at commas as GNU Parallel splits them, where _ stands for every name in
// the environment that --record-env did not record.
func envNames(o *options) ([]string, error) {
	var names []string
	all := false
	for _, value := range o.env {
		for name := range strings.SplitSeq(value, ",") {
			switch name {
			case "":
			case "_":
				all = true
			default:
				names = append(names, name)
			}
		}
	}
	if !all {
		return names, nil
	}
	ignored, err := readIgnoredVars()
	if err != nil {
		return nil, err
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		// $_ is the shell's last argument, never a setting.
		if name == "" || name == "_" || ignored[name] {
			continue
		}
		// A function bash exported is sent under its own name, which
		// brings its BASH_FUNC_ variable along.
		if fn, ok := bashFuncName(name); ok {
			name = fn
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// bashFuncName is the function that an exported function's variable
// (BASH_FUNC_name%% or the older BASH_FUNC_name()) carries.
func bashFuncName(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, "BASH_FUNC_")
	if !ok {
		return "", false
	}
	if fn, ok := strings.CutSuffix(rest, "%%"); ok {
		return fn, true
	}
	return strings.CutSuffix(rest, "()")
}

// configDir is GNU Parallel's directory of settings: the first that exists
// of $PARALLEL_HOME, $XDG_CONFIG_HOME/parallel, each of $XDG_CONFIG_DIRS'
// parallel and ~/.parallel, else ~/.parallel.
func configDir() string {
	home := os.Getenv("HOME")
	var dirs []string
	if d := os.Getenv("PARALLEL_HOME"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		dirs = append(dirs, filepath.Join(d, "parallel"))
	}
	for d := range strings.SplitSeq(os.Getenv("XDG_CONFIG_DIRS"), ":") {
		if d != "" {
			dirs = append(dirs, filepath.Join(d, "parallel"))
		}
	}
	dirs = append(dirs, filepath.Join(home, ".parallel"))
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return filepath.Join(home, ".parallel")
}

const ignoredVarsFile = "ignored_vars"

func readIgnoredVars() (map[string]bool, error) {
	path := filepath.Join(configDir(), ignoredVarsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("run 'concurr --record-env' in a clean environment (a fresh login) first", "--env _ needs %s, the names of a clean environment", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--env _: %w", err)
	}
	ignored := map[string]bool{}
	for name := range strings.SplitSeq(string(data), "\n") {
		if name = strings.TrimSuffix(name, "\r"); name != "" {
			ignored[name] = true
		}
	}
	return ignored, nil
}

// recordEnv writes the names of the environment's variables, one a line,
// where --env _ reads the names to leave out, as GNU Parallel's
// --record-env does.
func recordEnv() error {
	dir := configDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--record-env: %w", err)
	}
	var b strings.Builder
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "" {
			b.WriteString(name)
			b.WriteByte('\n')
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ignoredVarsFile), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("--record-env: %w", err)
	}
	return nil
}
