# gan-run: `make run` and `make test` work on a fresh machine (they create .venv first).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned here: 2.13.0 is the CPU build these machines install from a local file;
# a looser spec would pull several GB of CUDA packages.
TORCH  ?= torch==2.13.0

.PHONY: install run smoke test test-fast tensorboard clean bench bench-quality

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

bench: install        ## start-up times, the training loop vs plain torch, throughput (MLP, DCGAN 64x64)
	$(BIN)/python bench/startup.py $(STARTUP_ARGS)
	$(BIN)/python bench/overhead.py $(OVERHEAD_ARGS)
	$(BIN)/python bench/throughput.py $(THROUGHPUT_ARGS)

bench-quality: install  ## the ring and grid benchmark presets over 10 seeds (40 min on the 2-core CI-like machine)
	$(BIN)/python bench/toy_quality.py $(QUALITY_ARGS)

tensorboard: install
	$(BIN)/tensorboard --logdir outputs/

clean:
	rm -rf outputs/ multirun/ .pytest_cache build dist *.egg-info
