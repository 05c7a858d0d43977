"""Screenshots of the workbench in a real window (run under a display, e.g. `xvfb-run -a python ...`):
the trials table with a filter, a failed trial's details, the preferences dialog, a row selected in the table and
ringed in a plot, and a parallel-coordinates brush filtering the table.

    python -m tests.benchmarks.screens_workbench OUT_DIR [light|dark]
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OBJECTIVE = """
import logging
import math

log = logging.getLogger("train")


def objective(trial):
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 6)
    optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd", "rmsprop"])
    print(f"training with lr={lr:.2e} layers={layers} optimizer={optimizer}")
    loss = 1.0
    for epoch in range(5):
        loss = abs(math.log10(lr) + 3) / (epoch + 1) + 0.1 * layers + (optimizer == "sgd") * 0.3
        trial.report(loss, epoch)
        log.warning("epoch %d loss %.4f", epoch, loss)
    trial.set_user_attr("final_loss", loss)
    if layers == 6 and optimizer == "sgd":
        raise FloatingPointError(f"loss diverged to inf at epoch 4 (lr={lr:.3g})")
    return loss
"""


def main() -> None:
    out = Path(sys.argv[1]).resolve()
    mode = sys.argv[2] if len(sys.argv) > 2 else "light"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="optgui-screens-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # (a large study file is made in it)
    os.environ["OPTGUI_DATA_DIR"] = str(work / "data")
    os.environ["OPTGUI_CACHE_DIR"] = str(work / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    source = work / "train.py"
    source.write_text(OBJECTIVE)
    db = work / "experiments.db"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "optgui",
            "run",
            str(db),
            "--study",
            "resnet-sweep",
            "--objective",
            f"{source}:objective",
            "--sampler",
            "TPESampler(seed=4)",
            "--n-trials",
            "120",
            "--quiet",
        ],
        check=True,
    )

    from optgui.qt.settings import Settings
    from optgui.qt.window import app as qt_app

    app = qt_app.create_application()
    settings = Settings()
    settings.set_theme(mode)
    qt_app.setup(app, settings)
    from optgui.qt.window.main_window import MainWindow
    from optgui.qt.window.preferences import PreferencesDialog

    window = MainWindow(settings)
    window.resize(1440, 860)
    window.show()
    window.open_storage(str(db), "resnet-sweep")
    bench = window.workbench

    def settle(ms: int = 600) -> None:
        end = __import__("time").monotonic() + ms / 1000
        while __import__("time").monotonic() < end:
            app.processEvents()

    deadline = __import__("time").monotonic() + 60
    while window.verifier.running and __import__("time").monotonic() < deadline:
        settle(200)
    settle(800)
    bench.show_tab(bench.trials_page)
    bench.table.expression.setText("lr < 0.001 and state == COMPLETE")
    bench.table.apply_expression()
    from PySide6.QtCore import Qt

    bench.table.view.horizontalHeader().setSortIndicator(
        bench.table.model.column_index("value"), Qt.SortOrder.AscendingOrder
    )
    bench.table.view.selectRow(0)
    settle()
    window.grab().save(str(out / f"table_filter_{mode}.png"))

    bench.table.expression.setText("state == FAIL")
    bench.table.apply_expression()
    bench.table.view.selectRow(0)
    settle()
    window.grab().save(str(out / f"failed_trial_{mode}.png"))

    dialog = PreferencesDialog(settings, window)
    dialog.show()
    settle()
    dialog.grab().save(str(out / f"preferences_{mode}.png"))
    dialog.close()

    bench.show_tab(bench.best)
    settle()
    window.grab().save(str(out / f"best_{mode}.png"))

    # The shared selection: a row picked in the table, then the same trial ringed in the slice plot.
    bench.table.expression.setText("")
    bench.table.apply_expression()
    bench.show_tab(bench.trials_page)
    best = int(bench.best.rows[0]) if len(bench.best.rows) else 0
    bench.table.select_trial(best)
    settle()
    window.grab().save(str(out / f"selected_row_{mode}.png"))
    view = window.study_view
    view.tabs.setCurrentWidget(view.analysis)
    slice_view = view.analysis.show_view("slice")
    settle(1200)
    slice_view.param_box.setCurrentText("lr")  # the choices exist once the view has drawn
    settle(1200)
    window.grab().save(str(out / f"selected_in_plot_{mode}.png"))

    # Brushing: a range on the lr axis of parallel coordinates narrows the trials table.
    parallel = view.analysis.show_view("parallel-coordinates")
    settle(1200)
    labels = [d.label for d in parallel.pc.dimensions]
    parallel.set_brush(labels.index("lr"), 0.05, 0.45)
    settle()
    window.grab().save(str(out / f"brushed_plot_{mode}.png"))
    bench.show_tab(bench.trials_page)
    settle()
    window.grab().save(str(out / f"brushed_table_{mode}.png"))
    window.close()
    print(out)


if __name__ == "__main__":
    main()
