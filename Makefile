# genlab: set-up, training and checks. Every target that runs genlab sets up .venv first
# (scripts/setup.sh: fast when nothing changed).
#   make quickstart   set up, then train the quickstart experiment (small DCGAN, Fashion-MNIST)
#   make test         set up, then run the tests (the full suite, as CI does)
#   make test-fast    set up, then the tests not marked slow (a few minutes, for every change)
#   make lint         ruff's linter and formatter check
#   make docs         render the docs' measured tables from their records in docs/results/
#   make gpu-check    set up, then the GPU acceptance check (docs/scaling_out.md; ARGS="--device cpu")
# Extra arguments: make quickstart ARGS="seed=1"; make gpu-check ARGS="--device cpu"; make test PYTEST_ARGS="-m 'not slow'"
# The tests run in one worker process per core (pytest-xdist; each test module stays in one
# worker, so its shared runs are trained once): make test TEST_WORKERS=0 runs them in one process.

VENV   := .venv
PYTHON := $(VENV)/bin/python
TEST_WORKERS ?= auto
PYTEST := $(PYTHON) -m pytest -n $(TEST_WORKERS) --dist loadscope

.PHONY: setup quickstart test test-fast lint docs gpu-check clean-outputs

setup:
	bash scripts/setup.sh

quickstart: setup
	$(PYTHON) scripts/train.py experiment=quickstart $(ARGS)

test: setup
	$(PYTEST) $(PYTEST_ARGS)

test-fast: setup
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# Needs no set-up: the renderer uses the standard library only.
docs:
	python3 scripts/render_docs.py

gpu-check: setup
	$(PYTHON) scripts/gpu_check.py $(ARGS)

# Removes every run dir under outputs/ (keeps outputs/.gitkeep).
clean-outputs:
	find outputs -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf -- {} +
