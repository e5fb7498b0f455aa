# A thin wrapper around the go tool. Every target is one or two go commands
# that can be run by hand; the README names the same targets.
#
# Test tiers:
#   make test   unit tests, CLI scripts and the differential test against GNU
#               Parallel (internal/difftest skips itself when `parallel` is not
#               on PATH, and under -short)
#   make e2e    tests that need real services (a running sshd on loopback).
#               Convention: such tests have E2E or SSHD in their name and skip
#               unless CONCURR_E2E=1 is set; this target sets it.
#   make race   the unit tests again under the race detector (not the difftest)
#
# make test also runs the agent's tests with the nopidfd build tag, which
# sends every command through the os/exec path that darwin and FreeBSD take.

GO        ?= go
BIN       := bin
# make install puts files under $(DESTDIR)$(PREFIX).
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR     = $(DESTDIR)$(PREFIX)/bin
MANDIR     = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR    = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR     = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR    = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
PKG       := ./...
FUZZTIME  ?= 20s
DIST_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
# lint builds the binary for these too.
LINT_PLATFORMS := $(DIST_PLATFORMS) freebsd/amd64

# staticcheck is not a module dependency: use an installed copy of the pinned
# version when there is one, otherwise fetch and run that version.
STATICCHECK_VERSION := 0.8.2
STATICCHECK_INSTALLED := $(HOME)/go/bin/staticcheck
STATICCHECK ?= $(shell $(STATICCHECK_INSTALLED) -version 2>/dev/null | grep -q '(v*$(STATICCHECK_VERSION))' \
	&& echo $(STATICCHECK_INSTALLED) \
	|| echo $(GO) run honnef.co/go/tools/cmd/staticcheck@v$(STATICCHECK_VERSION))

.PHONY: all build test race lint fuzz e2e bench dist clean man install uninstall

all: build

# The binary is also the agent that remote nodes run, so it is built
# static: a cgo build links this machine's C library and does not start on
# a node whose C library is older. It is built without DWARF and symbol
# table (-s -w), which every first contact uploads for nothing: 8 MB
# instead of 11.5, and, since Go compresses DWARF already, 47% of it
# under gzip instead of 59%. Stack traces do not need them.
LDFLAGS   := -s -w
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(BIN)/concurr ./cmd/concurr

test:
	$(GO) test $(PKG)
	$(GO) test -tags nopidfd ./agent/

# The differential test runs concurr and GNU Parallel as black boxes and
# compares their output; under the race detector it only doubles the time
# (six minutes on 2 cores) of what cmd/concurr's own scripts already cover,
# so the race run leaves it out, and has a longer timeout than CI's default.
RACE_PKG  = $(shell $(GO) list ./... | grep -v '/internal/difftest$$')
race:
	$(GO) test -race -timeout=15m $(RACE_PKG)

# Every package is vetted, and the binary built, for every platform in
# LINT_PLATFORMS, so that a platform the agent ships for keeps building; the
# os/exec path that those platforms take is also vetted and checked on Linux
# with -tags nopidfd.
lint:
	$(GO) vet $(PKG)
	$(GO) vet -tags nopidfd ./agent/
	@set -e; for platform in $(LINT_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; \
		echo "== vet and build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) vet $(PKG); \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -o /dev/null ./cmd/concurr; \
	done
	@out=$$(gofmt -s -l .); if [ -n "$$out" ]; then \
		echo "gofmt -s: these files need formatting:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) $(PKG)
	$(STATICCHECK) -tags nopidfd ./agent/

# Runs every fuzz target of every package for FUZZTIME each (make fuzz FUZZTIME=2m).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKG)); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

e2e:
	CONCURR_E2E=1 $(GO) test -count=1 -run 'E2E|SSHD' $(PKG)

# bench compares concurr with GNU Parallel, rush, xargs and the fork/exec,
# ssh and x/crypto/ssh floors (installing missing peers), and writes the
# table to BENCHMARKS.md; bench-go runs the Go micro-benchmarks.
# BENCHFLAGS passes benchrun flags: make bench BENCHFLAGS='-quick -only local'
.PHONY: bench-go
bench: bench-go
	$(GO) run ./bench/cmd/benchrun -out BENCHMARKS.md $(BENCHFLAGS)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem $(PKG)

dist:
	@set -e; for platform in $(DIST_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; \
		echo "== $(BIN)/concurr-$$os-$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags='$(LDFLAGS)' \
			-o $(BIN)/concurr-$$os-$$arch ./cmd/concurr; \
	done

# man writes the man page (and the shell completions) from the option
# table in cmd/concurr/flags.go; the files are committed, and a test in
# cmd/concurr fails when they are out of date.
man:
	$(GO) run ./tools/gendocs

# install puts the static binary, the man page and the completions under
# PREFIX (make install PREFIX=$$HOME/.local). Binaries for other platforms
# that make dist built go beside it, where concurr looks for the one a
# node of that platform needs.
install: build
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 755 $(BIN)/concurr $(BINDIR)/concurr
	@set -e; for f in $(wildcard $(BIN)/concurr-*-*); do \
		echo "install -m 755 $$f $(BINDIR)/"; install -m 755 $$f $(BINDIR)/; done
	install -m 644 docs/concurr.1 $(MANDIR)/concurr.1
	install -m 644 docs/completions/concurr.bash $(BASHDIR)/concurr
	install -m 644 docs/completions/_concurr $(ZSHDIR)/_concurr
	install -m 644 docs/completions/concurr.fish $(FISHDIR)/concurr.fish

uninstall:
	rm -f $(BINDIR)/concurr $(BINDIR)/concurr-*-* $(MANDIR)/concurr.1 \
		$(BASHDIR)/concurr $(ZSHDIR)/_concurr $(FISHDIR)/concurr.fish

clean:
	rm -rf $(BIN)
