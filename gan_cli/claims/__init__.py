"""gan-claims: the seed articles' claims, each measured by a gan-run experiment and given a
verdict computed from thresholds declared with the claim (docs/claims.md).

One module per claim: its statement (quoted from the articles), its preset in
conf/experiment/, its sizes, its thresholds, its numbers and its figure.
"""
