"""gan-claims: each claim's mechanism at smoke sizes (not the verdicts' values), the per-loss
settings of experiment=wgan_paper, and the report's structure."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import compose_config, run_cli


def test_the_fixed_generator_of_optimal_d_is_js_really_is_n_d_1(tmp_path):
    from gan_cli.training.build import build_data_and_networks

    cfg = compose_config(tmp_path, ["experiment=optimal_d_is_js", "dataset.offset=3"])
    dataset, generator, _ = build_data_and_networks(cfg)
    torch.manual_seed(0)
    fake = generator(torch.randn(200_000, generator.in_features)).detach()[:, 0]
    assert fake.mean().item() == pytest.approx(3.0, abs=0.01) and fake.std().item() == pytest.approx(1.0, abs=0.01)
    # G cannot move: a negligible lr, one generator step, D frozen after its training
    assert cfg.optim.generator.lr <= 1e-12 and cfg.steps == 1 and cfg.freeze_discriminator


def test_analytic_js_matches_the_figures_theory_md_quotes():
    from gan_cli.claims.js import js_of_packs, js_unit_gaussians

    for d, js in [(0.5, 0.030), (1, 0.111), (2, 0.337), (4, 0.633), (5, 0.676), (8, 0.693)]:
        assert js_unit_gaussians(d) == pytest.approx(js, abs=1e-3)
    assert js_of_packs(1, 2) == pytest.approx(0.201, abs=1e-3)


class FakeRun:
    def __init__(self, config, curves):
        self.config, self.curves = config, curves

    def scalars(self, tag):
        return self.curves.get(tag, [])

    def config_value(self, key):
        return self.config.get(key)


def test_optimality_gap_subtracts_the_loss_of_d_star_from_the_analytic_js():
    from gan_cli.claims.js import js_unit_gaussians
    from gan_cli.claims.minimax_gradient_vanishes import optimality_gap

    run = FakeRun({"dataset.offset": 4.0}, {"pretrain/discriminator_objective": [(0, 1.3), (10, 0.2)]})
    best = 2 * math.log(2) - 2 * js_unit_gaussians(4.0)
    assert optimality_gap(run) == [(0, pytest.approx(1.3 - best)), (10, pytest.approx(0.2 - best))]


def test_minimax_ratio_under_d_star_is_the_monte_carlo_ratio_and_shrinks_with_distance():
    from gan_cli.claims.js import minimax_gradient_ratio_at_optimum

    torch.manual_seed(0)
    for d in (2.0, 4.0):  # ∂/∂b of log(1 - D*(z + b)) and of -log D*(z + b), by autograd
        shift = torch.tensor(d, requires_grad=True)
        x = torch.randn(400_000, dtype=torch.float64) + shift
        logit = -d * x + d * d / 2  # log pr/pg for N(0, 1) against N(d, 1)
        (minimax,) = torch.autograd.grad(torch.nn.functional.logsigmoid(-logit).mean(), shift, retain_graph=True)
        (saturating,) = torch.autograd.grad(-torch.nn.functional.logsigmoid(logit).mean(), shift)
        assert minimax_gradient_ratio_at_optimum(d) == pytest.approx(abs(minimax / saturating).item(), rel=0.03)
    assert minimax_gradient_ratio_at_optimum(8.0) < 1e-4 < 0.01 < minimax_gradient_ratio_at_optimum(4.0)


def test_the_end_of_a_gradient_curve_is_its_last_tenths_median_not_one_noisy_point():
    from gan_cli.claims.minimax_gradient_vanishes import settled

    curve = [(step, 1e-5) for step in range(0, 100)] + [(100, 1e-2)]  # a spike at the last point
    assert settled(curve) == 1e-5
    assert settled([(0, 3.0)]) == 3.0


def test_a_claims_job_reads_the_config_it_ran_with_not_the_overrides_alone(tmp_path):
    from gan_cli.claims.runs import RunJob

    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("dataset:\n  offset: 8.0\nmodel:\n  pack: 2\n")
    job = RunJob(tmp_path, "completed", {"loss": "gan"}, {})  # the offset came from the preset
    assert job.config_value("dataset.offset") == 8.0 and job.config_value("model.pack") == 2
    assert job.config_value("dataset.missing") is None
    assert RunJob(tmp_path / "never_started", "failed", {}, {}).config_value("dataset.offset") is None


def test_eval_estimate_is_the_critic_on_the_evaluation_samples():
    from types import SimpleNamespace

    from gan_cli.evaluation.during_training import Evaluation
    from gan_cli.objectives.losses import NonSaturatingGANLoss, WassersteinLoss

    critic = torch.nn.Linear(1, 1)
    real, fake = torch.randn(100, 1), torch.randn(100, 1) + 2
    module = SimpleNamespace(discriminator=critic, loss=WassersteinLoss(), device=torch.device("cpu"),
                             dataset=object(), batch_size=50)
    metrics = Evaluation(every_n_steps=1).metrics(module, real, fake)
    expected = (critic(real).mean() - critic(fake).mean()).item()
    assert metrics["eval/wasserstein_estimate"] == pytest.approx(expected, rel=1e-5)
    assert "eval/wasserstein_exact" in metrics  # from the same real and fake samples
    module.loss = NonSaturatingGANLoss()
    gan = Evaluation(every_n_steps=1).metrics(module, real, fake)
    assert gan["eval/discriminator_loss"] == pytest.approx(
        NonSaturatingGANLoss().discriminator_objective(critic(real), critic(fake)).item(), rel=1e-5)


@pytest.mark.parametrize("loss, optimizer, lr, betas", [("wgan", "rmsprop", 5e-5, None),
                                                        ("wgan_gp", "adam", 1e-4, (0.5, 0.9))])
def test_wgan_paper_gives_each_loss_its_own_papers_optimizer(tmp_path, loss, optimizer, lr, betas):
    from hydra.utils import instantiate

    cfg = compose_config(tmp_path, ["experiment=wgan_paper", f"loss={loss}"])
    opt = instantiate(cfg.optim.discriminator)([torch.nn.Parameter(torch.zeros(1))])
    assert type(opt).__name__.lower() == optimizer and opt.defaults["lr"] == pytest.approx(lr)
    if betas:
        assert tuple(opt.defaults["betas"]) == betas and cfg.loss.n_critic == 5 and "n_critic_warmup" not in cfg.loss
    else:
        assert cfg.loss.n_critic_warmup == 100


def test_w1_floor_is_the_distance_between_two_real_samples():
    from gan_cli.data.toy import Gaussian1D
    from gan_cli.evaluation.w1_floor import wasserstein_floor

    floor = wasserstein_floor(Gaussian1D(), 2000, repeats=4)
    # E W1 of two n-point samples of N(0,1) is of order n^-1/2: well above 0, well below 0.2
    assert 0.005 < floor["mean"] < 0.1 and floor["std"] > 0


@pytest.mark.slow
def test_gan_claims_smoke_writes_a_report_whose_verdicts_follow_from_its_numbers(tmp_path):
    # one claim at smoke size (seconds): the packed D, which also checks the tag's new name
    result = run_cli("gan-claims", "--smoke", "--only", "js_estimate_under_packing", "--out", "report",
                     cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    entries = json.loads((tmp_path / "report" / "claims.json").read_text())
    assert [e["id"] for e in entries] == ["js_estimate_under_packing"]
    entry = entries[0]
    assert {"id", "statement", "command", "verdict", "numbers", "figures"} <= entry.keys()
    assert entry["command"].startswith("gan-run -m experiment=js_estimate_under_packing")
    numbers = entry["numbers"]
    assert numbers["logs_pack_js_estimate"] and not numbers["logs_js_estimate"]
    assert numbers["js_exact_packs"] == pytest.approx(0.2013, abs=1e-3)
    close = abs(numbers["js_estimate"] - numbers["js_exact_packs"]) <= 0.02 < abs(numbers["js_estimate"] - numbers["js_exact_single"])
    assert entry["verdict"] == ("held" if close else "not_held")
    report = (tmp_path / "report" / "claims.md").read_text()
    assert "| js_estimate_under_packing |" in report and entry["command"] in report
    for figure in entry["figures"]:
        assert (tmp_path / "report" / figure).is_file()

    # an earlier report's other claims are kept; --no-run computes the verdict again from the runs
    earlier = {**entry, "id": "optimal_d_is_js", "reason": "from an earlier report"}
    (tmp_path / "report" / "claims.json").write_text(json.dumps([entry, earlier]))
    again = run_cli("gan-claims", "--smoke", "--only", "js_estimate_under_packing", "--no-run", "--out", "report",
                    cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert again.returncode == 0, again.stderr
    merged = json.loads((tmp_path / "report" / "claims.json").read_text())
    assert [e["id"] for e in merged] == ["optimal_d_is_js", "js_estimate_under_packing"]  # all_claims' order
    assert merged[1]["numbers"] == entry["numbers"] and merged[1]["wall_time_s"] is None
    assert "kept from the earlier report" in (tmp_path / "report" / "claims.md").read_text()
    missing = run_cli("gan-claims", "--only", "optimal_d_is_js", "--no-run", "--out", "report", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.startswith("error: --no-run: no runs of optimal_d_is_js")


def test_every_claim_declares_a_statement_a_preset_and_all_three_sizes():
    from gan_cli.claims.cli import all_claims

    presets = {p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / "experiment").glob("*.yaml")}
    claims = all_claims()
    assert len({c.id for c in claims}) == 7
    for claim in claims:
        assert claim.statement and claim.thresholds and claim.preset in presets
        assert set(claim.sizes) == {"full", "quick", "smoke"} and "trainer=smoke" in claim.sizes["smoke"]


@pytest.mark.parametrize("claim_id", ["optimal_d_is_js", "minimax_gradient_vanishes", "wgan_loss_tracks_quality",
                                      "wgan_reduces_mode_collapse", "momentum_destabilises_wgan",
                                      "js_estimate_under_packing", "wgan_trains_mlp_generator"])
def test_each_claims_runs_compose_at_every_size(tmp_path, claim_id):
    from gan_cli.claims.cli import all_claims
    from gan_cli.config import check

    claim = next(c for c in all_claims() if c.id == claim_id)
    for size in ("full", "quick", "smoke"):
        # one job of the sweep: the first value of every swept key
        overrides = [o.split(",")[0] for o in claim.overrides(size)]
        check(compose_config(tmp_path / size, overrides))


def test_mlp_generator_verdict_follows_fid_and_divergence(tmp_path):
    from gan_cli.claims.claim import HELD, INCONCLUSIVE, NOT_HELD
    from gan_cli.claims.runs import RunJob
    from gan_cli.claims.wgan_trains_mlp_generator import WganTrainsMlpGenerator

    def runs(gan_fids, wgan_fids):  # a fid of None: the run diverged
        made = []
        for loss, fids in (("gan", gan_fids), ("wgan", wgan_fids)):
            for seed, fid in enumerate(fids):
                folder = tmp_path / f"{loss}_{seed}_{len(list(tmp_path.iterdir()))}"
                folder.mkdir()
                final = {} if fid is None else {"eval/fid": fid, "eval/precision": 0.5, "eval/recall": 0.5}
                made.append(RunJob(folder, "diverged" if fid is None else "completed",
                                   {"loss": loss, "seed": str(seed)}, {"steps": 10, "final": final}))
        return made

    claim = WganTrainsMlpGenerator()
    held = claim.outcome(runs([300.0, 320.0, 310.0, 330.0, 305.0], [100.0, 110.0, 90.0, 95.0, 120.0]), tmp_path)
    assert held.verdict == HELD and held.numbers["tests"]["metric_test"]["effect"] == pytest.approx(210.0)
    assert (tmp_path / held.figures[0]).is_file()
    assert claim.outcome(runs([None] * 5, [100.0] * 5), tmp_path).verdict == HELD  # 5/5 against 0/5: p = 1/252
    assert claim.outcome(runs([None, None], [100.0, 120.0]), tmp_path).verdict == INCONCLUSIVE  # 2 against 0: p = 1/6
    assert claim.outcome(runs([100.0, 110.0, 105, 95, 102], [150.0, 165.0, 148, 170, 151]), tmp_path).verdict == NOT_HELD
    assert claim.outcome(runs([100.0] * 5, [None] * 5), tmp_path).verdict == NOT_HELD  # the WGAN diverged
    assert claim.outcome(runs([100.0, 200.0], [90.0, 180.0]), tmp_path).verdict == INCONCLUSIVE
    assert claim.outcome(runs([300.0], [100.0]), tmp_path).verdict == INCONCLUSIVE  # one seed each


# ---- each seed-based rule's false-positive rate, simulated under no effect --------------------

STUDIES = 2000


def _seeds(values) -> dict[str, float]:
    return {str(i): float(v) for i, v in enumerate(values)}


def test_mode_collapse_rule_under_no_effect_says_held_at_most_alpha():
    """Both losses' mode counts drawn from one distribution (with the ties of integer counts),
    the high-quality share above the floor: the rule says held in at most α of 2,000 studies."""
    from gan_cli.claims.wgan_reduces_mode_collapse import ALPHA, decide

    rng = np.random.default_rng(0)
    held = sum(decide(_seeds(rng.binomial(25, 0.85, 5)), _seeds(rng.binomial(25, 0.85, 5)), 95.0, 0)[0] == "held"
               for _ in range(STUDIES))
    assert held / STUDIES <= ALPHA, held / STUDIES


def test_mode_collapse_rule_refuses_a_one_mode_win_without_spread_and_a_diffuse_cloud():
    from gan_cli.claims.wgan_reduces_mode_collapse import decide

    assert decide(_seeds([25, 25, 25]), _seeds([24, 24, 24]), 95.0, 0)[0] == "inconclusive"  # exact p = 0.25
    assert decide(_seeds([18, 17, 19, 18, 17]), _seeds([4, 5, 4, 3, 6]), 1.5, 0)[0] == "inconclusive"  # 1.5 % HQ
    assert decide(_seeds([18, 17, 19, 18, 17]), _seeds([4, 5, 4, 3, 6]), 80.0, 0)[0] == "held"
    assert decide(_seeds([4, 5, 4, 3, 6]), _seeds([18, 17, 19, 18, 17]), 80.0, 0)[0] == "not_held"


@pytest.mark.parametrize("divergence", [0.0, 0.3])
def test_momentum_rule_under_no_effect_says_held_at_most_alpha(divergence):
    """Adam and RMSProp alike: the same divergence probability and W1 distribution; two routes to
    held, each at α/2."""
    from gan_cli.claims.momentum_destabilises_wgan import ALPHA, decide

    rng = np.random.default_rng(1)
    held = 0
    for _ in range(STUDIES):
        diverged = {n: int(rng.binomial(5, divergence)) for n in ("adam", "rmsprop")}
        w1 = {n: _seeds(rng.normal(0.2, 0.03, 5 - diverged[n])) for n in ("adam", "rmsprop")}
        held += decide(diverged, {"adam": 5, "rmsprop": 5}, w1, 0)[0] == "held"
    assert held / STUDIES <= ALPHA, held / STUDIES


def test_momentum_rule_needs_more_than_one_divergence_in_three():
    from gan_cli.claims.momentum_destabilises_wgan import decide

    w1 = {"adam": _seeds([0.2, 0.21]), "rmsprop": _seeds([0.2, 0.19, 0.21])}
    assert decide({"adam": 1, "rmsprop": 0}, {"adam": 3, "rmsprop": 3}, w1, 0)[0] != "held"  # Fisher p = 0.5


def test_mlp_generator_rule_under_no_effect_says_held_at_most_alpha():
    from gan_cli.claims.wgan_trains_mlp_generator import ALPHA, decide

    rng = np.random.default_rng(2)
    held = 0
    for _ in range(STUDIES):
        diverged = {n: int(rng.binomial(5, 0.2)) for n in ("gan", "wgan")}
        fid = {n: _seeds(rng.lognormal(6.5, 0.3, 5 - diverged[n])) for n in ("gan", "wgan")}
        held += decide(diverged, {"gan": 5, "wgan": 5}, fid, 0)[0] == "held"
    assert held / STUDIES <= ALPHA, held / STUDIES
