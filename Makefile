# Preboarding: `make demo` renders a video offline; `make test` installs everything and runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the renderer and the tests need (ffmpeg, voices, fonts).
APT_PACKAGES := ffmpeg flite fonts-dejavu-core fonts-inter


.PHONY: help demo test test-unit lint crds testenv testenv-down binaries images system-deps venv clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: system-deps venv ## render examples/new-hire.json into out/demo with the offline providers
	PREBOARDING_SCRIPT_PROVIDER=template PREBOARDING_TTS_PROVIDER=flite \
	  $(VENV)/bin/preboarding render examples/new-hire.json --out out/demo

test: system-deps venv binaries lint ## install everything the tests need, then run the whole suite
	$(VENV)/bin/pytest

test-unit: venv ## the fast inner loop: pure tests only
	$(VENV)/bin/pytest -m unit -q

lint: venv ## ruff over the code and tests, mypy over the code
	$(VENV)/bin/ruff check $(wildcard src operator/src renderer/src webhook-bridge/src tests benchmarks)
	$(VENV)/bin/mypy $(wildcard src operator/src renderer/src webhook-bridge/src)

crds: venv ## regenerate crds/ from the pydantic models
	$(VENV)/bin/preboarding crd --out-dir crds

testenv: system-deps venv binaries ## start (or reuse) the test ground: apiserver, etcd, MinIO, SMTP on 127.0.0.1
	$(VENV)/bin/preboarding testenv up

testenv-down: ## stop everything `make testenv` started
	@if [ -x $(VENV)/bin/preboarding ]; then $(VENV)/bin/preboarding testenv down; fi

binaries: ## build or reuse the cached Kubernetes, etcd, MinIO and helm binaries (~/.cache/preboarding)
	@command -v go >/dev/null || { echo "Go is needed to build the test ground's binaries" >&2; exit 1; }
	bash testenv/build-kube.sh
	bash testenv/build-minio.sh
	PYTHON=$(PY) bash testenv/build-helm.sh >/dev/null

images: ## build the operator and renderer images with buildah (base image made with debootstrap)
	@command -v buildah >/dev/null && command -v debootstrap >/dev/null || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq buildah debootstrap >/dev/null; }
	bash build/images.sh

venv: $(STAMP) ## the Python virtualenv in .venv with every extra installed

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all,test,dev]'
	touch $@

system-deps: ## Debian packages: ffmpeg, flite, fonts (apt-get, only when something is missing)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

clean: testenv-down ## remove build outputs (keeps ~/.cache/preboarding)
	rm -rf out .pytest_cache .ruff_cache .mypy_cache dist
