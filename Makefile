# Two commands do everything (see README.md):
#   make lab    set up .venv and open the course in JupyterLab
#   make test   set up .venv and run the whole test suite (helpers' unit tests + nbval on every notebook)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup lab test unit notebooks clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

test: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-current-env tests notebooks

unit: $(STAMP)
	$(PY) -m pytest tests

# Re-execute every lesson top to bottom and save its outputs (what gets committed).
notebooks: $(STAMP)
	$(PY) scripts/run_notebooks.py notebooks/*.ipynb

clean:
	rm -rf $(VENV)
