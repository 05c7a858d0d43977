"""macOS opens documents by sending the application a QFileOpenEvent (Finder double-click, drag onto the Dock
icon, `open -a optgui file.db`), never through argv. This filter turns that event into a signal.

It must be installed right after the QApplication exists: when the app is launched by opening a document, the event
arrives as soon as the event loop starts, possibly before the main window exists (the receiver buffers it)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal


class FileOpenFilter(QObject):
    file_opened = Signal(str)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FileOpen:
            path = event.file() or event.url().toLocalFile() or event.url().toString()
            if path:
                self.file_opened.emit(path)
            return True
        return False


def install(app) -> FileOpenFilter:
    file_filter = FileOpenFilter(app)
    app.installEventFilter(file_filter)
    return file_filter
