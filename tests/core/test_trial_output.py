"""Per-trial output capture: only the objective's thread is captured, markers slice the log per trial, the
traceback of an objective error is recorded, and a live tail sees new text."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import optuna
import pytest

from optgui.core.engine import _trial_output as trial_output


def test_capture_is_per_thread_and_sliced_per_trial(tmp_path, capsys):
    path = tmp_path / "0.log"
    other_thread_may_print = threading.Event()
    done = threading.Event()

    def chatter():
        other_thread_may_print.wait()
        print("GUI thread noise")
        logging.getLogger("gui").warning("gui warning")
        done.set()

    t = threading.Thread(target=chatter)
    t.start()
    log = logging.getLogger("user")
    with trial_output.capture_to(path, 0):
        print("trial zero says hi")
        other_thread_may_print.set()
        done.wait(5)
        log.warning("loss %d", 3)
        sys.stderr.write("to stderr\n")
    t.join()
    with pytest.raises(ValueError):
        with trial_output.capture_to(path, 1):
            print("about to fail")
            raise ValueError("boom 1")
    with pytest.raises(optuna.TrialPruned):
        with trial_output.capture_to(path, 2):
            raise optuna.TrialPruned()
    parts = trial_output.split_trials(path.read_text())
    assert parts[0] == "trial zero says hi\nWARNING user: loss 3\nto stderr\n"
    assert parts[1].startswith("about to fail\nTraceback (most recent call last):")
    assert parts[1].rstrip().endswith("ValueError: boom 1")
    assert 2 not in parts  # pruning is not an error, and a trial that printed nothing writes nothing
    assert "GUI thread noise" in capsys.readouterr().out  # still printed, just not captured
    assert sys.stdout is not None and not isinstance(sys.stdout, trial_output._ThreadTee)


def test_read_trial_output_across_segments_and_tail(tmp_path):
    storage, study = str(tmp_path / "s.db"), "det"
    with trial_output.capture_trial(storage, study, 0, 0):
        print("first segment")
    tail = trial_output.LogTail(storage, study)
    text, switched = tail.read()
    assert switched and "=== trial 0 ===\nfirst segment" in text
    with trial_output.capture_trial(storage, study, 1, 1):
        print("second segment, trial 1")
    text, switched = tail.read()
    assert switched and "second segment" in text
    with trial_output.capture_trial(storage, study, 1, 2):
        print("trial 2")
    text, switched = tail.read()
    assert not switched and text == "=== trial 2 ===\ntrial 2\n"
    assert trial_output.read_trial_output(storage, study, 1) == "second segment, trial 1\n"
    assert trial_output.read_trial_output(storage, study, 0) == "first segment\n"
    assert trial_output.read_trial_output(storage, study, 7) is None
    # the same file opened under another spelling of its path is the same study's log
    assert trial_output.study_log_dir(str(tmp_path / "." / "s.db"), study) == trial_output.study_log_dir(storage, study)


def test_each_run_segment_names_the_log_holding_its_trials_output(tmp_path, monkeypatch):
    from optgui.core import records
    from optgui.core.engine._runner import RunRequest, StudyRunner

    monkeypatch.setenv("OPTGUI_DATA_DIR", str(tmp_path / "data"))
    source = tmp_path / "train.py"
    source.write_text(
        "def objective(trial):\n"
        "    x = trial.suggest_float('x', -1, 1)\n"
        "    print(f'epoch done for trial {trial.number}')\n"
        "    return x * x\n"
    )
    db = tmp_path / "study.db"
    for target in (2, 4):  # two runs: two segments, two logs
        request = RunRequest(
            storage=str(db),
            study_name="s",
            objective=f"{source}:objective",
            sampler="RandomSampler(seed=3)",
            n_trials=target,
        )
        StudyRunner(request).run()
    storage = optuna.storages.RDBStorage(f"sqlite:///{db}")
    study_id = storage.get_study_id_from_name("s")
    segments = records.read_metadata(storage, study_id).segments
    logs = [seg["output_log"] for seg in segments]
    assert len(logs) == 2 and logs[0] != logs[1]
    assert Path(logs[0]).read_text().count("=== trial ") == 2
    assert "epoch done for trial 3" in Path(logs[1]).read_text()
    assert trial_output.read_trial_output(str(db), "s", 3) == "epoch done for trial 3\n"
    storage.engine.dispose()
