"""Evaluation: how close the generator is to the data, measured during training and by gan-eval.

- during_training.py: ``eval/*`` every ``eval_every`` steps from fixed noise, and the figures;
- metrics.py: mode coverage and exact W1 on the toy data; w1_floor.py: the W1 between two real
  samples that even a perfect generator scores;
- image_evaluation.py: FID, KID and PRDC of a run; image_metrics.py: their formulas;
  features.py: the feature extractors; provenance.py: which feature space each value came from;
- lipschitz.py: the D/critic's measured Lipschitz constant, ``eval/critic_lipschitz``;
- figures.py: the figures; generate.py: G(z) in chunks, for evaluation and gan-sample.

May import: the shared modules (gan_cli.config, errors, resources), data/, models/, objectives/
and training/.
"""
