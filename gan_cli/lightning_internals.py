"""Every use of a private attribute of Lightning, Hydra or TensorBoard, in one place.

Each function says which private name it reads and the version range the project pins
(pyproject.toml) for it; when a pin moves, this file is the one to check, and
tests/test_loop.py, tests/test_cli.py and tests/test_report.py fail if a name went away.
"""

from __future__ import annotations

from typing import Any


def step_counted(optimizer: Any) -> None:
    """``optimizer.optimizer.step()`` with what ``LightningOptimizer.step`` does around it besides
    its hooks: count the step in ``trainer.global_step`` and profile it.

    Private: ``LightningOptimizer._on_before_step`` / ``_on_after_step``, which Lightning's
    manual loop sets (pytorch-lightning 2.6, pinned <2.7; tests/test_loop.py checks that
    ``trainer.global_step`` still counts every step). No public API does this without the hooks.
    """
    optimizer._on_before_step()
    optimizer.optimizer.step()
    optimizer._on_after_step()
