"""What a user sees first: open a study file, a server URL, define a new study, the demo, or a recent storage."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import optgui


class StartPage(QWidget):
    open_file = Signal()
    open_url = Signal()
    new_study = Signal()
    open_demo = Signal()
    open_recent = Signal(str)
    clear_recent = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        column.setSpacing(16)
        column.addStretch(1)
        title = QLabel("optgui")
        title.setObjectName("startTitle")
        column.addWidget(title)
        tagline = QLabel(
            "Open Optuna studies without modifying them. Run them with pause and resume that "
            "give exactly the trials of an uninterrupted run — and check that they do."
        )
        tagline.setWordWrap(True)
        tagline.setObjectName("muted")
        column.addWidget(tagline)

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(12)
        entries = [
            ("Open…", "A SQLite database or an Optuna journal file (Ctrl+O). Opening never writes.", self.open_file),
            ("Open URL…", "A PostgreSQL or MySQL server: postgresql://user@host/db", self.open_url),
            ("New study…", "Define a study: file, name, objective, sampler and seed.", self.new_study),
            ("Open demo", "A 2-D quadratic with TPE (seed 42) in the app's data folder.", self.open_demo),
        ]
        self.buttons = {}
        for i, (label, tip, signal) in enumerate(entries):
            button = QPushButton(label)
            button.setObjectName("startButton")
            button.setMinimumHeight(40)
            button.setToolTip(tip)
            button.clicked.connect(signal)
            caption = QLabel(tip)
            caption.setWordWrap(True)
            caption.setObjectName("muted")
            cell = QVBoxLayout()
            cell.setSpacing(4)
            cell.addWidget(button)
            cell.addWidget(caption)
            grid.addLayout(cell, i // 2, i % 2)
            self.buttons[label] = button
        column.addLayout(grid)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("separator")
        column.addWidget(line)
        recent_head = QHBoxLayout()
        recent_title = QLabel("Recent")
        recent_title.setObjectName("sectionTitle")
        recent_head.addWidget(recent_title)
        recent_head.addStretch(1)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setFlat(True)
        self.clear_button.clicked.connect(self.clear_recent)
        recent_head.addWidget(self.clear_button)
        column.addLayout(recent_head)
        self.recent = QListWidget()
        self.recent.setObjectName("recentList")
        self.recent.setMinimumHeight(140)
        self.recent.itemActivated.connect(lambda item: self.open_recent.emit(item.data(Qt.ItemDataRole.UserRole)))
        column.addWidget(self.recent)
        self.empty_hint = QLabel("No recent studies. You can also drop a study file onto this window.")
        self.empty_hint.setObjectName("muted")
        column.addWidget(self.empty_hint)
        version = QLabel(f"optgui {optgui.__version__}")
        version.setObjectName("muted")
        column.addWidget(version, 0, Qt.AlignmentFlag.AlignRight)
        column.addStretch(2)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(720)
        holder.setMinimumWidth(520)
        outer.addWidget(holder, 4)
        outer.addStretch(1)

    def set_recent(self, items: list[str]) -> None:
        self.recent.clear()
        for storage in items:
            name = storage.rsplit("/", 1)[-1] if "://" not in storage else storage
            item = QListWidgetItem(f"{name}\n{storage}" if name != storage else storage)
            item.setData(Qt.ItemDataRole.UserRole, storage)
            item.setToolTip(storage)
            self.recent.addItem(item)
        self.recent.setVisible(bool(items))
        self.clear_button.setVisible(bool(items))
        self.empty_hint.setVisible(not items)
