"""Console entry point ``gan-run``: a thin ``@hydra.main`` wrapper around ``train.train``.

Nothing heavy is imported at module level: Hydra composes (and for ``--help`` / ``--cfg``
prints) the config before torch or Lightning is loaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig


def config_dir() -> str:
    """conf/ ships inside the wheel as gan_cli/conf; in a source checkout it is ../conf."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parent / "conf"):
        if (candidate / "train.yaml").is_file():
            return str(candidate)
    raise SystemExit("error: gan-run cannot find its config folder (conf/train.yaml); reinstall the package")


def record_failure(message: str) -> None:
    """Mark the run folder Hydra already made as failed, so it never looks like a finished run."""
    from hydra.core.hydra_config import HydraConfig

    from gan_cli.summary import RunSummary

    hydra_cfg = HydraConfig.get()
    summary = RunSummary(Path(hydra_cfg.runtime.output_dir), list(hydra_cfg.overrides.task))
    if summary.path.is_file():  # train() got far enough to write its own
        return
    summary.write(status="failed", error=message)


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def main(cfg: DictConfig) -> float | None:
    from gan_cli import config
    from gan_cli.errors import GanRunError

    try:
        config.check(cfg)  # before the heavy imports: a bad value fails fast
        from gan_cli.quiet import silence_third_party_noise

        silence_third_party_noise()
        from gan_cli.train import train

        train(cfg)
    except GanRunError as e:
        record_failure(str(e))
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    return None


if __name__ == "__main__":
    main()
