"""Screenshots of the Fleet tab in the real main window, with real worker processes (run under a display or Xvfb):

    xvfb-run -a -s "-screen 0 1600x1000x24" python resources/screenshots/capture_fleet.py OUT_DIR [--storage URL]

Without --storage the fleet shares an Optuna journal file in a temporary folder. Saves fleet-running.png,
fleet-paused.png and fleet-resumed.png (light theme), then stops the fleet in order.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from pathlib import Path

import capture_support
from capture_support import ROOT, open_main_window, user_home

OBJECTIVE = textwrap.dedent("""
    import time

    def search_space(trial):
        trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        trial.suggest_int("layers", 1, 6)

    def evaluate(trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        layers = trial.suggest_int("layers", 1, 6)
        time.sleep(1.5)
        return (lr * 1000 - 3) ** 2 + (layers - 3) ** 2
""")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--storage", help="a PostgreSQL/MySQL URL (default: a journal file in a temp folder)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = user_home("optgui-fleet-shots-")
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")  # for the workers
    objective = folder / "train.py"
    objective.write_text(OBJECTIVE)
    storage = args.storage or str(folder / "fleet.log")

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study_name = f"fleet-demo-{int(time.time())}"
    if args.storage is None:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        optuna.create_study(storage=JournalStorage(JournalFileBackend(storage)), study_name=study_name)
    else:
        optuna.create_study(storage=storage, study_name=study_name)

    from PySide6.QtCore import QThreadPool

    from optgui.qt.fleet.fleet_panel import live_workers

    app, window = open_main_window()
    window.study_list.live.setChecked(False)

    def wait_until(predicate, timeout=120.0):
        capture_support.wait_until(app, predicate, timeout, poll=0.03, settle=20)
        QThreadPool.globalInstance().waitForDone()

    def shoot(name):
        for _ in range(20):
            app.processEvents()
        window.grab().save(str(out / f"{name}.png"))
        print("saved", name, "-", fleet.phase, fleet.detail_label.text())

    window.open_storage(storage, study_name)
    view = window.study_view
    view.auto_verify = False  # the pictures show the fleet; the badge stays "Not checked"
    fleet = view.fleet
    view.panel.objective.setCurrentText(f"{objective}:search_space,evaluate")
    view.panel.sampler.setText("TPESampler(seed=42)")
    view.panel.n_trials.setValue(200)
    view.tabs.setCurrentWidget(fleet)
    fleet.workers.setValue(args.workers)
    fleet.start_fleet()
    wait_until(
        lambda: (
            fleet.status is not None
            and len(live_workers(fleet.status)) == args.workers
            and sum(w.n_evaluated for w in fleet.status.workers) >= 2 * args.workers
            and len(fleet.evaluating) == args.workers
        )
    )
    view.refresh()
    shoot("fleet-running")
    fleet.send("pause")
    wait_until(lambda: fleet.phase == "paused")
    view.refresh()
    shoot("fleet-paused")
    fleet.send("resume")
    wait_until(lambda: fleet.phase == "running" and len(fleet.evaluating) == args.workers)
    shoot("fleet-resumed")
    window.close()  # asks (answered: stop) and closes once the fleet is down
    wait_until(lambda: not window.isVisible(), timeout=300)
    window.verifier.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(main())
