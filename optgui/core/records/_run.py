"""The run record (`optgui:run`, immutable, written once) and the run's target (`optgui:target`)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from optgui.core.records._base import (
    COUNT,
    OBJECT,
    TEXT,
    TRIAL_NUMBER,
    Check,
    JsonRecord,
    entry,
    is_int,
    one_of,
    optional,
)
from optgui.core.records._keys import KEY_RUN, KEY_SCHEMA, KEY_TARGET, SCHEMA_VERSION
from optgui.core.records._vocabulary import Direction, RunOrigin

SPEC: Check = (lambda v: isinstance(v, str | dict), "a sampler spec")
PRUNER_SPEC: Check = (lambda v: isinstance(v, str | dict), "a pruner spec")
DIRECTIONS: Check = (
    lambda v: isinstance(v, list) and bool(v) and all(d in ("minimize", "maximize") for d in v),
    "a list of 'minimize'/'maximize'",
)
NAMES: Check = (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of names")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRecord(JsonRecord):
    """What the run is: written once when optgui first runs (or creates) the study, never changed. A rerun
    compares its options with it."""

    KEY: ClassVar[str] = KEY_RUN
    TITLE: ClassVar[str] = "Run record"

    created: str | None = entry("when optgui first ran the study", optional(TEXT))
    optgui_version: str | None = entry("the optgui version that wrote it", optional(TEXT))
    origin: RunOrigin | None = entry(
        "`new`, or `adopted` for a study made elsewhere: claims start at `history_until`",
        optional(one_of(RunOrigin)),
        vocabulary=RunOrigin,
    )
    history_until: int | None = entry(
        "the number of trials the study had before optgui ran it (history, not optgui's)", TRIAL_NUMBER
    )
    sampler: str | dict[str, Any] = entry("the sampler SPEC, as JSON", SPEC, required=True)
    pruner: str | dict[str, Any] = entry("the pruner SPEC, as JSON", PRUNER_SPEC, required=True)
    seed: int | None = entry(
        "the sampler's seed (drawn and recorded when none was given)", optional((is_int, "an integer")), required=True
    )
    objective: dict[str, Any] = entry(
        "the objective reference: `kind`, `ref`, `path`, `function`, `sha256` (a file's content hash)",
        OBJECT,
        required=True,
    )
    directions: list[str] = entry(
        f"the study's directions ({', '.join(repr(d.value) for d in Direction)})", DIRECTIONS, required=True
    )
    metric_names: list[str] | None = entry("the objectives' names, or null", optional(NAMES))
    versions: dict[str, Any] = entry(
        "the versions of the packages the sampler and pruner use: optuna and numpy always; cmaes, scipy, torch and "
        "whether greenlet is present where they use them; Python (informative). Runs recorded before this listed "
        "every package for every sampler; a package the sampler does not use is never compared",
        OBJECT,
        required=True,
    )
    environment: dict[str, Any] | None = entry(
        "runs with `--python` only: the objective's interpreter, `executable`, `python` (its version), `optuna` (its "
        "version, or null), `distributions` (how many are installed) and `distributions_sha256` (of their sorted "
        "`name==version` lines); absent: optgui's own interpreter. A segment's `accepted.environment_changed` "
        '(`{"recorded", "now"}`) supersedes it from that segment on',
        optional(OBJECT),
        omit=True,
    )
    fleet: dict[str, Any] | None = entry(
        'parallel runs only: `{"mode": "deterministic", "batch": k, "pipeline": bool}` or `{"mode": "free"}`',
        optional(OBJECT),
        omit=True,
    )
    recipe: dict[str, Any] | None = entry(
        "studies created from a recipe (`optgui run --recipe`) only: `source_storage`, `source_study`, "
        "`recipe_seed`, `replicate` (true when run with another seed than the recipe's), `sha256` (of what the "
        "recipe defines), `file`, and `objective_changed` when the user accepted a changed objective",
        optional(OBJECT),
        omit=True,
    )
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target(JsonRecord):
    """The run's total target of finished trials; a rerun with a larger --n-trials raises it."""

    KEY: ClassVar[str] = KEY_TARGET
    TITLE: ClassVar[str] = "Target"

    n_trials: int | None = entry(
        "finished trials the run aims at, counted as `optimize` counts them; null: none", optional(COUNT)
    )
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def write_run(storage: Any, study_id: int, run: RunRecord, target: Target) -> None:
    """Store a new run's records: the schema version, the target and the (immutable) run record."""
    storage.set_study_system_attr(study_id, KEY_SCHEMA, SCHEMA_VERSION)
    write_target(storage, study_id, target)
    storage.set_study_system_attr(study_id, KEY_RUN, run.to_json())


def write_target(storage: Any, study_id: int, target: Target) -> None:
    storage.set_study_system_attr(study_id, KEY_TARGET, target.to_json())
