"""Storages, read-only: naming a storage (path or URL), read-only connections, Optuna's schema, the reader
and its backends (SQL databases, journal files), and the immutable numpy tables it returns.

Nothing here writes to a study, except `open_for_run` (the engine's door to Optuna's own storages) and the
exports, which write files of their own. Below every other layer but the records.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optgui.core.storage._exports import params_as_json, params_as_python, write_json, write_trials_csv
    from optgui.core.storage._folder import DEFAULT_DEPTH, FolderScan, FoundFile, SkippedEntry, scan_folder
    from optgui.core.storage._naming import (
        StorageRef,
        open_for_run,
        parse_storage,
        redact_url,
        resolve_for_reading,
        snapshot_copy,
        sqlite_side_files,
        sqlite_uses_wal,
    )
    from optgui.core.storage._reader import open_reader
    from optgui.core.storage._schema import HEAD_REVISION, SchemaInfo, upgrade_with_backup
    from optgui.core.storage._study_read import StudySnapshot, read_study
    from optgui.core.storage._study_reader import StudyReader
    from optgui.core.storage._study_ref import StudyRef, StudyRefError, parse_study_ref, parse_trial_selection
    from optgui.core.storage._table_filter import FilterError, compile_expression, state_mask, text_mask
    from optgui.core.storage._tables import (
        COMPLETE,
        FAIL,
        PRUNED,
        RUNNING,
        STATE_CODES,
        STATE_NAMES,
        WAITING,
        IntermediateValues,
        ParamColumn,
        ParamDistribution,
        StudySummary,
        TrialDelta,
        TrialTable,
        Watermark,
        durations,
        frozen_array,
        frozen_mapping,
        iso_utc,
        json_float,
        select_rows,
    )
    from optgui.core.storage._trial_frame import (
        ATTR,
        DATETIME,
        NUMERIC,
        PARAM,
        STATE,
        Column,
        TrialFrame,
        argsort_stable,
        format_compact,
        format_value,
        local_time_text,
    )

__all__ = [
    "DEFAULT_DEPTH",
    "FolderScan",
    "FoundFile",
    "SkippedEntry",
    "scan_folder",
    "ATTR",
    "COMPLETE",
    "Column",
    "DATETIME",
    "FAIL",
    "FilterError",
    "HEAD_REVISION",
    "IntermediateValues",
    "NUMERIC",
    "PARAM",
    "PRUNED",
    "ParamColumn",
    "ParamDistribution",
    "RUNNING",
    "STATE",
    "STATE_CODES",
    "STATE_NAMES",
    "SchemaInfo",
    "StorageRef",
    "StudyReader",
    "StudyRef",
    "StudyRefError",
    "StudySnapshot",
    "StudySummary",
    "TrialDelta",
    "TrialFrame",
    "TrialTable",
    "WAITING",
    "Watermark",
    "argsort_stable",
    "compile_expression",
    "durations",
    "format_compact",
    "format_value",
    "frozen_array",
    "frozen_mapping",
    "iso_utc",
    "json_float",
    "local_time_text",
    "open_for_run",
    "open_reader",
    "params_as_json",
    "params_as_python",
    "parse_study_ref",
    "parse_storage",
    "parse_trial_selection",
    "read_study",
    "redact_url",
    "resolve_for_reading",
    "select_rows",
    "snapshot_copy",
    "sqlite_side_files",
    "sqlite_uses_wal",
    "state_mask",
    "text_mask",
    "upgrade_with_backup",
    "write_json",
    "write_trials_csv",
]

_EXPORTS = {
    "DEFAULT_DEPTH": "optgui.core.storage._folder",
    "FolderScan": "optgui.core.storage._folder",
    "FoundFile": "optgui.core.storage._folder",
    "SkippedEntry": "optgui.core.storage._folder",
    "scan_folder": "optgui.core.storage._folder",
    "StorageRef": "optgui.core.storage._naming",
    "open_for_run": "optgui.core.storage._naming",
    "parse_storage": "optgui.core.storage._naming",
    "redact_url": "optgui.core.storage._naming",
    "resolve_for_reading": "optgui.core.storage._naming",
    "snapshot_copy": "optgui.core.storage._naming",
    "sqlite_side_files": "optgui.core.storage._naming",
    "sqlite_uses_wal": "optgui.core.storage._naming",
    "StudyReader": "optgui.core.storage._study_reader",
    "open_reader": "optgui.core.storage._reader",
    "StudyRef": "optgui.core.storage._study_ref",
    "StudyRefError": "optgui.core.storage._study_ref",
    "parse_study_ref": "optgui.core.storage._study_ref",
    "parse_trial_selection": "optgui.core.storage._study_ref",
    "HEAD_REVISION": "optgui.core.storage._schema",
    "SchemaInfo": "optgui.core.storage._schema",
    "upgrade_with_backup": "optgui.core.storage._schema",
    "StudySnapshot": "optgui.core.storage._study_read",
    "read_study": "optgui.core.storage._study_read",
    "COMPLETE": "optgui.core.storage._tables",
    "FAIL": "optgui.core.storage._tables",
    "IntermediateValues": "optgui.core.storage._tables",
    "PRUNED": "optgui.core.storage._tables",
    "ParamColumn": "optgui.core.storage._tables",
    "ParamDistribution": "optgui.core.storage._tables",
    "RUNNING": "optgui.core.storage._tables",
    "STATE_CODES": "optgui.core.storage._tables",
    "STATE_NAMES": "optgui.core.storage._tables",
    "StudySummary": "optgui.core.storage._tables",
    "TrialDelta": "optgui.core.storage._tables",
    "TrialTable": "optgui.core.storage._tables",
    "WAITING": "optgui.core.storage._tables",
    "Watermark": "optgui.core.storage._tables",
    "durations": "optgui.core.storage._tables",
    "frozen_array": "optgui.core.storage._tables",
    "frozen_mapping": "optgui.core.storage._tables",
    "iso_utc": "optgui.core.storage._tables",
    "json_float": "optgui.core.storage._tables",
    "select_rows": "optgui.core.storage._tables",
    "ATTR": "optgui.core.storage._trial_frame",
    "Column": "optgui.core.storage._trial_frame",
    "DATETIME": "optgui.core.storage._trial_frame",
    "NUMERIC": "optgui.core.storage._trial_frame",
    "PARAM": "optgui.core.storage._trial_frame",
    "STATE": "optgui.core.storage._trial_frame",
    "TrialFrame": "optgui.core.storage._trial_frame",
    "argsort_stable": "optgui.core.storage._trial_frame",
    "format_compact": "optgui.core.storage._trial_frame",
    "format_value": "optgui.core.storage._trial_frame",
    "local_time_text": "optgui.core.storage._trial_frame",
    "FilterError": "optgui.core.storage._table_filter",
    "compile_expression": "optgui.core.storage._table_filter",
    "state_mask": "optgui.core.storage._table_filter",
    "text_mask": "optgui.core.storage._table_filter",
    "params_as_json": "optgui.core.storage._exports",
    "params_as_python": "optgui.core.storage._exports",
    "write_json": "optgui.core.storage._exports",
    "write_trials_csv": "optgui.core.storage._exports",
}


def __getattr__(name: str) -> object:
    # Lazy: `import optgui.core.storage` loads nothing until a name is used, so the CLI and the GUI start fast.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
