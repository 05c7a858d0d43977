"""A word-wrapped label that is never clipped inside a scroll area.

A QScrollArea sizes its widget from size hints computed at a width other than the one the widget gets, so a
word-wrapped QLabel whose text grows (a longer note after switching studies) kept the height of its old text and
was drawn cut off. This label asks for the height its text needs at its actual width.

Its texts change during a run (the state, the notice): the height is measured with the font's metrics, as QLabel
measures plain text, and the minimum height is set only when it changes, so that an update of the same height
does not lay the run panel out again.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel

_TALL = 1_000_000  # px: room enough for any text's height


class FittingLabel(QLabel):
    """A label that fits its size to each new text (`_fit`); the same text again changes nothing."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        if text == self.text():
            return
        super().setText(text)
        self._fit()

    def _fit(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class WrappedLabel(FittingLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def text_height(self, width: int) -> int:
        """The height the text needs at `width` px, margins included (0 without text)."""
        if not self.text():
            return 0
        margins = self.contentsMargins()
        inner = max(width - margins.left() - margins.right() - 2 * self.margin(), 1)
        flags = int(Qt.TextFlag.TextWordWrap) | int(self.alignment())
        box = self.fontMetrics().boundingRect(QRect(0, 0, inner, _TALL), flags, self.text())
        return box.height() + margins.top() + margins.bottom() + 2 * self.margin()

    def _fit(self) -> None:
        if self.width() <= 0:
            return
        needed = self.text_height(self.width())
        if needed != self.minimumHeight():
            self.setMinimumHeight(needed)
