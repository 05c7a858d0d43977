"""Screenshots of the main window on the demo study, as a user sees it (run under a display or Xvfb):

    xvfb-run -a -s "-screen 0 1600x1000x24" python resources/screenshots/capture_main.py OUT_DIR

Uses a fresh app data folder (so the demo study is new), starts the run, and saves running.png (light, mid-run),
paused.png (light, paused, badge after the automatic check), main_light.png and main_dark.png (the theme forced
with the override, run paused), then closes the window, which leaves the study paused.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="optgui-shots-"))
    # The folder plays the user's home: titles show files there as ~/... (no machine path in a screenshot).
    os.environ["HOME"] = str(folder)
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / ".config"))
    os.environ.setdefault("OPTGUI_DATA_DIR", str(folder / ".local" / "share" / "optgui"))

    from optgui.qt import app as qt_app
    from optgui.qt import dialogs, theme
    from optgui.qt.main_window import MainWindow

    def fail(parent, title, text, details=""):  # a modal dialog would wait forever under Xvfb
        raise SystemExit(f"{title}: {text}\n{details}")

    dialogs.error = fail
    dialogs.confirm = lambda *a, **k: True
    dialogs.choose = lambda *a, **k: 0
    app = qt_app.create_application([sys.argv[0]])
    settings = qt_app.setup(app)
    theme.current().set_mode("light")
    window = MainWindow(settings)
    window.resize(1500, 900)
    window.show()

    def wait_until(predicate, timeout=300.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise SystemExit("timed out")
            app.processEvents()
            time.sleep(0.02)
        for _ in range(30):
            app.processEvents()
            time.sleep(0.01)

    def shoot(name):
        wait_until(lambda: True)
        window.grab().save(str(out / f"{name}.png"))
        print("saved", name, "-", window.controller.state, "-", view.badge.text())

    window.open_demo()
    view = window.study_view
    view.panel.buttons["Start"].click()
    wait_until(lambda: view._finished_count() >= 60)
    shoot("running")
    view.panel.buttons["Pause"].click()
    wait_until(lambda: window.controller.state == "paused")
    wait_until(lambda: view.badge.state.kind in ("verified", "diverged", "unverifiable"))
    shoot("paused")
    shoot("main_light")
    window.set_theme("dark")
    shoot("main_dark")
    window.set_theme("light")
    window.close()
    wait_until(lambda: not window.isVisible())
    return 0


if __name__ == "__main__":
    sys.exit(main())
