"""The Output tab: the newest run segment's log (what the objectives print and log), following the live run."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from optgui.core.engine import LogTail
from optgui.qt.tasks.throttle import TEXTS

MAX_LINES = 20_000  # older lines scroll away: a long run's log stays cheap to show
FOLLOW_MS = TEXTS.interval_ms  # a log is read like a text: at most twice a second


class RunLog(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.tail: LogTail | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.path_label = QLabel("No run output yet")
        self.path_label.setObjectName("muted")
        row.addWidget(self.path_label, 1)
        layout.addLayout(row)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.text, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(FOLLOW_MS)
        self.timer.timeout.connect(self.poll)

    def set_study(self, storage: str, study: str) -> None:
        self.tail = LogTail(storage, study)
        self.text.clear()
        self.path_label.setText("No run output yet")
        self.poll()

    def follow(self, on: bool) -> None:
        """Poll the log file while a run is active (and once more when it ends)."""
        if on:
            self.timer.start()
        else:
            self.timer.stop()
            self.poll()

    def poll(self) -> None:
        if self.tail is None:
            return
        text, switched = self.tail.read()
        if switched:
            self.text.clear()
            self.path_label.setText(f"Run segment log: {self.tail.path}")
        if not text:
            return
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_end:
            bar.setValue(bar.maximum())
