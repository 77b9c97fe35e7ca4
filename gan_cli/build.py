"""Build the run's objects from the composed config: shared by gan-run and gan-sample."""

from __future__ import annotations

from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate

from gan_cli.errors import GanRunError


def build(node: Any, key: str, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` that reports a bad value as a one-line GanRunError.

    Our constructors raise ValueError with a message naming the key; Hydra wraps it in an
    InstantiationException with a multi-line preamble, which we strip.
    """
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__
        if isinstance(cause, GanRunError):  # already one line naming the key (e.g. gan_cli.images' file checks)
            raise cause from None
        if isinstance(cause, ValueError):  # our constructors' messages already name the key
            raise GanRunError(str(cause)) from e
        if isinstance(cause, TypeError):  # e.g. an unexpected keyword from a +key override
            raise GanRunError(f"{key}: {cause}") from e
        raise GanRunError(f"{key}: {str(e).splitlines()[-1] if str(e) else e}") from e


def build_networks(cfg: Any, dim: int, generator_offset: float = 0.0):
    """G maps latent → ``dim``, D maps ``dim`` → 1 raw score."""
    generator = build(cfg.model.generator, "model.generator", out_features=dim, output_offset=generator_offset)
    discriminator = build(cfg.model.discriminator, "model.discriminator", in_features=dim)
    return generator, discriminator


def build_data_and_networks(cfg: Any):
    """The dataset, then G and D sized for it."""
    dataset = build(cfg.dataset, "dataset")
    return (dataset, *build_networks(cfg, dataset.dim, dataset.generator_offset))
