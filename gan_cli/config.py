"""Checks on the composed config, run before torch or Lightning is imported, so a bad value
fails in well under a second with one line that names the key, the value and what is accepted.

Each checked key is declared once below (RULES) with its type, its range and so its message;
the constructors that receive the value check it against the same rule (``require``), so the
two layers cannot drift. A key that the chosen config group options do not have
(``loss.clip_value`` under ``loss=gan``) is skipped. tests/test_config_rules.py proves that
every key a config group file sets for its ``_target_`` has a rule here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from gan_cli.errors import GanRunError


@dataclass(frozen=True)
class Rule:
    key: str
    kind: type  # int, float, bool, or str (with choices)
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False  # the minimum itself is not allowed
    max_exclusive: bool = False
    nullable: bool = False  # null is accepted (turns the feature off)
    length: int | None = None  # the value is a list of this many numbers (None: a single number)
    each: bool = False  # the value is a non-empty list; the rule applies to every element
    choices: tuple | None = None  # the only values accepted
    words: tuple[str, ...] = ()  # strings accepted besides the numbers (threads=auto)

    def accepted(self) -> str:
        if self.words:
            return " or ".join(self.words) + ", or " + Rule(self.key, self.kind, self.minimum, self.maximum).accepted()
        if self.choices is not None:  # names read as a list; numbers as "one of" them
            return ("" if self.kind is str else "one of ") + ", ".join(map(str, self.choices))
        if self.kind is bool:
            return "true or false" + (", or null" if self.nullable else "")
        what = "an integer" if self.kind is int else "a finite float32 number"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{'>' if self.min_exclusive else '>='} {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"{'<' if self.max_exclusive else '<='} {self.maximum:g}")
        what = f"{what} {' and '.join(bounds)}" if bounds else what
        if self.length is not None:
            what = f"a list of {self.length} numbers, each {what}"
        elif self.each:
            what = f"a non-empty list, each {what}"
        return what + (", or null" if self.nullable else "")

    def refusal(self, value: object) -> str:
        """The one-line message for a value that breaks this rule, wherever it is checked."""
        return f"{self.key}={value!r} is not accepted; accepted: {self.accepted()}"

    def number_ok(self, value: object) -> bool:
        if self.kind is str:
            return isinstance(value, str) and (self.choices is None or value in self.choices)
        if self.kind is bool:
            return isinstance(value, bool)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if self.choices is not None:
            return value in self.choices
        if not math.isfinite(value) or (self.kind is float and abs(value) > FLOAT32_MAX):
            return False  # torch holds these values as float32: a larger one overflows there
        if self.minimum is not None and (value <= self.minimum if self.min_exclusive else value < self.minimum):
            return False
        if self.maximum is not None and (value >= self.maximum if self.max_exclusive else value > self.maximum):
            return False
        return True

    def value_ok(self, value: object) -> bool:
        if isinstance(value, str) and value in self.words:
            return True
        if self.length is None and not self.each:
            return self.number_ok(value)
        if not isinstance(value, (list, tuple)) or not value:
            return False
        if self.length is not None and len(value) != self.length:
            return False
        return all(self.number_ok(v) for v in value)


FLOAT32_MAX = 3.4028234663852886e38
REQUIRED = ("steps", "batch_size")

RULES = (
    Rule("steps", int, 1),
    Rule("batch_size", int, 1),
    Rule("seed", int, 0, 2**32 - 1),  # the range numpy's seed accepts (seed_everything seeds it too)
    Rule("threads", int, 1, words=("auto",)),
    Rule("log_every", int, 1),
    Rule("eval_every", int, 0),
    Rule("sample_every", int, 0),
    Rule("eval_samples", int, 2),
    Rule("checkpoint_every", int, 0),
    Rule("pretrain_discriminator_steps", int, 0),
    Rule("freeze_discriminator", bool),
    Rule("ema_decay", float, 0, 1, max_exclusive=True),
    Rule("compile", bool),
    Rule("channels_last", bool, nullable=True),
    Rule("progress", str, choices=("auto", "bar", "lines", "none")),
    Rule("rerun", str, choices=("none", "failed", "all")),
    Rule("lr_schedule.start_factor", float, 0, 1, min_exclusive=True),
    Rule("lr_schedule.end_factor", float, 0, 1),
    Rule("lr_schedule.total_iters", int, 1),
    Rule("lr_schedule.T_max", int, 1),
    Rule("lr_schedule.eta_min", float, 0),
    Rule("model.latent_dim", int, 1),
    Rule("model.hidden", int, 1, each=True),
    *(Rule(f"model.{net}.hidden", int, 1, each=True) for net in ("generator", "discriminator")),
    Rule("model.width", int, 1),
    Rule("model.pack", int, 1),
    Rule("model.discriminator.out_features", int, choices=(1,)),  # D gives one raw score per input
    Rule("loss.n_critic", int, 1),
    Rule("loss.clip_value", float, 0, nullable=True),  # c; 0 or null: no clipping
    Rule("loss.gp_weight", float, 0, nullable=True),  # null: follows the data (losses.WassersteinGPLoss)
    Rule("loss.n_critic_warmup", int, 1, nullable=True),
    Rule("loss.warmup_steps", int, 0),
    Rule("loss.warmup_every", int, 0),
    Rule("constraint.weight", float, 0),
    Rule("constraint.clip_value", float, 0, nullable=True),  # as loss.clip_value: 0 or null, no clipping
    Rule("constraint.perturbation", float, 0, min_exclusive=True),
    Rule("constraint.n_power_iterations", int, 1, 100),  # per D forward: the paper uses 1; it converges in a few
    # the keys users set first, then the per-network values they feed (or that were set directly)
    Rule("optim.name", str, choices=("adam", "rmsprop", "sgd")),  # optim=named
    Rule("optim.lr", float, 0, min_exclusive=True),
    Rule("optim.betas", float, 0, 1, max_exclusive=True, length=2),
    Rule("optim.momentum", float, 0),
    *(rule for net in ("generator", "discriminator") for rule in (
        Rule(f"optim.{net}.lr", float, 0, min_exclusive=True),
        Rule(f"optim.{net}.betas", float, 0, 1, max_exclusive=True, length=2),
        Rule(f"optim.{net}.momentum", float, 0),
    )),
    Rule("dataset.n_modes", int, 1),
    Rule("dataset.radius", float, 0, min_exclusive=True),
    Rule("dataset.std", float, 0, min_exclusive=True),
    Rule("dataset.values", float, each=True),
    Rule("dataset.mean", float),
    Rule("dataset.offset", float),
    Rule("dataset.noise", float, 0),
    Rule("dataset.scale", float, 0, min_exclusive=True),
    Rule("dataset.resolution", int, 1),
    Rule("dataset.channels", int, choices=(1, 3)),
    Rule("dataset.num_images", int, 1),
    Rule("dataset.seed", int, 0, 2**32 - 1),  # the same range as the run's seed
    Rule("dataset.include_test", bool),
    # the names networks.ACTIVATIONS and networks.DCGAN_NORMS build (tests/test_config_rules.py)
    *(Rule(f"model.{net}.activation", str, choices=("relu", "leaky_relu", "tanh", "elu", "silu"))
      for net in ("generator", "discriminator")),
    Rule("model.discriminator.norm", str, choices=("batch", "layer", "none")),
    Rule("dataset.num_workers", int, 0),
    Rule("eval.features", str, choices=("auto", "classifier", "autoencoder", "inception", "none")),
    Rule("eval.classifier_steps", int, 1),
    Rule("eval.prdc_samples", int, 6),  # k-NN with k = 5 needs at least 6 points
    Rule("dataset.num_points", int, 1),
    Rule("model.discriminator.pieces", int, 1),
)


def check(cfg: DictConfig) -> None:
    """Raise GanRunError for a value the chosen options require but nobody set (``???``),
    then for the first value that breaks a rule."""
    missing = sorted(key for key in OmegaConf.missing_keys(cfg) if not key.startswith("hydra."))
    if missing:
        raise GanRunError(f"{missing[0]} has no value (??? in its config file); add {missing[0]}=... "
                          "to the command line")
    objective = OmegaConf.select(cfg, "objective", default=None)
    if objective is not None and str(objective).partition(".")[0] not in ("final", "best"):
        raise GanRunError(f"objective={objective!r} is not accepted; accepted: final.<tag> or best.<tag> "
                          "of summary.json, e.g. final.eval/wasserstein_exact")
    if_failed = OmegaConf.select(cfg, "objective_if_failed", default=0.0)
    if isinstance(if_failed, bool) or not isinstance(if_failed, (int, float)) or if_failed != if_failed:
        raise GanRunError(f"objective_if_failed={if_failed!r} is not accepted; accepted: a number "
                          "(.inf and -.inf included, not NaN)")
    for rule in RULES:
        try:
            value = OmegaConf.select(cfg, rule.key, default=None, throw_on_missing=False)
        except Exception as e:  # an interpolation that cannot be resolved
            raise GanRunError(f"{rule.key}: {str(e).splitlines()[0]}") from e
        if isinstance(value, (DictConfig, ListConfig)):
            value = OmegaConf.to_container(value, resolve=True)
        if value is None:
            if rule.key in REQUIRED:
                raise GanRunError(f"{rule.key} is missing; accepted: {rule.accepted()}")
            if rule.nullable or not _present(cfg, rule.key):
                continue
            raise GanRunError(f"{rule.key}=null is not accepted; accepted: {rule.accepted()}")
        if not rule.value_ok(value):
            raise GanRunError(rule.refusal(value))
    check_batch_splits_into_packs(cfg.batch_size, OmegaConf.select(cfg, "model.pack", default=1))


RULE_FOR = {rule.key: rule for rule in RULES}


class RuleViolation(GanRunError, ValueError):
    """A value a constructor received breaks its key's rule (a ValueError, as Python code that
    builds these objects directly expects; a GanRunError, as gan-run reports it)."""


def require(key: str, value):
    """``value`` if it meets the rule declared for ``key`` in RULES, else the same GanRunError
    that ``check`` raises: what a constructor calls on a value it receives."""
    rule = RULE_FOR[key]
    if (value is None and rule.nullable) or rule.value_ok(value):
        return value
    raise RuleViolation(rule.refusal(value))


def check_constraint(cfg: DictConfig, conf_dir: Path) -> None:
    """Raise GanRunError unless the composed ``constraint`` node names a constraint and holds only
    keys its option file declares (a class of the user's own is left to its constructor):
    ``++constraint.weight=1`` in a sweep that also runs ``constraint=sn``, or
    ``+constraint.weight=1`` with no constraint chosen, would otherwise fail deep in the build."""
    import yaml

    node = OmegaConf.select(cfg, "constraint", default=None)
    if not isinstance(node, DictConfig):
        return
    files = sorted((conf_dir / "constraint").glob("*.yaml"))
    names = ", ".join(path.stem for path in files)
    target = node.get("_target_")
    if target is None:
        raise GanRunError(f"constraint: {', '.join(f'constraint.{k}' for k in node)} set, but no constraint "
                          f"is chosen; choose one with it (constraint=gp ...); options: {names}")
    for path in files:
        declared = yaml.safe_load(path.read_text()) or {}
        if declared.get("_target_") == target:
            extra = sorted(set(node) - set(declared))
            if extra:
                keys = ", ".join(f"constraint.{k}" for k in sorted(set(declared) - {"_target_"})) or "none"
                raise GanRunError(f"constraint.{extra[0]}: constraint={path.stem} has no key '{extra[0]}'; "
                                  f"its keys: {keys}")
            return


def check_additions(cfg: DictConfig, overrides: list[str],
                    compose: Callable[[list[str]], DictConfig | None] | None = None) -> None:
    """Raise GanRunError for a ``+key=value`` that nothing would read (``+model.dropout=0.1``):
    a new key is read only where a ``_target_`` is built with it as an argument (its parent node
    has a ``_target_``: ``+model.generator.dropout=0.1``, and the class then takes or refuses it)
    or where another value interpolates it (``${model.dropout}``). Hydra adds any other key
    to the config and the run goes on as if it were not there.

    ``++key=value`` sets the key if it exists and adds it if not. Given ``compose`` (the command's
    config from a list of overrides, or None where it cannot be composed), the config without the
    ``++`` overrides is composed once, and a ``++key`` it lacks is checked as an addition
    (``++model.pack=4`` with ``model=mlp``, whose config has no pack)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides=list(overrides))
    except HydraException:  # Hydra composed the config from them, so this does not happen
        return
    text = None
    without_force_adds: DictConfig | None = None
    for override in parsed:
        key = override.key_or_group
        if override.package is not None or not (override.is_add() or override.is_force_add()):
            continue
        if override.is_force_add():
            if compose is None:
                continue
            if without_force_adds is None:
                without_force_adds = compose([line for line, o in zip(overrides, parsed) if not o.is_force_add()])
                if without_force_adds is None:
                    compose = None
                    continue
            if _present(without_force_adds, key):
                continue  # ++key setting a key that the config has
        if key.startswith("hydra") or isinstance(OmegaConf.select(cfg, key, default=None), DictConfig):
            continue  # Hydra's own keys, and a config group chosen with + (+experiment=...)
        parent = OmegaConf.select(cfg, key.rpartition(".")[0], default=None) if "." in key else cfg
        if isinstance(parent, DictConfig) and "_target_" in parent:
            continue
        text = OmegaConf.to_yaml(cfg) if text is None else text
        if "${" + key in text:
            continue
        where = key.rpartition(".")[0] or "the top level"
        raise GanRunError(f"{override.input_line}: nothing reads {key} ({where} is not built from a _target_, "
                          f"and no value refers to it); a network's own argument goes under model.generator "
                          f"or model.discriminator, e.g. +model.generator.{key.rpartition('.')[2]}=...")


def check_batch_splits_into_packs(batch_size: int, pack: int) -> None:
    """A packed discriminator (model=pacgan) reads the batch as packs of ``pack`` samples."""
    if batch_size % pack:
        raise GanRunError(f"batch_size={batch_size} is not a multiple of model.pack={pack}: "
                          "the discriminator reads the batch as packs of model.pack samples")


def _present(cfg: DictConfig, key: str) -> bool:
    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(cfg, parent) if parent else cfg
    return isinstance(node, DictConfig) and leaf in node


def flatten(node: Any, prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """{"a": {"b": 1}} → {"a.b": 1} (with ``sep`` "."); lists stay values."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{sep}{k}" if prefix else str(k), sep))
        return out
    return {prefix: node}


def config_dir() -> str:
    """conf/ ships inside the wheel as gan_cli/conf; in a source checkout it is ../conf (beside gan_cli/)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parent / "conf"):
        if (candidate / "train.yaml").is_file():
            return str(candidate)
    raise SystemExit("error: gan-run cannot find its config folder (conf/train.yaml); reinstall the package")
