"""The workspace panel: every study file under a folder, each with its studies and their health, kept current.

The folder is read in the background (a task with progress and Cancel) by the core's `read_workspace`, which the
CLI's `optgui inspect FOLDER` uses too. A `QFileSystemWatcher` watches the folder, its subfolders and the files
found; a change schedules one re-read at the texts' rate, which reads again only the files whose size or
modification time changed. Choosing a study emits `study_chosen(path, study)`; the window opens it as any study.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
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
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
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
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
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
        self.title.setText(str(self.root))
        self.title.setToolTip(str(self.root))
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
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
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
    item = QTreeWidgetItem(
        [
            summary.name,
            "?" if health is None else str(health.state),
            str(summary.n_trials),
            best,
            "–" if last is None else last[:16].replace("T", " "),
        ]
    )
    item.setData(0, PATH_ROLE, str(file.path))
    item.setData(0, STUDY_ROLE, summary.name)
    if health is not None:
        item.setToolTip(1, "\n".join([health.summary, *health.evidence[1:]]))
    for column in (2, 3):
        item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


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
