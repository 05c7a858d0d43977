"""`optgui compare REF REF …`: 2–8 studies of any storages side by side — what defines each run (the rows that
differ marked `*`), trial counts, cached verdicts, and results: best value, its trial, the best so far after 25, 50,
75 and 100 % of the trials, and for studies that differ only by seed the median and spread of their final bests.

Read-only: nothing is written and nothing is verified (a verdict is shown when the verdict cache holds one for the
study exactly as it is). `--json` prints one object with a `schema` field.
"""

from __future__ import annotations

import json

from optgui.commands.output import print_line
from optgui.core.errors import EXIT_OK


def add_arguments(parser) -> None:
    parser.add_argument(
        "refs",
        metavar="REF",
        nargs="+",
        help="a study: FILE or URL (its only study), or FILE#STUDY / URL#STUDY; 2 to 8 of them",
    )
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.add_argument(
        "--no-verdicts",
        action="store_true",
        help="do not look up cached verdicts (that reads every trial in full; slow for large studies)",
    )
    parser.add_argument("--all-rows", action="store_true", help="also print the definition rows that are equal")


def execute(args) -> int:
    from optgui.core.compare import compare_studies, load_studies

    comparison = compare_studies(load_studies(args.refs, verdicts=not args.no_verdicts))
    if args.json:
        print_line(json.dumps(comparison.as_json(), indent=2))
        return EXIT_OK
    for line in text_lines(comparison, all_rows=args.all_rows):
        if not print_line(line):
            break
    return EXIT_OK


def text_lines(comparison, *, all_rows: bool = False) -> list[str]:
    labels = comparison.labels
    width = max(12, *(len(label) for label in labels))
    lines = ["studies: " + ", ".join(f"{s.label} ({s.storage_display})" for s in comparison.studies), ""]
    section = None
    for row in comparison.rows:
        if not (all_rows or row.differs or row.section in ("trials", "verification")):
            continue
        if row.section != section:
            section = row.section
            lines.append(f"[{section}]")
        mark = "*" if row.differs else " "
        lines.append(f"{mark} {row.field}:")
        lines += [f"    {label:<{width}}  {value}" for label, value in zip(labels, row.values, strict=True)]
    equal = sum(1 for r in comparison.rows if not r.differs and r.section not in ("trials", "verification"))
    if equal and not all_rows:
        lines.append(f"({equal} equal definition rows not shown; --all-rows shows them)")
    lines += ["", "[results]"]
    for study, results in zip(comparison.studies, comparison.results, strict=True):
        for summary in results:
            objective = f" objective {summary.objective}" if len(results) > 1 else ""
            steps = ", ".join(f"{int(f * 100)}% {_number(v)}" for f, _, v in summary.best_so_far)
            lines.append(
                f"  {study.label:<{width}}{objective}  best {_number(summary.best_value)} (trial "
                f"{summary.best_trial if summary.best_trial is not None else '—'}); best so far: {steps}"
            )
    for group in comparison.seed_groups:
        lines += ["", f"[seed replicates] {', '.join(group.labels)} (seeds {', '.join(map(str, group.seeds))})"]
        if group.spread is not None and group.spread.values:
            s = group.spread
            lines.append(
                f"  final best: median {_number(s.median)}, min {_number(s.minimum)}, max {_number(s.maximum)}, "
                f"IQR {_number(s.q1)}..{_number(s.q3)}"
            )
    return lines


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"
