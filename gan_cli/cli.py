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


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def main(cfg: DictConfig) -> float | None:
    from gan_cli.errors import GanRunError
    from gan_cli.quiet import silence_third_party_noise

    silence_third_party_noise()
    from gan_cli.train import train

    try:
        train(cfg)
    except GanRunError as e:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    return None


if __name__ == "__main__":
    main()
