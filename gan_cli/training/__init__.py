"""Training: Algorithm 1 as a LightningModule, and the machinery Lightning runs it with.

- module.py: ``GANModule``, the critic loop and the generator step, with manual optimization;
- loop.py: how Lightning drives the iterations (runs of them per batch); curves.py: what the
  module logs and how each value is measured; parameters.py: gradient norms, G's weight average;
- guards.py: stop at the first NaN or Inf; callbacks.py: the progress bar in generator steps,
  the atomic last.ckpt, Ctrl-C at a step boundary;
- build.py: the run's objects from the composed config; checkpoints.py: reading checkpoints
  (old module paths translated) and whether one resumes with a config; summary.py: summary.json;
- threads.py: the thread policy, each job's share of the cores; quiet.py: the third-party
  messages a user cannot act on, silenced;
- framework_internals.py: every private Lightning or Hydra name used, with its version pin.

The recipe that puts a run together (commands/train.py) sits above evaluation/ and tracking/,
whose objects it adds.

May import: the shared modules (gan_cli.config, errors, resources), data/, models/ and objectives/.
"""
