"""`optgui inspect STORAGE [--study NAME] [--json]`: print a storage's studies, or one study's trials. Read-only.

Nothing is written unless --upgrade is given (an old schema, after a backup copy). Warnings (e.g. an old schema)
go to stderr and do not change the exit code; errors are one line on stderr with exit code 3.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from optgui.core.errors import EXIT_OK, OptguiError
from optgui.core.tables import STATE_NAMES, StudySummary, TrialTable, iso_utc, json_float

#: Version of the --json output format (bump on incompatible changes).
JSON_SCHEMA = "optgui.inspect/1"


def add_arguments(parser) -> None:
    parser.add_argument("storage", metavar="STORAGE", help="study file (SQLite or journal) or storage URL")
    parser.add_argument("--study", metavar="NAME", help="print this study's trials instead of the study list")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--limit", type=int, metavar="N", help="print at most the last N trials")
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="read a temporary copy of a SQLite file (for WAL files that cannot be read in place)",
    )
    parser.add_argument(
        "--upgrade",
        action="store_true",
        help="upgrade an old-schema SQLite file to the current Optuna schema (writes a backup copy first), then exit",
    )


def execute(args) -> int:
    from optgui.core.reader import open_reader
    from optgui.core.storage import resolve_for_reading, snapshot_copy

    if args.upgrade:
        from optgui.core.schema import HEAD_REVISION, upgrade_with_backup

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
                if args.json:
                    _dump({**header, "studies": [s.as_json() for s in summaries]})
                else:
                    _print_summaries(display, reader, summaries)
            else:
                summary = next((s for s in reader.studies() if s.name == args.study), None)
                table = reader.trials(args.study)  # raises a clear error for an unknown name
                if args.limit is not None:
                    from optgui.core.tables import select_rows

                    table = select_rows(table, np.arange(max(0, len(table) - args.limit), len(table)))
                if args.json:
                    _dump({**header, "study": summary.as_json() if summary else None, "trials": _trials_json(table)})
                else:
                    _print_trials(table)
    finally:
        if copy is not None:
            copy.unlink(missing_ok=True)
    return EXIT_OK


def _dump(data: dict) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1, default=str)
    sys.stdout.write("\n")


def _fmt(value: float) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if np.isnan(value) else f"{value:.6g}"
    return str(value)


def _when(value: np.datetime64) -> str:
    text = iso_utc(value)
    return "-" if text is None else text[:19].replace("T", " ") + " UTC"


def _print_summaries(display: str, reader, summaries: list[StudySummary]) -> None:
    schema = f", {reader.schema.description}" if reader.schema else ""
    print(f"{display} ({reader.kind}{schema}): {len(summaries)} stud{'y' if len(summaries) == 1 else 'ies'}")
    if not summaries:
        return
    rows = [("study", "directions", "trials", "complete", "pruned", "fail", "running", "best", "last activity")]
    for s in summaries:
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
            )
        )
    _print_rows(rows)


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


def _trials_json(table: TrialTable) -> list[dict]:
    decoded = {name: column.decoded() for name, column in table.params.items()}
    present = {name: column.present for name, column in table.params.items()}
    out = []
    for i in range(len(table)):
        duration = float(table.duration[i])
        out.append(
            {
                "number": int(table.number[i]),
                "trial_id": int(table.trial_id[i]),
                "state": STATE_NAMES[table.state[i]],
                "values": None
                if np.all(np.isnan(table.values[i]))
                else [json_float(float(v)) for v in table.values[i]],
                "params": {name: _json_value(decoded[name][i]) for name in table.params if present[name][i]},
                "user_attrs": {key: column[i] for key, column in table.user_attrs.items() if column[i] is not None},
                "datetime_start": iso_utc(table.datetime_start[i]),
                "datetime_complete": iso_utc(table.datetime_complete[i]),
                "duration": None if np.isnan(duration) else duration,
            }
        )
    return out


def _json_value(value):
    return json_float(value) if isinstance(value, float) else value
