"""Claim: the better the discriminator, the worse the minimax generator's vanishing gradient."""

from __future__ import annotations

from pathlib import Path

from gan_cli.claims.claim import HELD, INCONCLUSIVE, NOT_HELD, Claim, Outcome
from gan_cli.claims.js import js_unit_gaussians, minimax_gradient_ratio_at_optimum, optimal_discriminator_loss
from gan_cli.claims.runs import RunJob, select

NEAR_OPTIMAL = 0.01  # the optimality gap L_D - L_D* at which D counts as near D*
RATIO = 0.01  # minimax gradient < RATIO × non-saturating gradient under the best D (the last tenth)
CRITIC_KEEPS = 0.5  # the critic's gradient at the end ≥ CRITIC_KEEPS × its value at that step


def optimality_gap(run: RunJob) -> list[tuple[int, float]]:
    """(D step, L_D - L_D*) with L_D* = 2 log 2 - 2 JS(N(0,1) ‖ N(d,1)) from the analytic JS:
    G is ShiftedNoise at the dataset's offset d, so Pg is exactly N(d, 1)."""
    offset = run.config_value("dataset.offset")
    if offset is None:  # the job never started: no config, no curves
        return []
    distance = float(offset)
    best = optimal_discriminator_loss(js_unit_gaussians(distance))
    return [(step, value - best) for step, value in run.scalars("pretrain/discriminator_objective")]


def value_at(curve: list[tuple[int, float]], step: int) -> float | None:
    return next((v for s, v in curve if s == step), None)


def settled(curve: list[tuple[int, float]]) -> float:
    """The median over the last tenth of the logged D steps: one batch's gradient through a
    near-optimal D is heavy-tailed (a rare fake in Pr's tail carries it), so one point is noise."""
    import statistics

    return statistics.median(v for _, v in curve[-max(1, len(curve) // 10):])


def window_from(curve: list[tuple[int, float]], step: int) -> float:
    """The median over as many logged D steps as ``settled`` reads, from ``step`` on: the same
    estimator at the near-optimal step as at the end, so a single noisy point decides nothing."""
    import statistics

    width = max(1, len(curve) // 10)
    start = next(i for i, (s, _) in enumerate(curve) if s >= step)
    return statistics.median(v for _, v in curve[start:start + width])


class MinimaxGradientVanishes(Claim):
    id = "minimax_gradient_vanishes"
    statement = ("判别器越好，生成器梯度消失越严重。 (\"The better the discriminator, the more severely the generator's"
                 " gradient vanishes.\") ... 此时对于最优判别器来说，生成器肯定是得不到一丁点梯度信息的 (\"for the"
                 " optimal discriminator, the generator gets not a trace of gradient information\").")
    source = "seed 002 (Wasserstein GAN), §2; seed 001"
    preset = "minimax_gradient_vanishes"
    thresholds = (f"'at the end' is the median over the last tenth of the D steps, and 'at' a step the median over "
                  f"as many D steps from it on; held when G's minimax gradient "
                  f"at the end is < {RATIO} × the non-saturating one, the minimax gradient kept falling after the "
                  f"first D step where the optimality gap L_D - L_D* < {NEAR_OPTIMAL}, and the critic's gradient "
                  f"at the end is ≥ "
                  f"{CRITIC_KEEPS} × its value at that step; inconclusive when the gap never falls below "
                  f"{NEAR_OPTIMAL} or a run is missing")
    sizes = {
        "full": (),
        "quick": ("pretrain_discriminator_steps=2000",),
        "smoke": ("trainer=smoke", "pretrain_discriminator_steps=20"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        by_loss = {name: select(runs, loss=name) for name in ("gan_minimax", "gan", "wgan")}
        grads = {name: (found[0].scalars("pretrain/grad_norm_generator") if found else [])
                 for name, found in by_loss.items()}
        gap = optimality_gap(by_loss["gan_minimax"][0]) if by_loss["gan_minimax"] else []
        near = next((step for step, value in gap if value < NEAR_OPTIMAL), None)
        numbers: dict = {"optimality_gap": [{"d_step": s, "gap": g} for s, g in gap],
                         "grad_norm": {name: [{"d_step": s, "value": v} for s, v in curve] for name, curve in grads.items()},
                         "first_near_optimal_step": near}
        offset = by_loss["gan_minimax"][0].config_value("dataset.offset") if by_loss["gan_minimax"] else None
        figure = self.figure(gap, grads, near, offset, out_dir)
        if not all(grads.values()) or not gap:
            return Outcome(INCONCLUSIVE, "a run is missing or logged no pretraining curves", numbers, [figure])
        if near is None:
            return Outcome(INCONCLUSIVE, f"D never got within {NEAR_OPTIMAL} of L_D* (smallest gap "
                           f"{min(g for _, g in gap):.4g})", numbers, [figure])
        minimax, critic = window_from(grads["gan_minimax"], near), window_from(grads["wgan"], near)
        ends = {n: settled(grads[n]) for n in grads}
        ratio = ends["gan_minimax"] / ends["gan"] if ends["gan"] else None
        numbers.update({"gap_there": value_at(gap, near), "minimax_grad_there": minimax, "critic_grad_there": critic,
                        "gap_end": gap[-1][1], "minimax_grad_end": ends["gan_minimax"],
                        "non_saturating_grad_end": ends["gan"], "critic_grad_end": ends["wgan"],
                        "ratio_minimax_to_non_saturating_end": ratio,
                        "ratio_at_d_star_analytic": minimax_gradient_ratio_at_optimum(float(offset))})
        checks = {
            f"minimax/non-saturating at the end = {ratio if ratio is None else format(ratio, '.3g')} < {RATIO} (analytic at D*: "
            f"{numbers['ratio_at_d_star_analytic']:.2g})": ratio is not None and ratio < RATIO,
            f"minimax still falling after D step {near} ({ends['gan_minimax']:.3g} < {minimax:.3g})":
                ends["gan_minimax"] < minimax,
            f"critic keeps its gradient ({ends['wgan']:.3g} ≥ {CRITIC_KEEPS} × {critic:.3g})":
                ends["wgan"] >= CRITIC_KEEPS * critic,
        }
        numbers["checks"] = checks
        failed = [text for text, ok in checks.items() if not ok]
        if failed:
            return Outcome(NOT_HELD, "not " + "; not ".join(failed), numbers, [figure])
        return Outcome(HELD, "; ".join(checks), numbers, [figure])

    def figure(self, gap, grads, near, offset, out_dir: Path) -> str:
        fig, (left, right) = self.new_figure(1, 2, (10, 4))
        gaps = dict(gap)
        for name, curve in grads.items():
            right.semilogy([s for s, _ in curve], [max(v, 1e-12) for _, v in curve], label=name)
            paired = [(gaps[s], v) for s, v in curve if s in gaps and gaps[s] > 0]
            if paired:
                left.loglog([g for g, _ in paired], [max(v, 1e-12) for _, v in paired], ".-", label=name)
        left.axvline(NEAR_OPTIMAL, color="grey", linestyle=":", label=f"gap {NEAR_OPTIMAL}")
        left.invert_xaxis()
        left.set_xlabel("optimality gap L_D − L_D* (L_D* from the analytic JS), D improving →")
        left.set_ylabel("‖∇θ L_G‖ through D")
        left.legend(fontsize=8)
        if near is not None:
            right.axvline(near, color="grey", linestyle=":", label=f"gap < {NEAR_OPTIMAL}")
        right.set_xlabel(f"D step (G fixed at N({offset}, 1))")
        right.set_ylabel("‖∇θ L_G‖")
        right.legend(fontsize=8)
        fig.suptitle("G's gradient as D approaches D* (seeds 001, 002)", fontsize=10)
        return self.save_figure(fig, out_dir)
