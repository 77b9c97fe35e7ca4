"""The console scripts, one module each, and what only they use.

- run.py: ``gan-run``, the Hydra entry point; train.py: the recipe it runs (seed, build every
  object from its config group, fit); help.py: ``gan-run --help``; preflight.py: the command
  line, checked before Hydra composes anything;
- sample.py: ``gan-sample``; evaluate.py: ``gan-eval``;
- report.py: ``gan-report``, the table of a sweep; report_plot.py: its bar chart.

``gan-claims`` is claims/cli.py, beside the claims it runs.

May import: the shared modules (gan_cli.config, errors, resources) and every subpackage: data/,
models/, objectives/, training/, evaluation/, tracking/, sweeps/ and claims/.
"""
