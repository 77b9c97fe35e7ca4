"""Build the run's objects from the composed config: shared by gan-run and gan-sample.

A class of the user's own (``model.generator._target_=mynets.ResGenerator``, docs/own-networks.md)
is built like a shipped one: its module is imported with the full reason when it cannot be
(``No module named 'mynets'``, with a PYTHONPATH hint), the keys the chosen option set for gan-run's
class that it does not take are left out (named in the log), and G and D are checked against the
contract below (``check_networks``) when the run is built, not mid-training.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Sequence
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate

from gan_cli.errors import GanRunError

log = logging.getLogger(__name__)


def locate(target: str, key: str) -> Any:
    """The object a ``_target_`` names, or a one-line GanRunError that keeps the reason."""
    parts = target.split(".")
    name = parts[0]
    try:
        found = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:  # the module itself, not one it imports
            raise GanRunError(f"{key}._target_={target}: No module named '{name}'; Python finds a module of your "
                              f"own through PYTHONPATH (PYTHONPATH=/folder/holding/{name} gan-run ...) or as an "
                              f"installed package (pip install -e)") from None
        raise GanRunError(f"{key}._target_={target}: importing {name} failed: {type(e).__name__}: {e}") from None
    except Exception as e:  # the user's module raised while it was imported
        raise GanRunError(f"{key}._target_={target}: importing {name} failed: {type(e).__name__}: "
                          f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}") from None
    for part in parts[1:]:
        module = f"{name}.{part}"  # the dotted path so far, whether an attribute or a submodule
        if hasattr(found, part):
            found, name = getattr(found, part), module
            continue
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise GanRunError(f"{key}._target_={target}: importing {module} failed: {e}") from None
            raise GanRunError(f"{key}._target_={target}: {name} has no '{part}'") from None
        name = module
    return found


def parameters(target: Any) -> set[str] | None:
    """The keyword arguments a callable takes, or None when it takes any (``**kwargs``) or cannot be read."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return {n for n, p in signature.parameters.items() if p.kind is not p.VAR_POSITIONAL}


def typed_keys() -> set[str]:
    """The keys the command line set (``model.generator.hidden=[8]``), when Hydra ran this job."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return set()
    return {o.lstrip("+~").partition("=")[0] for o in HydraConfig.get().overrides.task}


def without_keys_it_does_not_take(node: Any, key: str, kwargs: dict[str, Any]) -> Any:
    """``node`` less the keys its class (one of the user's own) does not take: ``model=mlp``'s
    ``hidden`` and ``activation`` under ``model.generator._target_=mynets.ResGenerator``. A key
    typed on the command line is never dropped: the class refuses it in one line instead."""
    from omegaconf import DictConfig, OmegaConf, open_dict

    from gan_cli.training.stored_config import shipped_targets

    target = node.get("_target_") if isinstance(node, DictConfig) else None
    if not isinstance(target, str) or target in shipped_targets():
        return node
    taken = parameters(locate(target, key))
    if taken is None:
        return node
    typed = typed_keys()
    extra = [k for k in node if not str(k).startswith("_") and k not in taken and k not in kwargs
             and f"{key}.{k}" not in typed]
    if not extra:
        return node
    log.warning("%s: %s does not take %s (set by the chosen %s option); left out", key, target,
                ", ".join(map(str, extra)), key.partition(".")[0])
    node = OmegaConf.create(OmegaConf.to_container(node, resolve=True))
    with open_dict(node):
        for k in extra:
            del node[k]
    return node


def build(node: Any, key: str, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` that reports a bad value as a one-line GanRunError.

    Our constructors raise ValueError with a message naming the key; Hydra wraps it in an
    InstantiationException with a multi-line preamble, which we strip.
    """
    target = node.get("_target_") if hasattr(node, "get") else None
    if isinstance(target, str):
        locate(target, key)  # a module that cannot be imported: the reason, in one line
        node = without_keys_it_does_not_take(node, key, kwargs)
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


def takes(node: Any, parameter: str) -> bool:
    """Whether the class or function that ``node`` builds declares ``parameter``.

    That is how a config asks for what only the data knows: a network's ``image_shape`` (C, H, W)
    (the DCGAN networks) rather than its flat dimension (``MLP``), a loss's ``image_data`` (WGAN-GP's
    λ): the YAML stays free of it, the class signature says it.
    """
    target = node.get("_target_") if hasattr(node, "get") else None
    if not isinstance(target, str):
        return False
    try:
        return parameter in inspect.signature(locate(target, "")).parameters
    except Exception:  # an unknown or odd target: build() reports it with the key
        return False


def takes_image_shape(node: Any) -> bool:
    return takes(node, "image_shape")


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
    check_networks(generator, discriminator, dim)
    return generator, discriminator


def check_networks(generator: Any, discriminator: Any, dim: int) -> None:
    """What gan-run reads of G and D (docs/own-networks.md), checked once when the run is built:
    both are torch modules; G has ``in_features`` (z is n × G.in_features) and maps it to n flat
    samples of ``dim`` values; D scores them, one raw score per sample (or per pack of
    ``D.pack`` samples). A class of the user's own that breaks it fails here in one line, not in
    the middle of training."""
    import torch

    for net, key in ((generator, "model.generator"), (discriminator, "model.discriminator")):
        if not isinstance(net, torch.nn.Module):
            raise GanRunError(f"{key}: built a {type(net).__name__}, not a torch.nn.Module")
    name = type(generator).__name__
    latent = getattr(generator, "in_features", None)
    if isinstance(latent, bool) or not isinstance(latent, int) or latent < 1:
        raise GanRunError(f"model.generator: {name} has no in_features attribute (a positive int: gan-run draws "
                          f"the noise z as n × G.in_features); set self.in_features in its __init__")
    pack = getattr(discriminator, "pack", 1)
    if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
        raise GanRunError(f"model.discriminator: {type(discriminator).__name__}.pack={pack!r}; expected a positive "
                          f"int (samples per score), or no pack attribute")
    n = 2 * pack
    z = torch.randn(n, latent, generator=torch.Generator().manual_seed(0))  # the run's own RNG untouched
    modes = generator.training, discriminator.training
    generator.eval(), discriminator.eval()  # batch norm: no running statistics updated by this check
    try:
        with torch.no_grad():
            fake = _call(generator, z, "model.generator")
            if not isinstance(fake, torch.Tensor) or fake.shape != (n, dim):
                raise GanRunError(f"model.generator: {name} maps z of shape {(n, latent)} to {_shape(fake)}; "
                                  f"gan-run expects {(n, dim)}, flat samples of the data's dimension")
            score = _call(discriminator, fake, "model.discriminator")
            if not isinstance(score, torch.Tensor) or score.numel() != n // pack:
                raise GanRunError(f"model.discriminator: {type(discriminator).__name__} scores {n} samples as "
                                  f"{_shape(score)}; gan-run expects one raw score per sample, ({n // pack}, 1)"
                                  + (f" (one per pack of {pack})" if pack > 1 else ""))
    finally:
        generator.train(modes[0]), discriminator.train(modes[1])


def build_data_and_networks(cfg: Any):
    """The dataset, then G and D sized for it."""
    dataset = build(cfg.dataset, "dataset")
    image_shape = getattr(dataset, "image_shape", None)  # images only: the toy datasets have none
    return (dataset, *build_networks(cfg, dataset.dim, dataset.generator_offset, image_shape))


def build_loss(cfg: Any, image_data: bool = False):
    """The loss, with the ``constraint`` group's object in place of its own when one is chosen,
    told whether the data are images if its class asks (``image_data``)."""
    constraint = cfg.get("constraint")
    kwargs = {"constraint": build(constraint, "constraint")} if constraint is not None else {}
    if takes(cfg.loss, "image_data"):
        kwargs["image_data"] = image_data
    return build(cfg.loss, "loss", **kwargs)


def _shape(value: Any) -> Any:
    return tuple(value.shape) if hasattr(value, "shape") else type(value).__name__


def _call(net: Any, x: Any, key: str) -> Any:
    try:
        return net(x)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise GanRunError(f"{key}: {type(net).__name__} failed on input of shape {tuple(x.shape)}: "
                          f"{type(e).__name__}: {reason}") from None
