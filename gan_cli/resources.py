"""Running out of a resource (disk, memory) as a one-line error that names the file or the key.

Both are classes of failure, not cases: any OSError while gan-run writes one of its files
(summary.json, a checkpoint, event files, figures) says which file and which disk, with the
space left there; any allocation that fails (CPU or CUDA) names ``batch_size``, the bytes the
allocation needed and the bytes available. Light to import: torch is only looked up if loaded.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
from pathlib import Path

from gan_cli.errors import GanRunError

#: errno values that mean "the disk cannot take this write", not "the path is wrong"
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


class WriteFailed(GanRunError):
    """A file of the run could not be written: the disk is full, over quota, read-only or failing."""

    def __init__(self, path: str | os.PathLike | None, error: OSError, where: str | os.PathLike,
                 what: str | None = None) -> None:
        self.path = Path(path) if path else None
        self.error = error
        what = f"cannot write {what or self.path or f'into {where}'}"
        super().__init__(f"{what}: {error.strerror or error} ({disk_of(self.path or Path(where))}); "
                         "free some space (or choose another hydra.run.dir / hydra.sweep.dir) and resume "
                         "from the last checkpoint")


def disk_of(path: Path) -> str:
    """``disk /mount: N MB free`` for the file system that holds ``path``."""
    existing = Path(os.path.abspath(path))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    mount = existing
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return f"disk {mount}"
    return f"disk {mount}: {human_bytes(free)} free"


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def is_disk_error(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in DISK_ERRNOS


def write_failure(e: BaseException, where: str | os.PathLike) -> WriteFailed | None:
    """The WriteFailed for ``e`` (or any exception in its cause chain), or None if it is not one."""
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, WriteFailed):
            return e
        if is_disk_error(e):
            return WriteFailed(getattr(e, "filename", None), e, where)
        e = e.__cause__ or e.__context__
    return None


# torch's CPU allocator: "DefaultCPUAllocator: can't allocate memory: you tried to allocate 800000000000 bytes."
CPU_ALLOC = re.compile(r"you tried to allocate (\d+) bytes")
# CUDA: "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of ... of which 1.2 GiB is free."
CUDA_ALLOC = re.compile(r"Tried to allocate ([\d.]+ [KMGT]?i?B)")
CUDA_FREE = re.compile(r"of which ([\d.]+ [KMGT]?i?B) is free")


def available_cpu_memory() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (Linux), else None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def memory_failure(e: BaseException, batch_size: object) -> GanRunError | None:
    """A one-line GanRunError for an allocation that failed (CPU or CUDA), or None."""
    torch = sys.modules.get("torch")
    message = str(e)
    cuda_oom = torch is not None and isinstance(e, getattr(torch, "OutOfMemoryError", ()))
    if cuda_oom or "CUDA out of memory" in message:
        needed = CUDA_ALLOC.search(message)
        free = CUDA_FREE.search(message)
        return GanRunError(
            f"batch_size={batch_size}: out of GPU memory: an allocation needed "
            f"{needed.group(1) if needed else 'more than was left'}, "
            f"{free.group(1) if free else 'less'} was free on the GPU; lower batch_size (or model width)")
    cpu = CPU_ALLOC.search(message)
    if isinstance(e, MemoryError) or (isinstance(e, RuntimeError) and cpu):
        available = available_cpu_memory()
        needed = human_bytes(int(cpu.group(1))) if cpu else "more than was left"
        return GanRunError(
            f"batch_size={batch_size}: out of memory: an allocation needed {needed}, "
            f"{human_bytes(available) if available is not None else 'less'} is available on this machine; "
            "lower batch_size (or model width)")
    return None


def resource_failure(e: BaseException, cfg: object, run_dir: str | os.PathLike) -> GanRunError | None:
    """A full disk or an allocation that failed, as a one-line GanRunError; None for anything else."""
    batch_size = cfg.get("batch_size") if hasattr(cfg, "get") else None
    return write_failure(e, run_dir) or memory_failure(e, batch_size)


class ThreadWriteFailures:
    """Catches a full disk in a writer thread (TensorBoard writes its event files from one).

    Such a thread dies with a traceback on stderr and the run goes on without its curves;
    between ``start()`` and ``check()`` the error is kept instead, and ``check()`` raises it."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self.errors: list[tuple[str, OSError]] = []
        self._previous = None

    def start(self) -> "ThreadWriteFailures":
        import threading

        self._previous = threading.excepthook

        def hook(args) -> None:
            if is_disk_error(args.exc_value):
                self.errors.append((args.thread.name if args.thread else "a writer thread", args.exc_value))
            else:
                self._previous(args)

        threading.excepthook = hook
        return self

    def stop(self) -> None:
        import threading

        if self._previous is not None:
            threading.excepthook, self._previous = self._previous, None

    def check(self) -> None:
        """Raise the first full-disk error of a writer thread, as WriteFailed."""
        self.stop()
        if self.errors:
            raise self.failure()

    def failure(self) -> WriteFailed | None:
        if not self.errors:
            return None
        return WriteFailed(None, self.errors[0][1], self.run_dir, what=f"the event files in {self.run_dir}")
