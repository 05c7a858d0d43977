"""The application icon, loaded from the PNGs the package ships (one per hicolor size, so Qt picks a crisp
bitmap for title bars, task bars and the About dialog instead of scaling one image)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon

from optgui import resources

_icon: QIcon | None = None


def app_icon() -> QIcon:
    global _icon
    if _icon is None:
        icon = QIcon()
        for size in resources.ICON_SIZES:
            icon.addFile(str(resources.icon_png(size)), QSize(size, size))
        _icon = icon
    return _icon
