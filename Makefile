# The course's commands. Each creates .venv and installs on first use, then is quick.
#   make course    execute every notebook fresh (copies under build/), build the website
#   make site      rebuild only the website (build/html) from the last make course
#   make test      unit tests, then nbval over every notebook (on the CPU)
#   make lab       JupyterLab on the notebooks
#   make refresh   re-execute the committed notebooks in place (maintainers)
#   make lock      maintainers: re-resolve constraints.txt for Python 3.11-3.13
#   make bench     the benchmark (device-dependent; writes under build/bench)
#   make experiments  the full digits sweep of notebook 07 (writes under build/experiments)
#   make experiments-paper  an earlier, shorter paper-scale Fashion-MNIST sweep, kept as a record
#                  (results/fashion-mnist); notebook 10 reads the long sweep below
#   make experiments-long   the long fair fight (results/fashion-mnist-long; resumable, hours)
#   make test-gpu  GPU-only tests, and every notebook executed on the GPU, not compared
#   make exercises student copies and autograders from exercises/*.ipynb (build/exercises/)
#   make grade SUBMISSIONS=dir [TIMEOUT=s] [JOBS=n]   grade a folder of submitted notebooks
#                  (build/grades/*.csv; at most TIMEOUT seconds each, default 300)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The extras to install: test pulls in course, site and teach (pyproject.toml), so everything
# make runs. The library alone needs none of them.
EXTRAS ?= test
STAMP := $(VENV)/.installed-$(EXTRAS)
# Errors only from TensorFlow's C++ core (it is also silenced in the package itself).
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
         --nbval-cell-timeout 600

.PHONY: install install-gpu lock course site test test-unit test-notebooks lab refresh bench experiments experiments-paper experiments-long test-gpu clean

install: $(STAMP)

# pyproject.toml holds lower bounds; constraints.txt pins the exact versions that the
# stored notebook outputs were produced with.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) dcscratch/supported_python.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python dcscratch/supported_python.py
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $@

install-gpu:
	$(MAKE) install EXTRAS=test,gpu

# Maintainers: re-resolve constraints.txt for every supported Python at once, keeping the
# current pins where they still fit (uv reads the existing file as its preferences).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'uv==0.13.8'
	cp constraints.txt constraints.txt.new
	$(BIN)/uv pip compile pyproject.toml --extra test --extra gpu --universal \
	    --python-version 3.11 --fork-strategy fewest --index-strategy unsafe-best-match \
	    --no-header --no-annotate -o constraints.txt.new
	{ sed -n '/^#/p' constraints.txt; cat constraints.txt.new; } > constraints.txt && rm constraints.txt.new

course: $(STAMP) exercises
	$(BIN)/python -m dcscratch.course build

site: $(STAMP)
	$(BIN)/python -m dcscratch.course site

# CUDA_VISIBLE_DEVICES= hides any GPU: stored outputs are compared as produced on a CPU.
test: test-unit test-notebooks

test-unit: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m pytest -m "not gpu" tests

test-notebooks: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m pytest $(NBVAL) notebooks

# Jupyter refuses root without --allow-root, and root is how containers, CI images and many
# classroom servers run; where no display (or macOS) is there to open a browser, none is tried.
# Either way Jupyter prints the URL with its token. More flags: LAB_ARGS="--ip=0.0.0.0".
LAB_FLAGS = $(if $(filter 0,$(shell id -u)),--allow-root) \
            $(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),,--no-browser)
# Jupyter sees a GPU if there is one: printed numbers may then differ in their last digits from
# the stored CPU outputs (notebook 07's recomputation pins itself to the CPU).
lab: $(STAMP)
	$(BIN)/jupyter lab $(strip $(LAB_FLAGS) $(LAB_ARGS)) notebooks

refresh: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m dcscratch.course refresh

bench: $(STAMP)
	$(BIN)/python -m dcscratch.bench --out build/bench

# On the CPU, like the committed results/digits (same seed, same numbers).
experiments: $(STAMP)
	CUDA_VISIBLE_DEVICES= $(BIN)/python -m dcscratch.experiments --config full --out build/experiments

# The earlier paper-scale sweep on Fashion-MNIST, a record (notebook 10 reads experiments-long);
# resumable under the code that made its runs
# (the committed results/fashion-mnist are older code's: give a fresh PAPER_OUT to run it again).
# PAPER_ARGS=--exact-per-example on a GPU; PAPER_ARGS="--data-dir DIR" for another folder.
PAPER_OUT ?= results/fashion-mnist
experiments-paper: $(STAMP)
	$(BIN)/python -m dcscratch.experiments --config paper --dataset fashion-mnist --out $(PAPER_OUT) $(PAPER_ARGS)

# The fair fight of notebook 10 (config long: 400-400, 200 epochs, 5 seeds, No-Drop, Dropout,
# DropConnect inverted and unscaled); about four hours on two CPU cores. Every run checkpoints
# after every epoch under LONG_OUT/checkpoints: run it again to resume where it stopped.
# On a GPU with MNIST (the paper's data, length and exact mask; the rest stays this config's), in
# a fresh folder: LONG_OUT=results/mnist-long LONG_ARGS="--dataset mnist --data-dir DIR --epochs 1000 --exact-per-example".
LONG_OUT ?= results/fashion-mnist-long
LONG_ARGS ?= --dataset fashion-mnist
experiments-long: $(STAMP)
	$(BIN)/python -m dcscratch.experiments --config long --out $(LONG_OUT) $(LONG_ARGS)

# On the GPU: the notebooks are executed into build/gpu, not compared with their stored CPU
# outputs (a GPU rounds differently; notebook 07's recomputation pins itself to the CPU).
test-gpu: $(STAMP)
	$(BIN)/python -c "from dcscratch.devices import has_gpu; import sys; sys.exit(0 if has_gpu() else 'make test-gpu: TensorFlow sees no GPU (see README, GPU)')"
	$(BIN)/python -m pytest -m gpu tests
	$(BIN)/python -m dcscratch.course build --build-dir build/gpu

# Exercises: otter assign on every master (it also grades the solutions against every test,
# public and hidden, and stops if one fails). No PDFs, no network.
EXERCISES := $(wildcard exercises/*.ipynb)
.PHONY: exercises grade

exercises: $(STAMP)
	@for master in $(EXERCISES); do \
	  stem=$$(basename $$master .ipynb); \
	  rm -rf build/exercises/$$stem; \
	  echo "otter assign $$master -> build/exercises/$$stem"; \
	  $(BIN)/otter assign --no-pdfs $$master build/exercises/$$stem || exit 1; \
	done

# Grades every .ipynb in SUBMISSIONS with otter, no Docker; one CSV per exercise in build/grades.
# Each submission in a process of its own, stopped after TIMEOUT seconds (default: grade.py's,
# 300), JOBS at a time (default 1).
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder-of-notebooks [TIMEOUT=seconds] [JOBS=n]"; exit 2; }
	$(BIN)/python exercises/grade.py "$(SUBMISSIONS)" --autograders build/exercises --out build/grades \
	    $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(JOBS),--jobs $(JOBS))

clean:
	rm -rf build
