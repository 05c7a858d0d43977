"""What the screenshot scripts share: a throw-away home folder, the main window with no modal dialog that could
wait forever under Xvfb, and waiting for the window to settle."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def user_home(prefix: str) -> Path:
    """A new folder that plays the user's home: titles show files there as ~/... (no machine path in a
    screenshot); settings and app data go below it, so every capture starts as a first launch."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["HOME"] = str(folder)
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / ".config"))
    os.environ.setdefault("OPTGUI_DATA_DIR", str(folder / ".local" / "share" / "optgui"))
    return folder


def open_main_window(theme_mode: str | None = "light", answer_questions: bool = True):
    """(app, window): the application set up as optgui starts it, the main window shown at 1500x900. An error
    dialog ends the script with its text; questions take their default answer."""
    from optgui.qt import dialogs, theme
    from optgui.qt.window import app as qt_app
    from optgui.qt.window.main_window import MainWindow

    def fail(parent, title, text, details=""):
        raise SystemExit(f"{title}: {text}\n{details}")

    dialogs.error = fail
    if answer_questions:
        dialogs.confirm = lambda *a, **k: True
        dialogs.choose = lambda *a, **k: 0
    app = qt_app.create_application([sys.argv[0]])
    settings = qt_app.setup(app)
    if theme_mode is not None:
        theme.current().set_mode(theme_mode)
    window = MainWindow(settings)
    window.resize(1500, 900)
    window.show()
    return app, window


def wait_until(app, predicate, timeout: float, poll: float = 0.02, settle: int = 30) -> None:
    """Process events until predicate() holds (SystemExit after `timeout` s), then `settle` more passes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(poll)
    for _ in range(settle):
        app.processEvents()
        time.sleep(0.01)
