"""A study: jobs grouped by the settings compared (``--by``), their replicates (seeds) aggregated,
and the groups compared with the tests of gan_cli.statistics. Light to import (no torch).

Protocol, as gan-report states it under every study table:
- a replicate is a job that completed; a job that failed, diverged or was interrupted is counted
  in its group's row, never averaged and never silently dropped, and a completed job without a
  finite value of a metric is counted as missing for that metric;
- every override that is neither in ``--by`` nor a replicate key (``seed`` unless told) must be
  the same in every job: unlike runs are refused, naming the key, never pooled;
- groups are compared with the difference of their means, paired by seed where both groups hold
  the same seeds, with a 95 % confidence interval and a two-sided p-value; p-values are
  Holm-adjusted over the comparisons of one metric, and the verdict is read at α; groups trained
  on different datasets are not compared (their metrics are on different scales).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from gan_cli.evaluation.directions import higher_is_better
from gan_cli.errors import GanRunError
from gan_cli.sweeps.jobs import Job
from gan_cli.sweeps.markdown import table
from gan_cli.statistics import ALPHA, CONFIDENCE, Comparison, compare, describe, fisher, holm, verdict

#: overrides that say where or how a job ran, not what it trained: they may differ within a study
NOT_SETTINGS = ("hydra.", "hydra/", "ckpt_path", "progress", "threads", "rerun", "dataset.num_workers")
OUTCOMES = ("completed", "diverged", "failed", "interrupted")


def setting_key(override_key: str) -> str:
    """``+model.x`` / ``++model.x`` / ``~model.x`` → ``model.x``."""
    return override_key.lstrip("+~")


def is_setting(key: str) -> bool:
    return not any(key == s or key.startswith(s) for s in NOT_SETTINGS)


@dataclass
class Group:
    label: str  # "loss=gan" or "loss=gan, optim=adam"
    values: dict[str, str]  # the --by keys' values
    jobs: list[Job] = field(default_factory=list)

    def outcomes(self) -> dict[str, int]:
        counts = {outcome: sum(job.status == outcome for job in self.jobs) for outcome in OUTCOMES}
        counts["other"] = len(self.jobs) - sum(counts.values())  # no summary, unreadable, still running
        return counts

    def replicates(self, metric: str, replicate_keys: list[str]) -> tuple[dict[str, float], int]:
        """{replicate id: value} over the completed jobs with a finite value, and how many
        completed jobs lack one."""
        values: dict[str, float] = {}
        missing = 0
        for job in self.jobs:
            if job.status != "completed":
                continue
            value = job.metrics.get(metric)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                values[replicate_id(job, replicate_keys)] = float(value)
            else:
                missing += 1
        return values, missing


def replicate_id(job: Job, replicate_keys: list[str]) -> str:
    settings = job_settings(job)
    return ",".join(f"{key}={settings[key] if key in settings else default_setting(job, key)}" for key in replicate_keys)


def job_settings(job: Job) -> dict[str, str]:
    return {setting_key(k): canonical(v) for k, v in (job.override_values() or {}).items()
            if is_setting(setting_key(k))}


def canonical(value: str) -> str:
    """An override's value as YAML reads it, so ``1e-3`` and ``0.001``, ``[8,8]`` and ``[8, 8]`` agree."""
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, (dict, list, bool)) or parsed is None:
        return json.dumps(parsed) if not isinstance(parsed, str) else parsed
    return str(parsed) if not isinstance(parsed, float) else repr(parsed)


def default_setting(job: Job, key: str) -> str:
    """What a job that did not override ``key`` ran with: the option Hydra chose for a config
    group (``.hydra/hydra.yaml``), else the value in its composed config (``.hydra/config.yaml``);
    ``<default>`` where the folder does not say."""
    import yaml

    try:
        hydra = yaml.safe_load((job.folder / ".hydra" / "hydra.yaml").read_text()) or {}
        choice = ((hydra.get("hydra") or {}).get("runtime") or {}).get("choices", {}).get(key)
        if isinstance(choice, str):
            return choice
        node: Any = yaml.safe_load((job.folder / ".hydra" / "config.yaml").read_text()) or {}
        for part in key.split("."):
            node = node[part]
        if not isinstance(node, dict):
            return canonical(yaml.safe_dump(node, default_flow_style=True).strip().removesuffix("..."))
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        pass
    return "<default>"


def group_jobs(jobs: list[Job], by: list[str], replicate_keys: list[str]) -> tuple[list[Group], list[Job]]:
    """The groups (in order of first appearance) and the jobs without recorded overrides.

    Raises GanRunError for a ``--by`` key no job sets, a setting that differs between jobs but is
    neither in ``by`` nor a replicate key, or two jobs of a group with the same replicate id."""
    known = [job for job in jobs if job.overrides is not None]
    unknown = [job for job in jobs if job.overrides is None]
    if not known:
        raise GanRunError("no job has recorded overrides (summary.json or .hydra/overrides.yaml); nothing to group")
    settings = {id(job): job_settings(job) for job in known}
    all_keys = list(dict.fromkeys(key for job in known for key in settings[id(job)]))
    for job in known:  # a key one job set and another left at its default: the value it ran with
        for key in all_keys:
            if key not in settings[id(job)]:
                settings[id(job)][key] = default_setting(job, key)
    for key in by:
        if key not in all_keys:
            raise GanRunError(f"--by {key}: no job sets it; the jobs' settings: {', '.join(all_keys) or 'none'}")
    for key in all_keys:
        if key in by or key in replicate_keys:
            continue
        seen: dict[str, list[str]] = {}
        for job in known:
            seen.setdefault(settings[id(job)].get(key, "<default>"), []).append(job.name)
        if len(seen) > 1:
            where = "; ".join(f"{key}={value} in {_names(names)}" for value, names in seen.items())
            raise GanRunError(f"{key} differs between the jobs ({where}) but is neither in --by nor a replicate key "
                              f"(--replicate {','.join(replicate_keys)}); unlike runs are never pooled: add it to "
                              f"--by (--by {','.join([*by, key])}) or report those jobs separately")
    groups: dict[tuple, Group] = {}
    for job in known:
        values = {key: settings[id(job)].get(key, "<default>") for key in by}
        group = groups.setdefault(tuple(values.values()), Group(", ".join(f"{k}={v}" for k, v in values.items()), values))
        group.jobs.append(job)
    for group in groups.values():
        seen_ids: dict[str, str] = {}
        for job in group.jobs:
            rid = replicate_id(job, replicate_keys)
            if rid in seen_ids:
                raise GanRunError(f"{group.label}: jobs {seen_ids[rid]} and {job.name} are both {rid}; a replicate key "
                                  "must tell a group's jobs apart (the same folder given twice, or a run repeated "
                                  "with the same seed?)")
            seen_ids[rid] = job.name
    return list(groups.values()), unknown


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return f"job{'s' if len(names) > 1 else ''} {shown}"


def comparison_pairs(groups: list[Group], baseline: str | None) -> list[tuple[Group, Group]]:
    """(group, the group it is compared with). Without ``--baseline``: every pair. With
    ``--baseline key=value[,...]`` naming every --by key: each group against that group. Naming
    some of them (``--by dataset,constraint --baseline constraint=clip``): each group against the
    baseline group with the same values of the other keys (clip on the same dataset)."""
    if baseline is None:
        return list(combinations(groups, 2))
    parts = [part.strip() for part in baseline.split(",") if part.strip()]
    wanted = dict(part.split("=", 1) for part in parts if "=" in part)
    keys = set(groups[0].values)
    if not wanted or len(wanted) != len(parts) or not set(wanted) <= keys:
        raise GanRunError(f"--baseline {baseline}: give KEY=VALUE of the --by keys ({', '.join(sorted(keys))}), "
                          f"e.g. --baseline {next(iter(sorted(keys)))}={groups[0].values[next(iter(sorted(keys)))]}")
    if not any(all(g.values[k] == v for k, v in wanted.items()) for g in groups):
        raise GanRunError(f"--baseline {baseline} matches no group; the groups: {'; '.join(g.label for g in groups)}")
    others = [key for key in groups[0].values if key not in wanted]
    pairs = []
    for group in groups:
        if all(group.values[k] == v for k, v in wanted.items()):
            continue
        matches = [g for g in groups if all(g.values[k] == v for k, v in wanted.items())
                   and all(g.values[k] == group.values[k] for k in others)]
        if len(matches) != 1:
            raise GanRunError(f"--baseline {baseline}: no group {', '.join([*(f'{k}={v}' for k, v in wanted.items()), *(f'{k}={group.values[k]}' for k in others)])} "
                              f"to compare {group.label} with; the groups: {'; '.join(g.label for g in groups)}")
        pairs.append((group, matches[0]))
    return pairs


def analyse(groups: list[Group], metrics: list[str], replicate_keys: list[str], baseline: str | None,
            alpha: float = ALPHA) -> dict[str, Any]:
    """Everything the study's outputs show, as plain data (what --json writes)."""
    pairs = comparison_pairs(groups, baseline)
    result: dict[str, Any] = {
        "protocol": {"replicate_keys": replicate_keys, "alpha": alpha, "confidence": CONFIDENCE,
                     "correction": "Holm, over the comparisons of each metric",
                     "baseline": baseline},
        "groups": [{"label": g.label, "settings": g.values, "jobs": [str(j.folder) for j in g.jobs],
                    "outcomes": g.outcomes()} for g in groups],
        "metrics": {},
    }
    reasons = [not_comparable(a, b) for a, b in pairs]
    for metric in metrics:
        direction = higher_is_better(metric)
        per_group = {}
        replicates = {}
        for g in groups:
            values, missing = g.replicates(metric, replicate_keys)
            replicates[g.label] = values
            per_group[g.label] = {**describe(list(values.values())).as_dict(), "missing": missing, "values": values}
        comparisons = [{"group": a.label, "against": b.label,
                        **(Comparison(None, None, None, reason, None, False, len(replicates[a.label]),
                                      len(replicates[b.label])) if reason
                           else compare(replicates[a.label], replicates[b.label])).as_dict()}
                       for (a, b), reason in zip(pairs, reasons)]
        for c, p in zip(comparisons, holm([c["p_value"] for c in comparisons])):
            c["p_holm"] = p
            c["verdict"] = verdict(c["difference"], p, alpha, direction)
        result["metrics"][metric] = {"higher_is_better": direction, "groups": per_group, "comparisons": comparisons}
    result["completion"] = completion_comparisons(groups, pairs, alpha)
    return result


def not_comparable(a: Group, b: Group) -> str | None:
    """Why two groups are not compared, or None: groups trained on different datasets
    (``--by experiment`` over ring_benchmark and grid_benchmark) measure their metrics on
    different scales (8 modes against 25), so their difference means nothing."""
    datasets = [sorted({job_settings(job).get("dataset") or default_setting(job, "dataset") for job in group.jobs})
                for group in (a, b)]
    if datasets[0] == datasets[1]:
        return None
    return f"none (different datasets: {', '.join(datasets[0])} and {', '.join(datasets[1])})"


def completion_comparisons(groups: list[Group], pairs: list[tuple[Group, Group]], alpha: float) -> list[dict]:
    """Whether groups differ in how many of their jobs completed: Fisher's exact test, Holm over
    the pairs. Only when some job did not complete."""
    if all(job.status == "completed" for g in groups for job in g.jobs):
        return []
    rows = []
    for a, b in pairs:
        ca, cb = a.outcomes()["completed"], b.outcomes()["completed"]
        rows.append({"group": a.label, "against": b.label, "completed": [ca, len(a.jobs)],
                     "completed_against": [cb, len(b.jobs)], "test": "Fisher's exact test",
                     "p_value": fisher(ca, len(a.jobs), cb, len(b.jobs))})
    for row, p in zip(rows, holm([r["p_value"] for r in rows])):
        share = row["completed"][0] / row["completed"][1] - row["completed_against"][0] / row["completed_against"][1]
        row["p_holm"] = p
        row["verdict"] = verdict(share, p, alpha, True)
    return rows


# ---------------------------------------------------------------- how it reads


def number(value: float | None, spec: str = ".4g") -> str:
    return "" if value is None else format(value, spec)


def signed(value: float | None) -> str:
    return "" if value is None else format(value, "+.4g")


def interval(low: float | None, high: float | None) -> str:
    return "" if low is None else f"[{low:.4g}, {high:.4g}]"


def p_text(p: float | None) -> str:
    return "" if p is None else (f"{p:.3g}" if p >= 1e-4 else f"{p:.1e}")


def to_markdown(result: dict[str, Any], by: list[str], unknown: list[Job]) -> str:
    protocol = result["protocol"]
    groups = result["groups"]
    alpha = protocol["alpha"]
    level = f"{round(100 * protocol['confidence'])} %"
    lines = [f"Study by {', '.join(by)}: {sum(len(g['jobs']) for g in groups)} jobs in {len(groups)} groups; "
             f"replicates told apart by {', '.join(protocol['replicate_keys'])}; "
             + (f"each group against {protocol['baseline']}" if protocol["baseline"] else "every pair of groups")
             + f"; α = {alpha:g}, {protocol['correction']}.", ""]
    lines.append(table(["group", "jobs", *OUTCOMES, "other"],
                       [[g["label"], str(len(g["jobs"])), *(str(g["outcomes"][o]) for o in (*OUTCOMES, "other"))]
                        for g in groups], set(range(1, 7))))
    for metric, block in result["metrics"].items():
        direction = {True: "higher is better", False: "lower is better", None: "no better direction declared"}
        lines += ["", f"### {metric} ({direction[block['higher_is_better']]})", ""]
        lines.append(table(["group", "n", "mean ± s.e.", f"{level} CI", "min", "max", "missing"],
                           [[label, str(d["n"]), number(d["mean"]) + (f" ± {d['se']:.2g}" if d["se"] is not None else ""),
                             interval(d["ci_low"], d["ci_high"]), number(d["minimum"]), number(d["maximum"]),
                             str(d["missing"])] for label, d in block["groups"].items()], {1, 2, 4, 5, 6}))
        if block["comparisons"]:
            lines.append("")
            lines.append(table(["comparison", "difference", f"{level} CI", "test", "p", "p (Holm)", "verdict"],
                               [[f"{c['group']} − {c['against']}", signed(c["difference"]),
                                 interval(c["ci_low"], c["ci_high"]), c["test"], p_text(c["p_value"]),
                                 p_text(c["p_holm"]), c["verdict"]] for c in block["comparisons"]], {1, 4, 5}))
    if result["completion"]:
        lines += ["", "### jobs completed (higher is better)", ""]
        lines.append(table(["comparison", "completed", "test", "p", "p (Holm)", "verdict"],
                           [[f"{c['group']} − {c['against']}", f"{c['completed'][0]}/{c['completed'][1]} vs "
                             f"{c['completed_against'][0]}/{c['completed_against'][1]}", c["test"],
                             p_text(c["p_value"]), p_text(c["p_holm"]), c["verdict"]] for c in result["completion"]],
                           {3, 4}))
    lines += ["", f"A replicate is a completed job; failed, diverged and interrupted jobs are counted above, and "
              f"'missing' counts completed jobs without a finite value. 'not separated' means the data do not show "
              f"a difference at α = {alpha:g}, not that there is none."]
    if unknown:
        lines.append(f"Left out, with no recorded overrides: {_names([j.name for j in unknown])}.")
    return "\n".join(lines)


def csv_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group and metric, then one per comparison: the long form a spreadsheet pivots."""
    rows = []
    for metric, block in result["metrics"].items():
        for label, d in block["groups"].items():
            rows.append({"row": "group", "metric": metric, "group": label, "against": "",
                         **{k: d[k] for k in ("n", "mean", "se", "ci_low", "ci_high", "minimum", "maximum", "missing")}})
        for c in block["comparisons"]:
            rows.append({"row": "comparison", "metric": metric, "group": c["group"], "against": c["against"],
                         "n": f"{c['n_a']}/{c['n_b']}", "mean": c["difference"], "ci_low": c["ci_low"],
                         "ci_high": c["ci_high"], "test": c["test"], "p": c["p_value"], "p_holm": c["p_holm"],
                         "verdict": c["verdict"]})
    return rows


CSV_COLUMNS = ["row", "metric", "group", "against", "n", "mean", "se", "ci_low", "ci_high", "minimum", "maximum",
               "missing", "test", "p", "p_holm", "verdict"]


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
