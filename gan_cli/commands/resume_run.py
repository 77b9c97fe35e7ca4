"""``gan-run --resume DIR``: continue a run, or one job of a sweep, from its folder.

The folder holds what the run was started with: ``.hydra/overrides.yaml`` (its overrides, a sweep
job's swept values included), ``.hydra/hydra.yaml`` (a ``--config-dir`` or ``hydra.searchpath`` it
read) and ``checkpoints/last.ckpt``. ``--resume DIR`` becomes that command line again, with
``ckpt_path`` pointing at the checkpoint and ``hydra.run.dir`` at DIR, so the run goes on in its own
folder (its TensorBoard curves continue there). Overrides given beside ``--resume`` replace the
stored ones of the same key (``steps=8000`` to train longer) and are checked as on any command
line; a setting the checkpoint was not trained with is refused as for ``ckpt_path``
(gan_cli/checkpoints.py). Light to import: it runs before Hydra.
"""

from __future__ import annotations

from pathlib import Path

from gan_cli.errors import GanRunError

FLAG = "--resume"


def quoted(value: str) -> str:
    """A value Hydra's override grammar reads back as it is (any folder name, ``=`` and ``,`` included)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _key(override: str) -> str:
    return override.lstrip("+~").partition("=")[0]


def stored_command_line(folder: Path) -> tuple[list[str], list[str]]:
    """(the flags, the overrides) the run in ``folder`` was started with."""
    import yaml

    overrides_file = folder / ".hydra" / "overrides.yaml"
    try:
        overrides = yaml.safe_load(overrides_file.read_text())
    except OSError:
        raise GanRunError(f"{FLAG} {folder}: not a gan-run run folder (no .hydra/overrides.yaml); give the folder "
                          f"of a run or of a sweep job, e.g. outputs/runs/<run>") from None
    except yaml.YAMLError:
        raise GanRunError(f"{FLAG} {folder}: its .hydra/overrides.yaml is not readable YAML") from None
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise GanRunError(f"{FLAG} {folder}: its .hydra/overrides.yaml is not a list of overrides")
    flags: list[str] = []
    try:
        hydra = (yaml.safe_load((folder / ".hydra" / "hydra.yaml").read_text()) or {}).get("hydra", {})
    except (OSError, yaml.YAMLError, AttributeError):
        hydra = {}
    for source in (hydra.get("runtime") or {}).get("config_sources") or []:
        if isinstance(source, dict) and source.get("provider") == "command-line":  # --config-dir
            flags += ["--config-dir", str(source.get("path", "")).removeprefix("file://")]
    searchpath = [o for o in (hydra.get("overrides") or {}).get("hydra") or [] if _key(str(o)) == "hydra.searchpath"]
    return flags, [str(o) for o in searchpath] + overrides


#: Hydra's flags that take a value as the next argument
VALUE_FLAGS = {"--config-dir", "-cd", "--config-name", "-cn", "--config-path", "-cp", "--cfg", "-c",
               "--package", "-p", "--experimental-rerun"}


def split_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """(Hydra's flags with their values, the overrides)."""
    flags, overrides = [], []
    i = 0
    while i < len(argv):
        if argv[i] in VALUE_FLAGS and i + 1 < len(argv):
            flags += argv[i:i + 2]
            i += 2
            continue
        (flags if argv[i].startswith("-") else overrides).append(argv[i])
        i += 1
    return flags, overrides


def expand(argv: list[str]) -> list[str]:
    """``argv`` with ``--resume DIR`` (or ``--resume=DIR``) replaced by the run's own command line;
    ``argv`` unchanged when it has no ``--resume``."""
    at = [i for i, a in enumerate(argv) if a == FLAG or a.startswith(FLAG + "=")]
    if not at:
        return argv
    i = at[0]
    if argv[i] == FLAG:
        if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
            raise GanRunError(f"{FLAG} needs a run folder: gan-run {FLAG} outputs/runs/<run>")
        folder_text, rest = argv[i + 1], argv[:i] + argv[i + 2:]
    else:
        folder_text, rest = argv[i].partition("=")[2], argv[:i] + argv[i + 1:]
    if any(a in ("-m", "--multirun") for a in rest):
        raise GanRunError(f"{FLAG} continues one run or one sweep job; a killed sweep continues when run again "
                          "with the same hydra.sweep.dir (docs/continuing-sweeps.md)")
    folder = Path(folder_text).expanduser()
    flags, stored = stored_command_line(folder)
    checkpoint = folder / "checkpoints" / "last.ckpt"
    if not checkpoint.is_file():
        raise GanRunError(f"{FLAG} {folder}: it has no checkpoints/last.ckpt (the run stopped before its first "
                          f"checkpoint); start it again: gan-run {' '.join(stored)}")
    options, given = split_flags(rest)
    replaced = {_key(a) for a in given} | {"ckpt_path", "hydra.run.dir"}
    kept = [o for o in stored if _key(o) not in replaced]
    if any(a.startswith(("--config-dir", "-cd")) for a in options):
        flags = []  # the user's own --config-dir replaces the stored one
    check_before_hydra([*flags, *options], [*kept, *given], checkpoint)
    return [*flags, *options, *kept, *given, f"ckpt_path={quoted(str(checkpoint))}",
            f"hydra.run.dir={quoted(str(folder))}"]


def check_before_hydra(flags: list[str], overrides: list[str], checkpoint: Path) -> None:
    """Refuse a resume the checkpoint cannot take (other settings, no steps left) before Hydra
    starts: once it starts, it rewrites the folder's .hydra/ files and a refusal would mark a
    finished run as failed. The config is composed as gan-run composes it; where it cannot be
    composed here (an error gan-run itself reports in one line), the job's own check decides."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from gan_cli.config import config_dir
    from gan_cli.training.checkpoints import RESUME_MUST_MATCH, check_resumable

    directories = [flags[i + 1] for i, f in enumerate(flags[:-1]) if f in ("--config-dir", "-cd")]
    directories += [f.partition("=")[2] for f in flags if f.startswith("--config-dir=")]
    searchpath = [f"file://{Path(d).expanduser().resolve()}" for d in directories]
    kept = [o for o in overrides if not _key(o).startswith("hydra.")]
    stored_searchpath = [o for o in overrides if _key(o) == "hydra.searchpath"]
    try:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            extra = [f"hydra.searchpath=[{','.join(searchpath)}]"] if searchpath else stored_searchpath
            cfg = compose(config_name="train", overrides=[*kept, *extra])
        # the settings a resume compares, resolved (the run folder's ${hydra:...} values need a job)
        resolved = {"steps": cfg.get("steps"),
                    **{key: OmegaConf.to_container(cfg[key], resolve=True) if OmegaConf.is_config(cfg.get(key))
                       else cfg.get(key) for key in RESUME_MUST_MATCH if key in cfg}}
    except Exception:  # noqa: BLE001 - composition errors are gan-run's own to report, in the job
        return
    finally:
        GlobalHydra.instance().clear()
    check_resumable(str(checkpoint), resolved)
