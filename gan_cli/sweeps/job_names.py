"""Sweep job folders named after their overrides: ``3_loss-wgan_optim.lr-0.001``.

TensorBoard names a run by its folder, so ``tensorboard --logdir <sweep>`` lists the jobs by
what differs between them instead of ``0``, ``1``, .... The job number stays in front (the jobs
sort in launch order; gan-report shows it as the job). Registered as the OmegaConf resolver
``job_dirname`` and used by ``hydra.sweep.subdir`` (conf/hydra/default.yaml). Light to import.

The name is safe to type: no ``=``, ``,``, brackets or quotes, which Hydra's override grammar
would read (``ckpt_path=<job>/checkpoints/last.ckpt`` and ``gan-run --resume <job>`` take it as
it is), and short: floats rounded to 3 significant digits (an Optuna trial's
``optim.lr=0.00012345678901`` names ``optim.lr-0.000123``). The exact values stay in the job's
config (``.hydra/overrides.yaml``, summary.json).
"""

from __future__ import annotations

import hashlib
import re

#: bytes of a job folder's name at most; a longer one is cut and ends in a hash of the whole
MAX_NAME_BYTES = 100
UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")  # anything a shell or Hydra's grammar would read


def split_items(override_dirname: str) -> list[str]:
    """``a=1,b=[2,3]`` → ``a=1``, ``b=[2,3]``: Hydra's override_dirname, split at top-level commas."""
    items, depth, start, quote = [], 0, 0, ""
    for i, char in enumerate(override_dirname + ","):
        if quote:
            quote = "" if char == quote else quote
            continue
        quote = char if char in "'\"" else ""
        depth += 1 if char in "[({" else -1 if char in "])}" else 0
        if char == "," and depth <= 0:
            items.append(override_dirname[start:i])
            start = i + 1
    return [item for item in items if item]


def rounded(value: str) -> str:
    """A float to 3 significant digits (``0.00012345`` → ``0.000123``); anything else unchanged."""
    try:
        int(value)
        return value
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.3g}" if number == number and abs(number) != float("inf") else value


def safe(text: str) -> str:
    """Runs of characters a shell or Hydra would read become one ``-`` (``[64,64]`` → ``64-64``)."""
    return "-".join(part for part in UNSAFE.split(text) if part)


def job_dirname(num: object, override_dirname: object = "") -> str:
    """``{num}_{key-value_key-value}``, safe on a command line and as one file name; a name over
    MAX_NAME_BYTES puts the seed first, is cut and ends in 8 hex digits of the full name's hash, so
    two long names never collide."""
    parts = []
    for item in split_items(str(override_dirname or "")):
        key, sep, value = item.partition("=")
        parts.append(f"{safe(key.lstrip('+~'))}-{safe(rounded(value))}" if sep else safe(key))
    name = "_".join([str(num), *parts])
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    # the seed first, so that a cut name still tells a study's replicates apart (an Optuna trial
    # with many long values, run over hydra.sweeper.seeds)
    replicate = [part for part in parts if part.startswith("seed-")]
    name = "_".join([str(num), *replicate, *(part for part in parts if part not in replicate)])
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    cut = name.encode()[:MAX_NAME_BYTES - 9].decode(errors="ignore")
    return f"{cut}_{digest}"


def job_label(folder_name: str) -> str:
    """The job number of a folder named by ``job_dirname`` (``3_loss-wgan`` → ``3``); other names unchanged."""
    head, sep, _ = folder_name.partition("_")
    return head if sep and head.isdigit() else folder_name


def register() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("job_dirname"):
        OmegaConf.register_new_resolver("job_dirname", job_dirname)
