"""gan-run: a command-line experiment runner for GAN and WGAN training research.

Each subpackage is one layer, listed here from the lowest up. A module imports only from its
own subpackage, the ones listed before it, and the shared modules config.py (every checked
config key), errors.py (the errors and their exit codes), resources.py (out of disk or
memory) and statistics.py (the tests of a study, on scipy.stats), which import no subpackage. tests/test_layout.py checks every import against this order.

- data/: the real data, the toy distributions and the image datasets;
- models/: the generator and discriminator networks;
- objectives/: the losses and the Lipschitz constraints of the D/critic;
- training/: the LightningModule (Algorithm 1) and the machinery Lightning runs it with;
- evaluation/: the metrics and figures, during training and for gan-eval;
- tracking/: MLflow and W&B, TensorBoard's chart layout, progress lines;
- sweeps/: multiruns, their job folders, continuing a killed sweep, studies over seeds;
- claims/: gan-claims, the seed articles' claims, each measured and given a verdict;
- commands/: the console scripts gan-run, gan-sample, gan-eval and gan-report.

A subpackage's ``__init__`` imports nothing, so importing one module loads no other: gan-run
checks its command line and config before torch is imported.
"""

__version__ = "0.1.0"
