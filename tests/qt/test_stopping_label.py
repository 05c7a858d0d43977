"""The convergence view states the "should I stop?" evidence of the study shown (the hand-computed case of
tests/core/test_stopping_evidence.py, written by Optuna), and follows another study when one is opened."""

from __future__ import annotations

import optuna


def _study(path, name, values):
    study = optuna.create_study(study_name=name, storage=f"sqlite:///{path}")
    for v in values:
        study.enqueue_trial({"v": v})
        study.optimize(lambda t: t.suggest_float("v", -100, 100), n_trials=1)


def test_the_convergence_view_shows_the_evidence(qtbot, make_window, tmp_path):
    path = tmp_path / "s.db"
    _study(path, "plateau", [10, 8, 9, 5, 6, 5.0, 7, 5.001, 4.9999, 6])
    _study(path, "falling", [float(10 - i) for i in range(10)])
    window = make_window()
    assert window.open_storage(str(path), "plateau")
    label = window.study_view.plot.stopping
    qtbot.waitUntil(lambda: "Best 4.9999 at trial 8; 1 complete trial since." in label.text(), timeout=10000)
    # the last 20% (2 trials): the best went from 5 to 4.9999, 0.002% — within the 0.1% tolerance
    assert "Plateau: yes" in label.text() and "improved by 0.0001 (0.00%)" in label.text()
    window.study_list.select("falling")
    qtbot.waitUntil(lambda: "Best 1 at trial 9; 0 complete trials since." in label.text(), timeout=10000)
    assert "Plateau: no" in label.text()
