"""Checks on the composed config, run before torch or Lightning is imported, so a bad value
fails in well under a second with one line that names the key, the value and what is accepted.

Each checked key is declared once below with its type and its lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf

from gan_cli.errors import GanRunError


@dataclass(frozen=True)
class Rule:
    key: str
    kind: type  # int or float
    minimum: float | None = None
    exclusive: bool = False  # minimum itself is not allowed

    def accepted(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        if self.minimum is None:
            return what
        return f"{what} {'>' if self.exclusive else '>='} {self.minimum:g}"


RULES = (
    Rule("steps", int, 1),
    Rule("batch_size", int, 1),
    Rule("seed", int),
    Rule("log_every", int, 1),
    Rule("eval_every", int, 0),
    Rule("eval_samples", int, 2),
    Rule("checkpoint_every", int, 0),
    Rule("model.latent_dim", int, 1),
    Rule("loss.n_critic", int, 1),
    Rule("optim.generator.lr", float, 0, exclusive=True),
    Rule("optim.discriminator.lr", float, 0, exclusive=True),
)


def check(cfg: DictConfig) -> None:
    """Raise GanRunError for the first value that breaks a rule."""
    for rule in RULES:
        value = OmegaConf.select(cfg, rule.key, default=None, throw_on_missing=False)
        if value is None:
            if rule.key in ("steps", "batch_size"):
                raise GanRunError(f"{rule.key} is missing; accepted: {rule.accepted()}")
            continue
        ok_type = isinstance(value, int) and not isinstance(value, bool)
        if rule.kind is float:
            ok_type = ok_type or isinstance(value, float)
        if not ok_type:
            raise GanRunError(f"{rule.key}={value!r} is not {rule.accepted()}")
        if rule.minimum is not None and (value <= rule.minimum if rule.exclusive else value < rule.minimum):
            raise GanRunError(f"{rule.key}={value!r} is out of range; accepted: {rule.accepted()}")
