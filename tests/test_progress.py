"""Progress outside a terminal: plain lines a log file can hold, not carriage-return redraws."""

from __future__ import annotations

import re

from gan_cli.training.callbacks import GeneratorStepProgressBar
from gan_cli.tracking.progress import ProgressLines, duration, progress_callback


def test_a_log_file_gets_a_plain_line_every_few_steps_and_no_carriage_returns(gan_run):
    # in-process gan_run captures stdout in a StringIO: not a terminal, like a SLURM .out file
    result = gan_run("trainer=smoke", "steps=40", "eval_every=0", "log_every=2", "hydra.run.dir=run")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith("generator step")]
    steps = [int(re.match(r"generator step (\d+)/40 \(\d+%\)", line).group(1)) for line in lines]
    assert steps == [2 * i for i in range(1, 21)]  # every 2 steps: about 20 lines a run, on logged steps
    assert re.search(r"d_loss=\S+ g_loss=\S+ .* steps/s  eta \d", lines[-1]), lines[-1]


def test_the_bar_stays_in_a_terminal_and_lines_can_be_forced_or_silenced(gan_run):
    assert isinstance(progress_callback("auto", 5000, 50, is_terminal=True), GeneratorStepProgressBar)
    lines = progress_callback("auto", 5000, 50, is_terminal=False)
    assert isinstance(lines, ProgressLines) and lines.every == 250 and lines.is_enabled
    assert isinstance(progress_callback("bar", 5000, 50, is_terminal=False), GeneratorStepProgressBar)
    assert isinstance(progress_callback("lines", 5000, 50, is_terminal=True), ProgressLines)
    assert not progress_callback("none", 5000, 50, is_terminal=True).is_enabled
    assert (duration(7), duration(115), duration(7380)) == ("7s", "1m55s", "2h03m")
    result = gan_run("trainer=smoke", "progress=sometimes", "hydra.run.dir=run2")
    assert result.returncode == 2 and "progress='sometimes' is not accepted; accepted: auto, bar, lines, none" in result.stderr
