"""claims.md and claims.json: per claim its statement, command, figures, numbers and verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def verdict_table(entries: list[dict[str, Any]]) -> str:
    """The table gan-claims prints and claims.md opens with."""
    lines = ["| claim | verdict | why |", "| --- | --- | --- |"]
    for e in entries:
        verdict = e["verdict"] + (" (quick)" if e.get("size") == "quick" else "")
        lines.append(f"| {e['id']} | {verdict} | {e['reason'].replace('|', '/')} |")
    return "\n".join(lines)


def write_json(path: Path, entries: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps(entries, indent=2, ensure_ascii=False, default=float) + "\n")


def write_markdown(path: Path, entries: list[dict[str, Any]], size: str, wall_time_s: float | None,
                   kept: list[str] = ()) -> None:
    """``kept``: the ids of entries carried over from an earlier report (``gan-claims --only``)."""
    sizes = sorted({e.get("size", size) for e in entries})
    parts = [
        "# The seed claims, measured by gan-run",
        "",
        f"Size: **{', '.join(sizes)}**" + (" (verdicts from reduced runs: indicative only)" if sizes != ["full"] else "")
        + (f". Wall time {wall_time_s:.0f} s" if wall_time_s is not None else ". Verdicts computed from existing runs")
        + (f" for {', '.join(e['id'] for e in entries if e['id'] not in kept)}; the other entries are kept from the "
           "earlier report in this folder (each claim's section says when it was measured)" if kept else "")
        + ". Every verdict is computed from the numbers in claims.json and the thresholds stated under each claim "
        "(gan_cli/claims/).",
        "",
        verdict_table(entries),
        "",
    ]
    for e in entries:
        parts += [
            f"## {e['id']}: {e['verdict']}" + (" (quick)" if size == "quick" else ""),
            "",
            f"> {e['statement']}",
            "",
            f"Source: {e['source']}.",
            "",
            f"Reproduce: `{e['command']}`",
            "",
            f"Verdict rule: {e['thresholds']}.",
            "",
            f"Result: {e['reason']}.",
            "",
        ]
        if e.get("measured"):
            parts += [f"Measured {e['measured']}" + (f" in {e['wall_time_s']} s" if e.get("wall_time_s") is not None
                                                     else " (verdict computed again from the runs)") + ".", ""]
        parts += [f"![{e['id']}]({figure})" for figure in e["figures"]]
        parts += ["", "<details><summary>numbers</summary>", "", "```json",
                  json.dumps(e["numbers"], indent=1, ensure_ascii=False, default=float)[:20000], "```", "",
                  "</details>", ""]
    path.write_text("\n".join(parts))
