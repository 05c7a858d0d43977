"""Trials table at 100k rows, through the real widget (model + QTableView, events processed so the view has
repainted): load, sort, filter, and appending 10 live rows.

    QT_QPA_PLATFORM=offscreen python -m tests.benchmarks.bench_table [N_ROWS]

Targets: load <= 1 s, sort <= 100 ms, filter <= 100 ms, append 10 rows <= 5 ms. Each line gives the median of
several repeats of the GUI thread's CPU time for the model operation alone, the same including the view's repaint
(what the user waits for; the verdict uses it), and the wall time (what it costs on this machine right now: on a
machine shared with other processes, wall time is mostly waiting for a core, so the load average is printed too).
A full repaint of the 1200x700 window costs ~15-25 ms of CPU (Qt drawing ~300 cells plus 7 data() calls per cell
into Python); appends below the rows on screen skip it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.support.qt_tables import synthetic_table  # noqa: E402

TARGETS = {"load": 1.0, "sort": 0.100, "filter": 0.100, "append 10 rows": 0.005}


def timed(app, action, repeats: int) -> list[tuple[float, float, float]]:
    """(CPU of the model operation, CPU including the view's repaint, wall including the repaint) per repeat."""
    out = []
    for i in range(repeats):
        c0, t0 = time.thread_time(), time.perf_counter()
        action(i)
        c1 = time.thread_time()
        app.processEvents()
        out.append((c1 - c0, time.thread_time() - c0, time.perf_counter() - t0))
    return out


def report(name: str, times, target_key: str | None = None) -> None:
    op, cpu, wall = (statistics.median(t[k] for t in times) for k in range(3))
    target = TARGETS.get(target_key or name)
    verdict = "" if target is None else ("ok" if cpu <= target else f"OVER target {target * 1000:.0f} ms")
    print(f"{name:<40} {op * 1000:8.2f} {cpu * 1000:9.2f} {wall * 1000:9.2f}   {verdict}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    app = QApplication.instance() or QApplication([])
    from optgui.qt.workbench.trials_table import TrialsTable

    table = synthetic_table(n)
    widget = TrialsTable()
    widget.resize(1200, 700)
    widget.show()
    app.processEvents()
    print(
        f"{n:,} trials, {len(table.params)} params, {len(table.user_attrs)} user attributes; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'median of repeats, ms':<40} {'model':>8} {'+repaint':>9} {'wall':>9}   target (+repaint)")
    report("load", timed(app, lambda i: widget.load(table, ("minimize",)), 5), "load")
    model = widget.model
    header = widget.view.horizontalHeader()
    for key in ("value", "params_lr", "params_optimizer", "state", "datetime_complete", "user_attrs_tag"):
        column = model.column_index(key)

        def click(i, column=column):
            header.setSortIndicator(column, Qt.SortOrder.DescendingOrder if i % 2 else Qt.SortOrder.AscendingOrder)

        report(f"sort by {key} (header click)", timed(app, click, 6), "sort")
    header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    app.processEvents()
    expressions = [
        "lr < 0.01 and state == COMPLETE",
        "value < 0 or optimizer == 'adam'",
        "layers >= 4 and not (tag == 'wide')",
    ]
    report("filter by expression", timed(app, lambda i: model.set_filters(expression=expressions[i % 3]), 6), "filter")
    model.set_filters(expression="")
    report(
        "filter by state (COMPLETE only)",
        timed(app, lambda i: model.set_filters(states={1} if i % 2 == 0 else None), 6),
        "filter",
    )
    report(
        "filter by text ('adam')",
        timed(app, lambda i: model.set_filters(text="adam" if i % 2 == 0 else ""), 6),
        "filter",
    )
    model.set_filters(text="", states=None)
    app.processEvents()
    widget.select_trial(n // 2)
    batches = [synthetic_table(10, first=n + 10 * i) for i in range(40)]
    report("append 10 rows (number order)", timed(app, lambda i: widget.apply(batches[i]), 20), "append 10 rows")
    header.setSortIndicator(model.column_index("value"), Qt.SortOrder.AscendingOrder)
    app.processEvents()
    report(
        "append 10 rows (sorted by value)", timed(app, lambda i: widget.apply(batches[20 + i]), 20), "append 10 rows"
    )
    assert widget.current_trial() == n // 2, "the selection was lost"
    print(f"selection kept on trial {widget.current_trial()} through {40 * 10} appended rows")


if __name__ == "__main__":
    main()
