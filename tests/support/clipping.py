"""Which visible texts of a window do not fit in their widgets: labels, buttons and check boxes whose text is wider
than the widget (or than the part of it its parents show), and wrapped labels shorter than their text."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.exceptions import TimeoutError


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def _label_clipped(label: QLabel) -> str | None:
    text = label.text()
    if not text or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    width = label.contentsRect().width()
    if label.wordWrap():
        need = label.heightForWidth(label.width())
        return f"{need} px high text in {label.height()} px" if need > label.height() + 1 else None
    if GuiQt.mightBeRichText(text):
        need = label.sizeHint().width()
        return f"{need} px wide text in {label.width()} px" if need > label.width() + 1 else None
    lines = text.split("\n")
    need = max(label.fontMetrics().horizontalAdvance(line) for line in lines) + 2 * label.margin()
    return f"{need} px wide text in {width} px" if need > width + 1 else None


def clipped_texts(root: QWidget) -> list[str]:
    """'Class "text": why' for every visible QLabel and button under root whose text is cut off."""
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, (QLabel, QAbstractButton)) or not _shown(widget) or not widget.text():
            continue
        if isinstance(widget, QLabel):
            why = _label_clipped(widget)
        else:
            need = widget.sizeHint().width()
            why = f"needs {need} px, has {widget.width()} px" if need > widget.width() + 1 else None
        seen = widget.visibleRegion().boundingRect().width()
        if why is None and seen < widget.width() - 2:
            why = f"{widget.width()} px wide, {seen} px of it shown"
        if why is not None:
            found.append(f'{type(widget).__name__} "{widget.text()[:60]}": {why}')
    return found


def pages(view) -> Iterator[str]:
    """Show each page a user can show in a study view (each tab, and each analysis view) in turn, yielding its
    name while it is shown."""
    for index in range(view.tabs.count()):
        if view.tabs.isTabVisible(index):
            view.tabs.setCurrentIndex(index)
            if view.tabs.widget(index) is view.analysis:
                for key in view.analysis.classes:
                    view.analysis.show_view(key)
                    yield f"Analysis/{key}"
            else:
                yield view.tabs.tabText(index)


def clipped_on_each_page(qtbot, window, view, *, max_width: int, prefix: str = "") -> list[str]:
    """'page: text' for each text cut off on any page of `view`; fails at once if the window grows beyond
    max_width on a page."""
    problems = []
    for page in pages(view):
        try:  # (a view draws in the next event-loop pass, and its layout follows the new texts after that)
            qtbot.waitUntil(lambda: not clipped_texts(window), timeout=1000)
        except TimeoutError:
            problems += [f"{prefix}{page}: {text}" for text in clipped_texts(window)]
        assert window.width() <= max_width, f"{prefix}the window widened itself to {window.width()} px on {page}"
    return problems
