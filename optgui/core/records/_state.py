"""Saved sampler states (`optgui:state:<b>`, one per resume boundary, written once) and the crash-recovery
checkpoint (`optgui:checkpoint`, overwritten)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from optgui.core.records._base import (
    INDEX,
    OBJECT,
    TEXTS,
    TIME,
    TRIAL_NUMBER,
    JsonRecord,
    entry,
    now_iso,
    optional,
)
from optgui.core.records._keys import KEY_CHECKPOINT, KEY_STATE, state_key


@dataclasses.dataclass(frozen=True, kw_only=True)
class SavedState(JsonRecord):
    """The sampler state at resume boundary *b* (the number of the first trial sampled from it). One key per
    boundary, never overwritten; the verifier restores it at *b*."""

    KEY: ClassVar[str] = KEY_STATE + "<b>"
    TITLE: ClassVar[str] = "Saved state"

    boundary: int = entry("*b*, as in its key", TRIAL_NUMBER, required=True)
    sampler_state: dict[str, Any] = entry(
        "every RNG and cache the sampler owns, as JSON (optgui.core.engine._rng_state)", OBJECT, required=True
    )
    study_attrs: dict[str, Any] | None = entry(
        "the sampler-owned study attributes at that point (QMC counters, GA parent caches, ...); with "
        "`study_attrs_base`, only those added or changed since that boundary's state",
        optional(OBJECT),
    )
    saved: str | None = entry("when it was saved", TIME)
    study_attrs_base: int | None = entry(
        "the earlier boundary whose (full) attributes `study_attrs` changes: GA samplers add a parent cache per "
        "generation and never change it, so full copies grew with every generation",
        TRIAL_NUMBER,
    )
    study_attrs_removed: list[str] | None = entry("the attribute keys gone since `study_attrs_base`", TEXTS)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def now(cls, boundary: int, sampler_state: dict[str, Any], study_attrs: dict[str, Any]) -> SavedState:
        return cls(boundary=boundary, sampler_state=sampler_state, study_attrs=study_attrs, saved=now_iso())

    def stored_as_change_from(self, base_boundary: int, base_attrs: dict[str, Any]) -> SavedState:
        """This state storing its study attributes as a change from the (full) attributes saved at base_boundary."""
        attrs = self.study_attrs or {}
        return dataclasses.replace(
            self,
            study_attrs={k: v for k, v in attrs.items() if k not in base_attrs or base_attrs[k] != v},
            study_attrs_base=base_boundary,
            study_attrs_removed=sorted(k for k in base_attrs if k not in attrs),
        )

    def checkpoint(self, segment: int) -> Checkpoint:
        return Checkpoint(
            boundary=self.boundary,
            sampler_state=self.sampler_state,
            study_attrs=self.study_attrs,
            saved=self.saved,
            segment=segment,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Checkpoint(JsonRecord):
    """The latest crash-recovery checkpoint, overwritten at most every CHECKPOINT_SECONDS: a full state (never
    incremental) plus the segment that wrote it. It only shortens the replay a recovery needs."""

    KEY: ClassVar[str] = KEY_CHECKPOINT
    TITLE: ClassVar[str] = "Checkpoint"

    boundary: int = entry("the boundary of the state", TRIAL_NUMBER, required=True)
    sampler_state: dict[str, Any] = entry("as in a saved state", OBJECT, required=True)
    study_attrs: dict[str, Any] | None = entry("the full sampler-owned study attributes", optional(OBJECT))
    saved: str | None = entry("when it was saved", TIME)
    segment: int = entry("the index of the segment that wrote it", INDEX, required=True)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_state(self, boundary: int | None = None) -> SavedState:
        """The checkpoint as a saved state (at `boundary`, its own by default), for a recovery to persist."""
        return SavedState(
            boundary=self.boundary if boundary is None else boundary,
            sampler_state=self.sampler_state,
            study_attrs=self.study_attrs,
            saved=self.saved,
            extra=self.extra,
        )


def write_state(storage: Any, study_id: int, state: SavedState) -> None:
    """Store a saved state under its boundary's key: the one writer of saved states."""
    storage.set_study_system_attr(study_id, state_key(state.boundary), state.to_json())


def write_checkpoint(storage: Any, study_id: int, checkpoint: Checkpoint) -> None:
    storage.set_study_system_attr(study_id, KEY_CHECKPOINT, checkpoint.to_json())


def resolve_state_chain(records: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """State records with their study_attrs made full: each incremental record is applied on top of its base's
    (resolved) attributes. Records whose base is missing, later than themselves or malformed are left out."""
    resolved: dict[int, dict[str, Any]] = {}
    for boundary in sorted(records):
        record = records[boundary]
        if not isinstance(record, dict) or "study_attrs_base" not in record:
            resolved[boundary] = record
            continue
        base = record["study_attrs_base"]
        changed, removed = record.get("study_attrs"), record.get("study_attrs_removed", [])
        if (
            not isinstance(base, int)
            or base >= boundary
            or base not in resolved
            or not isinstance(resolved[base], dict)
            or not isinstance(resolved[base].get("study_attrs"), dict)
            or not isinstance(changed, dict)
            or not isinstance(removed, list)
        ):
            continue
        full = {k: v for k, v in resolved[base]["study_attrs"].items() if k not in removed}
        full.update(changed)
        resolved[boundary] = {
            k: v for k, v in record.items() if k not in ("study_attrs_base", "study_attrs_removed")
        } | {"study_attrs": full}
    return resolved


def incremental_study_attrs(
    study_attrs: dict[str, Any], base_boundary: int, base_attrs: dict[str, Any]
) -> dict[str, Any]:
    """The fields of a state record that store `study_attrs` as a change from the (full) attributes saved at
    `base_boundary`."""
    changed = SavedState(boundary=0, sampler_state={}, study_attrs=study_attrs).stored_as_change_from(
        base_boundary, base_attrs
    )
    return {k: changed.to_json()[k] for k in ("study_attrs", "study_attrs_base", "study_attrs_removed")}
