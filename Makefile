# The course's commands. Each creates .venv and installs on first use, then is quick.
#   make course    execute every notebook fresh (copies under build/) and render HTML
#   make test      unit tests, then nbval over every notebook (on the CPU)
#   make lab       JupyterLab on the notebooks
#   make refresh   re-execute the committed notebooks in place (maintainers)
#   make bench     the benchmark (device-dependent; writes under build/bench)
#   make experiments  the full digits sweep of notebook 07 (writes under build/experiments)
#   make test-gpu  GPU-only tests, and every notebook executed on the GPU, not compared

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= test
STAMP := $(VENV)/.installed-$(EXTRAS)
# Errors only from TensorFlow's C++ core (it is also silenced in the package itself).
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
         --nbval-cell-timeout 600

.PHONY: install install-gpu course test test-unit test-notebooks lab refresh bench experiments test-gpu clean

install: $(STAMP)

# pyproject.toml holds lower bounds; constraints.txt pins the exact versions that the
# stored notebook outputs were produced with.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $@

install-gpu:
	$(MAKE) install EXTRAS=test,gpu

course: $(STAMP)
	$(BIN)/python -m dcscratch.course build

# CUDA_VISIBLE_DEVICES= hides any GPU: stored outputs are compared as produced on a CPU.
test: test-unit test-notebooks

test-unit: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m pytest -m "not gpu" tests

test-notebooks: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m pytest $(NBVAL) notebooks

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

refresh: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m dcscratch.course refresh

bench: $(STAMP)
	$(BIN)/python -m dcscratch.bench --out build/bench

# On the CPU, like the committed results/digits (same seed, same numbers).
experiments: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m dcscratch.experiments --config full --out build/experiments

test-gpu: $(STAMP)
	$(BIN)/python -c "from dcscratch.devices import has_gpu; import sys; sys.exit(0 if has_gpu() else 'make test-gpu: TensorFlow sees no GPU (see README, GPU)')"
	$(BIN)/python -m pytest -m gpu tests
	$(BIN)/python -m dcscratch.course build --build-dir build/gpu

clean:
	rm -rf build
