"""The determinism verdict shared by `optgui verify` and the GUI's badge: small, immutable, JSON round-trippable.

Kinds:
  verified      every checked trial's suggestions reproduced bit for bit; `equivalent` tells whether the study is
                also equivalent to an uninterrupted run (otherwise it is only replayable, for `reasons`);
  diverged      the replay suggested something else at `divergence.trial` (Optuna's trial number); `cause` is
                the likely reason when it can be told;
  unverifiable  the replay cannot be attempted, for `reason`;
  not-reproducible  a free-running parallel run (each worker its own sampler, trials in whatever order the workers
                reached them): replayable only in its recorded order, not reproducible; `reason` says what the
                replay would need that the study does not record.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICT_SCHEMA = 1


class VerificationState(enum.StrEnum):
    """Where a study's verification stands: a verdict's kind (the last four) or, in the app, not checked yet or
    being checked. Members equal their strings, so the verdict's JSON is unchanged.

    >>> VerificationState("diverged") is VerificationState.DIVERGED
    True
    >>> VerificationState.NOT_CHECKED == "none"
    True
    """

    NOT_CHECKED = "none"
    CHECKING = "checking"
    VERIFIED = "verified"
    DIVERGED = "diverged"
    UNVERIFIABLE = "unverifiable"
    NOT_REPRODUCIBLE = "not-reproducible"


VERIFIED = VerificationState.VERIFIED
DIVERGED = VerificationState.DIVERGED
UNVERIFIABLE = VerificationState.UNVERIFIABLE
NOT_REPRODUCIBLE = VerificationState.NOT_REPRODUCIBLE
# The replay re-enacts suggestions and tells the recorded values: an edited value changes nothing it can see.
VALUES_NOT_CHECKED = (
    "objective values not checked: the replay reproduces the sampler's suggestions and takes the recorded values "
    "as given (--objective-check N re-evaluates N trials)"
)
FREE_RUNNING_TEXT = "free-running parallel run: replayable only in its recorded order, not reproducible"


@dataclass(frozen=True)
class Divergence:
    """The first difference: trial number, parameter (None when the trial itself is missing or unexpected)."""

    trial: int
    param: str | None
    recorded: Any = None
    replayed: Any = None

    def describe(self) -> str:
        if self.param is None:
            return f"trial {self.trial}"
        if self.recorded is None and self.replayed is None:  # the parameter's record changed, not its value
            return f"trial {self.trial}, parameter {self.param!r}"
        return (
            f"trial {self.trial}, parameter {self.param!r}: recorded {_show(self.recorded)}, "
            f"replayed {_show(self.replayed)}"
        )


@dataclass(frozen=True)
class SegmentSummary:
    """How one optgui run segment was checked. boundary: how the replay crossed its start:
    start (sampler built from the spec), seamless (replayed state equals the saved one), restored (saved state
    restored, explained by a recovery or accepted change), unexplained (restored, but nothing explains the
    difference), missing (no saved state), continued (a deterministic fleet's coordinator died and the recovery
    went on with its batches: the replay crosses the boundary inside the dead coordinator's schedule)."""

    index: int
    start_trial: int
    last_trial: int | None
    resumed_by: str
    boundary: str
    note: str = ""


@dataclass(frozen=True)
class VersionCheck:
    """A run segment that started under other versions of a package its sampler uses, and what the replay under
    the current versions found. status: checked (the recorded history before the change replays identically: the
    change did not matter), diverged (it does not: the run is replayable only), unchecked (the replay did not get
    that far)."""

    segment: int
    trial: int  # the segment's first trial: where the run went on under the new versions
    change: str  # "numpy 2.3.0 -> 2.4.6"
    status: str
    note: str = ""

    def describe(self) -> str:
        text = f"version change at trial {self.trial} ({self.change}): {self.status}"
        return f"{text} — {self.note}" if self.note else text


@dataclass(frozen=True)
class TrialRecheck:
    """One trial re-evaluated by the objective check."""

    trial: int
    recorded: tuple[float, ...] | None
    evaluated: tuple[float, ...] | None
    reproduced: bool
    error: str | None = None


@dataclass(frozen=True)
class ObjectiveCheck:
    rtol: float | None
    trials: tuple[TrialRecheck, ...]
    note: str = ""

    @property
    def n_reproduced(self) -> int:
        return sum(1 for t in self.trials if t.reproduced)

    @property
    def ok(self) -> bool:
        return all(t.reproduced for t in self.trials)

    def summary(self) -> list[str]:
        how = "exactly" if not self.rtol else f"within rtol {self.rtol:g}"
        lines = [
            f"Objective check: {self.n_reproduced}/{len(self.trials)} trials reproduced {how}"
            + (f" ({', '.join(str(t.trial) for t in self.trials)})" if self.trials else "")
        ]
        for t in self.trials:
            if not t.reproduced:
                if t.error:
                    lines.append(f"  trial {t.trial}: the objective raised {t.error}")
                else:
                    lines.append(
                        f"  trial {t.trial}: recorded {_show_values(t.recorded)}, "
                        f"re-evaluated {_show_values(t.evaluated)}"
                    )
        if self.note:
            lines.append(f"  {self.note}")
        return lines


@dataclass(frozen=True)
class Progress:
    """ "verified trials first–last of total": checked counts trials replayed so far."""

    checked: int
    total: int
    first_trial: int | None
    last_trial: int | None

    def describe(self) -> str:
        if self.last_trial is None:
            return f"verified 0 of {self.total} trials"
        return f"verified trials {self.first_trial}–{self.last_trial} ({self.checked} of {self.total})"


@dataclass(frozen=True)
class Verdict:
    kind: VerificationState
    study: str
    sampler: str | None = None  # the spec replayed, in call syntax
    n_checked: int = 0  # trials whose suggestions were replayed and matched
    n_total: int = 0  # trials the claims cover (finished, made by the sampler under test)
    first_trial: int | None = None
    last_trial: int | None = None
    equivalent: bool = False
    reasons: tuple[str, ...] = ()  # why only replayable (verified), or extra context
    divergence: Divergence | None = None
    cause: str | None = None  # likely cause of a divergence
    reason: str | None = None  # why unverifiable
    history: int = 0  # trials taken as given (made before optgui or by other processes), not claimed
    pending: int = 0  # unfinished trials at the end, not yet checked
    segments: tuple[SegmentSummary, ...] = ()
    versions: dict = field(default_factory=dict)  # {"recorded": {...}, "current": {...}}
    spec_source: str = "recorded"  # recorded | supplied
    objective_check: ObjectiveCheck | None = None
    notes: tuple[str, ...] = ()
    cached: bool = False  # served from the verdict cache: the study's content is unchanged since it was verified
    version_checks: tuple[VersionCheck, ...] = ()  # segments that started after a version change, and their check

    @property
    def verified(self) -> bool:
        return self.kind == VERIFIED

    # --- presentation ----------------------------------------------------------------------------------------
    def headline(self) -> str:
        if self.kind == VERIFIED:
            how = "equivalent to an uninterrupted run" if self.equivalent else "replayable only"
            return f"Sampler replay verified {self.n_checked}/{self.n_total} · {how}"
        if self.kind == DIVERGED:
            at = f" at trial {self.divergence.trial}" if self.divergence else ""
            return f"Sampler replay diverged{at} ({self.n_checked}/{self.n_total} reproduced before it)"
        if self.kind == NOT_REPRODUCIBLE:
            return f"Not verifiable: {FREE_RUNNING_TEXT}"
        return f"Unverifiable: {self.reason}"

    def summary(self) -> list[str]:
        lines = [self.headline()]
        if self.kind == VERIFIED and self.n_total and self.first_trial is not None:
            lines.append(
                f"  trials {self.first_trial}–{self.last_trial} replayed with {self.sampler} ({self.spec_source} spec)"
            )
        if self.kind == VERIFIED and self.objective_check is None:
            lines.append(f"  {VALUES_NOT_CHECKED}")
        if self.divergence is not None:
            lines.append(f"  first difference: {self.divergence.describe()}")
        if self.cause:
            lines.append(f"  likely cause: {self.cause}")
        if self.kind == VERIFIED and not self.equivalent:
            for reason in self.reasons:
                lines.append(f"  not equivalent: {reason}")
        if self.kind == NOT_REPRODUCIBLE and self.reason:
            why = self.reason[len(FREE_RUNNING_TEXT) :] if self.reason.startswith(FREE_RUNNING_TEXT) else self.reason
            lines.append(f"  {why.lstrip(' —;:')}")
        for check in self.version_checks:
            lines.append(f"  {check.describe()}")
        if self.history:
            lines.append(f"  {self.history} trials taken as history (not made by the checked sampler run)")
        if self.pending:
            lines.append(f"  {self.pending} unfinished trials at the end, not checked yet")
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.objective_check is not None:
            lines.extend(self.objective_check.summary())
        return lines

    # --- JSON ------------------------------------------------------------------------------------------------
    def to_json_obj(self) -> dict:
        obj = asdict(self)
        obj["reasons"] = list(self.reasons)
        obj["notes"] = list(self.notes)
        obj["segments"] = [asdict(s) for s in self.segments]
        obj["version_checks"] = [asdict(c) for c in self.version_checks]
        obj["divergence"] = _json_safe(obj["divergence"])
        # Derived, for readers of the JSON: how many trials' objective values were re-evaluated (0: none checked).
        obj["values_checked"] = len(self.objective_check.trials) if self.objective_check is not None else 0
        return {"schema": VERDICT_SCHEMA, **_json_safe(obj)}

    def with_objective_check(self, check: ObjectiveCheck | None) -> Verdict:
        from dataclasses import replace

        return replace(self, objective_check=check)

    @classmethod
    def from_json_obj(cls, obj: dict) -> Verdict:
        if obj.get("schema") != VERDICT_SCHEMA:
            raise ValueError(f"unknown verdict schema {obj.get('schema')!r}")
        data = {k: v for k, v in obj.items() if k not in ("schema", "values_checked")}
        data["kind"] = VerificationState(data["kind"])
        data["reasons"] = tuple(data.get("reasons") or ())
        data["notes"] = tuple(data.get("notes") or ())
        data["segments"] = tuple(SegmentSummary(**s) for s in data.get("segments") or ())
        data["version_checks"] = tuple(VersionCheck(**c) for c in data.get("version_checks") or ())
        if data.get("divergence") is not None:
            data["divergence"] = Divergence(**_json_restore(data["divergence"]))
        if data.get("objective_check") is not None:
            oc = data["objective_check"]
            data["objective_check"] = ObjectiveCheck(
                oc["rtol"],
                tuple(
                    TrialRecheck(
                        t["trial"], _tuple(t["recorded"]), _tuple(t["evaluated"]), t["reproduced"], t.get("error")
                    )
                    for t in oc["trials"]
                ),
                oc.get("note", ""),
            )
        return cls(**data)


def _tuple(values):
    return None if values is None else tuple(_json_restore(values))


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value!r} ({value.hex()})"
    return repr(value)


def _show_values(values) -> str:
    if values is None:
        return "none"
    return ", ".join(repr(v) for v in values)


# Non-finite floats are not JSON: they travel as strings, which also keeps the verdict readable by other tools.
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _json_restore(value):
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    if isinstance(value, dict):
        return {k: _json_restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_restore(v) for v in value]
    return value
