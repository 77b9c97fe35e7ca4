"""Console entry point ``gan-report``: one table row per job of a sweep, or a study over seeds.

    gan-report outputs/multiruns/<timestamp>
    gan-report outputs/multiruns/<timestamp> --metrics 'eval/modes,*/loss' --csv jobs.csv
    gan-report outputs/multiruns/<timestamp> --plot modes.png --metric eval/modes
    gan-report outputs/multiruns/<timestamp> [more folders] --by loss --baseline loss=gan   (gan_cli.sweeps.study)

Everything comes from each job's ``summary.json`` (and ``.hydra/overrides.yaml``), so the
report is instant and imports neither torch nor, unless ``--plot`` is given, matplotlib.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from gan_cli.errors import GanRunError
from gan_cli.sweeps.jobs import BEST_PREFIX, Job, find_jobs
from gan_cli.sweeps.markdown import table
from gan_cli.evaluation.provenance import check_feature_spaces

# The protocol metrics are what compare jobs trained with different losses: the loss values
# themselves are on different scales (a JS estimate vs a Wasserstein estimate), and the
# gradient norms and scores are diagnostics for one run's curves, not for a ranking.
DEFAULT_METRICS = "eval/*,best eval/*,correlation/*"

DESCRIPTION = """\
Tabulate the jobs of a gan-run sweep (outputs/multiruns/<timestamp>) or a folder of
single runs (outputs/runs): one Markdown table row per job, sorted by job number,
read from each job's summary.json. Columns: job, status, the overrides that differ
between the jobs, steps, wall time, the chosen metrics, and an error column when a
job failed, diverged or was interrupted. Missing values are left blank; a job that
was killed before it wrote summary.json is listed with status "no summary"."""

EPILOG = f"""\
a study (--by):
  gan-run -m loss=gan,wgan_gp dataset=grid seed='range(5)' hydra/launcher=joblib
  gan-report outputs/multiruns/<timestamp> --by loss --baseline loss=gan
  prints, per group and metric, n, mean ± standard error, the 95 % t interval, min, max and how
  many jobs failed, diverged or were interrupted; then each group against the baseline (or every
  pair): the difference of means with its 95 % interval, a paired t-test where both groups have the
  same seeds (else Welch's; the exact permutation test where t is undefined), Holm-adjusted p-values
  and a verdict (better / worse / not separated) by the metric's declared direction.
  Default metrics there: 'eval/*,correlation/*' (best values are maxima over a run: biased upward).

metric names:
  every curve's final value is named by its TensorBoard tag (eval/modes, critic/loss, ...);
  the best value of an eval/* metric during training is "best eval/..." (best eval/modes).

default metrics ("{DEFAULT_METRICS}"):
  the evaluation metrics, final and best, side by side, and the correlation/* figures (WGAN runs:
  Spearman of the critic's estimate against the exact W1): they are comparable across losses and
  optimizers, unlike the losses. If no job has eval metrics, every metric is shown.
  --metrics '*' shows every metric.

examples:
  gan-report outputs/multiruns/2026-01-31_12-00-00
  gan-report outputs/multiruns/2026-01-31_12-00-00 --metrics 'eval/modes,*/loss'
  gan-report outputs/runs --csv runs.csv
  gan-report outputs/multiruns/2026-01-31_12-00-00 --plot modes.png --metric 'best eval/modes'"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gan-report", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sweep_dirs", metavar="SWEEP_DIR", nargs="+",
                        help="a sweep folder (outputs/multiruns/<timestamp>) or a folder of runs (outputs/runs); "
                             "several are read as one (a study continued in another sweep)")
    parser.add_argument("--metrics", metavar="PATTERN[,PATTERN...]",
                        help="comma-separated glob patterns choosing the metric columns, e.g. 'eval/*,*/loss' "
                             f"(default: '{DEFAULT_METRICS}', see below)")
    parser.add_argument("--csv", metavar="FILE",
                        help="also write the table to FILE as CSV, with metric values at full precision")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="also draw a bar chart of --metric across the jobs (PNG, or PDF/SVG by extension)")
    parser.add_argument("--metric", metavar="NAME",
                        help="the metric to plot with --plot, e.g. eval/modes or 'best eval/modes'")
    study = parser.add_argument_group("a study over seeds (the table becomes one row per group and metric)")
    study.add_argument("--by", metavar="KEY[,KEY...]",
                       help="group the jobs by these overrides (e.g. loss, or loss,optim); every other override "
                            "that varies must be a replicate key")
    study.add_argument("--replicate", metavar="KEY[,KEY...]",
                       help="the overrides that tell replicates apart (default: seed); they pair groups by seed")
    study.add_argument("--baseline", metavar="KEY=VALUE[,...]",
                       help="compare every group with this one (e.g. loss=gan); default: every pair of groups")
    study.add_argument("--alpha", type=float,
                       help="the significance level of the verdicts, after Holm's correction (default: 0.05)")
    study.add_argument("--json", metavar="FILE", help="also write the study (groups, values, tests) as JSON")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- choosing the columns


def metric_order(name: str) -> tuple[str, bool]:
    """Sort by tag, each final value just before its best one (eval/modes, best eval/modes)."""
    best = name.startswith(BEST_PREFIX)
    return (name[len(BEST_PREFIX):] if best else name, best)


def available_metrics(jobs: list[Job]) -> list[str]:
    """Every metric name that at least one job has."""
    return sorted({name for job in jobs for name in job.metrics}, key=metric_order)


def split_patterns(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def choose_metrics(jobs: list[Job], patterns_text: str | None, default: str = DEFAULT_METRICS) -> list[str]:
    """The metric columns: those matching ``--metrics`` in the order of its patterns, or the
    default described in --help."""
    available = available_metrics(jobs)
    if patterns_text is None:
        chosen = [m for m in available if any(fnmatchcase(m, p) for p in split_patterns(default))]
        return chosen or available
    patterns = split_patterns(patterns_text)
    if not patterns:
        raise GanRunError("--metrics is empty; give glob patterns such as 'eval/*,*/loss'")
    unmatched = [p for p in patterns if not any(fnmatchcase(m, p) for m in available)]
    if unmatched:
        raise GanRunError(f"--metrics {','.join(unmatched)} matches no metric of these jobs; {available_text(available)}")
    # in the order the patterns are given (--metrics eval/modes,eval/mode_kl: modes first),
    # each pattern's matches in the usual order
    return list(dict.fromkeys(m for p in patterns for m in available if fnmatchcase(m, p)))


def available_text(available: list[str]) -> str:
    return f"available: {', '.join(available)}" if available else "no job has any metric (did they all fail?)"


def swept_override_keys(jobs: list[Job]) -> list[str]:
    """The override keys whose value differs between jobs (all of them if there is one job).

    Jobs whose overrides are unknown (no summary.json, no overrides.yaml) take no part: they
    would make every key look swept."""
    known = [values for values in (job.override_values() for job in jobs) if values is not None]
    keys = list(dict.fromkeys(key for values in known for key in values))
    if len(jobs) == 1:
        return keys
    return [key for key in keys if len({values.get(key) for values in known}) > 1]


# ---------------------------------------------------------------- the table


def cell_text(value: Any, spec: str = ".4g") -> str:
    """A cell's text: blank for missing, numbers to ``spec``, strings ("nan") as they are."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


@dataclass
class Column:
    """One column of the report: its header, how to read its value from a job, how to show it."""

    header: str
    value: Callable[[Job], Any]
    text: Callable[[Any], str] = cell_text
    numeric: bool = False  # right-aligned in Markdown
    mark: Callable[[Job], str] = lambda job: ""  # appended in Markdown only (the floor's verdict)


def report_columns(jobs: list[Job], metrics: list[str]) -> list[Column]:
    """job, status, the swept overrides, steps, wall time, ``metrics``, and error if any job has one."""
    override_values = {job.name: job.override_values() or {} for job in jobs}
    swept = swept_override_keys(jobs)
    columns = [Column("job", lambda job: job.name), Column("status", lambda job: job.status)]
    columns += [Column(key, lambda job, key=key: override_values[job.name].get(key)) for key in swept]
    columns += [
        # the steps each job trained; "steps done" when the steps= override is a column too
        Column("steps done" if "steps" in swept else "steps", lambda job: job.steps, numeric=True),
        Column("wall time (s)", lambda job: job.wall_time_s, lambda v: cell_text(v, ".1f"), numeric=True),
    ]
    columns += [Column(name, lambda job, name=name: job.metrics.get(name), numeric=True,
                       mark=lambda job, name=name: floor_mark(job, name)) for name in metrics]
    if any(job.error for job in jobs):
        columns.append(Column("error", lambda job: job.error))
    return columns


def to_markdown(columns: list[Column], jobs: list[Job]) -> str:
    """A Markdown table, padded so that it also reads as a table in a terminal."""
    return table([c.header for c in columns], [[c.text(c.value(job)) + c.mark(job) for c in columns] for job in jobs],
                 {i for i, c in enumerate(columns) if c.numeric})


def write_csv(path: Path, columns: list[Column], jobs: list[Job]) -> None:
    """The same rows and columns as the Markdown table; numbers unrounded, missing values empty."""
    prepare_parent("--csv", path)
    try:
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([c.header for c in columns])
            for job in jobs:
                writer.writerow(["" if (v := c.value(job)) is None else v for c in columns])
    except OSError as e:
        raise GanRunError(f"--csv {path}: cannot write it: {e.strerror or e}") from e


# ---------------------------------------------------------------- the output files


def check_output_path(option: str, path: Path) -> None:
    """Refuse an output path that cannot be a file before anything is written; missing
    parent folders are fine (they are made), a parent that is a file is not."""
    if path.is_dir():
        raise GanRunError(f"{option} {path} is a folder; give a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise GanRunError(f"{option} {path}: cannot write it: {parent} is a file, not a folder")
            break


def prepare_parent(option: str, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise GanRunError(f"{option} {path}: cannot make its folder: {e.strerror or e}") from e


# ---------------------------------------------------------------- the plot


def check_plot_arguments(args: argparse.Namespace) -> None:
    if args.plot and not args.metric:
        raise GanRunError("--plot needs --metric NAME, the metric to draw (e.g. --metric eval/modes)")
    if args.metric and not args.plot:
        raise GanRunError("--metric only chooses what --plot draws; add --plot FILE.png (for table columns use --metrics)")
    if args.plot and not Path(args.plot).suffix:
        # matplotlib would quietly append .png, and the file would not be where it was asked for
        raise GanRunError(f"--plot {args.plot} has no extension; give a file name such as {args.plot}.png")


def plot_metric(path: Path, metric: str, jobs: list[Job], title: str) -> None:
    """Bar chart of one metric; a job without a finite value keeps its slot, labelled why."""
    available = available_metrics(jobs)
    if metric not in available:
        raise GanRunError(f"--metric {metric}: no job has this metric; {available_text(available)}")
    swept = swept_override_keys(jobs)
    labels = []
    for job in jobs:
        values = job.override_values() or {}
        labels.append("\n".join([f"job {job.name}", *(f"{k}={values[k]}" for k in swept if k in values)]))
    heights: list[float | None] = []
    notes: list[str] = []
    for job in jobs:
        value = job.metrics.get(metric)
        finite = isinstance(value, (int, float)) and math.isfinite(value)
        heights.append(float(value) if finite else None)
        # why there is no bar: the metric's own value ("nan") if it has one, else the job's status
        notes.append("" if finite else str(value) if value is not None else job.status)

    from gan_cli.commands.report_plot import bar_chart  # matplotlib only when a plot is asked for

    prepare_parent("--plot", path)
    try:
        bar_chart(path, labels, heights, notes, ylabel=metric, title=title)
    except OSError as e:
        raise GanRunError(f"--plot {path}: cannot write it: {e.strerror or e}") from e
    except ValueError as e:  # matplotlib: an extension it cannot write
        raise GanRunError(f"--plot {path}: {str(e).splitlines()[0]}") from e


def floor_mark(job: Job, name: str) -> str:
    """`` ≈ real`` where an image metric lies within its real-versus-real floor's spread."""
    value = job.metrics.get(name)
    if job.floor is None or not isinstance(value, (int, float)):
        return ""
    from gan_cli.evaluation.image_floor import within_floor

    return " ≈ real" if within_floor(name.removeprefix(BEST_PREFIX), float(value), job.floor) else ""


def floor_note(jobs: list[Job], metrics: list[str]) -> str:
    """A line per distinct floor of the image metrics shown, naming its jobs; '' without floors."""
    from gan_cli.evaluation.image_floor import SPREAD

    tags = list(dict.fromkeys(m.removeprefix(BEST_PREFIX) for m in metrics))
    lines: dict[str, list[str]] = {}
    for job in jobs:
        stats = (job.floor or {}).get("metrics", {})
        shown = [f"{tag} {stats[tag]['mean']:.4g} ± {stats[tag]['std']:.2g}" for tag in tags if tag in stats]
        misread = (job.floor or {}).get("misread") if "eval/modes" in tags else None
        if misread:  # Stacked MNIST: modes the classifier reads in real images of k true triples
            shown.append("eval/modes of real images of k true triples " +
                         ", ".join(f"{k}: {m['modes']}" for k, m in misread.items()))
        if shown:
            lines.setdefault(f"{', '.join(shown)} ({job.floor.get('protocol', '')})", []).append(job.name)
    if not lines:
        return ""
    head = (f"Real-vs-real floor (mean ± std); ≈ real: within {SPREAD:g} std of it, indistinguishable from "
            "real data:")
    return "\n".join(["", head, *(f"- jobs {', '.join(names)}: {text}" for text, names in lines.items())])


# ---------------------------------------------------------------- the command


def read_jobs(folders: list[str]) -> list[Job]:
    """The jobs of every folder; with several folders, each job is named by its folder too."""
    jobs = []
    for folder in folders:
        found = find_jobs(Path(folder))
        if len(folders) > 1:
            for job in found:
                job.name = f"{Path(folder).name}/{job.name}"
        jobs += found
    return jobs


def report(args: argparse.Namespace) -> str:
    """Write the --plot, --csv and --json files, if asked for, and return the Markdown table."""
    if args.by:
        return study_report(args)
    for option in ("replicate", "baseline", "json", "alpha"):
        if getattr(args, option) is not None:
            raise GanRunError(f"--{option} belongs to a study; add --by KEY (e.g. --by loss)")
    check_plot_arguments(args)
    for option, path in (("--csv", args.csv), ("--plot", args.plot)):
        if path:
            check_output_path(option, Path(path))
    jobs = read_jobs(args.sweep_dirs)
    metrics = choose_metrics(jobs, args.metrics)
    check_feature_spaces(jobs, metrics)  # one FID column never mixes extractors
    columns = report_columns(jobs, metrics)
    if args.plot:
        name = ", ".join(Path(d).resolve().name for d in args.sweep_dirs)
        plot_metric(Path(args.plot), args.metric, jobs, title=f"{args.metric}: {name}")
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.csv:
        write_csv(Path(args.csv), columns, jobs)
        print(f"wrote {args.csv}", file=sys.stderr)
    return to_markdown(columns, jobs) + floor_note(jobs, metrics)


#: a study's defaults, filled in only under --by, so that any of these options without it is refused
STUDY_DEFAULTS = {"replicate": "seed", "alpha": 0.05}


def split_keys(option: str, text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise GanRunError(f"--{option} is empty; give override keys such as loss or loss,optim")
    return keys


def study_report(args: argparse.Namespace) -> str:
    """gan_cli.sweeps.study over the jobs: groups by --by, replicates by --replicate, tests between groups."""
    from gan_cli.sweeps import study

    for option, default in STUDY_DEFAULTS.items():
        if getattr(args, option) is None:
            setattr(args, option, default)
    if not 0 < args.alpha < 1:
        raise GanRunError(f"--alpha={args.alpha} is not accepted; accepted: a number between 0 and 1, e.g. 0.05")
    by, replicate_keys = split_keys("by", args.by), split_keys("replicate", args.replicate)
    if set(by) & set(replicate_keys):
        raise GanRunError(f"--by and --replicate share {', '.join(sorted(set(by) & set(replicate_keys)))}; a key "
                          "either defines the groups or tells replicates apart")
    if args.metric and not args.plot:
        raise GanRunError("--metric only chooses what --plot draws; add --plot FILE.png (for the metrics use --metrics)")
    for option, path in (("--csv", args.csv), ("--plot", args.plot), ("--json", args.json)):
        if path:
            check_output_path(option, Path(path))
    if args.plot and not Path(args.plot).suffix:
        raise GanRunError(f"--plot {args.plot} has no extension; give a file name such as {args.plot}.png")
    jobs = read_jobs(args.sweep_dirs)
    groups, unknown = study.group_jobs(jobs, by, replicate_keys)
    grouped = [job for g in groups for job in g.jobs]
    metrics = choose_metrics(grouped, args.metrics, STUDY_METRICS)
    check_feature_spaces(grouped, metrics)
    result = study.analyse(groups, metrics, replicate_keys, args.baseline, args.alpha)
    if args.plot:
        shown = {args.metric: result["metrics"][args.metric]} if args.metric in result["metrics"] else None
        if args.metric and shown is None:
            raise GanRunError(f"--metric {args.metric}: not among the study's metrics ({', '.join(metrics)})")
        from gan_cli.commands.report_plot import group_means

        prepare_parent("--plot", Path(args.plot))
        try:
            names = {g["label"]: "\n".join(g["settings"].values()) for g in result["groups"]}  # the keys are in the title
            group_means(Path(args.plot), shown or result["metrics"], title=f"by {', '.join(by)}", names=names)
        except (OSError, ValueError) as e:
            raise GanRunError(f"--plot {args.plot}: cannot write it: {str(e).splitlines()[0]}") from e
        print(f"wrote {args.plot}", file=sys.stderr)
    for option, path, write in (("--csv", args.csv, lambda p: write_rows(p, study.CSV_COLUMNS, study.csv_rows(result))),
                                ("--json", args.json, lambda p: study.write_json(p, result))):
        if path:
            prepare_parent(option, Path(path))
            try:
                write(Path(path))
            except OSError as e:
                raise GanRunError(f"{option} {path}: cannot write it: {e.strerror or e}") from e
            print(f"wrote {path}", file=sys.stderr)
    return study.to_markdown(result, by, unknown)


#: a study's default metrics: final evaluations, not the best over a run (a maximum is biased upward)
STUDY_METRICS = "eval/*,correlation/*"


def write_rows(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        table = report(args)
    except GanRunError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    # stdout carries only the table, so that `gan-report DIR > jobs.md` is a Markdown file
    print(table)


if __name__ == "__main__":
    main()
