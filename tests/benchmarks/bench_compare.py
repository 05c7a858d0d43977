"""Compare benchmark: 8 studies of 100k trials each in the Compare window, against the target of 2 s per view.

    QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.bench_compare [--cache DIR] [--trials 100000] [--studies 8]

The studies are written with direct SQL (bench_large_studies.build_study: Optuna's schema and distributions, values
by formula, 90% COMPLETE), one file each. Measured in this process, median of 3:

- baseline: reading one study's trials as the main window does (`open_reader(...).trials`);
- reading all the studies for the comparison (`load_studies`, no verdict lookup) and the definition diff;
- per view: its data from the core (`optgui.core.analysis`) plus drawing it in the real Compare window, shown and
  painted (`grab()`): best so far by trial, by time, EDF, final best, importance (PED-ANOVA), definition table.

A view's time counts its own data and drawing; the read is shared by all views and printed once. Ratios are
against the baseline of the same run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_PER_VIEW = 2.0


def studies(folder: Path, n_trials: int, n_studies: int) -> list[Path]:
    from tests.benchmarks.bench_large_studies import build_study

    first = folder / f"compare-{n_trials}-0.db"
    if not first.exists():
        build_study(first, n_trials)
    paths = [first]
    for i in range(1, n_studies):
        path = folder / f"compare-{n_trials}-{i}.db"
        if not path.exists():
            shutil.copyfile(first, path)
        paths.append(path)
    return paths


def median_time(work: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "optgui-bench-compare")
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--studies", type=int, default=8)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    paths = studies(args.cache, args.trials, args.studies)
    refs = [f"{p}#big" for p in paths]

    from PySide6.QtWidgets import QApplication, QWidget

    from optgui.core import analysis
    from optgui.core.compare import compare_studies, load_studies
    from optgui.core.storage import open_reader
    from optgui.qt.compare import overlays as ov
    from optgui.qt.compare.compare_window import CompareWindow

    app = QApplication.instance() or QApplication([])

    def read_one() -> None:
        with open_reader(str(paths[0])) as reader:
            reader.trials("big")

    baseline = median_time(read_one)
    loaded = load_studies(refs, verdicts=False)
    read_all = median_time(lambda: load_studies(refs, verdicts=False))
    comparison = compare_studies(loaded)
    overlays = ov.Overlays(comparison)
    tables = {s.label: s.table for s in comparison.studies}

    main = QWidget()  # the Compare window's owner; with no storage open there, nothing is pre-ticked
    main.storage = main.reader = None  # type: ignore[attr-defined]
    window = CompareWindow(main)
    window.show()

    def shown(key: str) -> None:
        window.tabs.setCurrentWidget(window.views[key] if key in window.views else window.definition)
        window.grab()
        app.processEvents()

    def by_trial() -> None:
        for label, table in tables.items():
            h = analysis.history(table)
            overlays.by_trial[label] = ov._steps(h.numbers.astype(float), h.best, h.numbers)
        window.views["best-by-trial"].clear()
        window._draw_best(overlays)
        shown("best-by-trial")

    def by_time() -> None:
        for label, table in tables.items():
            t = analysis.best_by_time(table)
            overlays.by_time[label] = ov._steps(t.seconds, t.best, t.best.astype("int64") * 0)
        window.views["best-by-time"].clear()
        window._draw_best(overlays)
        shown("best-by-time")

    def edf() -> None:
        overlays.edf = analysis.edf({label: analysis.complete_values(t) for label, t in tables.items()})
        window.views["edf"].clear()
        window._draw_edf(overlays)
        shown("edf")

    def final_best() -> None:
        compare_studies(loaded)  # results and seed groups
        window.views["final-best"].clear()
        window._draw_final_best(overlays)
        shown("final-best")

    def importance() -> None:
        overlays.importances = {label: analysis.ped_anova_importances(t) for label, t in tables.items()}
        window.views["importance"].clear()
        window._draw_importance(overlays)
        shown("importance")

    def definition() -> None:
        window._show_definition(overlays)
        shown("definition")

    views = {
        "best so far by trial": by_trial,
        "best so far by time": by_time,
        "EDF": edf,
        "final best": final_best,
        "importance (PED-ANOVA)": importance,
        "definition diff": definition,
    }
    times = {name: median_time(work) for name, work in views.items()}
    window.close()

    print(f"{args.studies} studies x {args.trials:,} trials (SQLite, direct SQL), median of 3")
    print(f"baseline: read one study's trials            {baseline:7.3f} s")
    ratio = read_all / baseline
    print(f"read all {args.studies} studies + definition diff      {read_all:7.3f} s  ({ratio:5.1f}x baseline)")
    worst = 0.0
    for name, seconds in times.items():
        worst = max(worst, seconds)
        verdict = "ok" if seconds <= TARGET_PER_VIEW else "OVER"
        ratio = seconds / baseline
        print(f"view: {name:<38} {seconds:7.3f} s  ({ratio:5.2f}x baseline)  target {TARGET_PER_VIEW} s: {verdict}")
    print(f"slowest view {worst:.3f} s; each view's data and drawing, after the shared read")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
