package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"concurr/bench"
)

// rushModule is rush's Go module; it is installed with go install, never
// added to concurr's go.mod.
const rushModule = "github.com/shenwei356/rush@latest"

// setUp finds or installs the peers, builds concurr and the floor, and
// returns the tools' version lines for the table's header.
func (r *runner) setUp(ctx context.Context) [][2]string {
	r.missing = map[string]string{}
	r.parallel = r.findOrApt(ctx, "parallel", "parallel")
	r.xargs = r.findOrApt(ctx, "xargs", "findutils")
	r.rush = r.findOrGoInstall(ctx)
	r.forkfloor = r.build(ctx, "forkfloor", "./bench/cmd/forkfloor")
	r.gotrue = r.build(ctx, "gotrue", "./bench/cmd/gotrue")
	r.cforkfloor = r.buildC(ctx, "C forkfloor", "bench/cforkfloor/forkfloor.c")
	if r.cfg.concurr != "" {
		abs, err := filepath.Abs(r.cfg.concurr)
		if err != nil {
			r.missing["concurr"] = err.Error()
		} else {
			r.concurr = abs
		}
	} else {
		r.concurr = r.build(ctx, "concurr", "./cmd/concurr")
	}
	if r.concurr != "" {
		if err := checkConcurr(ctx, r.concurr); err != nil {
			r.missing["concurr"] = err.Error()
			r.concurr = ""
		}
	}

	version := func(name, path string, argv ...string) [2]string {
		if path == "" {
			return [2]string{name, "not available: " + shorten(r.missing[key(name)])}
		}
		return [2]string{name, bench.VersionLine(append([]string{path}, argv...)...)}
	}
	tools := [][2]string{
		version("concurr", r.concurr, "--version"),
		version("GNU Parallel", r.parallel, "--version"),
		version("rush", r.rush, "--version"),
		version("xargs", r.xargs, "--version"),
	}
	if ssh, err := exec.LookPath("ssh"); err == nil {
		tools = append(tools, [2]string{"ssh", bench.VersionLine(ssh, "-V")})
	}
	for name, why := range r.missing {
		r.logf("%s is not available: %s", name, why)
	}
	return tools
}

// key is the name a tool's label is missing under.
func key(label string) string {
	if label == "GNU Parallel" {
		return "parallel"
	}
	return label
}

// findOrApt looks cmd up on PATH and installs pkg with apt-get when it is
// missing and installing is allowed.
func (r *runner) findOrApt(ctx context.Context, cmd, pkg string) string {
	if p, err := exec.LookPath(cmd); err == nil {
		return p
	}
	if !r.cfg.install {
		r.missing[cmd] = "not installed, and -install=false"
		return ""
	}
	if os.Geteuid() != 0 {
		r.missing[cmd] = "not installed, and installing with apt-get needs root"
		return ""
	}
	r.logf("installing %s with apt-get", pkg)
	install := []string{"apt-get", "install", "-y", "--no-install-recommends", pkg}
	if err := runQuiet(ctx, 5*time.Minute, install...); err != nil {
		// A fresh machine may have no package lists yet.
		if uerr := runQuiet(ctx, 5*time.Minute, "apt-get", "update"); uerr != nil {
			r.missing[cmd] = "apt-get update: " + uerr.Error()
			return ""
		}
		if err := runQuiet(ctx, 5*time.Minute, install...); err != nil {
			r.missing[cmd] = "apt-get install " + pkg + ": " + err.Error()
			return ""
		}
	}
	p, err := exec.LookPath(cmd)
	if err != nil {
		r.missing[cmd] = "installed " + pkg + " but " + err.Error()
		return ""
	}
	return p
}

// findOrGoInstall finds rush on PATH or in the tools folder, or tries once
// to install it from its Go module.
func (r *runner) findOrGoInstall(ctx context.Context) string {
	if p, err := exec.LookPath("rush"); err == nil && isShenweiRush(p) {
		return p
	}
	p := filepath.Join(r.cfg.toolsDir, "rush")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if !r.cfg.install {
		r.missing["rush"] = "not installed, and -install=false"
		return ""
	}
	r.logf("installing %s into %s", rushModule, r.cfg.toolsDir)
	cmd := exec.CommandContext(ctx, "go", "install", rushModule)
	cmd.Env = append(os.Environ(), "GOBIN="+r.cfg.toolsDir)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.missing["rush"] = installFailure(out, err)
		return ""
	}
	return p
}

var proxyRefusal = regexp.MustCompile(`\b(403 Forbidden|404 Not Found|410 Gone)\b`)

// installFailure says briefly why go install failed: the table cell has
// little room, and a refusing module proxy is the usual cause.
func installFailure(out []byte, err error) string {
	if status := proxyRefusal.Find(out); status != nil {
		return fmt.Sprintf("the Go module proxy refused `go install %s` (%s)", rushModule, status)
	}
	return fmt.Sprintf("go install %s failed: %s", rushModule, firstLines(out, err))
}

// isShenweiRush tells rush the parallel runner from GNU Rush, the
// restricted shell Debian packages under the same name.
func isShenweiRush(path string) bool {
	out, _ := exec.Command(path, "--version").CombinedOutput()
	return bytes.Contains(out, []byte("rush v"))
}

// build compiles a package of the module into the work folder.
func (r *runner) build(ctx context.Context, name, pkg string) string {
	out := filepath.Join(r.work, name)
	// Static and without DWARF, as make build does: the binary is also
	// the remote agent.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = r.cfg.moduleDir
	cmd.WaitDelay = time.Second
	if b, err := cmd.CombinedOutput(); err != nil {
		r.missing[name] = "go build " + pkg + " failed: " + firstLines(b, err)
		return ""
	}
	return out
}

// buildC compiles a C program of the module with the system's compiler.
func (r *runner) buildC(ctx context.Context, name, src string) string {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		r.missing[name] = "no C compiler (" + cc + ")"
		return ""
	}
	out := filepath.Join(r.work, filepath.Base(strings.TrimSuffix(src, ".c"))+"-c")
	cmd := exec.CommandContext(ctx, cc, "-O2", "-pthread", "-o", out, src)
	cmd.Dir = r.cfg.moduleDir
	cmd.WaitDelay = time.Second
	if b, err := cmd.CombinedOutput(); err != nil {
		r.missing[name] = cc + " " + src + " failed: " + firstLines(b, err)
		return ""
	}
	return out
}

// checkConcurr makes sure the binary runs the simplest job correctly, so
// that a half-finished build is reported as not run instead of timed.
func checkConcurr(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-k", "echo", ":::", "a", "b").CombinedOutput()
	if err != nil {
		return fmt.Errorf("`concurr -k echo ::: a b` failed: %s", firstLines(out, err))
	}
	if string(out) != "a\nb\n" {
		return fmt.Errorf("`concurr -k echo ::: a b` printed %q, want \"a\\nb\\n\"", out)
	}
	return nil
}

func runQuiet(ctx context.Context, timeout time.Duration, argv ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s", firstLines(out, err))
	}
	return nil
}

// firstLines is the start of a failing command's output, or its error.
func firstLines(out []byte, err error) string {
	s := strings.TrimSpace(string(out))
	if s == "" {
		return err.Error()
	}
	lines := strings.SplitN(s, "\n", 4)
	return strings.Join(lines[:min(3, len(lines))], " / ")
}
