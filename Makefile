# emoface: two commands do all set-up on a fresh Debian machine.
#   make demo   install what is missing, then animate the bundled demo sentences
#   make test   install what is missing, then run the test suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS := dev,render,export,model,capture,cluster,speech,text,live
TORCH := torch==2.13.0
# Re-install when pyproject.toml changes; otherwise the venv step does nothing.
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml 2>/dev/null | cut -c1-12)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := espeak-ng libespeak-ng1 flite chromium libportaudio2

VALIDATOR := tools/gltf-validator
VALIDATOR_STAMP := $(VALIDATOR)/node_modules/.package-lock.json

.PHONY: demo test sysdeps venv validator viewer corpus corpus-realmotion model voice-emotion text-branch clean

demo: venv viewer
	$(PY) -m emoface demo --out out/demo

test: venv validator viewer
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
	@# torch first, on its own: the CPU build from the local wheel, before anything can ask
	@# for another (never torchaudio: its wheel here is CUDA-only and breaks transformers).
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-*; touch $@

# Training corpus in corpus/ (git-ignored): LibriVox, Asterisk and EmoDB from ../shared/data
# plus 3 h of espeak-ng and 2 h of Flite emotional speech. A rerun does only what is missing.
corpus: venv
	$(PY) -m emoface data build default --out corpus --tts-hours 3 --flite-hours 2
	$(PY) -m emoface data stats corpus

# The real-motion corpus in corpus-realmotion/ (git-ignored): GRID talker s1's videos with
# the lips captured from them (their first 200 by name; the last 100 are the benchmark's
# held-out sentences and are never built) beside a small teacher corpus. About 12 min here.
corpus-realmotion: venv
	$(PY) -m emoface data build default --out corpus-realmotion --tts-hours 0.2 --flite-hours 0.35
	$(PY) -m emoface data build video ../shared/data/video/grid-s1 --out corpus-realmotion

# The bundled model: the animation network, the voice emotion branch, a fine-tune of the
# animation network, a fine-tune on captured real lips, then the float16 copy in
# emoface/assets/model.safetensors (see docs/model.md). Resumable (runs/ is git-ignored).
model: corpus corpus-realmotion
	$(PY) -m emoface train configs/model.toml --out runs/model --resume
	$(PY) -m emoface train configs/emotion.toml --out runs/emotion --resume
	$(PY) -m emoface train configs/finetune.toml --out runs/finetune --resume
	$(PY) -m emoface train configs/realmotion.toml --out runs/realmotion --resume --bundle

# The voice emotion classifier on Whisper features (emoface/assets/voice_emotion_whisper.json),
# from EmoDB and LibriSpeech in ../shared/data: nested leave-one-speaker-out, then the shipped
# fit and its calibration (docs/model.md). About 10 min here; features cached in ~/.cache.
voice-emotion: venv
	$(PY) tools/voice_emotion_whisper.py --config configs/voice_emotion_whisper.toml \
	    --bundle emoface/assets/voice_emotion_whisper.json

# The neural engine's text branch (emoface/assets/text_branch.safetensors) from the
# text-aware teacher's word cues on espeak-ng and Cathy clips (docs/text.md). About 25 min
# here; clips cached in ~/.cache/emoface/text_branch, a stopped build goes on.
text-branch: venv
	$(PY) tools/train_text_branch.py

# The Khronos glTF validator (npm) that the GLB tests run on every exported file.
validator: $(VALIDATOR_STAMP)
$(VALIDATOR_STAMP): $(VALIDATOR)/package.json $(VALIDATOR)/package-lock.json
	@if command -v npm >/dev/null; then cd $(VALIDATOR) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: GLB validation tests will be skipped (install nodejs)"; fi

# three.js for the browser viewer (`emoface serve`): the pinned npm package, and the module
# files the page imports copied into the package (emoface/stream/viewer/vendor/, git-ignored,
# shipped as package data), so the installed package serves the page with no CDN.
VIEWER_NPM := tools/viewer
VIEWER_VENDOR := emoface/stream/viewer/vendor
THREE := $(VIEWER_NPM)/node_modules/three
viewer: $(VIEWER_VENDOR)/three.module.js
$(VIEWER_VENDOR)/three.module.js: $(VIEWER_NPM)/package.json $(VIEWER_NPM)/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd $(VIEWER_NPM) && npm ci --no-audit --no-fund --loglevel=error) && \
	  mkdir -p $(VIEWER_VENDOR)/addons/loaders $(VIEWER_VENDOR)/addons/utils && \
	  cp $(THREE)/LICENSE $(VIEWER_VENDOR)/LICENSE && \
	  cp $(THREE)/build/three.core.js $(VIEWER_VENDOR)/ && \
	  cp $(THREE)/examples/jsm/loaders/GLTFLoader.js $(VIEWER_VENDOR)/addons/loaders/ && \
	  cp $(THREE)/examples/jsm/utils/BufferGeometryUtils.js $(THREE)/examples/jsm/utils/SkeletonUtils.js \
	     $(VIEWER_VENDOR)/addons/utils/ && \
	  cp $(THREE)/build/three.module.js $(VIEWER_VENDOR)/; \
	else echo "npm not found: the viewer page cannot load three.js (install nodejs)"; fi

clean:
	rm -rf $(VENV) out .pytest_cache
