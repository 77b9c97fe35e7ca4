"""hydra-optuna-sweeper's OptunaSweeper, made to continue a study that was killed.

With ``storage`` set (conf/hparams_search/optuna.yaml: a SQLite file in the sweep folder), the
plugin already loads the study of that name; but it then runs ``n_trials`` new trials on top,
numbers the new jobs from 0 again (into the folders of the earlier ones), and the trial that was
running when the process died stays "RUNNING" forever. Here, before the plugin's sweep:

- a trial still RUNNING in the storage was killed with the process: it is marked FAIL (a new
  trial takes its place; its job folder keeps its files);
- ``n_trials`` counts the whole study: only the trials still missing are run;
- new jobs are numbered after the study's earlier trials.

The sweep folder is created first, so SQLite can create its file there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper

log = logging.getLogger(__name__)


class ResumableOptunaSweeper(OptunaSweeper):
    def setup(self, *, hydra_context: Any, task_function: Any, config: Any) -> None:
        Path(str(config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        impl = self.sweeper
        if impl.storage is not None and impl.study_name is not None:
            self._continue_study(impl)
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
