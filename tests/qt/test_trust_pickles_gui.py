"""The app and pickles in a study: opening (which verifies) never runs a planted pickle, and running a study whose
CMA-ES pickles optgui did not write asks first and proceeds only on consent."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import optuna
import pytest

ROOT = Path(__file__).resolve().parents[2]

SAMPLER = "CmaEsSampler(seed=7, popsize=4)"  # trial 5 tells generation 0 and stores the optimizer
OBJECTIVE = "builtin:quadratic"


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _plain_cmaes_study(path, n_trials: int = 8):
    from optgui.core.engine._objectives import load_objective, parse_objective
    from optgui.core.engine._samplers import parse_spec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(storage=f"sqlite:///{path}", study_name="det", sampler=parse_spec(SAMPLER).build())
        study.optimize(load_objective(parse_objective(OBJECTIVE)), n_trials=n_trials)
    return path


def _trial_count(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_opening_a_study_with_a_planted_pickle_verifies_without_running_it(qtbot, tmp_path, make_window):
    db = _plain_cmaes_study(tmp_path / "attack.db")
    adopt = subprocess.run(
        [sys.executable, "-m", "optgui", "run", str(db), "--study", "det", "--objective", OBJECTIVE,
         "--sampler", SAMPLER, "--n-trials", "4", "--quiet", "--trust-pickles"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert adopt.returncode == 0, adopt.stderr
    marker = tmp_path / "payload-ran"
    conn = sqlite3.connect(db)
    conn.execute(
        "UPDATE trial_system_attributes SET value_json = ? WHERE key = 'cma:optimizer:0' AND trial_id = "
        "(SELECT trial_id FROM trials WHERE number = 5)",
        (json.dumps(pickle.dumps(_Payload(marker)).hex()),),
    )
    conn.execute(
        "DELETE FROM trial_system_attributes WHERE key = 'cma:optimizer:1' AND trial_id = "
        "(SELECT trial_id FROM trials WHERE number = 5)"
    )
    conn.commit()
    conn.close()
    window = make_window()
    states = []
    window.verifier.state.connect(states.append)
    assert window.open_storage(str(db))
    qtbot.waitUntil(lambda: any(s.kind not in ("checking", "idle") for s in states), timeout=120000)
    assert not marker.exists(), "opening the study ran the planted pickle"
    assert [s.kind for s in states if s.kind not in ("checking", "idle")][-1] == "verified"


def test_running_a_study_with_foreign_pickles_asks_and_runs_only_on_consent(qtbot, tmp_path, make_window, dialog_log):
    db = _plain_cmaes_study(tmp_path / "plain.db")
    window = make_window()
    assert window.open_storage(str(db))
    panel = window.study_view.panel
    panel.objective.setCurrentText(OBJECTIVE)
    panel.sampler.setText(SAMPLER)
    panel.n_trials.setValue(4)

    dialog_log.answers = [0, None]  # run the study: yes; load the foreign pickles: cancel
    window.study_view.start_run()
    qtbot.waitUntil(lambda: len(dialog_log.questions) >= 2 and not window.controller.active, timeout=60000)
    assert dialog_log.questions[1][0] == "Load pickles from this file?"
    assert "trial 5" in dialog_log.questions[1][1]
    assert _trial_count(db) == 8  # nothing ran

    dialog_log.answers = [0]  # now trust them
    window.study_view.start_run()
    qtbot.waitUntil(lambda: window.controller.state == "completed" and not window.controller.active, timeout=120000)
    assert dialog_log.questions[-1][0] == "Load pickles from this file?"
    assert _trial_count(db) == 12
