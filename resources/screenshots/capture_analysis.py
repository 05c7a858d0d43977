"""Screenshots of the analysis views in the real main window (run under a display or Xvfb):

    xvfb-run -a -s "-screen 0 1600x1000x24" python resources/screenshots/capture_analysis.py OUT_DIR [--trials N]

Builds studies like the plot benchmark's (5 params, reports, 1 and 2 objectives) and saves one PNG per view,
light theme, plus a few in the dark theme.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from capture_support import ROOT, open_main_window, user_home

sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--trials", type=int, default=20_000)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = user_home("optgui-shots-")
    import optuna
    from bench_plots import build_study

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    db = folder / "studies.db"
    build_study(db, "search", args.trials, ["minimize"], 1)
    build_study(db, "search-v2", args.trials // 4, ["minimize"], 3)
    build_study(db, "tradeoff", args.trials // 4, ["minimize", "minimize"], 2)

    from PySide6.QtCore import QThreadPool

    from optgui.qt import theme

    app, window = open_main_window(theme_mode=None, answer_questions=False)
    window.study_list.live.setChecked(False)

    def settle(n=30):
        for _ in range(n):
            app.processEvents()
        QThreadPool.globalInstance().waitForDone()
        for _ in range(n):
            app.processEvents()

    def shoot(study: str, key: str, name: str, setup=None):
        if window.study_view.summary is None or window.study_view.summary.name != study:
            window.open_storage(str(db), study)
        view = window.study_view
        view.tabs.setCurrentWidget(view.analysis)
        plot = view.analysis.show_view(key)
        settle()
        if setup:
            setup(plot)
            settle()
        plot.redraw()
        settle()
        window.grab().save(str(out / f"{name}.png"))
        print("saved", name, "-", plot.status.text()[:120])

    def brush(plot):
        plot.set_brush(1, 0.0, 0.35)
        plot.set_brush(4, 0.55, 1.0)

    def pair(plot):
        plot.x_box.setCurrentText("x0")
        plot.y_box.setCurrentText("x1")

    def compare(plot):
        plot.set_checked(["search-v2"])

    window.study_view.selection.select(12)
    shoot("search", "intermediate-values", "analysis-intermediate-values")
    shoot("search", "parallel-coordinates", "analysis-parallel-coordinates", brush)
    shoot("search", "slice", "analysis-slice")
    shoot("search", "rank", "analysis-rank", pair)
    shoot("search", "contour", "analysis-contour", pair)
    shoot("search", "importance", "analysis-importance")
    shoot("search", "edf", "analysis-edf", compare)
    shoot("search", "timeline", "analysis-timeline")
    shoot("search", "compare", "analysis-compare", compare)
    shoot("tradeoff", "pareto-front", "analysis-pareto-front")
    theme.current().set_mode("dark")
    settle()
    shoot("tradeoff", "pareto-front", "analysis-pareto-front-dark")
    shoot("search", "contour", "analysis-contour-dark", pair)
    shoot("search", "parallel-coordinates", "analysis-parallel-coordinates-dark")
    window.verifier.cancel()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
