"""The trials table model: a flat QAbstractTableModel over a TrialFrame's numpy columns.

Sorting and filtering happen inside the model (np.argsort / boolean masks over the visible rows): a
QSortFilterProxyModel calls Python back per comparison and took 24 s to sort 100k rows, this takes milliseconds.
`order` holds the trial numbers shown, in display order.

Live updates keep the user's place: new trials are inserted with beginInsertRows at their sorted positions (at
the end in the default number order), a trial that changes (RUNNING -> COMPLETE) is updated in place, and one
whose sort position changed is moved with a layout change that carries persistent indexes along, so the
selection follows it. Rows above the viewport never shift the scroll position by more than the rows inserted.

Repaint cost: the view asks data() for 7 roles of every cell on screen at every repaint (a sort, a filter, and
also every live append, because QTableView relays out and repaints the whole viewport when the row count
changes). Formatting a cell (float to text, UTC to local time) costs far more than the call itself, so each shown
trial's row is formatted once into `_cells` and served from there until that trial changes; roles the model
does not answer return before touching anything.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from optgui.core.storage import (
    DATETIME,
    NUMERIC,
    STATE,
    STATE_NAMES,
    Column,
    TrialFrame,
    TrialTable,
    argsort_stable,
    compile_expression,
    state_mask,
    text_mask,
)
from optgui.qt import theme


def _place_after(key: np.ndarray, order: np.ndarray, value: float, descending: bool = False) -> int:
    """np.searchsorted(key[order], value, side="right") for key[order] sorted as numpy sorts (NaN last), found by
    bisection without gathering key[order]. With `descending`, the order sorts -key (largest first, NaN still
    last) and the place is that of -value: the key is not negated (8 MB at 1M trials, each live update).

    >>> key = np.array([3.0, np.nan, 1.0, 2.0])
    >>> order = np.array([2, 3, 0, 1])  # keys 1, 2, 3, NaN
    >>> [_place_after(key, order, v) for v in (0.5, 2.0, 9.0, float("nan"))]
    [0, 2, 3, 4]
    >>> [_place_after(key, np.array([0, 3, 2, 1]), v, descending=True) for v in (0.5, 2.0, 9.0)]
    [3, 2, 0]
    """
    lo, hi = 0, len(order)
    value_is_nan = value != value
    while lo < hi:
        mid = (lo + hi) // 2
        k = key[order[mid]]
        # Is value before k? Nothing is before NaN's place but a number; NaN is before nothing.
        before = False if value_is_nan else (k != k or (value > k if descending else value < k))
        if before:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _as_change(result) -> tuple[np.ndarray, np.ndarray, bool]:
    """(new rows, changed rows, columns added) of TrialFrame.apply or TrialStore.apply (a StoreChange)."""
    if isinstance(result, tuple):
        return result
    return result.new, result.changed, result.columns_added


# The root index, as Qt's model API takes for a flat table (one instance: no call in default arguments).
_NO_PARENT = QModelIndex()

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the trial number of a view row
_DISPLAY, _ALIGN, _FOREGROUND, _TOOLTIP = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.TextAlignmentRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.ToolTipRole,
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_CELL_SLOT = {_DISPLAY: 0, _ALIGN: 1, _FOREGROUND: 2}  # where a role's answer sits in a formatted row
_ANSWERED = frozenset((*_CELL_SLOT, _TOOLTIP, ROW_ROLE))
_MAX_CACHED_ROWS = 4096  # a few screens' worth; rebuilding a row is cheap, keeping 100k rows of text is not


class TrialsModel(QAbstractTableModel):
    filters_changed = Signal()  # the set of shown rows changed because of a filter (not a live update)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frame = TrialFrame(("minimize",))
        self.columns: list[Column] = list(self.frame.columns)
        self._order = np.empty(0, dtype=np.int64)
        self._room: np.ndarray | None = None  # the buffer `_order` is the start of, with room to append
        self._pos: np.ndarray | None = None
        self.sort_key = "number"
        self.descending = False
        self.states: set[int] | None = None
        self.text = ""
        self.expression = ""
        self.subset: np.ndarray | None = None  # trial numbers another view narrowed the table to (brushing)
        self._expression_mask = compile_expression("", self.frame)
        self._cells: dict[int, tuple[tuple, tuple, tuple]] = {}  # trial number -> (texts, alignments, colours)
        self._restyle(theme.colors(), repaint=False)
        t = theme.current()
        if t is not None:
            t.changed.connect(self._restyle)

    # --- loading ------------------------------------------------------------------------------------------
    def load(self, table: TrialTable, directions: tuple[str, ...], metric_names=None) -> None:
        """Show a table of trials in a frame of the model's own (a table without a study session: tests, tools)."""
        frame = TrialFrame(directions, metric_names, capacity=max(1024, len(table) + 1024))
        frame.load(table)
        self.bind(frame)

    def bind(self, frame: TrialFrame) -> None:
        """Show the trials of `frame` (a study session's TrialStore: the model keeps no copy of its own)."""
        self.beginResetModel()
        self._cells.clear()
        self.frame = frame
        self.columns = list(self.frame.columns)
        if not self.frame.has_column(self.sort_key):
            self.sort_key, self.descending = "number", False
        try:
            self._expression_mask = compile_expression(self.expression, self.frame)
        except ValueError:
            self.expression = ""
            self._expression_mask = compile_expression("", self.frame)
        self.order = self._compute_order()
        self.endResetModel()

    def apply(self, table: TrialTable) -> int:
        """Merge a poll's new and changed trials into the frame and show them. Returns the number of rows touched."""
        new, changed, added = _as_change(self.frame.apply(table))
        return self.rows_changed(new, changed, added)

    def rows_changed(self, new: np.ndarray, changed: np.ndarray, columns_added: bool) -> int:
        """The frame took new rows (trial numbers) and changed rows: show them where the sort and filters say,
        keeping the user's place. Returns the number of rows touched."""
        if columns_added:
            self._sync_columns()
        if len(new) == 0 and len(changed) == 0:
            return 0
        touched = np.concatenate([changed, new])  # new: a placeholder row (a gap in the numbers) may be shown
        if len(touched) > 4 * len(self._cells):
            # Every trial touched (a full read landing): look the few cached rows up in `touched` instead of each
            # touched row in the cache (~0.3 s at 1M trials).
            cached = np.fromiter(self._cells, dtype=np.int64, count=len(self._cells))
            for row in cached[np.isin(cached, touched)].tolist():
                del self._cells[row]
        else:
            for row in touched.tolist():
                self._cells.pop(row, None)
        passes = self._mask_of(touched)
        visible_now = np.zeros(len(touched), dtype=bool)
        if len(changed):  # new trials are never shown yet
            pos = self._positions()
            visible_now[: len(changed)] = pos[changed] >= 0
        # 1. Visible rows that no longer pass the filter leave (e.g. a RUNNING filter and a trial that finished).
        leaving = touched[visible_now & ~passes]
        if len(leaving):
            self._remove_rows(np.sort(pos[leaving]))
        # 2. Visible rows that still pass: repaint; move them if their sort position changed.
        staying = touched[visible_now & passes]
        if len(staying):
            if self.sort_key != "number" and not self._still_sorted():
                self._resort_in_place()
            first = self.index(0, 0)
            if self.order.size:
                self.dataChanged.emit(first, self.index(len(self.order) - 1, len(self.columns) - 1))
        # 3. Rows that pass and are not shown yet (new trials, or changed ones that now pass) are inserted.
        entering = touched[~visible_now & passes]
        if len(entering):
            self._insert_rows(entering)
        return len(touched)

    def _sync_columns(self) -> None:
        keys = [c.key for c in self.columns]
        for position, column in enumerate(self.frame.columns):
            if position < len(self.columns) and self.columns[position].key == column.key:
                continue
            if column.key in keys:
                continue
            self.beginInsertColumns(QModelIndex(), position, position)
            self._cells.clear()
            self.columns.insert(position, column)
            self.endInsertColumns()
            keys.insert(position, column.key)

    # --- order --------------------------------------------------------------------------------------------
    def _key(self) -> np.ndarray:
        """The sort column's key, ascending (see _effective_key)."""
        return self.frame.sort_key(self.frame.column(self.sort_key))

    def _effective_key(self) -> np.ndarray:
        key = self._key()
        return -key if self.descending else key

    def _mask_of(self, rows: np.ndarray | None = None) -> np.ndarray:
        frame = self.frame
        mask = state_mask(frame, self.states) & self._expression_mask(frame)
        if self.text:
            mask &= text_mask(frame, self.text)
        if self.subset is not None:
            chosen = np.zeros(frame.n, dtype=bool)
            chosen[self.subset[self.subset < frame.n]] = True
            mask &= chosen
        return mask if rows is None else mask[rows]

    def _compute_order(self) -> np.ndarray:
        rows = np.flatnonzero(self._mask_of())
        if self.sort_key == "number" and not self.descending:
            return rows
        return rows[argsort_stable(self._effective_key()[rows])]

    @property
    def order(self) -> np.ndarray:
        return self._order

    @order.setter
    def order(self, value: np.ndarray) -> None:
        self._order = value
        self._room = None
        self._pos = None

    def _append_order(self, rows: np.ndarray) -> None:
        """order + rows, written into spare room after the order: a live update's new trials at the end cost
        O(new trials), not a copy of the whole order (8 MB at 1M trials, ~3 ms per update)."""
        n, need = len(self._order), len(self._order) + len(rows)
        room = self._room
        if room is None or len(room) < need:
            room = np.empty(need + need // 8 + 1024, dtype=np.int64)
            room[:n] = self._order
        room[n:need] = rows
        self._order, self._room, self._pos = room[:need], room, None

    def _insert_order(self, position: int, row: int) -> None:
        """order with `row` inserted at `position`: the order's tail shifted within its spare room (~0.3 ms at
        1M trials) rather than the whole order copied into new memory (np.insert: ~1.6-5 ms, each new row of a
        live update of a table sorted by value)."""
        n = len(self._order)
        room = self._room
        if room is None or len(room) < n + 1:
            room = np.empty(n + 1 + (n + 1) // 8 + 1024, dtype=np.int64)
            room[:n] = self._order
        room[position + 1 : n + 1] = room[position:n]  # (numpy copies overlapping ranges as memmove does)
        room[position] = row
        self._order, self._room, self._pos = room[: n + 1], room, None

    def _positions(self) -> np.ndarray:
        """View position of every frame row, -1 where not shown (cached until the order changes)."""
        if self._pos is None or len(self._pos) != self.frame.n:
            pos = np.full(self.frame.n, -1, dtype=np.int64)
            pos[self._order] = np.arange(len(self._order))
            self._pos = pos
        return self._pos

    def _still_sorted(self) -> bool:
        key = self._effective_key()[self.order]
        finite = ~np.isnan(key)
        # sorted means: all missing values last, and the present ones non-decreasing
        n_present = int(finite.sum())
        if not finite[:n_present].all():
            return False
        present = key[:n_present]
        return bool(np.all(present[1:] >= present[:-1]))

    def _resort_in_place(self) -> None:
        self.layoutAboutToBeChanged.emit()
        old_order = self.order
        key = self._effective_key()[old_order]
        new_order = old_order[argsort_stable(key)]
        self._remap_persistent(old_order, new_order)
        self.order = new_order
        self.layoutChanged.emit()

    def _remap_persistent(self, old_order: np.ndarray, new_order: np.ndarray) -> None:
        old_list = self.persistentIndexList()
        if not old_list:
            return
        pos = np.full(self.frame.n, -1, dtype=np.int64)
        pos[new_order] = np.arange(len(new_order))
        new_list = []
        for index in old_list:
            row = int(old_order[index.row()]) if 0 <= index.row() < len(old_order) else -1
            target = int(pos[row]) if row >= 0 else -1
            new_list.append(self.index(target, index.column()) if target >= 0 else QModelIndex())
        self.changePersistentIndexList(old_list, new_list)

    def _remove_rows(self, positions: np.ndarray) -> None:
        # contiguous runs, last first, so earlier positions stay valid
        runs = np.split(positions, np.flatnonzero(np.diff(positions) != 1) + 1)
        for run in reversed(runs):
            first, last = int(run[0]), int(run[-1])
            self.beginRemoveRows(QModelIndex(), first, last)
            self.order = np.delete(self.order, np.s_[first : last + 1])
            self.endRemoveRows()

    def _insert_rows(self, rows: np.ndarray) -> None:
        if self.sort_key == "number" and not self.descending and (len(self.order) == 0 or rows.min() > self.order[-1]):
            first = len(self.order)  # the common live case: new trials at the end, one insert
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._append_order(np.sort(rows))
            self.endInsertRows()
            return
        key = self._key()  # (not negated when descending: see below)
        sign = -1.0 if self.descending else 1.0
        rows = rows[argsort_stable(sign * key[rows])]
        if len(rows) * 64 < len(self.order):
            # A few rows into a long order: a binary search each, not a gather of the whole order's keys (8 MB at
            # 1M trials, ~10 ms of every live update of a sorted table) nor a negated copy of the key (~1 ms).
            places = np.array(
                [_place_after(key, self.order, value, self.descending) for value in key[rows].tolist()],
                dtype=np.int64,
            )
        else:
            places = np.searchsorted(sign * key[self.order], sign * key[rows], side="right")
        targets = places + np.arange(len(rows))
        # Insert in target order; each target already accounts for the rows inserted before it.
        for row, target in zip(rows.tolist(), targets.tolist(), strict=False):
            self.beginInsertRows(QModelIndex(), target, target)
            self._insert_order(target, row)
            self.endInsertRows()

    # --- user actions -------------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        self.set_sort(self.columns[column].key, order == Qt.SortOrder.DescendingOrder)

    def set_sort(self, key: str, descending: bool = False) -> None:
        self.layoutAboutToBeChanged.emit()
        self.sort_key, self.descending = key, descending
        old_order = self.order
        rows = np.sort(old_order)
        if key == "number" and not descending:
            new_order = rows
        else:
            new_order = rows[argsort_stable(self._effective_key()[rows])]
        self._remap_persistent(old_order, new_order)
        self.order = new_order
        self.layoutChanged.emit()

    def set_filters(
        self,
        *,
        states: set[int] | None | type(...) = ...,
        text: str | None = None,
        expression: str | None = None,
        subset: np.ndarray | None | type(...) = ...,
    ) -> None:
        """Change any of the filters. A bad expression raises FilterError and changes nothing. `subset`: only
        these trial numbers (None: all)."""
        if expression is not None:
            mask = compile_expression(expression, self.frame)
            self.expression, self._expression_mask = expression.strip(), mask
        if states is not ...:
            self.states = None if states is None else set(states)
        if text is not None:
            self.text = text
        if subset is not ...:
            self.subset = None if subset is None else np.asarray(subset, dtype=np.int64)
        self.beginResetModel()
        self.order = self._compute_order()
        self.endResetModel()
        self.filters_changed.emit()

    # --- Qt model API -------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.order)

    def columnCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        # Called for 7 roles of every cell on screen at each repaint: answer from the formatted row.
        if role not in _ANSWERED:
            return None
        row = int(self._order[index.row()])
        slot = _CELL_SLOT.get(role)
        if slot is not None:
            cells = self._cells.get(row)
            if cells is None:
                cells = self._format_row(row)
            return cells[slot][index.column()]
        if role == ROW_ROLE:
            return row
        return self.frame.display(self.columns[index.column()], row)  # the tooltip: full precision

    def _format_row(self, row: int) -> tuple[tuple, tuple, tuple]:
        if len(self._cells) >= _MAX_CACHED_ROWS:
            self._cells.clear()
        frame = self.frame
        texts = tuple(frame.display(column, row, full=False) for column in self.columns)
        aligns = tuple(
            _RIGHT
            if column.kind == NUMERIC or (column.kind not in (STATE, DATETIME) and self._is_number_cell(column, row))
            else _LEFT
            for column in self.columns
        )
        state_color = self._state_colors[int(frame.state[row])]
        colors = tuple(state_color if column.kind == STATE else None for column in self.columns)
        cells = self._cells[row] = (texts, aligns, colors)
        return cells

    def _is_number_cell(self, column: Column, row: int) -> bool:
        if column.kind == "param":
            return not self.frame.params[column.source].categorical
        value = self.frame.user_attrs[column.source][row]
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{column.key} (the name to use in filter expressions)"
        return None

    def _restyle(self, colors, repaint: bool = True) -> None:
        self._state_colors = [QColor(colors.state(name)) for name in STATE_NAMES]
        self._cells.clear()
        if repaint and self.order.size:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.order) - 1, len(self.columns) - 1))

    # --- questions ----------------------------------------------------------------------------------------
    def row_of(self, position: int) -> int:
        return int(self.order[position])

    def position_of(self, row: int) -> int:
        pos = self._positions()
        return int(pos[row]) if 0 <= row < len(pos) else -1

    def column_index(self, key: str) -> int:
        for i, c in enumerate(self.columns):
            if c.key == key:
                return i
        return -1
