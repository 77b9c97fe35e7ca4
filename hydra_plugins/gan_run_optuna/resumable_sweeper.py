"""hydra-optuna-sweeper's OptunaSweeper, made to continue a study that was killed and to rank
settings over seeds rather than single runs.

**Continuing.** With ``storage`` set (conf/hparams_search/optuna.yaml: a SQLite file in the sweep
folder), the plugin already loads the study of that name; but it then runs ``n_trials`` new trials
on top, numbers the new jobs from 0 again (into the folders of the earlier ones), and the trial
that was running when the process died stays "RUNNING" forever. Here, before the plugin's sweep:

- a trial still RUNNING in the storage was killed with the process: it is marked FAIL (a new
  trial takes its place; its job folders keep their files);
- ``n_trials`` counts the whole study: only the trials still missing are run;
- new jobs are numbered after the study's earlier trials.

**Seeds.** With ``seeds: N`` (``hydra.sweeper.seeds=3``) every trial runs N jobs, ``seed=0`` to
``seed=N-1``, and tells Optuna the mean of their objectives: one seed's value ranks the noise of
that seed, not the setting. Each seed's value and the standard error of the mean are stored with
the trial (its user attributes ``seed_values`` and ``seed_se``). Trial t's seeds run in job
folders t·N to t·N + N − 1, so a continued study numbers its jobs after the earlier ones too.

The sweep folder is created first, so SQLite can create its file there.
"""

# no `from __future__ import annotations`: Hydra's plugin scan runs this module without putting it
# in sys.modules, where dataclasses look up string annotations
import copy
import logging
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra_plugins.hydra_optuna_sweeper.config import OptunaSweeperConf
from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper

log = logging.getLogger(__name__)


def colour_only_in_a_terminal() -> None:
    """Optuna's log lines carry ANSI colour codes whatever stderr is: its colorlog formatter is
    given no stream to ask. Given the handler's stream, colorlog writes plain text to a pipe or a
    log file (and honours NO_COLOR)."""
    import colorlog
    import optuna

    optuna.logging.get_logger("optuna")  # makes Optuna's own handler, if it has none yet
    for handler in logging.getLogger("optuna").handlers:
        formatter = handler.formatter
        if isinstance(formatter, colorlog.ColoredFormatter) and isinstance(handler, logging.StreamHandler):
            handler.setFormatter(colorlog.ColoredFormatter(formatter._fmt, stream=handler.stream))


@dataclass
class ResumableOptunaSweeperConf(OptunaSweeperConf):
    _target_: str = "hydra_plugins.gan_run_optuna.resumable_sweeper.ResumableOptunaSweeper"
    seeds: int = 1  # each trial runs seed=0..seeds-1; its value is their mean


ConfigStore.instance().store(group="hydra/sweeper", name="gan_run_optuna", node=ResumableOptunaSweeperConf,
                             provider="gan_run")


class ResumableOptunaSweeper(OptunaSweeper):
    def __init__(self, *args: Any, seeds: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ValueError(f"hydra.sweeper.seeds={seeds!r} is not accepted; accepted: an integer >= 1")
        self.seeds = seeds

    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        Path(str(config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        colour_only_in_a_terminal()
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        impl = self.sweeper
        if impl.storage is not None and impl.study_name is not None:
            self._continue_study(impl)
        if self.seeds > 1:
            searched = [*(impl.params or {}), *(a.split("=", 1)[0] for a in arguments)]
            if any(key.lstrip("+~") == "seed" for key in searched):
                raise ValueError("seed is searched or swept, and hydra.sweeper.seeds also sets it; set one of them")
            impl.launcher = SeedRepeatingLauncher(impl.launcher, self.seeds, impl, first_trial=impl.job_idx)
        return super().sweep(arguments)

    @staticmethod
    def _continue_study(impl: Any) -> None:
        import optuna
        from optuna.trial import TrialState

        storage = optuna.storages.get_storage(impl.storage)
        try:
            study_id = storage.get_study_id_from_name(impl.study_name)
        except KeyError:
            return  # a new study
        trials = storage.get_all_trials(study_id, deepcopy=False)
        finished = [t for t in trials if t.state.is_finished()]
        killed = [t for t in trials if t.state == TrialState.RUNNING]
        for trial in killed:
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
            if hasattr(storage, "set_trial_state_values"):  # optuna >= 3
                storage.set_trial_state_values(trial_id, TrialState.FAIL)
            else:
                storage.set_trial_state(trial_id, TrialState.FAIL)
        remaining = max(0, impl.n_trials - len(finished))
        log.info(f"Continuing study {impl.study_name}: {len(finished)} trials finished, {len(killed)} killed "
                 f"(marked failed), {remaining} to run")
        print(f"optuna: continuing study {impl.study_name!r} in {impl.storage}: {len(finished)} of "
              f"n_trials={impl.n_trials} trials finished earlier, {remaining} to run")
        impl.n_trials = remaining
        impl.job_idx = len(trials)  # new jobs after the earlier ones, in folders of their own


class SeedRepeatingLauncher:
    """Stands in for the sweeper's launcher: each trial's overrides become one job per seed, and
    the trial's result is the mean of their objectives (a seed whose job raised fails the trial)."""

    def __init__(self, launcher: Any, seeds: int, impl: Any, first_trial: int) -> None:
        self.launcher, self.seeds, self.impl = launcher, seeds, impl
        self.next_trial = first_trial

    def __getattr__(self, name: str) -> Any:  # everything else is the real launcher's
        return getattr(self.launcher, name)

    def launch(self, job_overrides: Any, initial_job_idx: int) -> list[Any]:
        expanded = [[*overrides, f"seed={seed}"] for overrides in job_overrides for seed in range(self.seeds)]
        returns = self.launcher.launch(expanded, initial_job_idx=self.next_trial * self.seeds)
        self.next_trial += len(job_overrides)
        results, per_trial = [], []
        for start in range(0, len(returns), self.seeds):
            group = returns[start:start + self.seeds]
            failed = next((r for r in group if r.status.name == "FAILED"), None)
            if failed is not None:
                results.append(failed)
                per_trial.append(None)
                continue
            values = [r.return_value for r in group]
            combined = copy.copy(group[0])
            combined.return_value = mean_of(values)
            results.append(combined)
            per_trial.append(values)
        self._record(per_trial)
        return results

    def _record(self, per_trial: list[list[Any] | None]) -> None:
        """Each seed's value and the standard error, on the trials just asked (still RUNNING)."""
        if self.impl.storage is None:
            for values in per_trial:
                log.info(f"trial over {self.seeds} seeds: {values}")
            return
        import optuna
        from optuna.trial import TrialState

        storage = optuna.storages.get_storage(self.impl.storage)
        study_id = storage.get_study_id_from_name(self.impl.study_name)
        running = sorted((t for t in storage.get_all_trials(study_id, deepcopy=False) if t.state == TrialState.RUNNING),
                         key=lambda t: t.number)
        for trial, values in zip(running, per_trial):
            if values is None:
                continue
            storage.set_trial_user_attr(trial._trial_id, "seed_values", {str(s): v for s, v in enumerate(values)})
            storage.set_trial_user_attr(trial._trial_id, "seed_se", standard_error(values))


def mean_of(values: list[Any]) -> Any:
    """The mean over seeds, per objective where there are several."""
    if isinstance(values[0], (list, tuple)):
        return [mean_of([v[i] for v in values]) for i in range(len(values[0]))]
    return statistics.fmean(float(v) for v in values)


def standard_error(values: list[Any]) -> Any:
    if isinstance(values[0], (list, tuple)):
        return [standard_error([v[i] for v in values]) for i in range(len(values[0]))]
    floats = [float(v) for v in values]
    if len(floats) < 2 or not all(math.isfinite(v) for v in floats):
        return None
    return statistics.stdev(floats) / math.sqrt(len(floats))
