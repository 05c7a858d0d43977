"""A one-line label whose text changes often (counts during a run) without laying its window out again.

A QLabel's setText invalidates its parent's layout, and the layout request climbs to the window: a QTabWidget on
the way repaints all of itself (QTabWidget::setUpLayout calls update()), and the status bar relays the window out.
At 1M trials that was ~5 ms of every live update, for a count whose width did not change. Qt skips the layout when
a widget's size is fixed, so this label keeps a fixed size and changes it only when a text needs more room, or
much less (a shorter count after switching studies). For one line of plain text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize

from optgui.qt.wrapped_label import FittingLabel


class SteadyLabel(FittingLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit(force=True)

    def _text_size(self) -> QSize:
        # (QLabel.sizeHint is never below the minimum size, which is the label's current size here.)
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        extra = 2 * self.margin()
        width = metrics.horizontalAdvance(self.text()) + margins.left() + margins.right() + extra
        return QSize(width, metrics.height() + margins.top() + margins.bottom() + extra)

    def _fit(self, force: bool = False) -> None:
        needed = self._text_size()
        # Room for two more digits, so that a count that grows does not lay the window out at every digit.
        spare = self.fontMetrics().horizontalAdvance("00")
        width = self.minimumWidth()
        too_narrow, too_wide = needed.width() > width, needed.width() + 3 * spare < width
        if force or too_narrow or too_wide or needed.height() != self.minimumHeight():
            self.setFixedSize(needed.width() + spare, needed.height())
