"""A layout that places its widgets in a row and wraps them onto further rows when the row is too narrow, so that a
toolbar of buttons or check boxes never clips a text or widens the window (Qt's own FlowLayout example, typed)."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Widgets left to right at their size hints, wrapped to a new row where the next one would not fit (each row
    flush right with `right_aligned`). Its minimum width is that of its widest widget; its height follows the width
    (heightForWidth)."""

    def __init__(
        self, parent: QWidget | None = None, spacing: int = 6, row_spacing: int = 4, right_aligned: bool = False
    ) -> None:
        super().__init__(parent)
        self._right_aligned = right_aligned
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._row_spacing = row_spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    # --- QLayout's interface ----------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """One row of everything (what the layout asks for when there is room)."""
        shown = self._shown()
        width = sum(i.sizeHint().width() for i in shown) + self._spacing * max(len(shown) - 1, 0)
        height = max((i.sizeHint().height() for i in shown), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    # --- placing ------------------------------------------------------------------------------------------------
    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def _rows(self, width: int) -> list[list[QLayoutItem]]:
        rows: list[list[QLayoutItem]] = [[]]
        x = 0
        for item in self._shown():
            item_width = min(item.sizeHint().width(), width)
            if rows[-1] and x + item_width > width:
                rows.append([])
                x = 0
            rows[-1].append(item)
            x += item_width + self._spacing
        return [row for row in rows if row]

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Place the items inside rect (when move), each centred in its row's height, and return the height they
        take at its width."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        y = area.y()
        for row in self._rows(area.width()):
            row_height = max(item.sizeHint().height() for item in row)
            x = area.x()
            if self._right_aligned:
                used = sum(min(i.sizeHint().width(), area.width()) for i in row) + self._spacing * (len(row) - 1)
                x += max(area.width() - used, 0)
            for item in row:
                hint = item.sizeHint()
                width = min(hint.width(), area.width())
                if move:
                    top = y + (row_height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(x, top), QSize(width, hint.height())))
                x += width + self._spacing
            y += row_height + self._row_spacing
        return max(y - self._row_spacing - area.y(), 0) + m.top() + m.bottom()
