"""Warm start: a new study that begins with finished trials of earlier studies (`optgui run --history REF[@sel]`,
"New study from these trials…").

The trials are added before the first run, at study creation, with Optuna's `add_trials` (params with their
distributions, values, intermediate values, user attributes, states and times; not system attributes, which
belong to the source's sampler and to optgui's own bookkeeping there). Which trials fit:

* COMPLETE and PRUNED trials: what samplers learn from. FAIL trials are left out (samplers skip them; copied,
  they would only count towards `--n-trials`), as are unfinished ones (RUNNING, WAITING).
* A source study's directions must equal the new study's.
* Each parameter's distribution must equal the distribution of that name in every other copied trial (the first
  copied trial with the name decides; a trial that disagrees is left out).

Everything left out is listed with its reason. The run that follows is an ordinary run of an adopted study: its
run record says `adopted` with `history_until` = the number of copied trials, so the verifier replays it from the
copied history, and the result equals plain Optuna given the same `add_trials` and seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from optgui.core import records
from optgui.core.errors import OptguiError, StudyStateError
from optgui.core.storage import StudyRef, open_for_run, parse_storage, parse_study_ref, read_study, redact_url

COPIED_STATES = ("COMPLETE", "PRUNED")


@dataclass(frozen=True)
class SkippedTrial:
    """A selected trial that is not copied: `source` (the REF as typed), its trial `number` and the `reason`."""

    source: str
    number: int | None  # None: the whole selection of `source` (`count` trials)
    reason: str
    count: int = 1

    def describe(self) -> str:
        where = self.source if self.number is None else f"{self.source} trial {self.number}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class HistoryPlan:
    """The trials a warm start copies (FrozenTrials, in copy order) and what it leaves out, with provenance."""

    directions: tuple[str, ...]
    trials: tuple[Any, ...]
    skipped: tuple[SkippedTrial, ...]
    sources: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def digest(self) -> str:
        return trials_digest(self.trials)

    def record(self) -> records.HistoryRecord:
        return records.HistoryRecord(
            created=records.now_iso(),
            n_copied=len(self.trials),
            sources=[dict(s) for s in self.sources],
            digest=self.digest,
            n_skipped=sum(s.count for s in self.skipped),
        )


def plan_history(refs: Sequence[str | StudyRef], directions: Sequence[str] | None = None) -> HistoryPlan:
    """Read the source studies (read-only) and decide which trials fit. `directions`: the new study's (None: the
    first source study's)."""
    if not refs:
        raise OptguiError("a warm start needs at least one source study")
    parsed = [r if isinstance(r, StudyRef) else parse_study_ref(r, selection=True) for r in refs]
    snapshots = [read_study(ref.storage, ref.study) for ref in parsed]
    wanted = tuple(directions) if directions else snapshots[0].directions
    copied: list[Any] = []
    skipped: list[SkippedTrial] = []
    sources: list[dict[str, Any]] = []
    seen_distributions: dict[str, Any] = {}
    for ref, snapshot in zip(parsed, snapshots, strict=True):
        chosen = _selected(ref, snapshot.trials, skipped)
        if tuple(snapshot.directions) != wanted:
            reason = f"directions {' '.join(snapshot.directions)} differ from the new study's {' '.join(wanted)}"
            skipped.append(SkippedTrial(ref.text, None, f"{reason} ({len(chosen)} trials)", len(chosen)))
            continue
        taken = [t for t in chosen if _fits(ref, t, seen_distributions, skipped)]
        copied += taken
        sources.append(
            {
                "storage": redact_url(ref.storage) if "://" in ref.storage else ref.storage,
                "study": snapshot.name,
                "trials": [t.number for t in taken],
                "digest": trials_digest(taken),
            }
        )
    return HistoryPlan(tuple(wanted), tuple(copied), tuple(skipped), tuple(sources))


def _selected(ref: StudyRef, trials: Sequence[Any], skipped: list[SkippedTrial]) -> list[Any]:
    if ref.trials is None:
        return list(trials)
    by_number = {t.number: t for t in trials}
    for number in ref.trials:
        if number not in by_number:
            skipped.append(SkippedTrial(ref.text, number, "no such trial"))
    return [by_number[n] for n in ref.trials if n in by_number]


def _fits(ref: StudyRef, trial: Any, seen: dict[str, Any], skipped: list[SkippedTrial]) -> bool:
    if trial.state.name not in COPIED_STATES:
        why = "failed trials teach a sampler nothing" if trial.state.name == "FAIL" else "not finished"
        skipped.append(SkippedTrial(ref.text, trial.number, f"{trial.state.name}: {why}"))
        return False
    for name, distribution in trial.distributions.items():
        first = seen.get(name)
        if first is not None and first != distribution:
            skipped.append(SkippedTrial(ref.text, trial.number, f"param {name!r}: {distribution} differs from {first}"))
            return False
    for name, distribution in trial.distributions.items():
        seen.setdefault(name, distribution)
    return True


def copied_trial(trial: Any) -> Any:
    """The trial as added to the new study: its own number and id are assigned there; system attributes stay
    behind."""
    from optuna.trial import FrozenTrial

    return FrozenTrial(
        number=-1,
        state=trial.state,
        value=None,
        values=None if trial.values is None else list(trial.values),
        datetime_start=trial.datetime_start,
        datetime_complete=trial.datetime_complete,
        params=dict(trial.params),
        distributions=dict(trial.distributions),
        user_attrs=dict(trial.user_attrs),
        system_attrs={},
        intermediate_values=dict(trial.intermediate_values),
        trial_id=-1,
    )


def start_from_history(
    storage: str,
    study_name: str,
    plan: HistoryPlan,
    *,
    metric_names: Sequence[str] | None = None,
    create_storage: bool = True,
) -> bool:
    """Create `study_name` with the planned trials and the warm start's record. Returns whether the storage file
    was created. StudyStateError when the study exists already (a warm start makes a new study)."""
    import optuna

    ref = parse_storage(storage)
    optuna_storage, created = open_for_run(ref, create=create_storage)
    try:
        optuna_storage.get_study_id_from_name(study_name)
    except KeyError:
        pass
    else:
        raise StudyStateError(f"study {study_name!r} already exists in {ref.display}; --history makes a new study")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        directions: list[Any] = list(plan.directions)
        study = optuna.create_study(storage=optuna_storage, study_name=study_name, directions=directions)
        if metric_names:
            study.set_metric_names(list(metric_names))
        study.add_trials([copied_trial(t) for t in plan.trials])
    records.write_history(optuna_storage, study._study_id, plan.record())
    return created


def copied_trial_count(storage: str, study_name: str) -> int:
    """How many trials a warm start copied into the study (0 when it was not warm-started or does not exist)."""
    ref = parse_storage(storage)
    if not ref.exists:
        return 0
    optuna_storage, _ = open_for_run(ref, create=False)
    try:
        study_id = optuna_storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    value = optuna_storage.get_study_system_attrs(study_id).get(records.KEY_HISTORY)
    return records.HistoryRecord.from_json(value, records.KEY_HISTORY).n_copied if value is not None else 0


def trials_digest(trials: Sequence[Any]) -> str:
    """sha256 of the trials' states, params (internal values, bit exact), distributions and values, in order."""
    from optuna.distributions import distribution_to_json

    digest = hashlib.sha256()
    for t in trials:
        params = [
            [name, distribution_to_json(d), _hex(d.to_internal_repr(t.params[name]))]
            for name, d in t.distributions.items()
        ]
        values = None if t.values is None else [_hex(v) for v in t.values]
        digest.update(json.dumps([t.state.name, params, values], separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _hex(value: float) -> str:
    value = float(value)
    return "nan" if math.isnan(value) else value.hex()
