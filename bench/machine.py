"""What the benchmarks print about the machine they ran on."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def console_script(name: str) -> str:
    """The console script installed next to this interpreter (the venv's), else on PATH."""
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not path:
        raise SystemExit(f"error: console script {name} not found next to {sys.executable} or on PATH; "
                         "install the package first (make install)")
    return path


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_lines() -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable by this process)",
        f"- load average (1 / 5 / 15 min) at the end: {load}",
        # versions read from the installed metadata: importing torch here would warm the page cache
        f"- torch {version('torch')}, pytorch-lightning {version('pytorch-lightning')}, "
        f"hydra-core {version('hydra-core')}, Python {platform.python_version()}",
        f"- gan-run: {console_script('gan-run')}",
    ]
