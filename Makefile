# emoface: two commands do all set-up on a fresh Debian machine.
#   make demo   install what is missing, then animate the bundled demo sentences
#   make test   install what is missing, then run the test suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS := dev,render,export
# Re-install when pyproject.toml changes; otherwise the venv step does nothing.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml 2>/dev/null | cut -c1-12)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := espeak-ng libespeak-ng1

VALIDATOR := tools/gltf-validator
VALIDATOR_STAMP := $(VALIDATOR)/node_modules/.package-lock.json

.PHONY: demo test sysdeps venv validator clean

demo: venv
	$(PY) -m emoface demo --out out/demo

test: venv validator
	$(PY) -m pytest

venv: sysdeps $(STAMP)

sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-*; touch $@

# The Khronos glTF validator (npm) that the GLB tests run on every exported file.
validator: $(VALIDATOR_STAMP)
$(VALIDATOR_STAMP): $(VALIDATOR)/package.json $(VALIDATOR)/package-lock.json
	@if command -v npm >/dev/null; then cd $(VALIDATOR) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: GLB validation tests will be skipped (install nodejs)"; fi

clean:
	rm -rf $(VENV) out .pytest_cache
