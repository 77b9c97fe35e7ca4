"""What a run shows while it trains, beside the curves Lightning logs to TensorBoard.

- trackers.py: MLflow and Weights & Biases through Lightning's loggers (logger=mlflow, wandb, many);
- tensorboard_layout.py: the CUSTOM SCALARS charts that set a run's curves side by side;
- progress.py: plain progress lines when stdout is not a terminal (a SLURM .out file, CI).

May import: the shared modules (gan_cli.config, errors, resources), data/, models/, objectives/,
training/ and evaluation/.
"""
