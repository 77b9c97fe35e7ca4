"""The exceptions that gan-run turns into a one-line message instead of a traceback.

Each carries the ``status`` it leaves in ``summary.json`` and the exit code of the process.
"""

from __future__ import annotations


class GanRunError(Exception):
    """A problem with the user's input (config value, file, device) that they can fix."""

    status = "failed"
    exit_code = 2


class Diverged(GanRunError):
    """Training produced NaN or Inf: the run stops at once and keeps its last good checkpoint."""

    status = "diverged"
    exit_code = 3

    def __init__(self, step: int, quantity: str, value: float) -> None:
        super().__init__(step, quantity, value)
        self.step = step
        self.quantity = quantity
        self.value = value
        self.kept_checkpoint: str | None = None  # filled in by train() when it knows

    def __str__(self) -> str:
        kept = (f"; the last good checkpoint is kept: {self.kept_checkpoint}" if self.kept_checkpoint
                else "; no checkpoint had been written yet")
        return (f"diverged at generator step {self.step}: {self.quantity} is {self.value}{kept}; "
                "try a lower optim.lr, or a smaller penalty weight (constraint.weight, loss.gp_weight) if one is set")


class Interrupted(GanRunError):
    """Ctrl-C or SIGTERM stopped the run between two generator steps, after saving a checkpoint."""

    status = "interrupted"

    def __init__(self, signal_name: str, step: int, resume_command: str | None) -> None:
        how = f"; resume with: {resume_command}" if resume_command else "; no checkpoint was saved"
        super().__init__(f"interrupted by {signal_name} at generator step {step}{how}")
        # the shell's convention for a process ended by a signal: 128 + its number
        self.exit_code = 128 + {"SIGINT": 2, "SIGTERM": 15}.get(signal_name, 1)
