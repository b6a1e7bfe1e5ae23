# Two entry points for a fresh machine (each sets itself up):
#   make run   - create .venv, install, run the pipeline on the bundled data, write the report
#   make test  - create .venv, install with test extras, run the test suite
# Both install the `community` extra (leidenalg + igraph: the Leiden baseline of the
# connectome communities) and the test tools, pinned by constraints.txt.
# Snakemake reads profiles/default/ by itself, so the commands below are plain `snakemake`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= 2

.PHONY: run test figures report clean-results

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,community]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/snakemake --cores $(CORES)
	$(VENV)/bin/snakemake --cores $(CORES) --report results/report.html

figures: $(VENV)/.installed
	$(VENV)/bin/snakemake --cores $(CORES) figures

report: $(VENV)/.installed
	$(VENV)/bin/snakemake --cores $(CORES) --report results/report.html

test: $(VENV)/.installed
	$(PY) -m pytest -q

clean-results:
	rm -rf results .snakemake
