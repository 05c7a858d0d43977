"""pytest-qt fixtures: real windows with settings in a temporary folder, modal dialogs answered automatically,
and a check that no test leaves a run thread or a background task behind."""

from __future__ import annotations

import optuna
import pytest

from optgui.qt import dialogs
from optgui.qt.window import app as qt_app

qt_app.identify_application()
optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(autouse=True)
def _gui_thread_collector(qapp):
    """As in the application (optgui.qt.window.app.setup): garbage is collected in the GUI thread only, so that a
    background task never destroys a previous test's widgets."""
    from optgui.qt.tasks.gui_collector import install_gui_collector

    install_gui_collector(qapp)


@pytest.fixture(autouse=True)
def _no_run_left(qapp):
    from optgui.qt.run.run_controller import running_relays

    yield
    left = running_relays()
    for task in left:  # let the engine process end cleanly before failing
        task.wait(30000)
    assert not left, f"runs left running: {[t.name for t in left]}"


@pytest.fixture(autouse=True)
def _no_task_left(qapp):
    """A test fails when it leaves a background task running after its windows closed (closing a window cancels
    its tasks; a cancelled task must end within the grace period)."""
    from optgui.qt.tasks.tasks import leaked_tasks

    yield
    left = leaked_tasks(grace_ms=30000)
    assert not left, f"background tasks left running: {[t.name for t in left]}"


class DialogLog:
    """Records every modal dialog; answers questions with `answers` (a list consumed in order) or the default."""

    def __init__(self):
        self.errors: list[tuple[str, str, str]] = []
        self.questions: list[tuple[str, str]] = []
        self.answers: list = []
        self.open_file: str | None = None
        self.dialog_hook = None

    def choose(self, parent, title, text, choices, default=0):
        self.questions.append((title, text))
        return self.answers.pop(0) if self.answers else default

    def error(self, parent, title, text, details=""):
        self.errors.append((title, text, details))


@pytest.fixture
def dialog_log(monkeypatch):
    log = DialogLog()
    monkeypatch.setattr(dialogs, "choose", log.choose)
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: log.choose(None, a[1], a[2], [a[3]]) == 0)
    monkeypatch.setattr(dialogs, "error", log.error)
    monkeypatch.setattr(dialogs, "info", lambda *a, **k: None)
    monkeypatch.setattr(dialogs, "open_file", lambda *a, **k: log.open_file)
    monkeypatch.setattr(dialogs, "text", lambda *a, **k: None)

    def run_dialog(dialog):
        return log.dialog_hook(dialog) if log.dialog_hook else False

    monkeypatch.setattr(dialogs, "run_dialog", run_dialog)
    return log


@pytest.fixture
def make_window(qapp, qtbot, dialog_log):
    from optgui.qt import theme
    from optgui.qt.settings import Settings
    from optgui.qt.window.main_window import MainWindow

    if theme.current() is None:
        theme.install(qapp, "light")
    qapp.setStyleSheet(qt_app.STYLE)
    windows = []

    def make():
        window = MainWindow(Settings())
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.controller.active:
            window.controller.stop("paused")
            window.controller.wait(60000)
        window.verifier.cancel()
