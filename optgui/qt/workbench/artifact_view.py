"""The artifacts of a study or a trial: a list (name, type, size or "missing") and an inline preview of images,
text, CSV (as a table), JSON and Markdown from the study's FileSystemArtifactStore folder; other types open with
the desktop's default application. "Save a copy…" copies the file elsewhere.

Read-only: nothing here writes into the artifact folder. A file that is not in the folder is shown as missing.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from optgui.core.annotations import Artifact, artifact_path, artifact_size
from optgui.qt import dialogs

PREVIEW_LIMIT = 5 * 1024 * 1024  # bytes: larger files open in their application
TABLE_ROWS = 2000  # CSV rows shown inline
ARTIFACT_ROLE = Qt.ItemDataRole.UserRole + 1


def preview_kind(artifact: Artifact) -> str:
    """ "image", "csv", "json", "markdown", "text", or "" (no inline preview)."""
    mime = artifact.mimetype.lower()
    name = artifact.filename.lower()
    if artifact.encoding:
        return ""  # compressed content: its application knows how to read it
    if mime.startswith("image/") and not mime.endswith("svg+xml"):
        return "image"
    if mime in ("text/csv", "application/csv") or name.endswith(".csv"):
        return "csv"
    if mime == "application/json" or name.endswith(".json"):
        return "json"
    if mime in ("text/markdown", "text/x-markdown") or name.endswith((".md", ".markdown")):
        return "markdown"
    if mime.startswith("text/") or name.endswith((".txt", ".log", ".yaml", ".yml", ".toml", ".py")):
        return "text"
    return ""


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""


class ArtifactView(QWidget):
    folder_requested = Signal()  # the user wants to point at the artifact folder

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.store: Path | None = None
        self.artifacts: list[Artifact] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.status, 1)
        self.folder_button = QPushButton("Artifact folder…")
        self.folder_button.setToolTip("The FileSystemArtifactStore folder of this study (remembered)")
        self.folder_button.clicked.connect(self.folder_requested)
        bar.addWidget(self.folder_button)
        layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.list = QTreeWidget()
        self.list.setColumnCount(3)
        self.list.setHeaderLabels(["Name", "Type", "Size"])
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setColumnWidth(0, 150)
        self.list.setColumnWidth(1, 130)
        self.list.currentItemChanged.connect(lambda *_: self._preview())
        self.list.itemDoubleClicked.connect(lambda *_: self.open_external())
        split.addWidget(self.list)
        preview = QWidget()
        pl = QVBoxLayout(preview)
        pl.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.preview_title = QLabel()
        self.preview_title.setObjectName("sectionTitle")
        buttons.addWidget(self.preview_title, 1)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open with the desktop's default application")
        self.open_button.clicked.connect(self.open_external)
        self.copy_button = QPushButton("Save a copy…")
        self.copy_button.clicked.connect(self.save_copy)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.copy_button)
        pl.addLayout(buttons)
        self.pages = QStackedWidget()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_area = QScrollArea()
        self.image_area.setWidget(self.image)
        self.image_area.setWidgetResizable(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.markdown = QTextBrowser()
        self.markdown.setOpenExternalLinks(True)
        for page in (self.message, self.image_area, self.text, self.table, self.markdown):
            self.pages.addWidget(page)
        pl.addWidget(self.pages, 1)
        split.addWidget(preview)
        split.setSizes([150, 240])
        layout.addWidget(split, 1)
        self.set_artifacts([], None, "")

    # --- contents -----------------------------------------------------------------------------------------
    def set_artifacts(self, artifacts: Sequence[Artifact], store: Path | None, store_text: str) -> None:
        """List `artifacts` with their files in `store` (None: no folder known); `store_text` says where it is."""
        self.artifacts = list(artifacts)
        self.store = store
        self.status.setText(store_text)
        self.list.clear()
        items: list[QTreeWidgetItem] = []
        for artifact in self.artifacts:
            size = artifact_size(store, artifact.artifact_id)
            if artifact.problem:
                shown = f"malformed: {artifact.problem}"
            elif store is None:
                shown = "no folder"
            else:
                shown = size_text(size) if size is not None else "missing"
            item = QTreeWidgetItem([artifact.filename, artifact.mimetype, shown])
            item.setToolTip(0, f"{artifact.filename}\nid {artifact.artifact_id}")
            item.setToolTip(2, shown)
            item.setData(0, ARTIFACT_ROLE, len(items))
            items.append(item)
        self.list.addTopLevelItems(items)
        if items:
            self.list.setCurrentItem(items[0])
        self._preview()

    def current(self) -> Artifact | None:
        item = self.list.currentItem()
        return None if item is None else self.artifacts[int(item.data(0, ARTIFACT_ROLE))]

    def current_file(self) -> Path | None:
        artifact = self.current()
        if artifact is None or self.store is None:
            return None
        path = artifact_path(self.store, artifact.artifact_id)
        return path if path is not None and path.is_file() else None

    # --- preview ------------------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)

    def _preview(self) -> None:
        artifact = self.current()
        path = self.current_file()
        self.open_button.setEnabled(path is not None)
        self.copy_button.setEnabled(path is not None)
        if artifact is None:
            self.preview_title.setText("")
            self._say("No artifacts." if not self.artifacts else "Select an artifact.")
            return
        self.preview_title.setText(artifact.filename)
        if artifact.problem:
            self._say(f"This artifact's record is malformed: it {artifact.problem}.")
        elif self.store is None:
            self._say("Choose the study's artifact folder (Artifact folder…) to see this file.")
        elif path is None:
            self._say(f"The file is missing from the artifact folder {self.store}.")
        elif not preview_kind(artifact):
            self._say(f"No preview for {artifact.mimetype}: Open shows it in its application.")
        elif path.stat().st_size > PREVIEW_LIMIT:
            self._say(f"Too large to preview ({size_text(path.stat().st_size)}): Open shows it in its application.")
        else:
            self._show_file(preview_kind(artifact), path)

    def _show_file(self, kind: str, path: Path) -> None:
        if kind == "image":
            pixmap = QPixmap(str(path))
            if pixmap.isNull():
                self._say("This image cannot be read: Open shows it in its application.")
                return
            self.image.setPixmap(pixmap)
            self.pages.setCurrentWidget(self.image_area)
            return
        text = path.read_bytes().decode("utf-8", "replace")
        if kind == "csv":
            self._fill_table(text)
        elif kind == "markdown":
            self.markdown.setMarkdown(text)
            self.pages.setCurrentWidget(self.markdown)
        else:
            if kind == "json":
                try:
                    text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
                except ValueError:
                    pass  # shown as it is: the user sees what is wrong
            self.text.setPlainText(text)
            self.pages.setCurrentWidget(self.text)

    def _fill_table(self, text: str) -> None:
        rows = []
        for row in csv.reader(io.StringIO(text)):
            rows.append(row)
            if len(rows) > TABLE_ROWS:
                break
        header, body = (rows[0], rows[1:]) if rows else ([], [])
        self.table.clear()
        self.table.setColumnCount(max([len(header), *(len(r) for r in body)], default=0))
        self.table.setRowCount(len(body))
        self.table.setHorizontalHeaderLabels(header)
        for r, row in enumerate(body):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.pages.setCurrentWidget(self.table)

    # --- actions ------------------------------------------------------------------------------------------
    def open_external(self) -> None:
        path = self.current_file()
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def save_copy(self) -> None:
        artifact, path = self.current(), self.current_file()
        if artifact is None or path is None:
            return
        target = dialogs.save_file(self, "Save a copy of the artifact", artifact.filename, "All files (*)", True)
        if not target:
            return
        try:
            shutil.copyfile(path, target)
        except OSError as exc:
            dialogs.error(self, "Save a copy", f"Cannot write {target}: {exc.strerror or exc}")
