"""Filter third-party messages a gan-run user cannot act on.

Each filter names the exact message, so anything new from these libraries still shows.
"""

from __future__ import annotations

import logging
import warnings


def silence_third_party_noise() -> None:
    # torch 2.13 deprecates a pytree API that pytorch-lightning 2.6 still calls
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*", category=DeprecationWarning)
    # GeneratorSteps has no length by design: training stops after `steps` generator updates
    warnings.filterwarnings("ignore", message=r".*`IterableDataset` has `__len__`.*")
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    # toy data is sampled on the fly, so a resumed run needs no dataloader state
    warnings.filterwarnings("ignore", message=r".*resuming from a checkpoint that ended before the epoch ended.*")
    # the run folder always holds Hydra's .hydra/ before the CSV logger writes into it
    warnings.filterwarnings("ignore", message=r"Experiment logs directory .* exists and is not empty.*")
    # "GPU available: …, TPU available: …", the litmodels tip, model-summary chatter
    for name in ("pytorch_lightning.utilities.rank_zero", "pytorch_lightning.accelerators.cuda",
                 "lightning.pytorch.utilities.rank_zero", "lightning_fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)
