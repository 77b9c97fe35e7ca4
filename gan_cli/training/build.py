"""Build the run's objects from the composed config: shared by gan-run and gan-sample."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import get_object, instantiate

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
        if isinstance(cause, GanRunError):  # already one line naming the key (e.g. gan_cli.data.images' file checks)
            raise cause from None
        ours = str(node.get("_target_", "") if hasattr(node, "get") else "").startswith("gan_cli.")
        if isinstance(cause, ValueError) and ours:  # our constructors' messages already name the key
            raise GanRunError(str(cause)) from e
        if isinstance(cause, TypeError):  # e.g. an unexpected keyword from a +key override
            raise GanRunError(f"{key}: {cause}") from e
        if cause is not None:  # a library's own check (Lightning's Trainer): name the key its message is about
            raise GanRunError(f"{mentioned_key(node, key, str(cause))}: {str(cause).strip().splitlines()[0]}") from e
        raise GanRunError(f"{key}: {str(e).splitlines()[-1] if str(e) else e}") from e


def mentioned_key(node: Any, key: str, message: str) -> str:
    """``key.name=value`` for the first setting of ``node`` that ``message`` names
    (Lightning writes ``Trainer(devices=0)`` or ``Precision 'x'``) or whose value it quotes, else ``key``."""
    import re

    try:
        items = dict(node).items() if hasattr(node, "items") else ()
    except Exception:
        return key
    names = {str(name): value for name, value in items if not str(name).startswith("_")}
    for pattern in (r"(?<![\w.]){}\s*=", r"(?<![\w.]){}\b"):  # `devices=0` before a mere mention
        found = [(m.start(), name) for name in names
                 for m in [re.search(pattern.format(re.escape(name)), message, re.IGNORECASE)] if m]
        if found:
            name = min(found)[1]
            return f"{key}.{name}={names[name]}"
    # no name given (``Timer(duration='forever')`` for max_time): a quoted value names its key
    for name, value in names.items():
        if isinstance(value, str) and value and (f"'{value}'" in message or f'"{value}"' in message):
            return f"{key}.{name}={value}"
    return key


IMAGE_DATASETS = "dataset=shapes, mnist, cifar10 or image_folder"


def takes_image_shape(node: Any) -> bool:
    """Whether the network that ``node`` builds declares an ``image_shape`` parameter.

    That is how a config asks for the data's (C, H, W) (the DCGAN networks) rather than its
    flat dimension (``MLP``): the YAML stays free of shapes, the class signature says it.
    """
    target = node.get("_target_") if hasattr(node, "get") else None
    if not isinstance(target, str):
        return False
    try:
        obj = get_object(target)
        return "image_shape" in inspect.signature(obj).parameters
    except Exception:  # an unknown or odd target: build() reports it with the key
        return False


def build_networks(cfg: Any, dim: int, generator_offset: float = 0.0, image_shape: Sequence[int] | None = None):
    """G maps latent → ``dim``, D maps ``dim`` → 1 raw score; both see flat n × ``dim`` tensors.

    A network whose constructor has an ``image_shape`` parameter (``model=dcgan``) is given
    ``image_shape=(C, H, W)`` instead of ``out_features``/``output_offset`` (G) or
    ``in_features`` (D), and needs image data: ``image_shape`` None (a toy dataset) is a
    one-line error.
    """
    shape = tuple(int(s) for s in image_shape) if image_shape else None

    def data_kwargs(node: Any, key: str, flat: dict[str, Any]) -> dict[str, Any]:
        if not takes_image_shape(node):
            return flat
        if shape is None:
            name = str(node.get("_target_")).rsplit(".", 1)[-1]
            raise GanRunError(f"{key}: {name} needs image data ({IMAGE_DATASETS}); this dataset gives "
                              f"{dim}-dimensional points, not images")
        return {"image_shape": shape}

    generator = build(cfg.model.generator, "model.generator",
                      **data_kwargs(cfg.model.generator, "model.generator",
                                    {"out_features": dim, "output_offset": generator_offset}))
    discriminator = build(cfg.model.discriminator, "model.discriminator",
                          **data_kwargs(cfg.model.discriminator, "model.discriminator", {"in_features": dim}))
    return generator, discriminator


def build_data_and_networks(cfg: Any):
    """The dataset, then G and D sized for it."""
    dataset = build(cfg.dataset, "dataset")
    image_shape = getattr(dataset, "image_shape", None)  # images only: the toy datasets have none
    return (dataset, *build_networks(cfg, dataset.dim, dataset.generator_offset, image_shape))


def build_loss(cfg: Any):
    """The loss, with the ``constraint`` group's object in place of its own when one is chosen."""
    constraint = cfg.get("constraint")
    kwargs = {"constraint": build(constraint, "constraint")} if constraint is not None else {}
    return build(cfg.loss, "loss", **kwargs)
