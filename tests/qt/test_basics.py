"""Everyday basics: About, error dialogs from any thread, window state restored, plot data updates."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtWidgets import QApplication

from optgui.core.engine._trial_store import TrialStore
from optgui.core.storage._tables import COMPLETE, FAIL, RUNNING, TrialTable


def test_about_lists_versions_and_copies_them(qtbot, make_window, dialog_log):
    import optuna

    from optgui.qt.window.about import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    for name in ("optgui", "Optuna", "PySide6", "Qt", "pyqtgraph", "numpy", "Python"):
        assert name in text
    assert f"Optuna {optuna.__version__}" in text
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == text


def test_an_error_in_any_thread_becomes_a_dialog_on_the_gui_thread(qtbot, dialog_log, monkeypatch):
    import sys

    from optgui.qt import errors

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    reporter = errors.install()
    shown_on = []
    original = dialog_log.error

    def record(*args):
        shown_on.append(threading.current_thread() is threading.main_thread())
        original(*args)

    monkeypatch.setattr("optgui.qt.dialogs.error", record)

    def boom():
        raise ValueError("broken in a worker")

    thread = threading.Thread(target=boom)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(dialog_log.errors), timeout=5000)
    title, text, details = dialog_log.errors[0]
    assert "ValueError: broken in a worker" in text and "Traceback" in details
    assert shown_on == [True]
    assert reporter.history


def test_window_geometry_and_splitters_are_restored(qtbot, make_window, dialog_log):
    window = make_window()
    window.resize(790, 560)  # (within the offscreen platform's 800 x 600 screen, which restoring clamps to)
    window.splitter.setSizes([250, 540])
    saved = window.size()
    window_sizes = window.splitter.sizes()
    assert saved != again_default_size()
    window.close()
    again = make_window()
    assert again.size() == saved
    assert again.splitter.sizes() == window_sizes


def again_default_size():
    from PySide6.QtCore import QSize

    return QSize(1280, 800)


def _table(numbers, states, values):
    n = len(numbers)
    nat = np.full(n, np.datetime64("NaT", "us"))
    return TrialTable(
        "s",
        ("minimize",),
        np.array(numbers) + 1,
        np.array(numbers),
        np.array(states, dtype=np.int8),
        np.array(values, dtype=float).reshape(n, 1),
        nat,
        nat,
        np.full(n, np.nan),
    )


def test_trial_store_updates_in_place_and_keeps_best_so_far():
    data = TrialStore(("minimize",), capacity=2)
    data.load(_table([0, 1, 2], [COMPLETE, RUNNING, FAIL], [5.0, np.nan, np.nan]))
    assert data.complete.n == 1 and data.failed.n == 1
    assert data.counts() == {"COMPLETE": 1, "PRUNED": 0, "FAIL": 1, "RUNNING": 1}  # (counted once per change)
    counted = data.counts()
    counted["COMPLETE"] = 99  # a caller's copy: the data's own count is untouched
    assert data.counts()["COMPLETE"] == 1
    data.apply(_table([1, 3, 4], [COMPLETE, COMPLETE, COMPLETE], [2.0, 7.0, 1.0]))
    assert data.n == 5
    assert data.best[:5].tolist() == [5.0, 2.0, 2.0, 2.0, 1.0]
    assert data.complete.view()[0].tolist() == [0.0, 1.0, 3.0, 4.0]  # the late finisher was put in order
    assert data.counts() == {"COMPLETE": 4, "PRUNED": 0, "FAIL": 1, "RUNNING": 0}


def test_decimation_keeps_extremes_of_every_pixel_column():
    from optgui.qt.plots.convergence_plot import decimate

    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 1000.0)
    y[54_321] = -5.0
    dx, dy = decimate(x, y, 0, 100_000, 500)
    assert len(dx) <= 1000
    assert dy.min() == -5.0 and dy.max() == y.max()


def test_titles_show_files_under_home_as_tilde_and_everything_else_unchanged(tmp_path, monkeypatch):
    from optgui.qt.paths_shown import shown_name

    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert shown_name(str(tmp_path / "me" / "runs" / "a.db")) == "~/runs/a.db"
    assert shown_name(str(tmp_path / "meadow" / "a.db")) == str(tmp_path / "meadow" / "a.db")  # not a prefix match
    assert shown_name("postgresql://u:***@host/db") == "postgresql://u:***@host/db"
    assert shown_name(str(tmp_path / "elsewhere.db")) == str(tmp_path / "elsewhere.db")


def test_the_run_panel_shows_no_rate_or_eta_once_paused(qtbot, monkeypatch):
    from optgui.qt.run import run_panel
    from optgui.qt.run.run_panel import RunPanel

    panel = RunPanel()
    qtbot.addWidget(panel)
    clock = [1000.0]
    monkeypatch.setattr(run_panel.time, "monotonic", lambda: clock[0])
    panel.set_state("running")
    panel.run_began(0, 100)
    for n in range(1, 11):
        clock[0] += 0.5
        panel.set_progress(n, 100)
    assert panel.rate_label.text() == "2.00 trials/s" and panel.eta_label.text() != "ETA —"
    panel.set_state("paused", "paused after trial 9")
    assert panel.rate_label.text() == "— trials/s" and panel.eta_label.text() == "ETA —"
    assert "Paused after trial 9" in panel.state_label.text()
    panel._restyle(None)  # a theme change draws the same state again, message included
    assert "Paused after trial 9" in panel.state_label.text()
