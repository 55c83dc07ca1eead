# Preboarding: `make demo` renders a video offline; `make test` installs everything and runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the renderer and the tests need (ffmpeg, voices, fonts).
APT_PACKAGES := ffmpeg flite fonts-dejavu-core fonts-inter
# Debian packages of the test ground's node and the image build (make node-deps; NODE=1; make e2e).
NODE_APT_PACKAGES := containerd runc containernetworking-plugins buildah debootstrap gcc libc6-dev
# The browser tests (tests/browser): Debian's chromium, driven by the `playwright` wheel of the test extra, which is
# pinned to the release built for the same Chromium major (its own browser download is never used), and axe-core.
BROWSER_APT_PACKAGES := chromium fonts-dejavu-core
AXE_CORE_VERSION := 4.14.1
AXE_CORE_INTEGRITY := sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_CORE_DIR := $(or $(PREBOARDING_CACHE),$(HOME)/.cache/preboarding)/axe-core-$(AXE_CORE_VERSION)
# `make testenv NODE=1` adds a real node: kube-scheduler, containerd + runc, a kubelet, our images imported.
NODE ?=

# $(call apt-install,PACKAGES): apt-get install the packages that are missing (sudo when not root).
define apt-install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef


.PHONY: help demo test test-unit lint crds testenv testenv-down binaries images system-deps venv clean e2e node-deps browser-deps axe-core

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: system-deps venv ## render examples/new-hire.json into out/demo with the offline providers
	PREBOARDING_SCRIPT_PROVIDER=template PREBOARDING_TTS_PROVIDER=flite \
	  $(VENV)/bin/preboarding render examples/new-hire.json --out out/demo

test: system-deps node-deps browser-deps venv binaries lint ## install everything the tests need, then run the whole suite
	PREBOARDING_REQUIRE_BROWSER=1 $(VENV)/bin/pytest --ignore=tests/e2e
	PREBOARDING_REQUIRE_BROWSER=1 PREBOARDING_E2E=1 $(VENV)/bin/pytest tests/e2e -s

test-unit: venv ## the fast inner loop: pure tests only
	$(VENV)/bin/pytest -m unit -q

lint: venv ## ruff over the code and tests, mypy over the code
	$(VENV)/bin/ruff check $(wildcard src operator/src renderer/src webhook-bridge/src testenv/src tests benchmarks)
	$(VENV)/bin/mypy $(wildcard src operator/src renderer/src webhook-bridge/src testenv/src)

crds: venv ## regenerate crds/ (and the chart's copy) from the pydantic models
	$(VENV)/bin/preboarding crd --out-dir crds
	cp crds/*.yaml charts/preboarding/files/crds/

testenv: system-deps venv binaries $(if $(filter 1,$(NODE)),node-deps) ## start (or reuse) the test ground: apiserver, etcd, MinIO, SMTP on 127.0.0.1 (NODE=1: and a node)
	$(VENV)/bin/preboarding-testenv up $(if $(filter 1,$(NODE)),--node)

testenv-down: ## stop everything `make testenv` started
	@if [ -x $(VENV)/bin/preboarding-testenv ]; then $(VENV)/bin/preboarding-testenv down; fi

binaries: ## build or reuse the cached Kubernetes, etcd, MinIO and helm binaries (~/.cache/preboarding)
	@command -v go >/dev/null || { echo "Go is needed to build the test ground's binaries" >&2; exit 1; }
	bash testenv/build-kube.sh
	bash testenv/build-minio.sh
	PYTHON=$(PY) bash testenv/build-helm.sh >/dev/null

images: node-deps ## build the operator and renderer images with buildah (base image made with debootstrap)
	bash build/images.sh

venv: $(STAMP) ## the Python virtualenv in .venv with every extra and the test ground (testenv/) installed

# The test ground is a separate, test-only distribution (testenv/pyproject.toml): installed here, never shipped.
$(STAMP): pyproject.toml testenv/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,test,dev]' -e ./testenv
	touch $@

system-deps: ## Debian packages: ffmpeg, flite, fonts (apt-get, only when something is missing)
	$(call apt-install,$(APT_PACKAGES))

e2e: system-deps node-deps browser-deps venv binaries ## the chart on a real node: images (cached), node ground, helm install, one new hire end to end
	PREBOARDING_REQUIRE_BROWSER=1 PREBOARDING_E2E=1 $(VENV)/bin/pytest tests/e2e -s

browser-deps: axe-core ## the browser tests' Debian chromium and fonts (no browser download) and axe-core
	$(call apt-install,$(BROWSER_APT_PACKAGES))

axe-core: $(AXE_CORE_DIR)/axe.min.js ## the accessibility checker for the browser tests, cached in ~/.cache/preboarding

# npm pack fetches the registry's tarball (npm checks it against the registry's integrity; we check it against the pin).
$(AXE_CORE_DIR)/axe.min.js:
	@command -v npm >/dev/null || { echo "npm is needed to fetch axe-core $(AXE_CORE_VERSION)" >&2; exit 1; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	npm pack --silent --json --pack-destination "$$tmp" axe-core@$(AXE_CORE_VERSION) >"$$tmp/pack.json"; \
	integrity=$$(node -p 'require(process.argv[1])[0].integrity' "$$tmp/pack.json"); \
	[ "$$integrity" = "$(AXE_CORE_INTEGRITY)" ] || { \
	  echo "axe-core $(AXE_CORE_VERSION): the tarball's integrity $$integrity is not the pinned one" >&2; exit 1; }; \
	tar -xzf "$$tmp/axe-core-$(AXE_CORE_VERSION).tgz" -C "$$tmp"; \
	mkdir -p "$(AXE_CORE_DIR)"; \
	cp "$$tmp/package/package.json" "$$tmp/package/LICENSE" "$(AXE_CORE_DIR)/"; \
	cp "$$tmp/package/axe.min.js" "$@.part" && mv "$@.part" "$@"; \
	echo "axe-core $(AXE_CORE_VERSION) in $(AXE_CORE_DIR)"

node-deps: ## Debian packages of the test node: containerd, runc, CNI plugins, buildah, debootstrap, gcc
	$(call apt-install,$(NODE_APT_PACKAGES))

clean: testenv-down ## remove build outputs (keeps ~/.cache/preboarding)
	rm -rf out .pytest_cache .ruff_cache .mypy_cache dist
