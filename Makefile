# gan-run: `make run` and `make test` work on a fresh machine (they create .venv first).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is pinned here: 2.13.0 is the CPU build these machines install from a local file;
# a looser spec would pull several GB of CUDA packages.
TORCH  ?= torch==2.13.0

.PHONY: install run smoke test test-fast tensorboard clean bench bench-quality gpu-wheels gpu-check

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

test: install         ## the whole suite (what CI runs), in two processes
	$(BIN)/python -m pytest -q -n 2 --maxschedchunk 1

test-fast: install    ## the suite without the tests marked slow (the end-to-end runs of over ~10 s each)
	$(BIN)/python -m pytest -q -n 2 --maxschedchunk 1 -m "not slow"

bench: install        ## start-up, the loop vs plain torch, throughput (MLP, DCGAN 64x64), two jobs sharing the cores, one image evaluation
	$(BIN)/python bench/startup.py $(STARTUP_ARGS)
	$(BIN)/python bench/overhead.py $(OVERHEAD_ARGS)
	$(BIN)/python bench/throughput.py $(THROUGHPUT_ARGS)
	$(BIN)/python bench/contention.py $(CONTENTION_ARGS)
	$(BIN)/python bench/eval_cost.py $(EVAL_COST_ARGS)

gpu-check: install    ## the GPU check's stages on this machine's CPU, at the quick size (< 3 min)
	$(BIN)/python bench/gpu_check.py --device cpu --quick --out gpu_check.json

# The wheels a GPU machine with torch and Lightning preinstalled (Python 3.12) lacks, into .whl/
# (git-ignored); bench/gpu_check.py's docstring gives the command that installs them there.
GPU_WHEELS := POT==0.9.7.post1 hydra-core==1.3.8 omegaconf==2.3.1 hydra-joblib-launcher==1.2.0
gpu-wheels:
	$(PYTHON) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	    -d .whl $(GPU_WHEELS)
	$(PYTHON) -m pip wheel -q --no-deps -w .whl antlr4-python3-runtime==4.9.3   # an sdist only: built here

bench-quality: install  ## the ring and grid benchmark presets over 10 seeds, then their study table (46 min on the 2-core CI-like machine, 2026-12-07)
	$(BIN)/gan-run -m experiment=ring_benchmark,grid_benchmark 'seed=range(10)' hydra/launcher=joblib \
	    hydra.launcher.n_jobs=2 hydra.sweep.dir=bench_runs/toy_quality $(QUALITY_ARGS)
	$(BIN)/gan-report bench_runs/toy_quality --by experiment --metrics eval/modes,eval/high_quality_pct,eval/mode_kl

tensorboard: install
	$(BIN)/tensorboard --logdir outputs/

clean:
	rm -rf outputs/ multirun/ .pytest_cache build dist *.egg-info .whl gpu_check.json
