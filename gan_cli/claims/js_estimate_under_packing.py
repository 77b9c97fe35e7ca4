"""Claim: a packed D's log 2 - L_D/2 estimates the JS of m-sample packs, JS(Pr^m ‖ Pg^m)."""

from __future__ import annotations

import math
from pathlib import Path

from gan_cli.claims.claim import HELD, INCONCLUSIVE, NOT_HELD, Claim, Outcome
from gan_cli.claims.js import js_of_packs, js_unit_gaussians
from gan_cli.claims.runs import RunJob

TOLERANCE = 0.02


class JsEstimateUnderPacking(Claim):
    id = "js_estimate_under_packing"
    statement = ("THEORY.md §5: \"a packed D (PacGAN, m samples per pack) separates the product distributions, so"
                 " its JS estimate is JS(Pr^m ‖ Pg^m). For N(0,1) against N(1,1) with m = 2 that is 0.201, against"
                 " 0.111 for m = 1.\" gan-run logs it as discriminator/pack_js_estimate, not js_estimate.")
    source = "THEORY.md §5 (PacGAN, Lin et al. 2018); the articles' formula L_D* = 2 log 2 - 2 JS"
    preset = "js_estimate_under_packing"
    thresholds = (f"held when the run logs discriminator/pack_js_estimate and no discriminator/js_estimate, and "
                  f"log 2 - L_D/2 on the evaluation samples is within {TOLERANCE} of JS(Pr^m ‖ Pg^m) and farther "
                  f"than {TOLERANCE} from JS(Pr ‖ Pg); inconclusive when the run failed")
    sizes = {
        "full": (),
        "quick": ("pretrain_discriminator_steps=1500", "eval_samples=10000"),
        "smoke": ("trainer=smoke", "pretrain_discriminator_steps=20"),
    }

    def outcome(self, runs: list[RunJob], out_dir: Path) -> Outcome:
        run = runs[0] if runs else None
        if run is None or run.status != "completed" or "eval/discriminator_loss" not in run.summary.get("final", {}):
            return Outcome(INCONCLUSIVE, "the run failed or logged no eval/discriminator_loss", {}, [])
        config = run.summary
        distance = float(run.config_value("dataset.offset"))
        pack = int(run.config_value("model.pack"))
        estimate = math.log(2.0) - float(config["final"]["eval/discriminator_loss"]) / 2.0
        tags = run.tags()
        numbers = {"distance": distance, "pack": pack, "js_estimate": estimate,
                   "js_exact_packs": js_of_packs(distance, pack), "js_exact_single": js_unit_gaussians(distance),
                   "logs_pack_js_estimate": "discriminator/pack_js_estimate" in tags,
                   "logs_js_estimate": "discriminator/js_estimate" in tags}
        to_packs = abs(estimate - numbers["js_exact_packs"])
        to_single = abs(estimate - numbers["js_exact_single"])
        text = (f"estimate {estimate:.4f}; JS of {pack}-sample packs {numbers['js_exact_packs']:.4f} "
                f"(|Δ| {to_packs:.4f}); JS of single samples {numbers['js_exact_single']:.4f} (|Δ| {to_single:.4f})")
        named = numbers["logs_pack_js_estimate"] and not numbers["logs_js_estimate"]
        if named and to_packs <= TOLERANCE < to_single:
            return Outcome(HELD, text, numbers, [])
        return Outcome(NOT_HELD, text + ("" if named else "; the tag is not named for packs"), numbers, [])
