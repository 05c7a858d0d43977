"""A trial re-entered after a crash starts again: its start time is the re-entry's, not the dead attempt's, so its
duration is the objective's (issue 18, defect 6: a 0.1 s objective showed 64 s)."""

from __future__ import annotations

import time
import warnings
from datetime import datetime

import optuna

from tests.support.determinism import STUDY, run_cli
from tests.support.verify import cli_env

DOWNTIME_S = 2.0


def test_a_reentered_trial_starts_at_its_reentry(tmp_path):
    db = str(tmp_path / "s.db")
    killed = run_cli(db, "RandomSampler(seed=3)", "builtin:quadratic", 3, fault="in_objective:1", extra_env=cli_env())
    assert killed.returncode == -9, killed.stderr
    time.sleep(DOWNTIME_S)  # the process is dead for a while before the next run re-enters trial 1
    rerun_at = datetime.now()
    finished = run_cli(db, "RandomSampler(seed=3)", "builtin:quadratic", 3, extra_env=cli_env())
    assert finished.returncode == 0, finished.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trial = optuna.load_study(study_name=STUDY, storage=f"sqlite:///{db}").trials[1]
    assert "optgui:recovered" in trial.system_attrs  # it was re-entered, not asked anew
    assert trial.datetime_start >= rerun_at, (trial.datetime_start, rerun_at)
    assert (trial.datetime_complete - trial.datetime_start).total_seconds() < DOWNTIME_S
