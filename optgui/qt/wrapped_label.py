"""A word-wrapped label that is never clipped inside a scroll area.

A QScrollArea sizes its widget from size hints computed at a width other than the one the widget gets, so a
word-wrapped QLabel whose text grows (a longer note after switching studies) kept the height of its old text and
was drawn cut off. This label asks for the height its text needs at its actual width.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


class WrappedLabel(QLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.width() <= 0:
            return
        previous = self.minimumHeight()
        self.setMinimumHeight(0)  # (QLabel's height for a width is at least its minimum height)
        needed = max(self.heightForWidth(self.width()), 0)
        self.setMinimumHeight(needed)
        if needed != previous:
            self.updateGeometry()
