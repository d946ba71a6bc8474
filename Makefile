# airnef-mount: see README.md. `make demo` and `make test` install what they lack.
GO       ?= go
BIN      := $(CURDIR)/bin
PKGS     := fuse3 gphoto2 gphotofs tshark tcpdump rsync fio gupnp-tools gir1.2-gssdp-1.6 python3-gi iproute2 util-linux \
            groff-base man-db systemd libglib2.0-bin dbus-daemon passwd libimage-exiftool-perl python3-pil
FUZZTIME ?= 30s
# Go's own VCS stamping is off (it fails in checkouts owned by another user
# and in trees without .git); the version and commit are stamped from git
# here instead, and `go install` from a checkout still records vcs.revision.
export GOFLAGS ?= -buildvcs=false
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# make install: PREFIX and DESTDIR as usual.
PREFIX   ?= /usr/local
DESTDIR  ?=

.PHONY: all deps build test demo fuzz bench clean install uninstall man generate

all: build

# deps installs the Debian packages the tests and the demo use, only those
# missing, non-interactively (tshark would otherwise ask a debconf question).
deps:
	@scripts/deps.sh $(PKGS)
	@$(GO) mod download

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# install puts exactly the program, its man page and the user service under
# $(DESTDIR)$(PREFIX); the simulator is not installed. The unit's ExecStart
# is the installed program.
INSTALLED := bin/airnef-mount share/man/man1/airnef-mount.1 lib/systemd/user/airnef-mount.service
install:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/airnef-mount ./cmd/airnef-mount
	install -D -m 0755 $(BIN)/airnef-mount $(DESTDIR)$(PREFIX)/bin/airnef-mount
	install -D -m 0644 docs/airnef-mount.1 $(DESTDIR)$(PREFIX)/share/man/man1/airnef-mount.1
	@mkdir -p $(DESTDIR)$(PREFIX)/lib/systemd/user
	sed 's|/usr/local/bin/airnef-mount|$(PREFIX)/bin/airnef-mount|' dist/airnef-mount.service > $(DESTDIR)$(PREFIX)/lib/systemd/user/airnef-mount.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/user/airnef-mount.service

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))

# man checks that the man page renders without a warning.
man:
	@out=$$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z docs/airnef-mount.1 2>&1); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

test: deps build
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

demo: deps build
	@scripts/demo.sh

# generate rewrites the generated code-name tables (*_string.go, by
# internal/codenames); a test in internal/codenames fails when they are stale.
generate:
	$(GO) generate ./...

# fuzz runs every fuzz target for FUZZTIME each (make test runs their seeds).
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

# bench runs the benchmark of issue 8 (cmd/airnef-bench, built by build)
# against gphoto2, gphotofs and the link model, and writes docs/benchmarks.md
# and its chart: about 20 minutes, or a couple with BENCH=quick. Not in CI;
# needs root (FUSE).
BENCH ?= full
bench: deps build
	$(BIN)/airnef-bench -mode $(BENCH) -bin $(BIN) -out docs/benchmarks.md -chart docs/benchmarks.svg

clean:
	rm -rf $(BIN)
