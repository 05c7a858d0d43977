"""The workspace panel: every study file under a folder, each with its studies and their health, kept current.

The folder is read in the background (a task with progress and Cancel) by the core's `read_workspace`, which the
CLI's `optgui inspect FOLDER` uses too. A `QFileSystemWatcher` watches the folder, its subfolders and the files
found; a change schedules one re-read at the texts' rate, which reads again only the files whose size or
modification time changed. Choosing a study emits `study_chosen(path, study)`; the window opens it as any study.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import QEvent, QFileSystemWatcher, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from optgui.core.health import StudyStatus, Workspace, WorkspaceFile, read_workspace
from optgui.core.storage import DEFAULT_DEPTH, iso_utc
from optgui.qt.tasks.tasks import TaskError, TaskSlot, TaskState
from optgui.qt.tasks.throttle import TEXTS, Throttle

# Health second: in a narrow dock it is what must stay in view.
COLUMNS = ("File / study", "Health", "Trials", "Best", "Last activity")
# Which columns a narrow panel keeps beside the names, most important first: those that fit whole are shown (the
# names take the rest, elided in the middle); the others are in each row's tooltip. (At 1000 px the dock is ~180 px
# wide: the last column was cut off at its edge.)
COLUMN_PRIORITY = (1, 2, 4, 3)
NAME_MIN = 64  # px the file and study names keep before a column gives way to them
PATH_ROLE = Qt.ItemDataRole.UserRole
STUDY_ROLE = Qt.ItemDataRole.UserRole + 1


class WorkspacePanel(QWidget):
    """A folder's study files and their studies (with health); `open_folder(path)` shows one."""

    study_chosen = Signal(str, str)  # file path, study name
    read_finished = Signal()  # a (re-)read has landed in the list

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.root: Path | None = None
        self.scan_depth = DEFAULT_DEPTH
        self.workspace: Workspace | None = None
        self._slot = TaskSlot(self, "read workspace")
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._changed)
        self._watcher.fileChanged.connect(self._changed)
        self._reread = Throttle(self, TEXTS, self.reload, leading=False)

        self.title = QLabel("No folder")
        self.title.setObjectName("workspaceTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long folder path is elided to the panel's width instead of widening the dock (and the window).
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(40)  # (its text's width would widen a narrow dock, and the window with it)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        busy = QHBoxLayout()
        busy.setContentsMargins(0, 0, 0, 0)
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        self.busy_row = QWidget()
        self.busy_row.setLayout(busy)
        self.busy_row.hide()
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # (sized by fit_columns)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the names take the rest, elided
        header.setSectionsMovable(False)
        header_item = self.tree.headerItem()
        if header_item is not None:
            header_item.setToolTip(4, "The study's last activity (UTC)")
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # file names differ at their ends
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.viewport().installEventFilter(self)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemClicked.connect(self._activated)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setObjectName("workspaceProblems")
        self.problems.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.problems)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return False

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide_title()

    def _elide_title(self) -> None:
        full = self.title.toolTip() or "No folder"
        room = max(0, self.title.contentsRect().width())
        self.title.setText(self.title.fontMetrics().elidedText(full, Qt.TextElideMode.ElideMiddle, room))

    def fit_columns(self) -> None:
        """Show the columns that fit whole beside the names (COLUMN_PRIORITY), each as wide as its texts; the names
        take the rest (at least NAME_MIN px) and are elided in the middle."""
        header = self.tree.header()
        room = self.tree.viewport().width() - NAME_MIN
        fits = True
        for column in COLUMN_PRIORITY:
            if fits:  # (measured shown: a hidden section's hints are not its texts')
                header.setSectionHidden(column, False)
                width = max(self.tree.sizeHintForColumn(column), header.sectionSizeHint(column))
                fits = width <= room  # once one does not fit, the less important ones give way too
            if fits:
                room -= width
                header.resizeSection(column, width)
            else:
                header.setSectionHidden(column, True)

    def shown_columns(self) -> list[str]:
        header = self.tree.header()
        return [name for column, name in enumerate(COLUMNS) if not header.isSectionHidden(column)]

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.stop()
        super().closeEvent(event)

    def stop(self) -> None:
        """Stop reading and watching (the window is closing, or the panel is no longer wanted)."""
        self._reread.cancel()
        self._slot.cancel()
        paths = self._watcher.files() + self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)

    # --- reading ------------------------------------------------------------------------------------------
    def open_folder(self, folder: str | Path, depth: int = DEFAULT_DEPTH) -> None:
        """Show `folder` (read in the background) and watch it."""
        self.root, self.scan_depth, self.workspace = Path(folder), depth, None
        self.title.setToolTip(str(self.root))
        self._elide_title()
        self.tree.clear()
        self.reload()

    def reload(self) -> None:
        """Read the folder again (only changed files are read anew)."""
        if self.root is None:
            return
        root, depth, previous = self.root, self.scan_depth, self.workspace
        self.progress.setRange(0, 0)
        self.progress.setFormat("Reading…")
        self.busy_row.setVisible(previous is None)  # a re-read of a watched folder is quiet

        def work(state: TaskState) -> Workspace:
            return read_workspace(
                root,
                depth=depth,
                previous=previous,
                cancelled=lambda: state.cancelled,
                progress=lambda done, total: state.emit((done, total)),
            )

        self._slot.start(work, returned=self._landed, yielded=self._progress, errored=self._failed)

    def cancel(self) -> None:
        """Stop reading; what was read so far stays listed."""
        self._slot.cancel()
        self.busy_row.hide()
        self.read_finished.emit()

    @property
    def reading(self) -> bool:
        return self._slot.running

    def _progress(self, done_total: tuple[int, int]) -> None:
        done, total = done_total
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"Reading {done} of {total} files")

    def _failed(self, error: TaskError) -> None:
        self.busy_row.hide()
        self.problems.setText(f"Cannot read {self.root}: {error.exception}")
        self.problems.show()
        self.read_finished.emit()

    def _landed(self, workspace: Workspace) -> None:
        self.busy_row.hide()
        self.workspace = workspace
        self._show(workspace)
        self._watch(workspace)
        self.read_finished.emit()

    # --- watching -----------------------------------------------------------------------------------------
    def _watch(self, workspace: Workspace) -> None:
        wanted = {str(workspace.root)} | {str(f.path) for f in workspace.files}
        wanted |= {str(f.path.parent) for f in workspace.files}
        wanted |= _subfolders(workspace.root, self.scan_depth)
        current = set(self._watcher.files()) | set(self._watcher.directories())
        if current - wanted:
            self._watcher.removePaths(sorted(current - wanted))
        if wanted - current:
            self._watcher.addPaths(sorted(wanted - current))

    def _changed(self, _path: str) -> None:
        self._reread()

    # --- the list -----------------------------------------------------------------------------------------
    def _show(self, workspace: Workspace) -> None:
        chosen = self.chosen()
        self.tree.clear()
        for file in workspace.files:
            self.tree.addTopLevelItem(self._file_item(workspace, file))
        self.tree.expandAll()
        self.fit_columns()
        if chosen is not None:
            self.select(*chosen)
        problems = [f"{_relative(workspace, f.path)}: {f.error}" for f in workspace.files if f.error]
        problems += [f"{_relative(workspace, s.path)}: {s.reason}" for s in workspace.skipped]
        self.problems.setText("Not read:\n" + "\n".join(problems) if problems else "")
        self.problems.setVisible(bool(problems))

    def _file_item(self, workspace: Workspace, file: WorkspaceFile) -> QTreeWidgetItem:
        item = QTreeWidgetItem([_relative(workspace, file.path)])
        item.setData(0, PATH_ROLE, str(file.path))
        item.setToolTip(0, str(file.path))
        if file.error:
            item.setText(1, "not read")
            item.setToolTip(0, f"{file.path}\nnot read: {file.error}")
            item.setToolTip(1, file.error)
        for status in file.studies:
            item.addChild(_study_item(file, status))
        return item

    def items(self) -> list[QTreeWidgetItem]:
        """Every study row, in order."""
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top is not None:
                rows += [child for j in range(top.childCount()) if (child := top.child(j)) is not None]
        return rows

    def chosen(self) -> tuple[str, str] | None:
        item = self.tree.currentItem()
        if item is None or item.data(0, STUDY_ROLE) is None:
            return None
        return item.data(0, PATH_ROLE), item.data(0, STUDY_ROLE)

    def select(self, path: str, study: str) -> None:
        for item in self.items():
            if item.data(0, PATH_ROLE) == path and item.data(0, STUDY_ROLE) == study:
                self.tree.setCurrentItem(item)
                return

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        study = item.data(0, STUDY_ROLE)
        if study is not None:
            self.study_chosen.emit(item.data(0, PATH_ROLE), study)


def _study_item(file: WorkspaceFile, status: StudyStatus) -> QTreeWidgetItem:
    summary, health = status.summary, status.health
    best = " ".join(f"{v:.6g}" for v in summary.best_values) if summary.best_values else "–"
    last = iso_utc(summary.last_activity)
    state = "?" if health is None else str(health.state)
    item = QTreeWidgetItem([summary.name, state, str(summary.n_trials), best, _short_time(last)])
    item.setData(0, PATH_ROLE, str(file.path))
    item.setData(0, STUDY_ROLE, summary.name)
    # Every column's full text, for a narrow panel that shows only some of them, or elides the name.
    whole = "–" if last is None else last[:19].replace("T", " ") + " UTC"
    tip = (
        f"{summary.name} in {file.path}\nhealth: {health.summary if health is not None else state}\n"
        f"{summary.n_trials} trials · best {best} · last activity {whole}"
    )
    for column in (0, 2, 3, 4):
        item.setToolTip(column, tip)
    if health is not None:
        item.setToolTip(1, "\n".join([health.summary, *health.evidence[1:]]))
    for column in (2, 3):
        item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _short_time(iso: str | None) -> str:
    """A study's last activity in few characters (UTC): "12-04 10:27" this year, the date in another."""
    if iso is None:
        return "–"
    if iso[:4] != str(_dt.datetime.now(_dt.UTC).year):
        return iso[:10]
    return iso[5:16].replace("T", " ")


def _relative(workspace: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(workspace.root))
    except ValueError:
        return str(path)


def _subfolders(root: Path, depth: int) -> set[str]:
    """The folders a scan to `depth` enters (watched, so that a file added to one is seen)."""
    found: set[str] = set()
    frontier = [root]
    for _ in range(depth):
        nxt = []
        for folder in frontier:
            try:
                children = [p for p in folder.iterdir() if p.is_dir() and str(p) not in found]
            except OSError:
                continue
            found.update(str(p) for p in children)
            nxt += children
        frontier = nxt
    return found
