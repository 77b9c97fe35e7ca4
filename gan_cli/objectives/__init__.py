"""What the two players optimise: the adversarial losses, the Lipschitz constraints on the
D/critic, and an optimizer chosen by a value.

- losses.py: one class per loss (conf/loss/): the D/critic objective, the G objective, n_critic;
- constraints.py: one class per Lipschitz constraint (conf/constraint/): clip, gp, lp, r1, r2,
  dragan, sn, which a loss delegates its penalty and its after-step hook to;
- named_optimizer.py: ``optim=named``, the optimizer a preset picks per loss by a value.

Adding a loss or a constraint is one class here and one YAML file in conf/.

May import: the shared modules (gan_cli.config, errors, resources), data/ and models/.
"""
