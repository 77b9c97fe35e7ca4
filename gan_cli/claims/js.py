"""The Jensen-Shannon divergence of two unit-variance Gaussians, by numerical integration.

JS(P || Q) = ½ KL(P || M) + ½ KL(Q || M), M = ½ (P + Q), in nats (so JS ≤ log 2).
For P = N(0, I_m) and Q = N(d·1, I_m), a rotation maps the pair onto the first axis at distance
d·√m, so the JS of m-sample packs, JS(Pr^m || Pg^m), is the 1-D JS at d·√m.
"""

from __future__ import annotations

import math


def js_unit_gaussians(distance: float) -> float:
    """JS(N(0, 1) || N(d, 1)) = ∫ ½ p log(2p / (p + q)) + ½ q log(2q / (p + q)) dx."""
    import numpy as np
    from scipy.integrate import quad
    from scipy.special import logsumexp
    from scipy.stats import norm

    d = float(distance)

    def integrand(x: float) -> float:
        lp, lq = norm.logpdf(x), norm.logpdf(x, loc=d)
        lm = logsumexp([lp, lq]) - math.log(2.0)
        return 0.5 * (np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm))

    # the mass lies within 12σ of either mean; breakpoints at both means keep quad accurate
    value, _ = quad(integrand, min(0.0, d) - 12.0, max(0.0, d) + 12.0, points=sorted({0.0, d}), limit=200)
    return min(max(value, 0.0), math.log(2.0))


def js_of_packs(distance: float, pack: int) -> float:
    """JS(N(0, 1)^m || N(d, 1)^m) for m = ``pack`` samples per pack."""
    return js_unit_gaussians(distance * math.sqrt(pack))


def minimax_gradient_ratio_at_optimum(distance: float) -> float:
    """The minimax generator's gradient over the non-saturating one under D*, for Pr = N(0, 1),
    Pg = N(d, 1) and G(z) = z + b: E_Pg[D*] / E_Pg[1 − D*].

    D* = σ(l) with the logit l(x) = log pr/pg = −d x + d²/2, so ∂/∂b log(1 − D*(x)) = −σ(l) l'
    and ∂/∂b −log D*(x) = −(1 − σ(l)) l' with l' = −d: the ratio of the two expectations.
    Where the supports overlap (small d) even D* leaves the minimax generator a gradient. A
    trained D can be more confident than D* where Pr has almost no mass (L_D hardly changes
    there), so a measured ratio may fall below this one."""
    from scipy.integrate import quad
    from scipy.special import expit
    from scipy.stats import norm

    d = float(distance)
    lo, hi = d - 12.0, d + 12.0
    minimax, _ = quad(lambda x: norm.pdf(x, loc=d) * expit(-d * x + d * d / 2), lo, hi, points=[d / 2, d], limit=200)
    saturating, _ = quad(lambda x: norm.pdf(x, loc=d) * expit(d * x - d * d / 2), lo, hi, points=[d / 2, d], limit=200)
    return minimax / saturating


def optimal_discriminator_loss(js: float) -> float:
    """L_D* = 2 log 2 - 2 JS(Pr || Pg): the GAN discriminator's loss under D* (THEORY.md §1)."""
    return 2.0 * math.log(2.0) - 2.0 * js
