"""The trials table: state, text and expression filters, a column chooser, CSV export, and the table itself.

The view asks the model only for the cells on screen; its header never sizes columns to their contents (that
walks every row), widths are measured on the first rows instead.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from optgui.core.storage import STATE_NAMES, FilterError, TrialTable
from optgui.qt.flow_layout import FlowLayout
from optgui.qt.steady_label import SteadyLabel
from optgui.qt.workbench.trials_model import TrialsModel
from optgui.qt.workbench.trials_view import TrialsView

DEFAULT_HIDDEN = ("datetime_start",)  # start and completion time together crowd the table; one is enough


class TrialsTable(QWidget):
    trial_selected = Signal(int)  # a trial number (the current row)
    export_requested = Signal()
    subset_cleared = Signal()  # the user removed the narrowing set by another view (e.g. brushing)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = TrialsModel(self)
        self.hidden_keys: set[str] = set(DEFAULT_HIDDEN)
        self._counting = True  # (see _counted_once)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        states = FlowLayout()  # (wraps in a narrow window instead of cutting the names off)
        bar.addLayout(states)
        self.state_boxes: dict[int, QCheckBox] = {}
        for code, name in enumerate(STATE_NAMES):
            box = QCheckBox(name.capitalize())
            box.setChecked(True)
            box.toggled.connect(self._states_changed)
            self.state_boxes[code] = box
            states.addWidget(box)
        self.search = QLineEdit()
        self.search.setMinimumWidth(140)
        self.search.setPlaceholderText("Search trials")
        self.search.setToolTip("Matches the trial number, the state, a categorical choice or a text attribute")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda text: self.model.set_filters(text=text))
        bar.addWidget(self.search, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(bar)

        expr_row = QHBoxLayout()
        self.expression = QLineEdit()
        self.expression.setPlaceholderText("Filter, e.g.  lr < 0.01 and state == COMPLETE   (Enter applies)")
        self.expression.setClearButtonEnabled(True)
        self.expression.returnPressed.connect(self.apply_expression)
        self.expression.textChanged.connect(lambda text: text or self.apply_expression())
        expr_row.addWidget(self.expression, 1)
        self.count_label = SteadyLabel()  # (it changes with every live update)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count_label.setObjectName("muted")
        expr_row.addWidget(self.count_label)
        self.columns_button = QToolButton()
        self.columns_button.setText("Columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.columns_button.setMenu(self.columns_menu)
        expr_row.addWidget(self.columns_button)
        self.export_button = QToolButton()
        self.export_button.setText("Export CSV…")
        self.export_button.setToolTip("Write the shown rows and columns, in this order, to a CSV file")
        self.export_button.clicked.connect(self.export_requested)
        expr_row.addWidget(self.export_button)
        layout.addLayout(expr_row)
        self.expression_error = QLabel()
        self.expression_error.setObjectName("filterError")
        self.expression_error.setWordWrap(True)
        self.expression_error.hide()
        layout.addWidget(self.expression_error)
        # Another view (parallel coordinates' brushes) may narrow the rows: say so, and let the user undo it here.
        self.subset_bar = QWidget()
        subset_row = QHBoxLayout(self.subset_bar)
        subset_row.setContentsMargins(0, 0, 0, 0)
        self.subset_label = QLabel()
        self.subset_label.setObjectName("filterNote")
        subset_row.addWidget(self.subset_label)
        self.subset_clear = QToolButton()
        self.subset_clear.setText("Show all trials")
        self.subset_clear.setToolTip("Remove this filter (clears the brushes in parallel coordinates)")
        self.subset_clear.clicked.connect(self.subset_cleared)
        subset_row.addWidget(self.subset_clear)
        subset_row.addStretch(1)
        self.subset_bar.hide()
        layout.addWidget(self.subset_bar)
        self._scroll_when_shown = False

        self.view = TrialsView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(lambda pos: self._columns_menu_at(header.mapToGlobal(pos)))
        layout.addWidget(self.view, 1)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._after_reset)
        self.model.rowsInserted.connect(self._update_count)
        self.model.rowsRemoved.connect(self._update_count)
        self.model.columnsInserted.connect(lambda *_: self._apply_hidden())
        self._selected_before_reset: list[int] = []
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self._rows_inserted_at_end = False
        self.model.rowsAboutToBeInserted.connect(self._before_insert)
        self.model.rowsInserted.connect(self._after_insert)

    # --- data ---------------------------------------------------------------------------------------------
    def load(self, table: TrialTable, directions, metric_names=None) -> None:
        self.model.load(table, directions, metric_names)
        self._apply_hidden()
        self._size_columns()

    def bind(self, frame) -> None:
        """Show a study session's TrialStore (or any TrialFrame) without copying it."""
        self.model.bind(frame)
        self._apply_hidden()
        self._size_columns()

    def apply(self, table: TrialTable) -> int:
        with self._counted_once():
            return self.model.apply(table)

    def rows_changed(self, new, changed, columns_added: bool) -> int:
        """The bound frame changed (the session applied a poll or the engine's events)."""
        with self._counted_once():
            return self.model.rows_changed(new, changed, columns_added)

    @contextmanager
    def _counted_once(self):
        """Rows inserted one by one (a sorted order) show the count once, at the end: in between it read "x of y
        trials" and resized its label twice per live update, laying the window out again."""
        self._counting = False
        try:
            yield
        finally:
            self._counting = True
            self._update_count()

    # --- filters ------------------------------------------------------------------------------------------
    def _states_changed(self) -> None:
        chosen = {code for code, box in self.state_boxes.items() if box.isChecked()}
        self.model.set_filters(states=None if len(chosen) == len(STATE_NAMES) else chosen)

    def apply_expression(self) -> bool:
        """Apply the expression field; a bad expression shows its message and leaves the rows as they were."""
        try:
            self.model.set_filters(expression=self.expression.text())
        except FilterError as exc:
            self.expression_error.setText(f"Filter not applied: {exc}")
            self.expression_error.show()
            return False
        self.expression_error.hide()
        return True

    def show_only(self, numbers, source: str = "") -> None:
        """Narrow the rows to these trial numbers (None: no narrowing), as chosen in the view named `source`."""
        self.model.set_filters(subset=numbers)
        if numbers is None:
            self.subset_bar.hide()
            return
        where = f" in {source}" if source else ""
        self.subset_label.setText(f"Filtered{where}: only the {len(numbers):,} trials inside the brushed ranges")
        self.subset_bar.show()

    # --- columns ------------------------------------------------------------------------------------------
    def _fill_columns_menu(self) -> None:
        self._populate(self.columns_menu)

    def _columns_menu_at(self, pos) -> None:
        menu = QMenu(self)
        self._populate(menu)
        menu.exec(pos)

    def _populate(self, menu: QMenu) -> None:
        menu.clear()
        for column in self.model.columns:
            if column.key == "number":
                continue
            action = QAction(column.title if column.title == column.key else f"{column.title}  ({column.key})", menu)
            action.setCheckable(True)
            action.setChecked(column.key not in self.hidden_keys)
            action.toggled.connect(lambda on, key=column.key: self.set_column_visible(key, on))
            menu.addAction(action)

    def set_column_visible(self, key: str, visible: bool) -> None:
        (self.hidden_keys.discard if visible else self.hidden_keys.add)(key)
        self._apply_hidden()

    def _apply_hidden(self) -> None:
        for i, column in enumerate(self.model.columns):
            self.view.setColumnHidden(i, column.key in self.hidden_keys)

    def visible_columns(self):
        """Shown columns in their on-screen order (the user may have dragged headers)."""
        header = self.view.horizontalHeader()
        indexes = sorted(
            (header.visualIndex(i), i) for i in range(len(self.model.columns)) if not self.view.isColumnHidden(i)
        )
        return [self.model.columns[i] for _, i in indexes]

    def _size_columns(self) -> None:
        metrics = self.fontMetrics()
        order = self.model.order
        sample = np.concatenate([order[:200], order[-200:]]) if len(order) > 400 else order
        # The first rows of the shown order have the smallest numbers: the "#" column is sized for the largest
        # (row = trial number) with a digit to spare, so a study that grows past a power of ten is not elided.
        digits = len(str(max(self.model.frame.n - 1, 999)))
        for i, column in enumerate(self.model.columns):
            texts = [column.title] + [self.model.frame.display(column, int(r), full=False) for r in sample]
            if column.key == "number":
                texts.append("9" * (digits + 1))
            width = max(metrics.horizontalAdvance(t) for t in texts) + 24
            self.view.setColumnWidth(i, min(max(width, 48), 260))

    # --- selection and scrolling --------------------------------------------------------------------------
    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.trial_selected.emit(self.model.row_of(current.row()))

    def current_trial(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.row_of(index.row()) if index.isValid() else None

    def selected_trials(self) -> list[int]:
        return [self.model.row_of(i.row()) for i in self.view.selectionModel().selectedRows()]

    def select_trial(self, number: int) -> bool:
        """Make this trial the current, only selected row and scroll to it. False if it is not shown."""
        position = self.model.position_of(number)
        if position < 0:
            return False
        index = self.model.index(position, 0)
        if self.current_trial() != number or self.selected_trials() != [number]:
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
        # A hidden table (another tab) has no real viewport size yet: scroll when it is shown.
        self._scroll_when_shown = not self.view.isVisible()
        self.view.scrollTo(index)
        return True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._scroll_when_shown:
            self._scroll_when_shown = False
            index = self.view.currentIndex()
            if index.isValid():
                self.view.scrollTo(index, self.view.ScrollHint.PositionAtCenter)

    def _remember_selection(self) -> None:
        self._selected_before_reset = self.selected_trials()
        self._current_before_reset = self.current_trial()

    def _after_reset(self) -> None:
        """A filter change resets the model: put the selection back on the same trials where they are still shown."""
        self._update_count()
        selection = self.view.selectionModel()
        positions = np.full(self.model.frame.n, -1, dtype=np.int64)
        positions[self.model.order] = np.arange(len(self.model.order))
        current = getattr(self, "_current_before_reset", None)
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for number in self._selected_before_reset:
            if 0 <= number < len(positions) and positions[number] >= 0:
                selection.select(self.model.index(int(positions[number]), 0), flags)
        if current is not None and 0 <= current < len(positions) and positions[current] >= 0:
            index = self.model.index(int(positions[current]), 0)
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.view.scrollTo(index)

    def _before_insert(self, _parent, first, _last) -> None:
        bar = self.view.verticalScrollBar()
        self._rows_inserted_at_end = (
            first >= self.model.rowCount() and bar.value() >= bar.maximum() and bar.maximum() > 0
        )

    def _after_insert(self, *_args) -> None:
        if self._rows_inserted_at_end:  # the user watches the newest trials: keep following them
            self.view.scrollToBottom()

    def _update_count(self, *_args) -> None:
        if not self._counting:
            return
        shown, total = len(self.model.order), self.model.frame.n
        self.count_label.setText(f"{shown:,} of {total:,} trials" if shown != total else f"{total:,} trials")
