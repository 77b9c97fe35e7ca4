"""Claim: under the optimal D, log 2 - L_D/2 is JS(Pr || Pg), and JS saturates at log 2."""

from __future__ import annotations

import math
from pathlib import Path

from gan_cli.claims.claim import HELD, INCONCLUSIVE, NOT_HELD, Claim, Outcome
from gan_cli.claims.js import js_unit_gaussians
from gan_cli.claims.runs import RunJob

TOLERANCE = 0.02  # |estimate - exact| at every distance
FLAT_SLOPE = 0.01  # slope of the estimated curve between the distances beyond 5
SETTLED = 0.01  # |change of L_D| over the last tenth of D's training: D has converged


def final_objective_change(run: RunJob) -> float | None:
    """|mean L_D over the last tenth of D's training - mean over the tenth before|, from
    pretrain/discriminator_objective (4,096 samples per point, 100 points). Means of ten
    points, not two single points: one point's sampling noise (~0.01 at d = 3) would read as
    movement."""
    values = [v for _, v in run.scalars("pretrain/discriminator_objective")]
    tenth = len(values) // 10
    if tenth < 1:
        return None
    last, before = values[-tenth:], values[-2 * tenth:-tenth]
    return abs(sum(last) / tenth - sum(before) / tenth)


def js_estimate(run: RunJob) -> float | None:
    """log 2 - L_D/2 with L_D measured on the evaluation samples at the end."""
    loss = run.summary.get("final", {}).get("eval/discriminator_loss")
    return None if loss is None else math.log(2.0) - float(loss) / 2.0


class OptimalDIsJS(Claim):
    id = "optimal_d_is_js"
    statement = ("可以观察到，距离大于 5 时，JS 散度为常数，其梯度接近于 0，代表训练过程对 G 没有任何影响(图 4)。"
                 " (\"It can be observed that when the distance is greater than 5, the JS divergence is a constant"
                 " and its gradient is close to 0, meaning training has no effect on G (Fig. 4).\") And"
                 " THEORY.md §1: under the optimal D*, L_D = 2 log 2 - 2 JS(Pr || Pg), so log 2 - L_D/2 estimates JS.")
    source = "seed 004 (The math behind GANs), §3, Fig. 3-4"
    preset = "optimal_d_is_js"
    thresholds = (f"held when D has converged (the mean L_D of its last tenth of training within {SETTLED} of the tenth before) and, at every "
                  f"distance, |log 2 - L_D/2 - JS_exact| ≤ {TOLERANCE}, and the estimated curve's slope between "
                  f"the distances above 5 is < {FLAT_SLOPE}; inconclusive when D has not converged or a job is "
                  f"missing; not_held otherwise")
    sizes = {
        "full": (),
        "quick": ("pretrain_discriminator_steps=1500", "eval_samples=10000"),
        "smoke": ("trainer=smoke", "pretrain_discriminator_steps=20", "dataset.offset=1,8"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        rows, changes = [], []
        for run in runs:
            offset, estimate = run.config_value("dataset.offset"), js_estimate(run)
            if run.status != "completed" or estimate is None or offset is None:
                continue
            distance = float(offset)
            rows.append({"distance": distance, "js_estimate": estimate, "js_exact": js_unit_gaussians(distance)})
            changes.append(final_objective_change(run))
        rows.sort(key=lambda r: r["distance"])
        errors = [abs(r["js_estimate"] - r["js_exact"]) for r in rows]
        beyond = [r for r in rows if r["distance"] > 5]
        slopes = [abs(b["js_estimate"] - a["js_estimate"]) / (b["distance"] - a["distance"])
                  for a, b in zip(beyond, beyond[1:])]
        settled = [c for c in changes if c is not None]
        numbers = {
            "table": rows,
            "max_abs_error": max(errors) if errors else None,
            "slopes_beyond_5": slopes,
            "max_d_objective_change_last_tenth": max(settled) if settled else None,
            "jobs": len(runs), "jobs_used": len(rows),
        }
        figure = self.figure(rows, out_dir)
        if not rows or len(rows) < len(runs) or len(settled) < len(rows):
            return Outcome(INCONCLUSIVE, "a job failed or logged no L_D", numbers, [figure])
        if max(settled) > SETTLED:
            return Outcome(INCONCLUSIVE, f"D had not converged: mean L_D moved {max(settled):.3g} between the last "
                           f"two tenths of its training (> {SETTLED})", numbers, [figure])
        close = max(errors) <= TOLERANCE
        flat = bool(slopes) and max(slopes) < FLAT_SLOPE
        if close and flat:
            return Outcome(HELD, f"max |estimate - exact| = {max(errors):.4f} ≤ {TOLERANCE}; slope beyond 5 "
                           f"{max(slopes):.4f} < {FLAT_SLOPE}", numbers, [figure])
        why = []
        if not close:
            worst = rows[errors.index(max(errors))]
            why.append(f"|estimate - exact| = {max(errors):.4f} > {TOLERANCE} at d = {worst['distance']:g}")
        if not flat:
            why.append("no two distances above 5" if not slopes else f"slope beyond 5 = {max(slopes):.4f} ≥ {FLAT_SLOPE}")
        return Outcome(NOT_HELD, "; ".join(why), numbers, [figure])

    def figure(self, rows: list[dict], out_dir: Path) -> str:
        import numpy as np

        d = np.linspace(0.0, 10.0, 201)
        js = np.array([js_unit_gaussians(x) for x in d])
        fig, (left, right) = self.new_figure(1, 2, (10, 4))
        left.plot(d, js, color="black", label="JS(N(0,1) ‖ N(d,1)), numerical integration")
        left.axhline(math.log(2.0), color="grey", linestyle=":", label="log 2")
        left.plot([r["distance"] for r in rows], [r["js_estimate"] for r in rows], "o", color="tab:red",
                  label="log 2 − L_D/2, D trained against a fixed N(d,1)")
        left.set_xlabel("distance d between the means")
        left.set_ylabel("JS divergence (nats)")
        left.legend(fontsize=8)
        right.plot(d, np.gradient(js, d), color="black", label="dJS/dd (exact)")
        if len(rows) > 1:
            mids = [(a["distance"] + b["distance"]) / 2 for a, b in zip(rows, rows[1:])]
            slopes = [(b["js_estimate"] - a["js_estimate"]) / (b["distance"] - a["distance"]) for a, b in zip(rows, rows[1:])]
            right.plot(mids, slopes, "o", color="tab:red", label="slope of the estimates")
        right.axhline(FLAT_SLOPE, color="grey", linestyle=":", label=f"{FLAT_SLOPE} (flat)")
        right.set_xlabel("distance d")
        right.set_ylabel("dJS/dd")
        right.legend(fontsize=8)
        fig.suptitle("JS saturates at log 2 (seed 004, Fig. 3-4)", fontsize=10)
        return self.save_figure(fig, out_dir)
