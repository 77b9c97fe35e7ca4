"""Every use of a private attribute of Lightning or Hydra, in one place.

Each function says which private name it relies on and the version range pyproject.toml pins
for it; when a pin moves, this file is the one to check. No module-level imports: the CLI's
command-line check (preflight) imports this before torch and Lightning are loaded.

Where a public API does the job, gan-run uses it instead (and does not come through here):
the progress bar moves with tqdm's public ``n``/``refresh()`` and knows whether it was drawn
from its own flag; the HPARAMS summary goes to TensorBoard's public ``SummaryWriter.file_writer``.
"""

from __future__ import annotations

from typing import Any


def step_counted(optimizer: Any) -> None:
    """``optimizer.optimizer.step()`` with what ``LightningOptimizer.step`` does around it besides
    its hooks: count the step in ``trainer.global_step`` and profile it.

    Private: ``LightningOptimizer._on_before_step`` / ``_on_after_step``, which Lightning's
    manual loop sets (pytorch-lightning 2.6, pinned >=2.6,<2.7; tests/test_loop.py checks that
    ``trainer.global_step`` still counts every step). No public API does this without the hooks.
    """
    optimizer._on_before_step()
    optimizer.optimizer.step()
    optimizer._on_after_step()


def hydra_args_parser():
    """Hydra's own command-line parser (flags such as ``-m``, ``--cfg``, ``--help``), so that
    preflight reads gan-run's command line exactly as ``@hydra.main`` will.

    Private: ``hydra._internal.utils.get_args_parser`` (hydra-core 1.3, pinned >=1.3,<1.4;
    tests/test_errors.py runs preflight on every flag). Hydra has no public parser.
    """
    from hydra._internal.utils import get_args_parser

    return get_args_parser()
