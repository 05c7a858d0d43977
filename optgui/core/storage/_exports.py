"""Exports for reports: trials to CSV (the rows and columns the table shows) and a verdict to JSON.

CSV columns carry `Study.trials_dataframe()`'s names and values, so a report made from the file reads like one
made with pandas: floats written with full precision (they read back bit-identical), categorical params as their
choices, datetimes as naive local time like Optuna's, the state by name. The one difference is duration, written
in seconds under `duration_seconds` (a pandas Timedelta prints as "0 days 00:00:01.5").
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from optgui.core.storage._trial_frame import Column, TrialFrame

CSV_NAMES = {"duration": "duration_seconds"}


def csv_header(columns: Iterable[Column]) -> list[str]:
    return [CSV_NAMES.get(c.key, c.key) for c in columns]


def _new_file(path: Path, suffix: str) -> tuple[int, str]:
    """A temporary file next to `path`, to be renamed onto it, with the mode a plainly created file gets: the
    existing file's mode, else 0666 less the umask (mkstemp's 0600 made exports unreadable to the user's group)."""
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=suffix, dir=path.parent)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it: put it straight back
        os.umask(umask)
        mode = 0o666 & ~umask
    os.fchmod(fd, mode)
    return fd, tmp


def write_trials_csv(frame: TrialFrame, rows: np.ndarray, columns: list[Column], path: str | Path) -> int:
    """Write `rows` (trial numbers, in the order given) and `columns` to a CSV file. Returns the rows written.

    The file is written next to its destination and renamed into place, so a failed export leaves no half file.
    """
    path = Path(path)
    fd, tmp = _new_file(path, ".csv")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(csv_header(columns))
            for row in np.asarray(rows, dtype=np.int64).tolist():
                writer.writerow([frame.display(c, row) for c in columns])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)


def write_json(data: Any, path: str | Path) -> None:
    """Pretty JSON, written atomically (non-finite floats as the strings "inf", "-inf", "nan")."""
    path = Path(path)
    text = json.dumps(_jsonable(data), indent=2, sort_keys=False, allow_nan=False)
    fd, tmp = _new_file(path, ".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return value


def params_as_json(params: dict[str, Any]) -> str:
    """Params as a JSON object (floats in full precision; json.loads gives them back exactly)."""
    return json.dumps(params, indent=2)


def params_as_python(params: dict[str, Any]) -> str:
    """Params as a Python dict literal to paste into a training script (ast.literal_eval gives them back)."""
    if not params:
        return "{}"
    body = ",\n".join(f"    {name!r}: {_literal(value)}" for name, value in params.items())
    return "{\n" + body + ",\n}"


def _literal(value: Any) -> str:
    if isinstance(value, float) and not np.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)
