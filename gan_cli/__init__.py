"""gan-run: a command-line experiment runner for GAN and WGAN training research."""

__version__ = "0.1.0"
