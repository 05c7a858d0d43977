"""Row filters of the trials table: by state, by text, and by expressions such as `lr < 0.01 and state == COMPLETE`.

Expressions are parsed with `ast` and interpreted here over numpy columns; nothing is ever passed to eval() or
compile(). Only these are accepted: comparisons (==, !=, <, <=, >, >=, in, not in, chained as in Python),
`and`, `or`, `not`, parentheses, column names, numbers (with a sign), strings, None (a missing value), True/False,
and the state names RUNNING, COMPLETE, PRUNED, FAIL, WAITING. Anything else (calls, attributes, arithmetic,
subscripts, lambdas...) is rejected with a message naming it.

Column names are the table's keys (number, state, value / values_0, duration, datetime_start, datetime_complete,
params_<name>, user_attrs_<key>; `artifacts`, a trial's artifact count, and `has_note`, 1 when it has an
optuna-dashboard note and a condition on its own: `has_note`, `not has_note`); a param or user attribute can also
be named without its prefix (`lr` for `params_lr`). A comparison with a missing value is false (also for `!=`),
except `x == None` / `x != None`.
Datetimes compare with ISO strings in local time (`datetime_start >= "2024-05-01 12:00"`).
"""

from __future__ import annotations

import ast
import datetime as _dt
import operator
from collections.abc import Callable

import numpy as np

from optgui.core.storage._tables import STATE_CODES, STATE_NAMES
from optgui.core.storage._trial_frame import (
    ANNOTATION_COLUMNS,
    ATTR,
    DATETIME,
    NUMERIC,
    PARAM,
    STATE,
    Column,
    TrialFrame,
)

Mask = Callable[[TrialFrame], np.ndarray]


class FilterError(ValueError):
    """The expression is not a valid filter; the message says why, for the user."""


_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_SYMBOL = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}

_FORBIDDEN = {
    ast.Call: "function calls",
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.BinOp: "arithmetic",
    ast.Lambda: "lambdas",
    ast.IfExp: "if-expressions",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.Dict: "dicts",
    ast.Starred: "starred expressions",
    ast.NamedExpr: "assignments",
    ast.JoinedStr: "f-strings",
    ast.Await: "await",
    ast.Yield: "yield",
}

ALLOWED = (
    "comparisons, and/or/not, column names, numbers, strings, None, True/False and the state names "
    "RUNNING, COMPLETE, PRUNED, FAIL, WAITING"
)


def compile_expression(text: str, frame: TrialFrame) -> Mask:
    """Parse `text` into a function frame -> bool mask over the frame's n rows. Raises FilterError."""
    text = text.strip()
    if not text:
        return lambda f: np.ones(f.n, dtype=bool)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" at character {exc.offset}" if exc.offset else ""
        raise FilterError(f"not a valid expression{where}: {exc.msg}") from None
    return _Compiler(frame).condition(tree.body)


class _Operand:
    """A column or a constant inside a comparison."""

    def __init__(self, column: Column | None = None, constant=None, is_constant: bool = False):
        self.column = column
        self.constant = constant
        self.is_constant = is_constant


class _Compiler:
    def __init__(self, frame: TrialFrame):
        self.frame = frame

    # --- boolean structure --------------------------------------------------------------------------------
    def condition(self, node: ast.AST) -> Mask:
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

            def boolop(frame: TrialFrame) -> np.ndarray:
                mask = parts[0](frame)
                for part in parts[1:]:
                    mask = combine(mask, part(frame))
                return mask

            return boolop
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.condition(node.operand)
            return lambda frame: ~inner(frame)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name) and node.id == "has_note":  # a flag reads as a condition on its own
            return lambda frame: frame.note_mark[: frame.n] != 0
        self._reject(node)
        raise FilterError(
            f"{ast.unparse(node)!r} is not a condition: compare it, e.g. `{ast.unparse(node)} > 0` (allowed: {ALLOWED})"
        )

    def _reject(self, node: ast.AST) -> None:
        for kind, what in _FORBIDDEN.items():
            if isinstance(node, kind):
                raise FilterError(f"{what} are not allowed in a filter ({ast.unparse(node)!r}); allowed: {ALLOWED}")
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
            raise FilterError(f"operator in {ast.unparse(node)!r} is not allowed; allowed: {ALLOWED}")
        if not isinstance(node, (ast.BoolOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Constant, ast.Tuple, ast.List)):
            raise FilterError(f"{node.__class__.__name__} is not allowed in a filter; allowed: {ALLOWED}")

    # --- comparisons --------------------------------------------------------------------------------------
    def compare(self, node: ast.Compare) -> Mask:
        masks = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=False):
            masks.append(self._one(left, op, right))
            left = right
        if len(masks) == 1:
            return masks[0]

        def chained(frame: TrialFrame) -> np.ndarray:
            mask = masks[0](frame)
            for m in masks[1:]:
                mask = mask & m(frame)
            return mask

        return chained

    def _one(self, left_node: ast.AST, op: ast.cmpop, right_node: ast.AST) -> Mask:
        if isinstance(op, (ast.Is, ast.IsNot)):
            raise FilterError("use == None / != None instead of `is`")
        if isinstance(op, (ast.In, ast.NotIn)):
            left = self.operand(left_node)
            if left.column is None:
                raise FilterError(f"the left side of `{_SYMBOL[type(op)]}` must be a column")
            if not isinstance(right_node, (ast.Tuple, ast.List)):
                raise FilterError(f"`{_SYMBOL[type(op)]}` needs a list of values, e.g. state in (COMPLETE, PRUNED)")
            items = [self.operand(e) for e in right_node.elts]
            if any(not item.is_constant for item in items):
                raise FilterError("the list after `in` may hold only numbers, strings and state names")
            tests = [self._column_vs_constant(left.column, ast.Eq(), item.constant) for item in items]

            def member(frame: TrialFrame) -> np.ndarray:
                mask = np.zeros(frame.n, dtype=bool)
                for t in tests:
                    mask |= t(frame)
                return mask

            if isinstance(op, ast.In):
                return member
            present = left.column
            return lambda frame: ~member(frame) & frame.present(present)
        left, right = self.operand(left_node), self.operand(right_node)
        if left.column is None and right.column is None:
            raise FilterError(
                f"{ast.unparse(left_node)} {_SYMBOL[type(op)]} {ast.unparse(right_node)} compares two "
                "constants: name a column"
            )
        if left.column is None:
            left, right, op = right, left, _FLIPPED[type(op)]()
        assert left.column is not None  # one side names a column, now the left one
        if right.column is None:
            return self._column_vs_constant(left.column, op, right.constant)
        return self._column_vs_column(left.column, op, right.column)

    def operand(self, node: ast.AST) -> _Operand:
        if isinstance(node, ast.Constant):
            if node.value is not None and not isinstance(node.value, (int, float, str, bool)):
                raise FilterError(f"{node.value!r} is not allowed; allowed: {ALLOWED}")
            return _Operand(constant=node.value, is_constant=True)
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)
        ):
            value = node.operand.value
            return _Operand(constant=-value if isinstance(node.op, ast.USub) else value, is_constant=True)
        if isinstance(node, ast.Name):
            column = self.resolve(node.id)
            if column is not None:
                return _Operand(column=column)
            if node.id in STATE_CODES:
                return _Operand(constant=_StateName(node.id), is_constant=True)
            if node.id in ("inf", "nan"):
                return _Operand(constant=float(node.id), is_constant=True)
            names = ", ".join(c.key for c in self.frame.columns)
            raise FilterError(f"unknown column {node.id!r}; columns: {names}")
        self._reject(node)
        raise FilterError(f"{ast.unparse(node)!r} is not a column, number or string; allowed: {ALLOWED}")

    def resolve(self, name: str) -> Column | None:
        frame = self.frame
        for key in (name, f"params_{name}", f"user_attrs_{name}", f"values_{name}"):
            if frame.has_column(key):
                return frame.column(key)
        if name == "values" and frame.has_column("value"):
            return frame.column("value")
        for column in ANNOTATION_COLUMNS:  # known before a study shows them: zero on every trial
            if name == column.key:
                return column
        return None

    def _column_vs_constant(self, column: Column, op: ast.cmpop, constant) -> Mask:
        compare = _COMPARE[type(op)]
        symbol = _SYMBOL[type(op)]
        if constant is None:
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                raise FilterError(f"None (a missing value) can only be compared with == or !=, not {symbol}")
            want_present = isinstance(op, ast.NotEq)
            return lambda frame: frame.present(column) == want_present
        if column.kind == STATE:
            code = _state_code(constant)
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                raise FilterError(f"states compare with == or != (or `in`), not {symbol}")
            return lambda frame: compare(frame.state[: frame.n], code)
        if isinstance(constant, _StateName):
            raise FilterError(f"{constant} is a state name: compare it with the state column (state == {constant})")
        if column.kind == DATETIME:
            moment = _parse_moment(constant)
            return lambda frame: _masked(compare, frame.numeric(column), moment)
        if isinstance(constant, (bool, int, float)):
            number = float(constant)
            return lambda frame: _masked(compare, frame.numeric(column), number)
        # A string: equality with text values (categorical choices, text attributes), or ordering of text.
        text = str(constant)

        def text_compare(frame: TrialFrame) -> np.ndarray:
            raw = frame.raw(column)
            if raw.dtype != object:
                return np.zeros(frame.n, dtype=bool)
            out = np.zeros(len(raw), dtype=bool)
            for i, v in enumerate(raw.tolist()):
                if isinstance(v, str):
                    out[i] = compare(v, text)
            return out

        if column.kind in (NUMERIC,) and not isinstance(op, (ast.Eq, ast.NotEq)):
            raise FilterError(f"{column.key} is a number: compare it with a number, not the string {text!r}")
        return text_compare

    def _column_vs_column(self, a: Column, op: ast.cmpop, b: Column) -> Mask:
        compare = _COMPARE[type(op)]
        if (a.kind == STATE) != (b.kind == STATE):
            raise FilterError("the state column compares only with state names")
        return lambda frame: _masked(compare, frame.numeric(a), frame.numeric(b))


class _StateName(str):
    pass


def _state_code(constant) -> int:
    if isinstance(constant, str) and constant.upper() in STATE_CODES:
        return STATE_CODES[constant.upper()]
    if isinstance(constant, int) and not isinstance(constant, bool) and 0 <= constant < len(STATE_NAMES):
        return int(constant)
    raise FilterError(f"{constant!r} is not a state; states: {', '.join(STATE_NAMES)}")


def _parse_moment(constant) -> float:
    if not isinstance(constant, str):
        raise FilterError('datetimes compare with a date string, e.g. "2024-05-01 12:00"')
    try:
        moment = _dt.datetime.fromisoformat(constant)
    except ValueError:
        raise FilterError(f"{constant!r} is not a date (use YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS])") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local time, as the table shows it
    micros = (moment - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)) // _dt.timedelta(microseconds=1)
    return float(micros)


def _masked(compare, a: np.ndarray, b) -> np.ndarray:
    """Elementwise comparison where NaN (missing) on either side is false, also for !=."""
    with np.errstate(invalid="ignore"):
        result = compare(a, b)
    valid = ~np.isnan(a)
    if isinstance(b, np.ndarray):
        valid &= ~np.isnan(b)
    elif isinstance(b, float) and np.isnan(b):
        valid[:] = False
    return result & valid


# --- state and text filters ---------------------------------------------------------------------------------


def state_mask(frame: TrialFrame, states: set[int] | None) -> np.ndarray:
    """Rows whose state is one of `states` (state codes); all rows when None."""
    if states is None or len(states) == len(STATE_NAMES):
        return np.ones(frame.n, dtype=bool)
    lookup = np.zeros(len(STATE_NAMES), dtype=bool)
    lookup[list(states)] = True
    return lookup[frame.state[: frame.n]]


def text_mask(frame: TrialFrame, text: str) -> np.ndarray:
    """Rows matching a free-text search (case-insensitive): the trial number (a whole number matches exactly),
    the state name, a categorical param's choice, or a text user attribute containing the text."""
    needle = text.strip().lower()
    n = frame.n
    if not needle:
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    if needle.isdigit():
        mask |= frame.number[:n] == int(needle)
    for code, name in enumerate(STATE_NAMES):
        if needle in name.lower():
            mask |= frame.state[:n] == code
    for store in frame.params.values():
        for code, dist in enumerate(store.distributions):
            if dist.kind != "categorical":
                continue
            hits = [i for i, c in enumerate(dist.choices or ()) if needle in str(c).lower()]
            if hits:
                mask |= (store.dist_index[:n] == code) & np.isin(store.values[:n], hits)
    for column in frame.user_attrs.values():
        values = column[:n].tolist()
        mask |= np.fromiter((isinstance(v, str) and needle in v.lower() for v in values), dtype=bool, count=n)
    return mask


__all__ = ["FilterError", "compile_expression", "state_mask", "text_mask", "ALLOWED", "NUMERIC", "PARAM", "ATTR"]
