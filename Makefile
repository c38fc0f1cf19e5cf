# Two commands do everything (see README.md):
#   make lab    set up .venv and open the course in JupyterLab
#   make test   set up .venv, lint, and run the whole test suite (helpers' unit tests + nbval on every notebook),
#               on every CPU this machine lets us use (pytest-xdist; tests/conftest.py keeps a notebook's cells together)
# Python caches the bytecode of each module it imports (__pycache__/, git-ignored) unless PYTHONDONTWRITEBYTECODE
# is set. This machine sets it for every process (CI may too); then each Python process `make test` starts (test
# workers, notebook kernels, jupyter and nbgrader commands) compiles torch, matplotlib and the Jupyter stack from
# source again: about 10 s of CPU for those imports instead of 5. The recipes below keep Python's default.
unexport PYTHONDONTWRITEBYTECODE

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup instructor learner lab lint format test unit notebooks student benchmark compare translation-seeds gpu-check browser-test clean

# nbgrader comes with the environment (`make student` and the tests use it), but learners get plain JupyterLab:
# after `make setup` (or `make learner`) nbgrader's JupyterLab extension is disabled and locked (so that the
# Plugin Manager cannot turn on its front half alone) and its server extensions are off. `make instructor`
# turns both on (docs/instructors.md); `make learner` turns them off again.
NBGRADER_SERVER_EXTENSIONS := $(addprefix nbgrader.server_extensions.,formgrader validate_assignment assignment_list course_list)
QUIET := --log-level=ERROR
define LEARNER_MODE
$(VENV)/bin/jupyter labextension disable --level=sys_prefix $(QUIET) @jupyter/nbgrader
$(VENV)/bin/jupyter labextension lock --level=sys_prefix $(QUIET) @jupyter/nbgrader
$(VENV)/bin/jupyter server extension disable --sys-prefix $(QUIET) $(NBGRADER_SERVER_EXTENSIONS)
endef

setup: $(STAMP)

# --no-compile: Python compiles a module the first time it is imported, so the ~150 packages' thousands of
# modules that are never imported are not compiled (setup measured 33 s instead of 95 s on a busy machine)
# binder/overrides.json: JupyterLab saves the widgets' state with the notebook (off by default), so that a lesson
# saved after a run shows its widgets when reopened instead of "Error displaying widget: model not found"
# (Binder's postBuild installs the same file).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

$(STAMP): requirements.txt pyproject.toml binder/overrides.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -r requirements.txt
	$(LEARNER_MODE)
	mkdir -p $(LAB_SETTINGS)
	cp binder/overrides.json $(LAB_SETTINGS)/overrides.json
	touch $(STAMP)

# Instructors (docs/instructors.md): nbgrader's formgrader, Create Assignment sidebar, Validate button and
# Assignments tab on in .venv's JupyterLab; `make learner` turns them off again.
instructor: $(STAMP)
	$(VENV)/bin/jupyter labextension unlock --level=sys_prefix $(QUIET) @jupyter/nbgrader
	$(VENV)/bin/jupyter labextension enable --level=sys_prefix $(QUIET) @jupyter/nbgrader
	$(VENV)/bin/jupyter server extension enable --sys-prefix $(QUIET) $(NBGRADER_SERVER_EXTENSIONS)
	@echo "nbgrader's JupyterLab extension and server extensions are on: start JupyterLab from your grading directory"

learner: $(STAMP)
	$(LEARNER_MODE)

# As root (Docker images, many cloud notebooks) Jupyter refuses to start without --allow-root; it is passed only
# then, so that a normal user keeps Jupyter's default.
ALLOW_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) notebooks/

test: lint
	$(PY) -m pytest -n auto --nbval-lax --nbval-current-env tests notebooks

# ruff over the package, tests, scripts and the lessons (configured in pyproject.toml); `make format` fixes layout
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

unit: $(STAMP)
	$(PY) -m pytest -m "not slow" tests

# Re-execute every lesson top to bottom and save its outputs (what gets committed).
notebooks: $(STAMP)
	$(PY) scripts/run_notebooks.py notebooks/*.ipynb

# Student versions of every lesson (nbgrader's preprocessors: solutions -> NotImplementedError, hidden tests out).
student: $(STAMP)
	$(PY) scripts/make_student_versions.py

# Execute every lesson headless and the paired speed micro-benchmarks; writes docs/benchmarks.md and prints it
# (about 10-15 minutes on 2 cores; run it on a quiet machine). Options: scripts/benchmark.py --help.
benchmark: $(STAMP)
	$(PY) scripts/benchmark.py

# Lesson 08's BiLSTM-vs-Transformer comparison on lesson 06's dates and lesson 07's translation, 2 seeds; writes
# docs/architectures.md and prints it (about 3 minutes on 2 cores; run it on a quiet machine).
# Options: scripts/compare_architectures.py --help.
compare: $(STAMP)
	$(PY) scripts/compare_architectures.py

# Lesson 07 over seeds 0-2 (about 15 min on 2 cores): docs/translation-seeds.md and the figures the lesson quotes (†).
translation-seeds: $(STAMP)
	$(PY) scripts/translation_seeds.py

# On a machine with an NVIDIA GPU: every lesson under nbval with SEQ2SEQ_DEVICE=cuda, then the benchmark's GPU table
# (docs/benchmarks-gpu.md); log in artifacts/. Refuses (exit 2) where get_device() does not pick CUDA. Not in CI.
gpu-check: $(STAMP)
	$(PY) scripts/gpu_check.py

clean:
	rm -rf $(VENV)

# The real-browser test alone (JupyterLab + headless Chromium running the smoke notebook); `make test` runs it too.
browser-test: $(STAMP)
	SEQ2SEQ_BROWSER_TEST=1 $(PY) -m pytest tests/test_browser.py
