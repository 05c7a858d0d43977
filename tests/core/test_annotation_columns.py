"""The trials table's note marker and artifact count columns, and the filter's `has_note` / `artifacts > 0`."""

from __future__ import annotations

import numpy as np
import pytest

from optgui.core.storage import FilterError, TrialFrame, compile_expression


def _frame(tmp_path, n: int = 6) -> TrialFrame:
    import optuna

    from optgui.core.storage import open_reader

    path = tmp_path / "s.db"
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{path}", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n)
    with open_reader(str(path)) as reader:
        table = reader.trials("s")
    frame = TrialFrame(table.directions)
    frame.load(table)
    return frame


def _rows(frame: TrialFrame, text: str) -> list[int]:
    return np.flatnonzero(compile_expression(text, frame)(frame)).tolist()


def test_filters_know_notes_and_artifacts_before_any_are_set(tmp_path):
    frame = _frame(tmp_path)
    assert not frame.has_column("has_note") and not frame.has_column("artifacts")
    assert _rows(frame, "has_note") == []
    assert _rows(frame, "artifacts > 0") == []
    assert _rows(frame, "not has_note") == list(range(6))


def test_set_annotations_adds_the_columns_once_and_filters_test_them(tmp_path):
    frame = _frame(tmp_path)
    added = frame.set_annotations(np.array([1, 4]), np.array([2, 4]), np.array([3, 1]))
    assert added is True
    keys = [c.key for c in frame.columns]
    assert keys.index("has_note") < keys.index("duration") and "artifacts" in keys
    assert _rows(frame, "has_note") == [1, 4]
    assert _rows(frame, "artifacts > 0") == [2, 4]
    assert _rows(frame, "has_note and artifacts >= 1") == [4]
    assert _rows(frame, "artifacts == 3 or has_note == True") == [1, 2, 4]
    assert frame.display(frame.column("has_note"), 1) == "✎" and frame.display(frame.column("has_note"), 0) == ""
    assert frame.display(frame.column("artifacts"), 2) == "3" and frame.display(frame.column("artifacts"), 0) == ""
    order = np.argsort(-frame.sort_key(frame.column("artifacts")), kind="stable")
    assert order[:2].tolist() == [2, 4]
    # A later read replaces the marks; the columns stay.
    assert frame.set_annotations(np.array([0]), np.array([], dtype=np.int64), np.array([], dtype=np.int64)) is False
    assert _rows(frame, "has_note") == [0] and _rows(frame, "artifacts > 0") == []


def test_a_flag_other_than_has_note_is_still_not_a_condition(tmp_path):
    frame = _frame(tmp_path)
    with pytest.raises(FilterError, match="not a condition"):
        compile_expression("artifacts", frame)
