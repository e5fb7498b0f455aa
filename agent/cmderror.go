package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
)

// notFound reports a command that the PATH search or the file's own path
// did not yield, in bash's words and with its status: 127 for a name
// nothing answers to, 126 for a file that exists but cannot be run.
func notFound(stderr io.Writer, dir string, env expand.Environ, name string) error {
	if !strings.Contains(name, "/") {
		// Bash names a non-executable file it met on the way, with its
		// full path, rather than saying nothing answers to the name.
		if file, ok := nonExecutableInPath(dir, env, name); ok {
			fmt.Fprintf(stderr, "%s: Permission denied\n", file)
			return interp.ExitStatus(126)
		}
		fmt.Fprintf(stderr, "%s: command not found\n", name)
		return interp.ExitStatus(127)
	}
	file := name
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	info, err := os.Stat(file)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "%s: %s\n", name, errnoText(err))
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
			return interp.ExitStatus(127)
		}
		return interp.ExitStatus(126)
	case info.IsDir():
		fmt.Fprintf(stderr, "%s: Is a directory\n", name)
	default:
		fmt.Fprintf(stderr, "%s: Permission denied\n", name)
	}
	return interp.ExitStatus(126)
}

// nonExecutableInPath finds the first regular file called name in $PATH,
// which the search for an executable passed over.
func nonExecutableInPath(dir string, env expand.Environ, name string) (string, bool) {
	for _, elem := range filepath.SplitList(env.Get("PATH").String()) {
		if elem == "" {
			elem = "."
		}
		file := filepath.Join(elem, name)
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		if info, err := os.Stat(file); err == nil && info.Mode().IsRegular() {
			return filepath.Join(elem, name), true
		}
	}
	return "", false
}

// startFailed reports a command that was found but whose exec failed, in
// bash's words: 127 when its #! interpreter is missing, 126 when it could
// not run (not executable, arguments too long).
func startFailed(stderr io.Writer, name string, err error) error {
	if errors.Is(err, syscall.ENOENT) {
		fmt.Fprintf(stderr, "%s: cannot execute: required file not found\n", name)
		return interp.ExitStatus(127)
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, errnoText(err))
	return interp.ExitStatus(126)
}

// errnoText is the C library's text for the errno in err, as shells print
// it ("Permission denied"); Go spells the same texts in lower case.
func errnoText(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
