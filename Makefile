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


.PHONY: help demo test test-unit lint crds testenv testenv-down binaries images system-deps venv clean e2e node-deps browser-deps

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: system-deps venv ## render examples/new-hire.json into out/demo with the offline providers
	PREBOARDING_SCRIPT_PROVIDER=template PREBOARDING_TTS_PROVIDER=flite \
	  $(VENV)/bin/preboarding render examples/new-hire.json --out out/demo

test: system-deps node-deps browser-deps venv binaries lint ## install everything the tests need, then run the whole suite
	PREBOARDING_REQUIRE_BROWSER=1 $(VENV)/bin/pytest --ignore=tests/e2e
	PREBOARDING_E2E=1 $(VENV)/bin/pytest tests/e2e -s

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

e2e: system-deps node-deps venv binaries ## the chart on a real node: images (cached), node ground, helm install, one new hire end to end
	PREBOARDING_E2E=1 $(VENV)/bin/pytest tests/e2e -s

browser-deps: ## Debian's chromium for the browser tests (Playwright drives it; no browser download)
	$(call apt-install,chromium)

node-deps: ## Debian packages of the test node: containerd, runc, CNI plugins, buildah, debootstrap, gcc
	$(call apt-install,$(NODE_APT_PACKAGES))

clean: testenv-down ## remove build outputs (keeps ~/.cache/preboarding)
	rm -rf out .pytest_cache .ruff_cache .mypy_cache dist
