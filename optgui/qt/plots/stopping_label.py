"""The "should I stop?" line under the convergence plot: trials since the best improved, the recent improvement
and the plateau indicator (optgui.core.analysis.stopping_evidence), as evidence, not advice. Updated at the texts'
rate and once per change of the trials or of the objective shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from optgui.core.analysis import stopping_evidence
from optgui.qt.tasks.throttle import TEXTS, Throttle

TOOLTIP = (
    "Evidence, not advice: over COMPLETE trials of the objective shown, how many trials since the best value "
    "improved, how much it improved over the last 20% of them, and whether that is within a relative tolerance "
    "of 0.1% (a plateau). For several objectives, the Pareto tab shows the hypervolume history."
)


class StoppingEvidenceLabel(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("muted")
        self.setWordWrap(True)
        self.setToolTip(TOOLTIP)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._data: Any = None  # the TrialStore shown
        self._key: tuple | None = None
        self._throttle = Throttle(self, TEXTS, self.update_now)

    def follow(self, data: Any) -> None:
        """The plot shows `data` (a TrialStore), new or changed: update within the texts' rate."""
        self._data = data
        self._throttle()

    def update_now(self) -> None:
        data = self._data
        if data is None:
            self.clear()
            return
        key = (id(data), data.revision, data.objective, data.n)
        if key == self._key:
            return
        self._key = key
        n, k = data.n, data.objective
        evidence = stopping_evidence(
            data.number[:n], data.state[:n], data.values[:n, k], data.directions[k], best=data.best[:n]
        )
        self.setText("   ".join(evidence.sentences).replace("  ", "\u00a0 "))
