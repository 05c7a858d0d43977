"""Reads in the worker thread: what a run leaves in the storage reaches the study view, including trials that
landed while a read was already in flight."""

from __future__ import annotations

import threading
import warnings

import optuna
from PySide6.QtCore import Qt

from optgui.qt.study import reading
from tests.support.studies import plain_study


def _add_trials(db, k: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name="det", storage=f"sqlite:///{db}")
        study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=k)


def test_a_poll_asked_for_while_one_is_in_flight_runs_after_it(qtbot, tmp_path, make_window, monkeypatch):
    db = plain_study(tmp_path / "study.db", trials=3, objective=lambda t: t.suggest_float("x", -1, 1) ** 2)
    window = make_window()
    assert window.open_storage(str(db), "det")
    window.study_list.live.setChecked(False)  # only the background polls read the storage here
    view = window.study_view
    assert view.data.n == 3
    # Asked twice before the first has started reading: one poll does for both.
    view.refresh_in_background()
    view.refresh_in_background()
    assert not view._poll_again
    qtbot.waitUntil(lambda: not view.reads.busy, timeout=30000)

    # The first background poll reads, then waits (a slow read): trials that land meanwhile are not in its result.
    release, reading_done = threading.Event(), threading.Event()
    real_poll = reading.poll
    first = [True]

    def slow_poll(reader, study, watermark):
        delta = real_poll(reader, study, watermark)
        if first[0]:
            first[0] = False
            reading_done.set()
            release.wait(60)
        return delta

    monkeypatch.setattr(reading, "poll", slow_poll)
    _add_trials(db, 2)
    view.refresh_in_background()
    qtbot.waitUntil(reading_done.is_set, timeout=30000)
    _add_trials(db, 4)
    view.refresh_in_background()  # a poll is in flight: this one must not be lost
    release.set()
    qtbot.waitUntil(lambda: not view.reads.busy and not view._poll_again, timeout=30000)
    assert view.data.n == 9


def test_after_a_run_the_view_has_read_every_row(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    bench.show_tab(bench.trials_page)
    view = window.study_view
    panel = view.panel
    panel.objective.setCurrentText("builtin:quadratic")
    panel.sampler.setText("RandomSampler(seed=5)")
    panel.n_trials.setValue(12)
    qtbot.mouseClick(panel.buttons["Start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.controller.active, timeout=180000)
    assert window.controller.state == "completed"
    # The end-of-run read runs in the worker thread: when it is in, nothing in the storage is newer than the view.
    qtbot.waitUntil(lambda: bench.table.model.rowCount() == 12 and not view.reads.busy, timeout=30000)
    assert len(reading.poll(view.reader, view.summary.name, view.watermark).table) == 0
    assert not dialog_log.errors


def test_a_result_on_its_way_when_the_window_closes_is_dropped(qtbot, tmp_path, monkeypatch):
    from optgui.qt.tasks.background_reads import BackgroundReads

    db = plain_study(tmp_path / "study.db", trials=2, objective=lambda t: t.suggest_float("x", -1, 1) ** 2)
    reads = BackgroundReads()
    got = []
    reads.delivered.connect(got.append)
    read, release = threading.Event(), threading.Event()
    real_poll = reading.poll

    def held_poll(*args):
        delta = real_poll(*args)
        read.set()
        release.wait(60)  # the result is sent only once the window is closing
        return delta

    monkeypatch.setattr(reading, "poll", held_poll)
    assert reads.poll(str(db), "det", None, "first")
    qtbot.waitUntil(read.is_set, timeout=30000)
    threading.Timer(0.2, release.set).start()
    reads.close()  # waits for the worker, which sends its result meanwhile
    qtbot.wait(100)
    assert got == []
    assert not reads.poll(str(db), "det", None, "after")  # and nothing new starts
    qtbot.wait(100)
    assert got == []
