"""A comparison of 2–8 studies: the definition diff (what defines each run, side by side, with the rows that
differ marked) and the results (best values, best so far at fixed fractions of the trials, the spread of final
bests over studies that differ only by seed). Read-only: nothing here writes to a study or verifies one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optgui.core.analysis import ResultSummary, SpreadOfBests, result_summary, spread_of_bests
from optgui.core.compare._studies import ComparedStudy
from optgui.core.errors import OptguiError
from optgui.core.records import KEY_HISTORY, KEY_RUN

COMPARE_SCHEMA = "optgui.compare/1"
STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")
ABSENT = "—"


@dataclass(frozen=True)
class DefinitionRow:
    """One line of the definition diff: `section` (run, versions, search space, trials, verification), `field`,
    one value per study (text) and whether they differ."""

    section: str
    field: str
    values: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1

    def as_json(self) -> dict:
        return {"section": self.section, "field": self.field, "values": list(self.values), "differs": self.differs}


@dataclass(frozen=True)
class SeedGroup:
    """Studies whose definitions are equal but for the seed, and the spread of their final bests (objective 0)."""

    labels: tuple[str, ...]
    seeds: tuple[int | None, ...]
    spread: SpreadOfBests | None  # None for several objectives

    def as_json(self) -> dict:
        return {
            "studies": list(self.labels),
            "seeds": list(self.seeds),
            "final_best": None if self.spread is None else self.spread.as_json(),
        }


@dataclass(frozen=True)
class Comparison:
    studies: tuple[ComparedStudy, ...]
    rows: tuple[DefinitionRow, ...]
    results: tuple[tuple[ResultSummary, ...], ...]  # per study, per objective
    seed_groups: tuple[SeedGroup, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(s.label for s in self.studies)

    def as_json(self) -> dict:
        return {
            "schema": COMPARE_SCHEMA,
            "studies": [
                {"label": s.label, "storage": s.storage_display, "study": s.name, "ref": s.ref.text}
                for s in self.studies
            ],
            "definition": [row.as_json() for row in self.rows],
            "results": [
                {"label": s.label, "objectives": [r.as_json() for r in results]}
                for s, results in zip(self.studies, self.results, strict=True)
            ],
            "seed_groups": [g.as_json() for g in self.seed_groups],
        }


def compare_studies(studies: Sequence[ComparedStudy]) -> Comparison:
    """The definition diff and results of studies read by `load_studies`."""
    studies = tuple(studies)
    results = tuple(tuple(result_summary(s.table, k) for k in range(len(s.summary.directions))) for s in studies)
    return Comparison(studies, tuple(definition_rows(studies)), results, tuple(seed_groups(studies, results)))


def run_record(study: ComparedStudy) -> dict[str, Any] | None:
    record = study.summary.optgui_metadata.get(KEY_RUN)
    return record if isinstance(record, dict) else None


def definition_rows(studies: Sequence[ComparedStudy]) -> list[DefinitionRow]:
    records = [run_record(s) or {} for s in studies]
    rows = [DefinitionRow("study", "storage", tuple(s.storage_display for s in studies))]
    rows.append(DefinitionRow("study", "name", tuple(s.name for s in studies)))
    rows += _run_rows(studies, records)
    rows += _version_rows(records)
    rows += _search_space_rows(studies)
    rows += _trial_rows(studies)
    rows.append(DefinitionRow("verification", "verdict", tuple(_verdict_text(s.verdict) for s in studies)))
    return rows


def _run_rows(studies: Sequence[ComparedStudy], records: list[dict[str, Any]]) -> list[DefinitionRow]:
    def column(get: Any) -> tuple[str, ...]:
        return tuple(ABSENT if not r else _text(get(r)) for r in records)

    rows = [
        DefinitionRow("run", "recorded by optgui", tuple("yes" if r else "no" for r in records)),
        DefinitionRow("run", "sampler (without seed)", column(lambda r: seedless_spec(r.get("sampler")))),
        DefinitionRow("run", "seed", column(lambda r: r.get("seed"))),
        DefinitionRow("run", "pruner", column(lambda r: normalized_spec(r.get("pruner"), "pruner"))),
        DefinitionRow("run", "objective", column(lambda r: (r.get("objective") or {}).get("ref"))),
        DefinitionRow("run", "objective sha256", column(lambda r: (r.get("objective") or {}).get("sha256"))),
        DefinitionRow("run", "directions", tuple(" ".join(s.summary.directions) for s in studies)),
        DefinitionRow("run", "metric names", tuple(" ".join(s.summary.metric_names or ()) or ABSENT for s in studies)),
        DefinitionRow("run", "interpreter", column(_interpreter)),
        DefinitionRow("run", "origin", column(lambda r: r.get("origin"))),
    ]
    histories = [s.summary.optgui_metadata.get(KEY_HISTORY) for s in studies]
    if any(isinstance(h, dict) for h in histories):
        rows.append(DefinitionRow("run", "warm start", tuple(_history_text(h) for h in histories)))
    return rows


def _interpreter(record: dict[str, Any]) -> str:
    python = record.get("python") or (record.get("objective") or {}).get("python")
    version = (record.get("versions") or {}).get("python")
    return " ".join(str(p) for p in (python, version) if p) or ABSENT


def _history_text(history: Any) -> str:
    if not isinstance(history, dict):
        return ABSENT
    sources = history.get("sources") or []
    names = ", ".join(f"{s.get('study')} ({len(s.get('trials') or [])})" for s in sources if isinstance(s, dict))
    return f"{history.get('n_copied', '?')} trials from {names}"


def _version_rows(records: list[dict[str, Any]]) -> list[DefinitionRow]:
    versions = [r.get("versions") or {} for r in records]
    packages = sorted({k for v in versions for k in v if k != "python"})
    rows = []
    for package in packages:
        values = tuple(_text(v.get(package)) if r else ABSENT for v, r in zip(versions, records, strict=True))
        rows.append(DefinitionRow("versions", package, values))
    return rows


def _search_space_rows(studies: Sequence[ComparedStudy]) -> list[DefinitionRow]:
    names: list[str] = []
    for s in studies:
        names += [n for n in s.table.params if n not in names]
    rows = []
    for name in names:
        values = []
        for s in studies:
            column = s.table.params.get(name)
            if column is None:
                values.append(ABSENT)
            elif len(column.distributions) == 1:
                values.append(column.distributions[0].json)
            else:
                values.append(f"{len(column.distributions)} distributions; last {column.distribution.json}")
        rows.append(DefinitionRow("search space", name, tuple(values)))
    return rows


def _trial_rows(studies: Sequence[ComparedStudy]) -> list[DefinitionRow]:
    rows = [DefinitionRow("trials", "total", tuple(str(s.summary.n_trials) for s in studies))]
    for state in STATES:
        counts = [s.summary.state_counts.get(state, 0) for s in studies]
        if any(counts):
            rows.append(DefinitionRow("trials", state, tuple(str(c) for c in counts)))
    return rows


def _verdict_text(verdict: Any) -> str:
    if verdict is None:
        return "not verified (no cached verdict)"
    return str(verdict.headline())


def seed_groups(studies: Sequence[ComparedStudy], results: Sequence[Sequence[ResultSummary]]) -> list[SeedGroup]:
    """Groups of two or more studies recorded by optgui whose definitions differ only by seed."""
    groups: dict[str, list[int]] = {}
    for i, study in enumerate(studies):
        record = run_record(study)
        if record is not None:
            groups.setdefault(_seedless_key(study, record), []).append(i)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        labels = tuple(studies[i].label for i in members)
        seeds = tuple((run_record(studies[i]) or {}).get("seed") for i in members)
        single = len(studies[members[0]].summary.directions) == 1
        spread = spread_of_bests(labels, [results[i][0].best_value for i in members]) if single else None
        out.append(SeedGroup(labels, seeds, spread))
    return out


def _seedless_key(study: ComparedStudy, record: dict[str, Any]) -> str:
    versions = {k: v for k, v in (record.get("versions") or {}).items() if k != "python"}
    return json.dumps(
        [
            seedless_spec(record.get("sampler")),
            normalized_spec(record.get("pruner"), "pruner"),
            (record.get("objective") or {}).get("ref"),
            (record.get("objective") or {}).get("sha256"),
            list(study.summary.directions),
            versions,
        ],
        sort_keys=True,
        default=str,
    )


def normalized_spec(spec: Any, kind: str) -> str:
    """A recorded SPEC (text or JSON) in one canonical text, so equal specs compare equal."""
    if spec is None:
        return ABSENT
    return json.dumps(_spec_object(spec, kind), sort_keys=True)


def seedless_spec(spec: Any) -> str:
    """The sampler SPEC without any seed (nested samplers' too): what a replicate with another seed shares."""
    if spec is None:
        return ABSENT
    return json.dumps(_without_seeds(_spec_object(spec, "sampler")), sort_keys=True)


def _spec_object(spec: Any, kind: str) -> Any:
    if isinstance(spec, dict):
        return spec
    from optgui.core.engine import parse_spec

    try:
        return parse_spec(str(spec), kind).to_json_obj()
    except OptguiError:
        return str(spec)


def _without_seeds(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_seeds(v) for k, v in value.items() if k != "seed"}
    if isinstance(value, list):
        return [_without_seeds(v) for v in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)
