# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Offline machines (this project's CI among them) point NST_WEIGHTS at a local VGG19 weights
# file; the shared one beside the checkout is used when present. Without it Keras downloads
# the ImageNet weights once.
NST_WEIGHTS ?= $(wildcard $(abspath ../shared/weights/vgg19_notop_q8.h5))
ifneq ($(NST_WEIGHTS),)
export NST_WEIGHTS
endif

.PHONY: demo test check lint benchmark clean

# The browser tests drive a Chromium (Playwright's own download is not used): NST_CHROMIUM, else
# Debian's, which `make test` installs when it is missing (through sudo unless root).
NST_CHROMIUM ?= /usr/bin/chromium
export NST_CHROMIUM
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The core tests also run on PyTorch: its CPU build, pinned because a plain `torch` from PyPI is
# the CUDA build (several GB); 2.13.0's CPU wheel is on the disk of this project's CI machines.
TORCH_FOR_TESTS ?= torch==2.13.0

# pip compiles every module of TensorFlow, JAX and PyTorch to bytecode one at a time (half the
# install's 84 s here): compileall does it on every CPU, 63 s in all. Files written for a newer
# Python than this one are left, as pip leaves them.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[test]' '$(TORCH_FOR_TESTS)'
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib > /dev/null || true
	touch $@

demo: $(INSTALLED)
	$(BIN)/nst examples/cat.jpg examples/starry-night.jpg -o demo.png --size 256 --report demo.json --overwrite

# The whole suite on TensorFlow (the default backend), then the core tests on JAX and PyTorch, each
# in TEST_PROCESSES processes (pytest-xdist; a file's tests in one, the Ray tests in one; each
# process with its share of the threads, tests/conftest.py).
TEST_PROCESSES ?= 2
PARALLEL := -n $(TEST_PROCESSES) --dist loadgroup
test: $(INSTALLED) lint $(NST_CHROMIUM)
	$(BIN)/python -m pytest $(PARALLEL)
	KERAS_BACKEND=jax $(BIN)/python -m pytest -m core $(PARALLEL)
	KERAS_BACKEND=torch $(BIN)/python -m pytest -m core $(PARALLEL)

# The fast tier while working (seconds): ruff, the import contracts and the unit tests in tests/unit
# (options, the command's refusals, memory plans, tiling, inputs, jobs, the web app on a fake run,
# measures), which load no Keras, Ray or browser.
check: $(INSTALLED) lint
	$(BIN)/python -m pytest tests/unit -q

$(NST_CHROMIUM):
	@if [ "$@" = /usr/bin/chromium ] && command -v apt-get >/dev/null; then \
		echo "make: installing Debian's Chromium for the browser tests"; \
		$(SUDO) apt-get update -q </dev/null && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium </dev/null; fi; true
	@test -x $@ || { echo "make: no Chromium at $@: install Chromium, or set NST_CHROMIUM=/path/to/chromium" >&2; exit 1; }

# Ruff, and the import contracts between the package's layers (pyproject.toml, docs/method.md).
lint: $(INSTALLED)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/lint-imports

benchmark: $(INSTALLED)
	$(BIN)/python benchmarks/step_cost.py

clean:
	rm -rf $(VENV) demo.png demo.json
