"""``summary.json``: the one file that says how a run ended. Light to import (no torch)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any


class RunSummary:
    """``summary.json`` in the run folder. Written as "running" first, so a run that died
    without a word never looks complete, then rewritten with its final status."""

    def __init__(self, run_dir: Path, overrides: list[str], enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = run_dir / "summary.json"
        self.data: dict[str, Any] = {"status": "running", "overrides": overrides}
        self.start = time.monotonic()
        self.cpu_start = time.process_time()

    def write(self, **fields: Any) -> None:
        self.data.update(fields)
        if not self.enabled:
            return
        self.data["wall_time_s"] = round(time.monotonic() - self.start, 3)
        # CPU seconds of this process, all its threads together (not DDP's spawned workers)
        self.data["cpu_time_s"] = round(time.process_time() - self.cpu_start, 3)
        tmp = self.path.with_suffix(".json.tmp")
        try:
            tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")
            os.replace(tmp, self.path)
        except OSError as e:  # a full disk: keep the previous summary.json, leave no .tmp behind
            from gan_cli.resources import WriteFailed

            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise WriteFailed(self.path, e, self.path.parent) from e
