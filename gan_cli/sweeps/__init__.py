"""Sweeps: many jobs from one command (``gan-run -m``), their folders, and continuing a killed one.

- multirun.py: the value a job returns to a sweeper (Optuna), and at the end of a multirun one
  line saying how the jobs ended, with the gan-report command;
- resume.py: what a job does when its folder already holds an earlier attempt;
- settings.py: the launcher and sweeper values, checked before the first job starts;
- job_names.py: job folders named after their overrides; jobs.py: a sweep folder's jobs, read back.

May import: the shared modules (gan_cli.config, errors, resources), data/, models/, objectives/,
training/, evaluation/ and tracking/.
"""
