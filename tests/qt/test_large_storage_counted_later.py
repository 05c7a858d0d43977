"""A storage of many trials is listed before its trials are counted: the first study's plot does not wait for a
scan of every trial; the study list shows "…" for the counts until a read in the worker thread brings them, and
then shows what a full summary says."""

from __future__ import annotations

from PySide6.QtCore import Qt

from optgui.core.storage._reader import open_reader
from optgui.qt.window.study_list import HEALTH
from tests.support.studies import plain_study


def _square(trial) -> float:
    return trial.suggest_float("x", -1, 1) ** 2


def _cells(window, name: str) -> list[str]:
    model = window.study_list.model
    row = model.row_of(name)
    assert row is not None
    return [model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole) for col in range(model.columnCount())]


def test_a_large_storage_is_listed_at_once_and_counted_in_the_background(qtbot, tmp_path, make_window, monkeypatch):
    from optgui.qt.study import reading

    path = tmp_path / "two.db"
    plain_study(path, name="first", trials=12, objective=_square)
    plain_study(path, name="second", directions=("maximize",), trials=5, objective=_square, seed=1)
    monkeypatch.setattr(reading, "COUNT_LATER_ABOVE", 10)  # 17 trials count as many here
    window = make_window()
    assert window.open_storage(str(path), "first")
    assert window.study_view.data.n == 12  # the plot does not wait for the counts
    assert _cells(window, "first")[2] == "12" and _cells(window, "first")[3] == "…"
    with open_reader(str(path)) as reader:
        full = {s.name: s for s in reader.studies()}
    qtbot.waitUntil(lambda: _cells(window, "second")[3] != "…", timeout=30000)
    for name in ("first", "second"):
        cells = _cells(window, name)
        assert cells[2] == str(full[name].n_trials)
        assert cells[3] == str(full[name].state_counts.get("COMPLETE", 0))
        assert cells[7] == ", ".join(f"{v:.6g}" for v in full[name].best_values)


def test_a_small_storage_is_counted_before_it_is_listed(tmp_path, make_window):
    path = tmp_path / "small.db"
    plain_study(path, name="first", trials=3, objective=_square)
    window = make_window()
    assert window.open_storage(str(path), "first")
    assert "…" not in _cells(window, "first")[:HEALTH]  # (the health is always read in the background)
    assert _cells(window, "first")[3] == "3"
