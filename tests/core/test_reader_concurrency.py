"""A plain Optuna writer and a polling reader on one SQLite file: the writer never sees "database is locked",
and the reader ends with every trial."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import optuna
import pytest

from optgui.core.storage._reader import open_reader
from optgui.core.storage._tables import COMPLETE

N_TRIALS = 320

WRITER = r"""
import sys, optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
errors = []
def objective(trial):
    x = trial.suggest_float("x", -1, 1)
    trial.suggest_categorical("c", ["a", "b"])
    trial.set_user_attr("n", trial.number)
    return x * x
study = optuna.load_study(study_name="live", storage=sys.argv[1], sampler=optuna.samplers.RandomSampler(0))
for _ in range(int(sys.argv[2])):
    try:
        study.optimize(objective, n_trials=1)
    except Exception as exc:  # every storage error counts: the test wants none
        errors.append(repr(exc))
print("ERRORS", len(errors), errors[:3])
sys.exit(1 if errors else 0)
"""


@pytest.mark.slow
@pytest.mark.timeout(150)  # took 49 s on a busy 2-core machine
def test_writer_never_locked_out_and_reader_sees_every_trial(tmp_path):
    path = tmp_path / "live.db"
    url = f"sqlite:///{path}"
    optuna.create_study(storage=url, study_name="live")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(N_TRIALS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    polls = 0
    with open_reader(str(path)) as reader:
        delta = reader.poll("live")
        table = delta.table
        while True:
            finished = writer.poll() is not None
            delta = reader.poll("live", delta.watermark)
            # Besides the poll, read the whole study now and then, as the GUI does on opening a view.
            if polls % 10 == 0:
                reader.studies()
                reader.trials("live")
            table = table.with_rows_replaced(delta.table)
            polls += 1
            if finished:
                break
            time.sleep(0.1)
        delta = reader.poll("live", delta.watermark)
        table = table.with_rows_replaced(delta.table)
        fresh = reader.trials("live")
    out, err = writer.communicate()
    assert writer.returncode == 0, out + err
    assert "ERRORS 0" in out
    assert polls > 10
    assert len(table) == N_TRIALS and table.number.tolist() == list(range(N_TRIALS))
    assert (table.state == COMPLETE).all()
    assert np.array_equal(table.values, fresh.values)
    assert np.array_equal(table.params["x"].values, fresh.params["x"].values)
    assert table.user_attrs["n"].tolist() == list(range(N_TRIALS))
    expected = optuna.load_study(study_name="live", storage=url).trials
    assert table.values[:, 0].tolist() == [t.value for t in expected]
