# podrun's build, demo and tests. `make demo` and `make test` do all set-up
# on a fresh Debian machine (as root, or with sudo for the parts that need it).

GO        ?= go
BIN       := bin/podrun
DEMO_TAR  := bin/busybox-demo.tar
PKGS      := runc containernetworking-plugins iptables busybox-static skopeo iproute2 util-linux docker-registry apache2-utils podman \
             gcc pkg-config libseccomp-dev mmdebstrap catatonit dnsutils uidmap slirp4netns
# podrun's own runc, built from its Go module at a pinned version that has
# every known fix (Debian 12's runc 1.1.5 has not), and used by default.
RUNC_VERSION := 1.5.3
RUNC         := /usr/local/lib/podrun/runc
# A Debian root file system made by mmdebstrap from Debian's own mirror
# (the apt sources of this machine), as users build images with it; the
# image tests import it with podman. Made once, at `make deps`, never by a
# test: tests reach nothing but 127.0.0.1.
DEBIAN_ROOTFS := /var/cache/podrun/debian-bookworm-essential.tar
SUDO      := $(if $(filter 0,$(shell id -u)),,sudo)
PODRUN    := $(SUDO) ./$(BIN)
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

export CGO_ENABLED := 0

.PHONY: all build deps packages runc debian-rootfs demo-image demo test unit bench vet fmt clean

all: build

build:
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/podrun

# deps installs what podrun and its tests run: from Debian, the CNI
# plugins, iptables, busybox-static for the demo image, skopeo and podman,
# which the tests use to write and read archives, docker-registry with
# apache2-utils' htpasswd, the registry (on 127.0.0.1 only) that the pull
# tests and benchmarks push to and pull from, Debian's own runc (the tests
# show that podrun keeps even it from writing on the host), and what
# building runc with seccomp needs, and mmdebstrap; then podrun's own
# runc and the Debian root file system.
deps: packages runc debian-rootfs

packages:
	@missing=""; \
	for p in $(PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# runc builds runc $(RUNC_VERSION) from its Go module (through the module
# proxy, with cgo and libseccomp for seccomp filters) into $(RUNC), where
# podrun looks first. A runc of that version already there is kept, so a
# second `make deps` costs nothing.
runc: packages
	@if $(RUNC) --version 2>/dev/null | grep -qx 'runc version $(RUNC_VERSION)'; then exit 0; fi; \
	echo "building runc $(RUNC_VERSION) into $(RUNC)"; \
	tmp=$$(mktemp -d) && \
	GOBIN=$$tmp CGO_ENABLED=1 $(GO) install -trimpath -tags seccomp github.com/opencontainers/runc@v$(RUNC_VERSION) && \
	$(SUDO) install -D -m 0755 $$tmp/runc $(RUNC); \
	rc=$$?; rm -rf $$tmp; exit $$rc

# debian-rootfs makes $(DEBIAN_ROOTFS) (about 140 MB, half a minute) if
# it is missing; a second `make deps` costs nothing.
debian-rootfs: packages
	@if [ -s $(DEBIAN_ROOTFS) ]; then exit 0; fi; \
	echo "making a Debian root file system into $(DEBIAN_ROOTFS)"; \
	$(SUDO) mkdir -p $(dir $(DEBIAN_ROOTFS)) && \
	$(SUDO) mmdebstrap --quiet --format=tar --variant=essential --mode=root bookworm $(DEBIAN_ROOTFS).tmp && \
	$(SUDO) mv $(DEBIAN_ROOTFS).tmp $(DEBIAN_ROOTFS)

demo-image: $(DEMO_TAR)

$(DEMO_TAR): internal/demoimage/*.go cmd/mkimage/*.go
	@mkdir -p bin
	$(GO) run ./cmd/mkimage -busybox /usr/bin/busybox -o $@

# demo runs examples/hello: a web server published on hostPort 8080 and a
# client beside it, fetches the page from the host, shows the pod and its
# logs, and deletes it.
demo: deps build demo-image
	$(PODRUN) image load -i $(DEMO_TAR)
	$(PODRUN) apply -f examples/hello
	$(PODRUN) get pods -o wide
	@echo "--- curl http://127.0.0.1:8080/"
	@for i in 1 2 3 4 5 6 7 8 9 10; do busybox wget -q -O - http://127.0.0.1:8080/ && break; sleep 0.5; done
	@sleep 1
	@echo "--- podrun logs hello -c client"
	$(PODRUN) logs hello -c client
	$(PODRUN) delete -f examples/hello

# test runs every test. The integration tests need root, runc and the CNI
# plugins; they skip without them, except under CI=true, where they fail.
test: deps vet
	$(SUDO) env "PATH=$$PATH" CI=$(CI) $(GO) test -count=1 -timeout 25m ./...

unit:
	$(GO) test -short ./kube/... ./translate/...

# bench reports, each as a ratio in one run: pod start against bare runc,
# image load against tar -x of the same layers, image pull from a local
# registry against skopeo copy of the same image, apply and delete of
# 20 pods against one (-args -podrun.bench-pods=100 for more), a DNS
# lookup from a pod against one of a bare loopback server, and a
# connection through a Service's ClusterIP against one to the pod's address.
bench: deps
	$(SUDO) env "PATH=$$PATH" $(GO) test -run '^$$' -bench . -benchtime 10x ./cmd/podrun/
	$(SUDO) env "PATH=$$PATH" $(GO) test -run '^$$' -bench Connect -benchtime 1000x ./runner/proxy/

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

clean:
	rm -rf bin
