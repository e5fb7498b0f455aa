package sshx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"concurr/parse"
)

// startCommand reaches the node with the system's ssh client: the given
// command, then -T, the login and the bootstrap script. ssh runs in its own
// process group, which Close kills.
func startCommand(ctx context.Context, name string, h parse.Host, own *build, opts *Options) (*Node, error) {
	args := append([]string(nil), opts.SSHCommand[1:]...)
	args = append(args, "-T")
	if h.User != "" {
		args = append(args, "-l", h.User)
	}
	if h.Port != 0 {
		args = append(args, "-p", strconv.Itoa(h.Port))
	}
	if opts.ConnectTimeout > 0 {
		args = append(args, "-o", "ConnectTimeout="+strconv.Itoa(int((opts.ConnectTimeout+time.Second-1)/time.Second)))
	}
	nonce := newNonce()
	args = append(args, "--", h.Name, remoteCommand(bootstrapScript(nonce, own)))
	cmd := exec.Command(opts.SSHCommand[0], args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := newTailBuffer(8<<10, opts.Stderr)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// A pipe of our own rather than StdoutPipe: Wait closes that one as
	// soon as ssh exits, losing what the agent wrote last.
	stdoutPipe, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		stdoutPipe.Close()
		return nil, fmt.Errorf("run %s: %w", opts.SSHCommand[0], err)
	}
	kill := func(sig syscall.Signal) { syscall.Kill(-cmd.Process.Pid, sig) }
	exited := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cmd.Wait()
		close(exited)
	}()
	stop := context.AfterFunc(ctx, func() { kill(syscall.SIGKILL) })
	defer stop()

	stdout := bufio.NewReaderSize(stdoutPipe, 64<<10)
	b, cached, err := bootstrap(ctx, name, nonce, own, stdin, stdout, opts)
	if err != nil {
		stdin.Close()
		if !waitFor(exited, 500*time.Millisecond) {
			kill(syscall.SIGKILL)
		}
		wg.Wait()
		stdoutPipe.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		var sf *startFailure
		if errors.As(err, &sf) {
			err = sf.explain(stderr)
		}
		return nil, err
	}
	n := &Node{Name: name, Stdin: stdin, Stdout: stdout, Platform: b.goos + "/" + b.goarch, Cached: cached, stderr: stderr}
	n.close = func() error {
		stdin.Close()
		if !waitFor(exited, 2*time.Second) {
			kill(syscall.SIGTERM)
			if !waitFor(exited, time.Second) {
				kill(syscall.SIGKILL)
			}
		}
		wg.Wait()
		stdoutPipe.Close()
		return nil
	}
	return n, nil
}
