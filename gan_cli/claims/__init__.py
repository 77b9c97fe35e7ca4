"""gan-claims: the seed articles' claims, each measured by a gan-run experiment and given a
verdict computed from thresholds declared with the claim (docs/claims.md).

One module per claim: its statement (quoted from the articles), its preset in
conf/experiment/, its sizes, its thresholds, its numbers and its figure. The experiments run as
gan-run processes (runs.py); cli.py is the console script.

May import: the shared modules (gan_cli.config, errors, resources), data/, models/, objectives/,
training/, evaluation/, tracking/ and sweeps/.
"""
