"""Screenshots of the main window on the demo study, as a user sees it (run under a display or Xvfb):

    xvfb-run -a -s "-screen 0 1600x1000x24" python resources/screenshots/capture_main.py OUT_DIR

Uses a fresh app data folder (so the demo study is new), starts the run, and saves running.png (light, mid-run),
paused.png (light, paused, badge after the automatic check), main_light.png and main_dark.png (the theme forced
with the override, run paused), then closes the window, which leaves the study paused.
"""

from __future__ import annotations

import sys
from pathlib import Path

import capture_support
from capture_support import open_main_window, user_home


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    user_home("optgui-shots-")
    app, window = open_main_window()

    def wait_until(predicate, timeout=300.0):
        capture_support.wait_until(app, predicate, timeout)

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
