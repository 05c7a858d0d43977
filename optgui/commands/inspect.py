"""`optgui inspect STORAGE [--study NAME] [--json|--jsonl]`: print a storage's studies, or one study's trials.
Read-only. `optgui inspect FOLDER [--depth N] [--json]`: every study file under a folder (inspect_workspace.py).

--json is one JSON document whose trials are streamed one per line, each encoded by json's C encoder (the pure-Python
encoder that `indent=` needs took 14 s for 100k trials); --jsonl prints one object per line and nothing else: a
trial per line with --study (schema JSONL_TRIAL_SCHEMA, documented in docs/cli.md), else a study per line.

Nothing is written unless --upgrade is given (an old schema, after a backup copy). Warnings (e.g. an old schema)
go to stderr and do not change the exit code; errors are one line on stderr with exit code 3.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from optgui.commands.inspect_workspace import (
    execute_folder,
    health_cell,
    health_notes,
    is_folder,
    study_healths,
    with_health,
)
from optgui.core.errors import EXIT_OK, OptguiError
from optgui.core.storage import STATE_NAMES, ParamColumn, StudySummary, TrialTable, iso_utc, json_float, select_rows

#: Version of the --json output format (bump on incompatible changes).
JSON_SCHEMA = "optgui.inspect/1"
#: What one --jsonl line holds with --study: one trial, the same object as an entry of --json's "trials".
JSONL_TRIAL_SCHEMA = "optgui.inspect.trial/1"
#: What one --jsonl line holds without --study: one study, the same object as an entry of --json's "studies".
JSONL_STUDY_SCHEMA = "optgui.inspect.study/1"

_ROWS_PER_WRITE = 2000
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # no indent: json's C encoder
_encode_string = json.encoder.encode_basestring  # json's C string encoder (ensure_ascii=False)
_NONFINITE = {"nan": '"nan"', "inf": '"inf"', "-inf": '"-inf"'}  # as json_float writes them


def add_arguments(parser) -> None:
    parser.add_argument(
        "storage", metavar="STORAGE", help="study file (SQLite or journal), storage URL, or a folder of study files"
    )
    parser.add_argument("--study", metavar="NAME", help="print this study's trials instead of the study list")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable output: one JSON document")
    output.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON object per line and nothing else: a trial per line with --study, else a study per line",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="print at most the last N trials")
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="read a temporary copy of a SQLite file (for WAL files that cannot be read in place)",
    )
    parser.add_argument(
        "--depth",
        type=int,
        metavar="N",
        help="with a FOLDER as STORAGE: look for study files this many folders deep (default 3)",
    )
    parser.add_argument(
        "--upgrade",
        action="store_true",
        help="upgrade an old-schema SQLite file to the current Optuna schema (writes a backup copy first), then exit",
    )


def execute(args) -> int:
    if is_folder(args.storage):
        return execute_folder(args)
    if args.depth is not None:
        raise OptguiError("--depth needs a folder")
    # imported on use, not with this module: start-up time
    from optgui.core.annotations import read_annotations
    from optgui.core.storage import open_reader, resolve_for_reading, snapshot_copy

    if args.upgrade:
        # imported on use, not with this module: start-up time
        from optgui.core.storage import HEAD_REVISION, upgrade_with_backup

        backup = upgrade_with_backup(args.storage)
        print(
            f"upgraded {resolve_for_reading(args.storage).display} to schema {HEAD_REVISION}; "
            f"the original is saved as {backup}",
            file=sys.stderr,
        )
        return EXIT_OK
    if args.limit is not None and args.limit < 0:
        raise OptguiError("--limit must be zero or more")

    target = args.storage
    copy: Path | None = None
    if args.snapshot:
        copy = snapshot_copy(args.storage)
        target = str(copy)
        print(f"optgui: reading a snapshot copy of {resolve_for_reading(args.storage).display}", file=sys.stderr)
    try:
        with open_reader(target) as reader:
            for note in reader.notes:
                print(f"optgui: warning: {note}", file=sys.stderr)
            display = resolve_for_reading(args.storage).display if copy else reader.display
            header = {
                "schema": JSON_SCHEMA,
                "storage": display,
                "kind": reader.kind,
                "storage_schema": reader.schema.as_dict() if reader.schema else None,
                "warnings": list(reader.notes),
            }
            if args.study is None:
                summaries = reader.studies()
                healths = study_healths(reader, summaries)
                if args.json:
                    _dump({**header, "studies": [with_health(s, h) for s, h in zip(summaries, healths, strict=True)]})
                elif args.jsonl:
                    _write_lines((with_health(s, h) for s, h in zip(summaries, healths, strict=True)), sys.stdout)
                else:
                    _print_summaries(display, reader, summaries, healths)
            else:
                summary = next((s for s in reader.studies() if s.name == args.study), None)
                table = reader.trials(args.study)  # raises a clear error for an unknown name
                if args.limit is not None:
                    table = select_rows(table, np.arange(max(0, len(table) - args.limit), len(table)))
                if args.json:
                    health = study_healths(reader, [summary])[0] if summary else None
                    head = {**header, "study": with_health(summary, health) if summary else None}
                    # optuna-dashboard's notes and Optuna's artifact metadata (a --limit table cannot place every note)
                    annotations = read_annotations(reader, args.study, None if args.limit is not None else table)
                    head |= annotations.to_json()
                    stream_document(head, "trials", encoded_trials(table), sys.stdout)
                elif args.jsonl:
                    _write_lines(encoded_trials(table), sys.stdout)
                else:
                    _print_trials(table)
    finally:
        if copy is not None:
            copy.unlink(missing_ok=True)
    return EXIT_OK


def _dump(data: dict) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1, default=str)
    sys.stdout.write("\n")


def stream_document(head: dict, key: str, rows: Iterable[str], out: TextIO) -> None:
    """`{**head, key: [rows...]}` as one JSON document (rows already encoded), written as it is made: the head's
    fields on the first line, then one row per line."""
    opening = _encode({**head, key: []})
    assert opening.endswith("[]}")
    out.write(opening[: -len("]}")] + "\n")
    separator = ""
    chunk: list[str] = []
    for row in rows:
        chunk.append(separator + row)
        separator = ",\n"
        if len(chunk) >= _ROWS_PER_WRITE:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk) + "\n]}\n")


def _write_lines(rows: Iterable[dict] | Iterable[str], out: TextIO) -> None:
    chunk: list[str] = []
    for row in rows:
        chunk.append((row if isinstance(row, str) else _encode(row)) + "\n")
        if len(chunk) >= _ROWS_PER_WRITE:
            out.write("".join(chunk))
            chunk.clear()
    out.write("".join(chunk))


def _fmt(value: float) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if np.isnan(value) else f"{value:.6g}"
    return str(value)


def _when(value: np.datetime64) -> str:
    text = iso_utc(value)
    return "-" if text is None else text[:19].replace("T", " ") + " UTC"


def _print_summaries(display: str, reader, summaries: list[StudySummary], healths: list) -> None:
    schema = f", {reader.schema.description}" if reader.schema else ""
    print(f"{display} ({reader.kind}{schema}): {len(summaries)} stud{'y' if len(summaries) == 1 else 'ies'}")
    if not summaries:
        return
    rows = [
        ("study", "directions", "trials", "complete", "pruned", "fail", "running", "best", "last activity", "health")
    ]
    for s, health in zip(summaries, healths, strict=True):
        counts = s.state_counts
        best = " ".join(_fmt(v) for v in s.best_values) if s.best_values else "-"
        rows.append(
            (
                s.name,
                ",".join(s.directions),
                str(s.n_trials),
                str(counts.get("COMPLETE", 0)),
                str(counts.get("PRUNED", 0)),
                str(counts.get("FAIL", 0)),
                str(counts.get("RUNNING", 0) + counts.get("WAITING", 0)),
                best,
                _when(s.last_activity),
                health_cell(health),
            )
        )
    _print_rows(rows)
    for note in health_notes(summaries, healths):
        print(f"  {note}")


def _print_trials(table: TrialTable) -> None:
    value_names = ["value"] if table.n_objectives == 1 else [f"value{k}" for k in range(table.n_objectives)]
    decoded = {name: column.decoded() for name, column in table.params.items()}
    rows = [("number", "state", *value_names, *table.params, "start", "duration_s")]
    for i in range(len(table)):
        values = [_fmt(float(v)) for v in table.values[i]]
        params = [_fmt(decoded[name][i]) for name in table.params]
        duration = table.duration[i]
        rows.append(
            (
                str(int(table.number[i])),
                STATE_NAMES[table.state[i]],
                *values,
                *params,
                _when(table.datetime_start[i]),
                "-" if np.isnan(duration) else f"{duration:.3f}",
            )
        )
    _print_rows(rows)


def _print_rows(rows: list[tuple]) -> None:
    widths = [min(40, max(len(str(r[c])) for r in rows)) for c in range(len(rows[0]))]
    for row in rows:
        cells = [str(cell) if len(str(cell)) <= 40 else str(cell)[:39] + "…" for cell in row]
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)).rstrip())


def trial_rows(table: TrialTable) -> Iterator[dict]:
    """One JSON-ready dict per trial (non-finite floats as "nan"/"inf"/"-inf"). Columns become Python lists first:
    indexing numpy arrays element by element costs more than the encoding."""
    numbers = table.number.tolist()
    trial_ids = table.trial_id.tolist()
    states = [STATE_NAMES[code] for code in table.state.tolist()]
    unset = np.all(np.isnan(table.values), axis=1).tolist() if len(table) else []
    values = table.values.tolist()
    starts = _iso_column(table.datetime_start)
    completes = _iso_column(table.datetime_complete)
    durations = table.duration.tolist()
    params = [(name, column.decoded().tolist(), column.present.tolist()) for name, column in table.params.items()]
    user_attrs = [(key, column.tolist()) for key, column in table.user_attrs.items()]
    for i, number in enumerate(numbers):
        duration = durations[i]
        yield {
            "number": number,
            "trial_id": trial_ids[i],
            "state": states[i],
            "values": None if unset[i] else [json_float(v) for v in values[i]],
            "params": {name: _json_value(decoded[i]) for name, decoded, present in params if present[i]},
            "user_attrs": {key: column[i] for key, column in user_attrs if column[i] is not None},
            "datetime_start": starts[i],
            "datetime_complete": completes[i],
            "duration": None if duration != duration else duration,  # NaN: not finished
        }


def encoded_trials(table: TrialTable) -> Iterator[str]:
    """The JSON text of each trial_rows() entry (same keys, same order, same values), made column by column:
    every value is encoded once per column with json's own float repr and C string encoder, and each row is joined
    from the pieces. Per-row dicts through the encoder cost twice as much for 100k trials."""
    numbers = list(map(str, table.number.tolist()))
    trial_ids = list(map(str, table.trial_id.tolist()))
    states = [_encode_string(STATE_NAMES[code]) for code in table.state.tolist()]
    objectives = [_float_texts(table.values[:, k].tolist()) for k in range(table.values.shape[1])]
    unset = np.all(np.isnan(table.values), axis=1).tolist() if len(table) else []
    starts = [_encode_string(t) if t is not None else "null" for t in _iso_column(table.datetime_start)]
    completes = [_encode_string(t) if t is not None else "null" for t in _iso_column(table.datetime_complete)]
    durations = [t if t != '"nan"' else "null" for t in _float_texts(table.duration.tolist())]  # NaN: unfinished
    param_texts = _params_text(table)
    user_attrs = [(_encode_string(key) + ": ", column.tolist()) for key, column in table.user_attrs.items()]
    for i, number in enumerate(numbers):
        values = "null" if unset[i] else "[" + ", ".join(column[i] for column in objectives) + "]"
        param_text = param_texts[i]
        attr_text = ", ".join(key + _value_text(column[i]) for key, column in user_attrs if column[i] is not None)
        yield (
            f'{{"number": {number}, "trial_id": {trial_ids[i]}, "state": {states[i]}, "values": {values}, '
            f'"params": {{{param_text}}}, "user_attrs": {{{attr_text}}}, "datetime_start": {starts[i]}, '
            f'"datetime_complete": {completes[i]}, "duration": {durations[i]}}}'
        )


def _float_texts(values: list[float]) -> list[str]:
    """json's text for each float (its repr), non-finite ones as json_float's strings."""
    texts = list(map(float.__repr__, values))
    for i in np.flatnonzero(~np.isfinite(np.asarray(values, dtype=float))).tolist():
        texts[i] = _NONFINITE[texts[i]]
    return texts


def _params_text(table: TrialTable) -> list[str]:
    """Each row's `"name": value, ...` (params in the table's order, absent ones left out)."""
    columns, all_present = [], True
    for name, column in table.params.items():
        key = _encode_string(name) + ": "
        present = column.present.tolist()
        columns.append([key + text if here else None for text, here in zip(_param_texts(column), present, strict=True)])
        all_present = all_present and all(present)
    if all_present:  # the usual case: one C-level join per row
        return list(map(", ".join, zip(*columns, strict=True))) if columns else [""] * len(table)
    return [", ".join([part for part in row if part is not None]) for row in zip(*columns, strict=True)]


def _param_texts(column: ParamColumn) -> list[str]:
    """The JSON text of a param's value in every row (as ParamColumn.decoded() and json_float give it), per
    distribution at once: floats by repr, ints by str, categorical choices encoded once and picked by index."""
    texts = ["null"] * len(column.values)
    for code, dist in enumerate(column.distributions):
        rows = np.flatnonzero(column.distribution_index == code)
        internal = column.values[rows]
        if dist.kind == "float":
            encoded = _float_texts(internal.tolist())
        elif dist.kind == "int":
            encoded = list(map(str, internal.astype(np.int64).tolist()))
        else:
            assert dist.choices is not None
            choices = [_value_text(choice) for choice in dist.choices]
            encoded = [choices[i] for i in internal.astype(np.int64).tolist()]
        for row, text in zip(rows.tolist(), encoded, strict=True):
            texts[row] = text
    return texts


def _value_text(value) -> str:
    """One param or user-attribute value as trial_rows() encodes it (floats through json_float)."""
    if type(value) is float:
        text = float.__repr__(value)
        return _NONFINITE.get(text, text)
    if type(value) is str:
        return _encode_string(value)
    return _encode(value)


def _iso_column(column: np.ndarray) -> list[str | None]:
    """iso_utc for a whole column at once."""
    text = np.datetime_as_string(column.astype("datetime64[us]"), unit="us")
    return [None if t == "NaT" else t + "Z" for t in text.tolist()]


def _json_value(value):
    return json_float(value) if isinstance(value, float) else value
