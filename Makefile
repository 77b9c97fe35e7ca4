# gan-run: `make run` and `make test` work on a fresh machine (they create .venv first).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned here: 2.13.0 is the CPU build these machines install from a local file;
# a looser spec would pull several GB of CUDA packages.
TORCH  ?= torch==2.13.0

.PHONY: install run smoke test test-fast tensorboard clean bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test]"
	touch $@

run: install          ## the default job: non-saturating GAN on the 8-Gaussian ring, TensorBoard curves
	$(BIN)/gan-run $(ARGS)

smoke: install        ## seconds on a CPU
	$(BIN)/gan-run trainer=smoke

test: install         ## the whole suite (what CI runs)
	$(BIN)/python -m pytest -q

bench: install        ## start-up times, then the training loop vs plain torch (10-15 min on 2 cores)
	$(BIN)/python bench/startup.py $(STARTUP_ARGS)
	$(BIN)/python bench/overhead.py $(OVERHEAD_ARGS)

tensorboard: install
	$(BIN)/tensorboard --logdir outputs/

clean:
	rm -rf outputs/ multirun/ .pytest_cache build dist *.egg-info
