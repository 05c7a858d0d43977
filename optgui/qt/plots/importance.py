"""Parameter importance, computed off the GUI thread: PED-ANOVA by default (Optuna's evaluator run on columns,
well under a second at 100k trials), fANOVA on request (Optuna's random forest; needs scikit-learn, uses at
most 20k trials, and takes a while). Results are cached by (study, evaluator, objective, trial counts), so
switching views or re-opening the tab does not recompute until trials change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from optgui.core import analysis
from optgui.core.storage import COMPLETE, TrialTable
from optgui.qt.plots.base import AnalysisPlot, placeholder, show_message
from optgui.qt.tasks.tasks import TaskSlot

EVALUATORS = ("PED-ANOVA", "fANOVA")


@dataclass(frozen=True)
class ImportanceResult:
    key: tuple
    importances: dict | None
    trials_used: int
    seconds: float
    error: str | None = None


def compute_importance(table: TrialTable, evaluator: str, objective: int | None) -> tuple[dict, int]:
    if evaluator == "fANOVA":
        return analysis.fanova_importances(table, objective)
    n = int(((table.state == COMPLETE) & np.isfinite(table.values).all(axis=1)).sum())
    return analysis.ped_anova_importances(table, objective), n


def importance_work(key: tuple, table: TrialTable, evaluator: str, objective: int | None) -> ImportanceResult:
    """Runs in a background task on an immutable table snapshot."""
    t = time.perf_counter()
    try:
        result, used = compute_importance(table, evaluator, objective)
        return ImportanceResult(key, result, used, time.perf_counter() - t)
    except ImportError as exc:
        return ImportanceResult(
            key, None, 0, 0.0, f"{evaluator} needs scikit-learn (pip install 'optgui[fanova]'): {exc}"
        )
    except Exception as exc:  # noqa: BLE001 - shown in the view, not a crash: importance is optional information
        return ImportanceResult(key, None, 0, 0.0, f"{type(exc).__name__}: {exc}")


_cache: dict[tuple, ImportanceResult] = {}


class ImportancePlot(AnalysisPlot):
    title = "Parameter importance"
    key = "importance"
    computed = Signal(object)  # ImportanceResult, once shown

    def build(self) -> None:
        self.evaluator_box = self.add_combo("Importance evaluator", self.invalidate)
        self.evaluator_box.addItems(EVALUATORS)
        self.objective_box = self.add_combo("Objective", self.invalidate)
        self.plot = self.canvas.addPlot()
        self.plot.setLabel("bottom", "importance (normalized)")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[])
        self.plot.addItem(self.bars)
        self.plot.setMouseEnabled(x=False, y=False)
        self.message = placeholder(self.plot)
        self.result: ImportanceResult | None = None
        self.pending_key: tuple | None = None
        # One computation at a time: a new key cancels the previous one (fANOVA cannot be interrupted: it ends
        # unseen, and the next one begins after it).
        self.importance_task = TaskSlot(self, "importance")

    def restyle(self) -> None:
        self.bars.setOpts(brush=pg.mkBrush(self.colors.complete), pen=pg.mkPen(None))

    def _key(self, table: TrialTable) -> tuple:
        objective = self.objective_box.currentIndex() if table.n_objectives > 1 else None
        n_complete = int((table.state == COMPLETE).sum())
        return (
            self.source.study_name,
            id(self.source.reader),
            self.evaluator_box.currentText(),
            objective,
            len(table),
            n_complete,
        )

    def draw(self) -> None:
        table = self.source.table()
        self.set_items(self.objective_box, self.objective_names())
        self.objective_box.setVisible(table.n_objectives > 1)
        key = self._key(table)
        cached = _cache.get(key)
        if cached is not None:
            self.pending_key = None  # a computation still out for another key must not be waited for
            self.importance_task.cancel()
            self.show_result(cached)
            return
        if key == self.pending_key:
            return
        self.pending_key = key
        self._clear_bars()  # what is shown until the job is done must not be another study's (or state's) result
        show_message(self.message, self.plot, f"Computing {key[2]} importance…", self.colors.muted)
        self.set_status("computing…")
        self.importance_task.start(
            lambda state: importance_work(key, table, key[2], key[3]), name=f"importance {key[2]}", returned=self._done
        )

    def _done(self, result: ImportanceResult) -> None:
        if result.error is None:
            _cache[result.key] = result
        if result.key == self.pending_key:
            self.pending_key = None
            self.show_result(result)

    def _clear_bars(self) -> None:
        self.result = None
        self.bars.setOpts(x0=[], y=[], width=[])
        self.plot.getAxis("left").setTicks([[]])
        for label in getattr(self, "_value_labels", []):
            self.plot.removeItem(label)
        self._value_labels = []

    def show_result(self, result: ImportanceResult) -> None:
        self.result = result
        if result.error is not None or not result.importances:
            self.bars.setOpts(x0=[], y=[], width=[])
            show_message(self.message, self.plot, result.error or "No parameters to assess", self.colors.muted)
            self.set_status("")
            self.computed.emit(result)
            return
        show_message(self.message, self.plot, "", self.colors.muted)
        names = list(result.importances)
        values = np.array([result.importances[n] for n in names])
        y = np.arange(len(names))[::-1].astype(float)  # most important on top
        self.bars.setOpts(x0=np.zeros(len(names)), y=y, width=values, height=0.6)
        self.plot.getAxis("left").setTicks([[(float(yi), n) for yi, n in zip(y, names, strict=False)]])
        self.plot.setYRange(-0.6, len(names) - 0.4, padding=0)
        self.plot.setXRange(0, max(float(values.max()), 1e-9) * 1.08, padding=0)
        for label in getattr(self, "_value_labels", []):
            self.plot.removeItem(label)
        self._value_labels = []
        for yi, v in zip(y, values, strict=False):
            label = pg.TextItem(f"{v:.3f}", color=self.colors.foreground, anchor=(0, 0.5))
            label.setPos(float(v), float(yi))
            self.plot.addItem(label)
            self._value_labels.append(label)
        evaluator = result.key[2]
        total = result.key[5]
        used = (
            f"{result.trials_used:,} of {total:,} complete trials"
            if result.trials_used < total
            else f"{result.trials_used:,} complete trials"
        )
        self.set_status(f"{evaluator} · {used} · {result.seconds:.2f} s")
        self.computed.emit(result)

    def csv_columns(self) -> dict:
        if self.result is None or not self.result.importances:
            return {"param": [], "importance": []}
        return {"param": list(self.result.importances), "importance": list(self.result.importances.values())}
