"""QApplication setup and the `optgui [STORAGE] [--study NAME] [--demo]` entry point."""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from optgui import APP_ID, APP_NAME, ORGANIZATION, __version__

STYLE = """
QLabel#startTitle { font-size: 30px; font-weight: 700; }
QLabel#studyTitle { font-size: 18px; font-weight: 600; }
QLabel#sectionTitle { font-size: 13px; font-weight: 600; }
QLabel#muted { color: palette(placeholder-text); }
QLabel#filterNote { color: palette(highlight); font-weight: 600; }
QPushButton#startButton { font-size: 13px; font-weight: 600; text-align: left; padding: 6px 14px; }
QGroupBox { font-weight: 600; border: 1px solid palette(mid); border-radius: 6px; margin-top: 10px;
            padding: 8px 6px 6px 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QToolButton { padding: 5px 8px; border: 1px solid palette(mid); border-radius: 4px; background: palette(button); }
QToolButton:hover:enabled { border-color: palette(highlight); }
QToolButton:disabled { color: palette(placeholder-text); }
QToolButton#primary:enabled { background: palette(highlight); color: palette(highlighted-text); font-weight: 600; }
QTableView { border: 1px solid palette(mid); }
QListWidget#recentList { border: 1px solid palette(mid); border-radius: 4px; }
QListWidget#recentList::item { padding: 6px; }
QStatusBar QLabel { padding: 0 6px; }
"""


def identify_application() -> None:
    """Names that QSettings and QStandardPaths derive paths from: set before anything reads settings."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(APP_ID)


def create_application(argv: list[str] | None = None) -> QApplication:
    identify_application()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    identify_application()
    return app


def setup(app: QApplication, settings=None):
    """Theme, error dialogs, style: everything a window needs, after the application id is set."""
    # imported on use, not with this module: start-up time
    from optgui.qt import errors, theme
    from optgui.qt.settings import Settings
    from optgui.qt.tasks.gui_collector import install_gui_collector

    settings = settings or Settings()
    install_gui_collector(app)  # garbage (and the Qt objects it holds) is freed in the GUI thread only
    theme.install(app, settings.theme())
    errors.install(app)
    app.setStyleSheet(STYLE)
    preload_modules()
    return settings


# Modules that would otherwise be imported for the first time by a worker thread during a run: the engine's process
# start (the isolated child launcher and multiprocessing's Connection over its socket), the verifier's child, the
# background reader, and numpy.ma (numpy 2 imports it lazily inside np.unique). An import runs module code under the
# import lock and the GIL: in a worker thread it stalled the GUI's repaints by 20-45 ms at the first trials of the
# session's first run.
PRELOADED_MODULES = (
    "numpy.ma",
    "multiprocessing.connection",
    "optgui.core.engine._child_process",
    "optgui.core.engine._engine_process",
    "optgui.core.verify._process",
    "optgui.core.storage._rdb_reader",
    "optgui.core.storage._journal_reader",
    "hmac",
    "secrets",
)


def preload_modules() -> None:
    import importlib

    for name in PRELOADED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # a module a platform does not have
            pass


def run_app(storage: str | None = None, study: str | None = None, demo: bool = False) -> int:
    app = create_application()
    # Desktop integration (packaging): icon, macOS FileOpen, hand-over to an already running optgui.
    from optgui.qt.window.desktop_integration import DesktopIntegration

    desktop = DesktopIntegration(app)
    if desktop.hand_over(storage, study, demo):
        return 0
    settings = setup(app)
    # imported on use, not with this module (it loads Optuna, numpy, pyqtgraph): start-up time
    from optgui.qt.window.main_window import MainWindow

    window = MainWindow(settings)
    window.show()
    desktop.attach(window)  # desktop integration (packaging)
    if demo:
        window.open_demo()
    elif storage:
        window.open_storage(storage, study)
    # Objects alive now (modules, widgets) never become garbage: keep them out of every future collection, so
    # a full collection during a run walks only what the run allocates (fewer, shorter GUI stalls).
    gc.collect()
    gc.freeze()
    return app.exec()


def _dpi_policy() -> None:
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


_dpi_policy()
