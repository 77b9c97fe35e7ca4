"""gan-claims: run each claim's experiment through gan-run, then write the report.

    gan-claims [--quick] [--out DIR] [--jobs N] [--only ID,...] [--no-run]

Writes DIR/claims.md, DIR/claims.json, DIR/*.png and, per claim, DIR/runs/<claim>/ (the gan-run
sweep) and DIR/runs/<claim>.log (its output). Exit status 0 when every claim got a verdict,
whatever the verdicts are: a claim that does not hold is a result.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gan_cli.errors import GanRunError


def all_claims() -> list:
    from gan_cli.claims.js_estimate_under_packing import JsEstimateUnderPacking
    from gan_cli.claims.minimax_gradient_vanishes import MinimaxGradientVanishes
    from gan_cli.claims.momentum_destabilises_wgan import MomentumDestabilisesWgan
    from gan_cli.claims.optimal_d_is_js import OptimalDIsJS
    from gan_cli.claims.wgan_loss_tracks_quality import WganLossTracksQuality
    from gan_cli.claims.wgan_reduces_mode_collapse import WganReducesModeCollapse
    from gan_cli.claims.wgan_trains_mlp_generator import WganTrainsMlpGenerator

    return [OptimalDIsJS(), MinimaxGradientVanishes(), WganLossTracksQuality(), WganReducesModeCollapse(),
            MomentumDestabilisesWgan(), JsEstimateUnderPacking(), WganTrainsMlpGenerator()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gan-claims", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the same claims at smaller sizes (verdicts marked quick)")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # seconds: the test of the report's structure
    parser.add_argument("--out", default="claims", help="report folder (default: ./claims)")
    parser.add_argument("--jobs", type=int, default=None, help="parallel gan-run jobs (Hydra's joblib launcher; "
                        "default: the usable cores); gan-run's thread policy gives each its share of the cores")
    parser.add_argument("--only", default=None, help="comma-separated claim ids: run these alone; the other claims' "
                        "entries of a report already in --out are kept")
    parser.add_argument("--no-run", action="store_true", help="compute the verdicts from the runs already in "
                        "--out/runs (a stopped run's, or after a threshold changed) without running gan-run")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> list[dict]:
    from gan_cli.claims.report import verdict_table, write_json, write_markdown
    from gan_cli.claims.runs import launch, read_runs

    if args.jobs is None:  # toy jobs use a core each better than two threads do (docs/claims.md)
        from gan_cli.training.threads import usable_cores

        args.jobs = usable_cores()
    if args.jobs < 1:
        raise GanRunError(f"--jobs={args.jobs} is not accepted; accepted: an integer >= 1")
    size = "smoke" if args.smoke else "quick" if args.quick else "full"
    claims = all_claims()
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - {c.id for c in claims})
        if unknown:
            raise GanRunError(f"--only: unknown claim {', '.join(unknown)}; accepted: {', '.join(c.id for c in claims)}")
        claims = [c for c in claims if c.id in wanted]
    out = Path(args.out)
    earlier = earlier_report(out / "claims.json") if args.only else []  # read first: a bad file fails before any run
    (out / "runs").mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    entries = []
    for claim in claims:
        sweep_dir = (out / "runs" / claim.id).resolve()
        print(f"{claim.id}: {claim.command(size)}", flush=True)
        began, measured = time.monotonic(), time.strftime("%Y-%m-%d %H:%M %Z")
        if args.no_run:
            if not sweep_dir.is_dir():
                raise GanRunError(f"--no-run: no runs of {claim.id} in {sweep_dir}")
            status = None
        else:
            status = launch(claim.overrides(size), sweep_dir, args.jobs, out / "runs" / f"{claim.id}.log")
        outcome = claim.outcome(read_runs(sweep_dir), out)
        print(f"  {outcome.verdict} ({time.monotonic() - began:.0f} s, "
              f"{'gan-run not run' if args.no_run else f'gan-run exit {status}'}): {outcome.reason}",
              flush=True)
        entries.append({"id": claim.id, "statement": claim.statement, "command": claim.command(size),
                        "verdict": outcome.verdict, "numbers": outcome.numbers, "figures": outcome.figures,
                        "reason": outcome.reason, "thresholds": claim.thresholds, "test": claim.test,
                        "alpha": claim.alpha, "source": claim.source,
                        "size": size, "gan_run_exit_status": status, "measured": measured,
                        "wall_time_s": None if args.no_run else round(time.monotonic() - began)})
    rerun = {e["id"] for e in entries}
    kept = [e for e in earlier if e["id"] not in rerun]
    order = {c.id: i for i, c in enumerate(all_claims())}
    report = sorted(kept + entries, key=lambda e: order.get(e["id"], len(order)))
    write_json(out / "claims.json", report)
    write_markdown(out / "claims.md", report, size, None if args.no_run else time.monotonic() - start,
                   [e["id"] for e in kept])
    print(verdict_table(entries))
    print(f"report: {out / 'claims.md'}  ({time.monotonic() - start:.0f} s)")
    return entries


def earlier_report(path: Path) -> list[dict]:
    """The entries of an earlier report at ``path`` (``--only`` re-runs some claims and keeps the
    rest of it), or GanRunError naming the file if it is not a claims.json that gan-claims wrote."""
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise GanRunError(f"--only: {path} is not a readable report ({type(e).__name__}: {str(e)[:120]}); "
                          "move it away or run without --only") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), str)
                                                for e in entries):
        raise GanRunError(f"--only: {path} is not a gan-claims report (a list of entries with an 'id'); "
                          "move it away or run without --only")
    return entries


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except GanRunError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
