"""Opening files from the desktop: the macOS QFileOpenEvent, and requests handed over by a later launch, reach the
real main window (buffered while it does not exist yet)."""

from __future__ import annotations

import warnings

import optuna
import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from optgui.qt.window import file_open


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("study") / "opened.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            storage=f"sqlite:///{path}", study_name="from-finder", sampler=optuna.samplers.RandomSampler(seed=0)
        )
        study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=4)
    return path


@pytest.fixture
def integration(qapp):
    from optgui.qt.window.desktop_integration import DesktopIntegration

    desktop = DesktopIntegration(qapp)
    yield desktop
    desktop.instance.close()
    qapp.removeEventFilter(desktop.file_filter)
    desktop.deleteLater()


@pytest.fixture
def window(qapp, qtbot, monkeypatch):
    from optgui.qt import dialogs, theme
    from optgui.qt.settings import Settings
    from optgui.qt.window.main_window import MainWindow

    errors = []
    monkeypatch.setattr(dialogs, "error", lambda *a, **k: errors.append(a[1:]))
    if theme.current() is None:
        theme.install(qapp, "light")
    w = MainWindow(Settings())
    qtbot.addWidget(w)
    w.show()
    w.dialog_errors = errors
    yield w
    w.verifier.cancel()


def test_filter_turns_the_event_into_a_signal(qapp, qtbot, tmp_path):
    file_filter = file_open.install(qapp)
    try:
        with qtbot.waitSignal(file_filter.file_opened, timeout=2000) as blocker:
            QApplication.sendEvent(qapp, QFileOpenEvent(str(tmp_path / "a.db")))
        assert blocker.args == [str(tmp_path / "a.db")]
        with qtbot.waitSignal(file_filter.file_opened, timeout=2000) as blocker:
            QApplication.sendEvent(qapp, QFileOpenEvent(QUrl.fromLocalFile(str(tmp_path / "b c.db"))))
        assert blocker.args == [str(tmp_path / "b c.db")]
    finally:
        qapp.removeEventFilter(file_filter)


def test_file_open_event_opens_the_study_in_the_window(integration, window, qapp, qtbot, study_file):
    integration.attach(window)
    with qtbot.waitSignal(window.storage_opened, timeout=20000) as blocker:
        QApplication.sendEvent(qapp, QFileOpenEvent(str(study_file)))
    assert blocker.args == [str(study_file)]
    assert window.study_view.summary.name == "from-finder"
    assert window.study_view.data.n == 4
    assert window.dialog_errors == []


def test_event_before_the_window_exists_is_kept(integration, window, qapp, qtbot, study_file):
    """macOS delivers the document that launched the app as soon as the event loop starts, which may be before
    the main window is built."""
    QApplication.sendEvent(qapp, QFileOpenEvent(str(study_file)))
    assert window.storage is None
    with qtbot.waitSignal(window.storage_opened, timeout=20000):
        integration.attach(window)
    assert window.storage == str(study_file)


def test_handed_over_request_opens_and_raises(integration, window, qtbot, study_file):
    integration.attach(window)
    window.showMinimized()
    assert window.isMinimized()
    with qtbot.waitSignal(window.storage_opened, timeout=20000):
        integration.instance.message_received.emit({"storage": str(study_file), "study": "from-finder", "demo": False})
    qtbot.waitUntil(lambda: not window.isMinimized(), timeout=5000)
    assert window.study_view.summary.name == "from-finder"


def test_a_launch_without_a_file_only_raises(integration, window, qtbot):
    integration.attach(window)
    window.showMinimized()
    assert window.isMinimized()
    integration.instance.message_received.emit({"storage": None, "study": None, "demo": False})
    qtbot.waitUntil(lambda: not window.isMinimized(), timeout=5000)
    assert window.storage is None
