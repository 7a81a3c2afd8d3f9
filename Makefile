# Two commands do all the set-up: `make demo` and `make test` (see README.md).
# Every output of the examples goes to out/ (ignored by git).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# One pytest worker more than there are cores: some tests wait (on a subprocess, a signal,
# a browser) and the extra worker keeps the cores busy meanwhile (measured 4:10 -> 4:00 on
# 2 cores). `make test TEST_WORKERS=1` runs the suite in one worker.
TEST_WORKERS ?= $(shell python3 -c "import os; print((os.cpu_count() or 1) + 1)" 2>/dev/null || echo auto)
NB_STAMP := $(VENV)/.installed-notebook

.PHONY: demo test lint bench notebook clean chromium

# The test extra holds matplotlib too: the suite runs the notebook headless.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# compile the kernels once (cached on disk), so no run spends its budget on it: the
	# search's, the rule repair's and the text columns'
	$(BIN)/python -c "from peermatch.solve import local, min_conflicts; \
		from peermatch import textkernel; \
		local.warm_up(); min_conflicts.compile_now(); textkernel.warm_up()"
	touch $(STAMP)

$(NB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	touch $(NB_STAMP)

## Group the bundled 500 example candidates, their intake answers included (weights_text.toml);
## writes out/groups.csv, out/summary.json, out/report.html
demo: $(STAMP)
	mkdir -p out
	$(BIN)/peermatch match peermatch/data/candidates.csv --out out/groups.csv \
		--summary out/summary.json --report out/report.html \
		--config peermatch/data/weights_text.toml \
		--min-size 8 --max-size 12 --time-limit 20 --seed 0

## Run the whole test suite (unit, property-based, CLI, docs blocks, notebook) and the linter,
## on every core (pytest-xdist, one worker more than the cores; tests sharing an expensive
## fixture stay on one worker)
test: $(STAMP) chromium
	$(BIN)/ruff check peermatch tests benchmarks
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

## The workbench's browser test (tests/test_app_browser.py) drives Debian's Chromium; install it
## with apt when it is missing and apt may be used (root, or sudo without a password). Where it
## cannot be installed, the browser test skips and says how to get it.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "Chromium not found (no apt-get here): the browser test will skip"; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "apt-get install chromium failed: the browser test will skip"; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		(sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium) || echo "apt-get install chromium failed: the browser test will skip"; \
	else echo "Chromium not found; run 'sudo apt install chromium' for the browser test"; fi

## Open the weight-tuning notebook in JupyterLab (installs the notebook extra once)
notebook: $(NB_STAMP)
	$(BIN)/jupyter lab notebooks/tune_weights.ipynb

## A quick benchmark round (about 5 minutes); see docs/benchmarks.md for the full set
bench: $(STAMP)
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/scoring.py --sizes 1000 5000
	$(BIN)/python benchmarks/mdgplib.py $(wildcard ../shared/benchmarks/mdgplib/*_n120_*.txt) \
		--time-limit literature --out benchmarks/results/mdgplib_n120.csv
	$(BIN)/python benchmarks/peers.py --quick

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache
