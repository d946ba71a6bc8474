# airnef-mount: see README.md. `make demo` and `make test` install what they lack.
GO       ?= go
BIN      := $(CURDIR)/bin
PKGS     := fuse3 gphoto2 gphotofs tshark tcpdump rsync fio gupnp-tools gir1.2-gssdp-1.6 python3-gi iproute2 util-linux
FUZZTIME ?= 30s
export GOFLAGS ?= -buildvcs=false

.PHONY: all deps build test demo fuzz bench clean

all: build

# deps installs the Debian packages the tests and the demo use, only those
# missing, non-interactively (tshark would otherwise ask a debconf question).
deps:
	@scripts/deps.sh $(PKGS)
	@$(GO) mod download

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

test: deps build
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

demo: deps build
	@scripts/demo.sh

# fuzz runs every fuzz target for FUZZTIME each (make test runs their seeds).
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN)
