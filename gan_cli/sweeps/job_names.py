"""Sweep job folders named after their overrides: ``3_loss=wgan,optim.lr=0.001``.

TensorBoard names a run by its folder, so ``tensorboard --logdir <sweep>`` lists the jobs by
what differs between them instead of ``0``, ``1``, .... The job number stays in front (the jobs
sort in launch order; gan-report shows it as the job). Registered as the OmegaConf resolver
``job_dirname`` and used by ``hydra.sweep.subdir`` (conf/hydra/default.yaml). Light to import.
"""

from __future__ import annotations

import hashlib
import re

#: bytes a file name may take on common file systems (ext4, APFS, NTFS: 255); kept under it
MAX_NAME_BYTES = 200
UNSAFE = re.compile(r"[/\\\x00-\x1f:*?\"<>|]")  # path separators, control and Windows-reserved characters


def job_dirname(num: object, override_dirname: object = "") -> str:
    """``{num}_{overrides}`` made safe as one file name; a name over MAX_NAME_BYTES is cut and
    ends in 8 hex digits of the full name's hash, so two long names never collide."""
    overrides = UNSAFE.sub("_", str(override_dirname or ""))
    name = f"{num}_{overrides}" if overrides else str(num)
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    cut = name.encode()[:MAX_NAME_BYTES - 9].decode(errors="ignore")
    return f"{cut}_{digest}"


def job_label(folder_name: str) -> str:
    """The job number of a folder named by ``job_dirname`` (``3_loss=wgan`` → ``3``); other names unchanged."""
    head, sep, _ = folder_name.partition("_")
    return head if sep and head.isdigit() else folder_name


def register() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("job_dirname"):
        OmegaConf.register_new_resolver("job_dirname", job_dirname)
