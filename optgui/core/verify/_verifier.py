"""Replay verification: re-enact a study's recorded history with its sampler and compare every suggestion exactly.

The truth of a study is *seed + recorded history*. The verifier rebuilds the sampler from the study's
recorded spec (or a SPEC the user supplies for a study made by plain Optuna) in a fresh in-memory study and walks
the trials in number order:

* history (trials made before optgui adopted the study, and trials other processes added between optgui
  segments, listed in `foreign_before`) is copied verbatim: claims start at the segment boundary;
* every other trial is re-enacted (ask, the recorded suggests in order, intermediate values, constraints, tell of
  the recorded state and values) and its suggestions compared bit for bit with the record;
* at each segment boundary b the replayed sampler state is compared with the state the run saved under
  `optgui:state:<b>`: equal means the resume was seamless; otherwise the saved state is restored (a recovery that
  abandoned a trial rewinds the sampler; an accepted version change may move it) and the study is only
  *replayable* unless the recovery says it stayed equivalent. The first segment's start is the exception: there
  the sampler built from the recorded spec is the truth, so a changed seed or spec shows up as a divergence at
  the first trial rather than being papered over by the saved state.

Crash-recovered trials replay as the engine handled them: a re-entered zombie (RDB) holds the re-entered
suggestions and replays as a normal trial; an abandoned zombie (journal) replays as ask + its partial suggests +
FAIL, after which the boundary state is restored; a trial still RUNNING while later trials were sampled is
re-enacted up to its suggests and left RUNNING, as the sampler saw it.

Deterministic fleet runs (run record `fleet`, mode "deterministic") replay as their coordinator made them: in each
segment, batches of k trials from its first trial, each batch asked (ask + suggests per trial) and then told in
trial-number order; with `pipeline`, the next batch of the same segment is asked before the current one is told.
A batch is replayed only once all its trials are finished. The coordinator tells a batch only after asking it
completely (and the next one, when pipelined), so a finished trial proves its batch is in the record: the batch
structure is read from the record, and the drained pipeline at a pause falls on the segment boundary. A
free-running run (mode "free") is not replayed: each worker's sampler saw whatever the storage showed it, which the
study does not record; its verdict says so (kind not-reproducible).

The verifier is incremental: `extend()` continues from where the last call stopped, so a growing study costs only
its new trials, and `checkpoint()` lets a later session resume without replaying the verified prefix again.
"""

from __future__ import annotations

import bisect
import importlib
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial, TrialState

from optgui.core import _optuna_internals as oi
from optgui.core.engine import (
    DEFAULT_PRUNER,
    Reenactor,
    ReplayError,
    SamplerStateError,
    Spec,
    current_versions,
    describe_differences,
    float_bits,
    parse_spec,
    used_packages,
    version_differences,
)
from optgui.core.errors import OptguiError, SpecError
from optgui.core.records import SCHEMA_VERSION, StudyMetadata, decode_states
from optgui.core.storage import read_study
from optgui.core.verify._cache import (
    TrialChain,
    load_resume,
    load_verdict,
    resume_id,
    store_resume,
    store_verdict,
    verdict_key,
)
from optgui.core.verify._verdict import (
    DIVERGED,
    FREE_RUNNING_TEXT,
    NOT_REPRODUCIBLE,
    UNVERIFIABLE,
    VERIFIED,
    Divergence,
    Progress,
    SegmentSummary,
    Verdict,
    VersionCheck,
)

PROGRESS_INTERVAL = 0.2  # seconds between progress reports
# How long the replay may take to reach a version change before it stops trying: the history before the change is
# then taken as given and the change stays unchecked (a long GPSampler history replays at seconds per trial).
VERSION_CHECK_SECONDS = 180.0

# Why a free-running parallel run cannot be replayed: what its record lacks (see README "Verifying determinism").
FREE_RUNNING_WHY = (
    "each worker sampled with its own sampler (seed + worker index) from whatever trials the "
    "storage showed it at that moment; the study records who asked each trial (optgui:asked_by) and "
    "the trials' start and finish times, but not which trials each sampler call saw, so no replay "
    "can re-create what every worker's sampler saw"
)

# Optional packages each sampler needs at sampling time (GPSampler imports torch lazily: building it succeeds).
_REQUIREMENTS = {
    "GPSampler": ("torch", "GPSampler needs torch (pip install torch)"),
    "CmaEsSampler": ("cmaes", "CmaEsSampler needs cmaes (pip install cmaes)"),
    "QMCSampler": ("scipy", "QMCSampler needs scipy (pip install scipy)"),
}


class VerificationCancelled(OptguiError):
    """The caller cancelled a verification in progress."""


@dataclass
class _Boundary:
    number: int
    segments: list[dict]


@dataclass(frozen=True)
class VersionSkip:
    """Recorded trials [start, stop) that do not replay under the current versions of a package the sampler uses:
    they were made under other versions, and the run went on under new ones from the state saved at `stop` (a
    segment that records the version change). A later pass takes them as given and checks what follows."""

    start: int
    stop: int
    segment: int  # the segment starting at `stop`
    changes: str  # the versions the skipped trials were recorded under, against the current ones
    divergence: str  # the first difference the replay found, or why the replay did not get there
    status: str = "diverged"  # diverged | unchecked (the replay would have taken too long)

    def reason(self) -> str:
        if self.status == "unchecked":
            return (
                f"trials {self.start}–{self.stop - 1} (before the version change at trial {self.stop}) were not "
                f"replayed: {self.divergence}; the version change is unchecked"
            )
        return (
            f"trials {self.start}–{self.stop - 1} were recorded under other package versions ({self.changes}) "
            f"and do not replay under the current ones (first difference: {self.divergence}); they are not "
            f"checked, and the replay goes on from the state saved at trial {self.stop}"
        )


def version_change_of(seg: dict) -> dict | None:
    """{package: [before, after]} when this segment started after a change of a package its sampler uses: the
    segment's `version_change` (written since version changes no longer need consent), or the versions of an
    older optgui's `--accept-version-change`."""
    return seg.get("version_change") or (seg.get("accepted") or {}).get("versions") or None


def _spec_names(spec: Spec) -> Iterable[str]:
    yield spec.name
    for value in spec.kwargs.values():
        if isinstance(value, Spec):
            yield from _spec_names(value)


def missing_requirement(spec: Spec) -> str | None:
    """Why this sampler cannot run here (a missing optional package), or None."""
    for name in _spec_names(spec):
        need = _REQUIREMENTS.get(name)
        if need is not None:
            try:
                importlib.import_module(need[0])  # import, not find_spec: a broken install counts as missing
            except ImportError:
                return need[1]
    return None


def _is_unseeded(spec: Spec) -> bool:
    # GridSampler treats seed=None as 0: its permutation is deterministic anyway.
    return spec.accepts_seed() and spec.seed is None and spec.name != "GridSampler"


def _interval(trial: FrozenTrial) -> tuple[datetime | None, datetime | None]:
    return trial.datetime_start, trial.datetime_complete


class Verifier:
    """Holds a replay of one study and extends it as trials arrive. Not thread-safe; use from one thread."""

    def __init__(
        self,
        *,
        study_name: str,
        directions: Sequence[str],
        system_attrs: dict[str, Any],
        spec: Spec | str | None = None,
        version_skips: Sequence[VersionSkip] = (),
        version_check_budget: float | None = None,
    ):
        self.study_name = study_name
        self.directions = list(directions)
        self.meta = StudyMetadata.from_system_attrs(system_attrs)
        self._system_attrs = system_attrs
        self.unverifiable: str | None = None
        self.not_reproducible: str | None = None  # free-running parallel run: why it cannot be replayed
        self.spec: Spec | None = None
        self.spec_source = "recorded"
        self._reenactor: Reenactor | None = None
        self._next = 0  # the next trial number to process
        self._n_checked = 0
        self._first_checked: int | None = None
        self._last_checked: int | None = None
        self._n_history = 0
        self._divergence: Divergence | None = None
        self._cause: str | None = None
        self._reasons: list[str] = []
        self._notes: list[str] = []
        self._segment_summaries: dict[int, SegmentSummary] = {}
        self._start_state_mismatch: int | None = None  # boundary where the spec-built sampler differed
        self._unexplained: list[int] = []
        self._intervals: dict[int, tuple[datetime | None, datetime | None]] = {}
        self._outside_seen: list[int] = []
        self._known_total = 0
        self._pending = 0
        # Deterministic fleet runs: trials asked by the batched replay and not told yet (recorded versions, in
        # number order). With pipelining one batch is always in flight between two steps.
        self._untold: list[FrozenTrial] = []
        # Of those, the ones still unfinished when the replay asked them: counted as checked once they are told.
        self._asked_unfinished: set[int] = set()
        self._fleet: dict | None = None
        self._highest = -1  # the highest trial number any extend() was given
        self.version_skips = tuple(version_skips)
        self.version_skip: VersionSkip | None = None  # set when a divergence is explained by a version change
        self._version_checks: dict[int, VersionCheck] = {}
        self._n_unchecked = 0
        self._used_packages: tuple[str, ...] | None = None  # what the sampler and pruner compute with (_build)
        self._budget = version_check_budget
        self._created = time.monotonic()
        for skip in self.version_skips:
            (self._reasons if skip.status == "diverged" else self._notes).append(skip.reason())
        self._resolve_spec(spec)
        self._read_fleet()
        self._plan_segments()
        if self.unverifiable is None and self.not_reproducible is None:
            self._build()

    # --- setup -----------------------------------------------------------------------------------------------
    def _resolve_spec(self, spec: Spec | str | None) -> None:
        meta = self.meta
        recorded: Spec | None = None
        if meta.problems:  # the replay must not lean on a record it cannot trust
            try:
                meta.check()
            except OptguiError as exc:
                self.unverifiable = str(exc)
                return
        run = meta.run  # the metadata has no problems here: a run record exactly when optgui ran the study
        if run is not None:
            if meta.schema != SCHEMA_VERSION:
                self.unverifiable = (
                    f"the study's optgui metadata has schema {meta.schema}; this optgui reads schema {SCHEMA_VERSION}"
                )
                return
            try:
                recorded = parse_spec(run["sampler"], "sampler")
            except SpecError as exc:
                self.unverifiable = f"the recorded sampler cannot be rebuilt: {exc}"
                return
            if "seed" in run and run["seed"] != recorded.seed:
                # optgui writes the run record once, with the seed copied from the spec: they cannot disagree.
                self.unverifiable = (
                    f"the run record was edited: its seed {run['seed']!r} differs from seed={recorded.seed!r} "
                    f"in its sampler spec {recorded.to_text()}"
                )
                return
        if spec is not None:
            try:
                given = parse_spec(spec, "sampler") if not isinstance(spec, Spec) else spec
            except SpecError as exc:
                if str(exc).startswith("unknown sampler"):
                    self.unverifiable = f"custom sampler: {exc}"
                    return
                raise
            if recorded is not None and not given.same_as(recorded, self.directions):
                raise SpecError(
                    f"--spec {given.to_text()} differs from the study's recorded sampler "
                    f"{recorded.to_text()}; leave --spec out to verify against the record"
                )
            self.spec = given if recorded is None else recorded  # the same sampler: replay what was recorded
            self.spec_source = "supplied" if recorded is None else "recorded"
        elif recorded is not None:
            self.spec = recorded
        else:
            self.unverifiable = (
                "no optgui metadata (the study was not run by optgui) and no SPEC supplied: pass the "
                "sampler it was made with, e.g. --spec 'TPESampler(seed=42)'"
            )
            return
        if _is_unseeded(self.spec) and not meta.present:
            self.unverifiable = (
                f"{self.spec.to_text()} has no seed: an unseeded sampler draws from OS entropy and "
                "cannot be replayed; supply the seed the study was run with"
            )
            return
        missing = missing_requirement(self.spec)
        if missing:
            self.unverifiable = missing

    def _read_fleet(self) -> None:
        """The run record's `fleet` entry: deterministic batches are replayed as the coordinator made them; a
        free-running run is said to be what it is."""
        fleet = (self.meta.run or {}).get("fleet") if self.meta.present else None
        if fleet is None:
            return
        mode = fleet.get("mode")
        if mode == "free":
            self.not_reproducible = f"{FREE_RUNNING_TEXT} — {FREE_RUNNING_WHY}"
        elif mode == "deterministic":
            batch = fleet.get("batch")
            if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
                self.unverifiable = f"the run record's parallel batch size {batch!r} is not a positive integer"
                return
            self._fleet = fleet
        else:
            self.unverifiable = f"the run record names an unknown parallel mode {mode!r}"

    def _plan_segments(self) -> None:
        meta = self.meta
        self._segments = list(meta.segments)
        self._starts = [s["start_trial"] for s in self._segments]
        self._boundaries: dict[int, _Boundary] = {}
        for seg in self._segments:
            self._boundaries.setdefault(seg["start_trial"], _Boundary(seg["start_trial"], [])).segments.append(seg)
        self._foreign: set[int] = set()
        for seg in self._segments:
            self._foreign.update(seg.get("foreign_before") or [])
        # Where the run went on after a version change, from a saved state the replay can restore.
        self._change_boundaries = sorted(
            b
            for b, boundary in self._boundaries.items()
            if b in meta.states and any(version_change_of(s) for s in boundary.segments)
        )
        if meta.present:
            first = self._starts[0] if self._starts else (meta.run or {}).get("history_until", 0)
            self._history_until = first
        else:
            self._history_until = 0
        self._recorded_states = self._states_at_segment_ends()

    def _states_at_segment_ends(self) -> dict[int, tuple[str, int]]:
        """{trial number: (state name, segment index)} as each cleanly ended segment recorded its trials."""
        out: dict[int, tuple[str, int]] = {}
        for seg in self._segments:
            end = seg.get("end") or {}
            if "states" not in end:
                continue
            try:
                names = decode_states(end["states"])
            except ValueError as exc:
                self.unverifiable = f"segment {seg.get('index')}'s recorded trial states are malformed ({exc})"
                return {}
            for offset, name in enumerate(names):
                if name is not None:
                    out[seg["start_trial"] + offset] = (name, seg["index"])
        return out

    def _build(self) -> None:
        run = self.meta.run
        try:
            pruner_spec = parse_spec(run["pruner"], "pruner") if run is not None else DEFAULT_PRUNER
        except SpecError as exc:
            # The pruner decides which trials the sampler sees as pruned: without it there is nothing to replay.
            self.unverifiable = f"the recorded pruner cannot be rebuilt: {exc}"
            return
        spec = self._replayed_spec
        self._used_packages = used_packages(spec, pruner_spec)
        try:
            sampler = spec.build()
            pruner = pruner_spec.build()
        except SpecError as exc:
            self.unverifiable = str(exc)
            return
        self._reenactor = Reenactor(sampler, study_name=self.study_name, directions=self.directions, pruner=pruner)

    @property
    def _replayed_spec(self) -> Spec:
        """The sampler spec the replay runs: _resolve_spec sets it, or makes the study unverifiable."""
        if self.spec is None:
            raise RuntimeError(f"no sampler spec to replay: {self.unverifiable or self.not_reproducible}")
        return self.spec

    @property
    def _replay(self) -> Reenactor:
        """The replay _build made: everything that replays runs only while the study is replayable."""
        if self._reenactor is None:
            raise RuntimeError(f"no replay: {self.unverifiable or self.not_reproducible}")
        return self._reenactor

    # --- what a trial is ---------------------------------------------------------------------------------------
    def _owner(self, number: int) -> dict | None:
        i = bisect.bisect_right(self._starts, number) - 1
        return self._segments[i] if i >= 0 else None

    def role(self, number: int) -> str:
        """history (copied, not claimed) | claimed (made by the sampler under test) | outside (written by someone
        else after an optgui segment ended: replayed and flagged)."""
        if not self.meta.present:
            return "claimed"
        if number < self._history_until or number in self._foreign:
            return "history"
        owner = self._owner(number)
        if owner is None:
            return "history"
        end = owner.get("end")
        if end and end.get("last_trial") is not None and number > end["last_trial"]:
            return "outside"
        if any(skip.start <= number < skip.stop for skip in self.version_skips):
            return "unchecked"
        return "claimed"

    # --- running -----------------------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True when nothing more can be learned (diverged or unverifiable)."""
        return self.unverifiable is not None or self.not_reproducible is not None or self._divergence is not None

    @property
    def next_number(self) -> int:
        """The first trial not completely replayed: trials from here on are needed by the next `extend`."""
        return self._untold[0].number if self._untold else self._next

    def progress(self) -> Progress:
        return Progress(
            self._n_checked, max(self._known_total, self._n_checked), self._first_checked, self._last_checked
        )

    def extend(
        self,
        trials: Sequence[FrozenTrial],
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Progress:
        """Replay the trials not replayed yet (numbers below next_number are skipped: they were checked before).

        `trials` are the study's trials in number order (all of them, or just the new ones). Stops before the first
        unfinished trial at the end of the study; a later call continues from there.
        """
        if self.done:
            return self.progress()
        batch = [t for t in trials if t.number >= self.next_number]
        batch.sort(key=lambda t: (t.number, oi.trial_id(t)))
        for t in batch:
            # Trials of a batched fleet run overlap by design: they are not evidence of concurrent writers.
            if t.state.is_finished() and self.role(t.number) != "history" and self._batching_of(t.number) is None:
                self._intervals[t.number] = _interval(t)
        self._known_total = self._n_checked + sum(  # trials a batched replay asked already are counted
            1 for t in batch if t.number >= self._next and t.state.is_finished() and self.role(t.number) != "history"
        )
        last_finished = max((t.number for t in batch if t.state.is_finished()), default=-1)
        self._pending = sum(1 for t in batch if not t.state.is_finished() and t.number > last_finished)
        last_report = time.monotonic()
        records = {t.number: t for t in batch}
        seen: set[int] = set()
        stopped = False
        i = 0
        while i < len(batch):
            trial = batch[i]
            if cancel is not None and cancel.is_set():
                raise VerificationCancelled("verification cancelled")
            if self._budget_spent(trial.number):
                break
            if trial.number in seen:
                self._diverge(Divergence(trial.number, None), self._gap_cause(trial, batch, i))
                break
            restated = self._restated(trial)
            if restated is not None:
                self._diverge(Divergence(trial.number, None), restated)
                break
            if trial.number < self._next:
                seen.add(trial.number)
                i += 1
                continue  # asked by a batched step: told by it, now or later
            if trial.number != self._next:
                self._diverge(Divergence(self._next, None), self._gap_cause(trial, batch, i))
                break
            if self._untold or self._batching_of(trial.number) is not None:
                if not self._batched_step(records, batch):
                    stopped = True
                    break  # the batch is not finished yet: replayed when it is
                if trial.number >= self._next and not self.done:
                    continue  # the step only told the batch in flight (the pipeline drained): now this trial's
            else:
                if not trial.state.is_finished() and trial.number > last_finished:
                    stopped = True
                    break  # in flight (or a crash not recovered yet): checked when it finishes
                self._step(trial, batch)
            seen.add(trial.number)
            i += 1
            if self.done:
                break
            if progress is not None and time.monotonic() - last_report >= PROGRESS_INTERVAL:
                progress(self.progress())
                last_report = time.monotonic()
        if not stopped and self._untold and not self.done:
            # The record ends with the batch a pipelined replay asked last: tell it once it is finished.
            self._batched_step(records, batch)
        self._highest = max([self._highest, self._next - 1, *(t.number for t in batch)])
        prog = self.progress()
        if progress is not None:
            progress(prog)
        return prog

    def _restated(self, trial: FrozenTrial) -> str | None:
        """Why the trial's recorded state is not the one its segment recorded when it ended, or None."""
        recorded = self._recorded_states.get(trial.number)
        if recorded is None or recorded[0] == trial.state.name:
            return None
        name, index = recorded
        return (
            f"trial {trial.number} is {trial.state.name} in the record, but segment {index} recorded it {name} "
            "when it ended: the trial's state was edited"
        )

    def _check_segment_ends(self, highest: int) -> None:
        """A segment that ended at trial L made every trial up to L: a record that stops earlier lost trials.
        Checked when the verdict is given, after every extend(): a caller may feed a growing study's trials in
        parts, and the study's attributes are read before its trials, so a complete read is never short."""
        ends = [((s.get("end") or {}).get("last_trial"), s.get("index")) for s in self._segments]
        beyond = [(last, index) for last, index in ends if isinstance(last, int) and last > highest]
        if not beyond:
            return
        last, index = max(beyond)
        missing = last - highest
        self._diverge(
            Divergence(highest + 1, None),
            f"trial {highest + 1} is missing from the record{f' ({missing} trials)' if missing > 1 else ''}, but "
            f"segment {index} ended at trial {last}: trials were deleted",
        )

    def _step(self, trial: FrozenTrial, batch: Sequence[FrozenTrial]) -> None:
        number = trial.number
        reenactor = self._replay
        if number in self._boundaries:
            self._cross_boundary(self._boundaries[number])
        role = self.role(number)
        if role in ("history", "unchecked"):
            try:
                reenactor.add_history([trial])
            except ReplayError as exc:  # a record the replay cannot even copy: nothing after it can be checked
                self.unverifiable = str(exc)
                return
            if role == "history":
                self._n_history += 1
            else:
                self._n_unchecked += 1
            self._next += 1
            return
        try:
            if trial.state.is_finished():
                mismatch = reenactor.reenact(trial)
            elif trial.state == TrialState.RUNNING:
                _, mismatch = reenactor.reenact_partial(trial)
                self._notes.append(
                    f"trial {number} is unfinished (RUNNING) while later trials finished; it was "
                    "replayed as running, as the sampler saw it"
                )
            else:
                reenactor.add_history([trial])  # WAITING in the middle: nothing was sampled for it
                self._next += 1
                return
        except (ReplayError, Exception) as exc:  # noqa: BLE001 - the sampler refusing the record is a divergence
            self._diverge(
                Divergence(number, None),
                f"the sampler failed while re-enacting trial {number}: {exc.__class__.__name__}: {exc}",
                batch,
            )
            return
        self._next += 1
        if role == "outside":
            self._outside_seen.append(number)
        if mismatch is not None:
            self._diverge(Divergence(number, mismatch.param, mismatch.recorded, mismatch.replayed), None, batch, trial)
            return
        if trial.state.is_finished():
            self._n_checked += 1
            if self._first_checked is None:
                self._first_checked = number
            self._last_checked = number

    # --- deterministic fleet runs: the coordinator's batches ------------------------------------------------------
    def _batching_of(self, number: int) -> tuple[int, bool] | None:
        """(k, pipeline) when trial `number` was made by a deterministic fleet's coordinator, else None."""
        if self._fleet is None or self.role(number) != "claimed":
            return None
        return int(self._fleet["batch"]), bool(self._fleet.get("pipeline", False))

    def _continues_schedule(self, seg: dict) -> bool:
        """A segment started by recovering a deterministic fleet whose coordinator died: it goes on with the dead
        coordinator's batches (optgui.core.fleet._recovery), so its start is no batch boundary."""
        return (
            self._fleet is not None
            and seg.get("resumed_by") == "recovery"
            and bool((seg.get("recovery") or {}).get("coordinator"))
        )

    def _segment_stop(self, number: int) -> float:
        """One past the last trial the segment owning `number` can hold (a segment never shares a batch, except
        with the recovery segment that continues its schedule after its coordinator died)."""
        i = bisect.bisect_right(self._starts, number) - 1
        while i + 1 < len(self._segments) and self._continues_schedule(self._segments[i + 1]):
            i += 1
        stop = self._starts[i + 1] if i + 1 < len(self._starts) else math.inf
        end = self._segments[i].get("end") if i >= 0 else None
        if end and end.get("last_trial") is not None:
            stop = min(stop, end["last_trial"] + 1)
        return stop

    @staticmethod
    def _batch_at(start: int, records: dict[int, FrozenTrial], k: int, stop: float) -> list[FrozenTrial] | None:
        """The batch the coordinator asked from trial `start`: k consecutive recorded trials, fewer only where its
        segment is known to end (the run's target, a pause or stop); empty at the segment's end. None while the
        record does not settle it yet (a short batch in a segment still running: more trials may come)."""
        limit = min(start + k, stop)
        out = []
        number = start
        while number < limit and number in records:
            out.append(records[number])
            number += 1
        if len(out) == k or start + len(out) >= stop:
            return out
        return None

    def _batched_step(self, records: dict[int, FrozenTrial], batch: Sequence[FrozenTrial]) -> bool:
        """One step of the coordinator's loop: (ask the current batch,) with pipelining ask the next batch of the
        same segment, then tell the current batch in trial-number order. Returns False, having done nothing, while
        the current batch is not finished in the record.

        A batch is told only after all its trials were asked, and with pipelining the next batch is asked before
        the current one is told, so a finished trial proves its batch (and any next batch) completely asked: the
        batch structure is read from the record itself, and pipeline flushes fall at segment boundaries."""
        fresh = not self._untold
        first = self._untold[0].number if self._untold else self._next
        batching = self._batching_of(first)
        assert batching is not None  # called for trials of a deterministic fleet's batches only
        k, pipeline = batching
        stop = self._segment_stop(first)  # batches never cross a segment boundary: pauses drain the pipeline
        if fresh:
            current = self._batch_at(self._next, records, k, stop)
        else:
            current = []
            for asked in self._untold:
                if asked.number not in records:
                    self._diverge(
                        Divergence(asked.number, None),
                        f"trial {asked.number} is missing from the record: trials were deleted or edited",
                    )
                    return True
                current.append(records[asked.number])
        if not current or not all(t.state.is_finished() for t in current):
            return False
        following: list[FrozenTrial] = []
        if pipeline:
            # Asked before the current batch was told, so present in any record that shows it finished.
            asked_next = self._batch_at(current[-1].number + 1, records, k, stop)
            if asked_next is None:
                return False
            following = asked_next
        if fresh:
            first = current[0].number
            if first in self._boundaries:
                self._cross_boundary(self._boundaries[first])
                if self.done:
                    return True
            if not self._ask_batch(current, batch):
                return True
        if following and not self._ask_batch(following, batch):
            return True
        for trial in current if not fresh else current[1:]:
            # A dead coordinator's recovery starts its segment inside a batch.
            boundary = self._boundaries.get(trial.number)
            if boundary is not None and any(self._continues_schedule(s) for s in boundary.segments):
                self._cross_boundary(boundary)
        for trial in current:
            try:
                self._replay.finish_by_number(trial)
            except Exception as exc:  # noqa: BLE001 - the sampler refusing the record is a divergence
                self._diverge(
                    Divergence(trial.number, None),
                    f"the sampler failed while telling trial {trial.number}: {exc.__class__.__name__}: {exc}",
                    batch,
                )
                return True
            if trial.number in self._asked_unfinished:
                self._asked_unfinished.discard(trial.number)
                self._count_checked(trial.number)
        self._untold = following
        return True

    def _ask_batch(self, trials: Sequence[FrozenTrial], batch: Sequence[FrozenTrial]) -> bool:
        """Ask each trial and re-issue its suggests, in number order; False after a divergence."""
        for trial in trials:
            try:
                mismatch = self._replay.ask_only(trial)
            except Exception as exc:  # noqa: BLE001 - the sampler refusing the record is a divergence
                self._diverge(
                    Divergence(trial.number, None),
                    f"the sampler failed while re-enacting trial {trial.number}: {exc.__class__.__name__}: {exc}",
                    batch,
                )
                return False
            self._next = trial.number + 1
            if mismatch is not None:
                self._diverge(
                    Divergence(trial.number, mismatch.param, mismatch.recorded, mismatch.replayed), None, batch, trial
                )
                return False
            if trial.state.is_finished():
                self._count_checked(trial.number)
            else:  # a pipelined next batch asked before its trials finished: counted when told
                self._asked_unfinished.add(trial.number)
        return True

    def _count_checked(self, number: int) -> None:
        """One more trial checked (a pipelined trial asked unfinished is counted at its tell, after later ones)."""
        self._n_checked += 1
        first, last = self._first_checked, self._last_checked
        self._first_checked = number if first is None else min(first, number)
        self._last_checked = number if last is None else max(last, number)

    def _cross_boundary(self, boundary: _Boundary) -> None:
        b = boundary.number
        seg = boundary.segments[-1]
        if any(self._continues_schedule(s) for s in boundary.segments):
            # The recovery rebuilt the sampler by re-enacting the dead coordinator's schedule, as this replay just
            # did, and went on with it: nothing is restored here; whether the crash stayed invisible is what the
            # recovery recorded (checked by _equivalence_of).
            for s in boundary.segments:
                self._equivalence_of(s)
                self._segment_summaries[s["index"]] = SegmentSummary(
                    s["index"],
                    s["start_trial"],
                    (s.get("end") or {}).get("last_trial"),
                    s.get("resumed_by", "?"),
                    "continued",
                    "coordinator crash recovered: the dead coordinator's batches went on",
                )
            return
        record = self.meta.states.get(b)
        reenactor = self._replay
        is_start = any(s.get("resumed_by") == "start" for s in boundary.segments)
        replayed = reenactor.capture()
        note = ""
        if is_start:
            kind = "start"
            if self._n_history and record is not None:
                # Adopted history was copied without sampling: give the sampler the study attributes it had.
                reenactor.set_study_attrs(record.get("study_attrs", {}))
            if record is not None and record.get("sampler_state") != replayed:
                self._start_state_mismatch = b
                note = "the sampler built from the recorded spec does not start in the state saved with the run"
        elif record is None:
            kind = "missing"
            note = f"no sampler state was saved at trial {b}"
            self._reasons.append(f"segment {seg['index']}: {note}")
        elif record.get("sampler_state") == replayed:
            kind = "seamless"
        else:
            try:
                reenactor.restore(record["sampler_state"])
            except SamplerStateError as exc:
                self.unverifiable = (
                    f"the sampler state saved at trial {b} does not fit this Optuna "
                    f"({exc}); recorded versions: {self._recorded_versions_text(seg)}"
                )
                return
            explained = [
                s
                for s in boundary.segments
                if s.get("resumed_by") == "recovery"
                or s.get("accepted")
                or s.get("foreign_before")
                or version_change_of(s)
            ]
            if explained:
                kind = "restored"
                note = "saved state restored: " + ", ".join(self._why_restored(s) for s in explained)
            else:
                kind = "unexplained"
                note = f"the sampler state saved at trial {b} differs from the replayed one and nothing explains it"
                self._unexplained.append(b)
                self._reasons.append(f"segment {seg['index']}: {note}")
        # The re-entering recovery may share its boundary with a later resume (stopped before the re-entered trial
        # ran, the next run re-entered it): its rollback still happened at this boundary.
        reentering = [
            s
            for s in boundary.segments
            if s.get("resumed_by") == "recovery" and (s.get("recovery") or {}).get("handling") == "reentered"
        ]
        if reentering and record is not None:
            note = self._replay_attr_rollback(reentering[-1], record, note)
            if note and kind == "seamless":
                kind = "restored"
        for s in boundary.segments:
            self._equivalence_of(s)
            self._check_version_change(s, kind)
            self._segment_summaries[s["index"]] = SegmentSummary(
                s["index"],
                s["start_trial"],
                (s.get("end") or {}).get("last_trial"),
                s.get("resumed_by", "?"),
                kind,
                note,
            )

    def _check_version_change(self, seg: dict, kind: str) -> None:
        """What crossing the start of a segment that began after a version change tells about the change: the
        replay under the current versions reproduced every trial before it and arrives in the saved state
        (checked), or not (diverged: only replayable)."""
        change = version_change_of(seg)
        if not change:
            return
        b, i = seg["start_trial"], seg["index"]
        text = describe_differences(change)
        skip = next((skip for skip in self.version_skips if skip.stop == b), None)
        if skip is not None and skip.status == "unchecked":
            status, note = "unchecked", skip.divergence
        elif skip is not None:
            status, note = "diverged", "the history before it does not replay under the new versions"
        elif kind == "seamless":
            status, note = "checked", "the recorded history replays identically under the new versions"
        else:
            status = "diverged"
            note = f"the replayed sampler state at trial {b} differs from the one saved under the old versions"
            self._reasons.append(f"segment {i}: after the version change ({text}), {note}")
        self._version_checks[i] = VersionCheck(i, b, text, status, note)

    def _replay_attr_rollback(self, seg: dict, record: dict, note: str) -> str:
        """A re-entering recovery rolled the study's sampler-owned attributes back to the values it saved with the
        boundary state; the replay does the same, and says so when those values differ from the replayed ones."""
        saved = record.get("study_attrs", {})  # recorded trial ids: the Reenactor translates them
        mine = self._replay.study_attrs()
        differing = sorted(k for k in saved if mine.get(k) != saved[k])
        self._replay.set_study_attrs(saved)
        if not differing:
            return note
        text = (
            f"crash recovery rewrote study attributes {', '.join(differing)} with values that differ from the "
            "replayed history"
        )
        self._reasons.append(f"segment {seg['index']}: {text}")
        return f"{note}; {text}" if note else text

    @staticmethod
    def _why_restored(seg: dict) -> str:
        if seg.get("resumed_by") == "recovery":
            rec = seg.get("recovery") or {}
            handling = rec.get("handling")
            if handling == "abandoned":
                return f"crash recovery abandoned trial {rec.get('zombie')}"
            return "crash recovery"
        if seg.get("accepted"):
            return "accepted " + ", ".join(sorted(seg["accepted"]))
        if version_change_of(seg):
            return "package versions changed (" + describe_differences(version_change_of(seg) or {}) + ")"
        return "trials added by another process"

    def _equivalence_of(self, seg: dict) -> None:
        i = seg["index"]
        # A version change is no reason by itself: the replay under the new versions checks it
        # (_check_version_change), and only a real divergence makes the run replayable only.
        changes = {k: v for k, v in (seg.get("accepted") or {}).items() if k != "versions"}
        if changes:
            parts = []
            if "objective_changed" in changes:
                parts.append("a changed objective file")
            if "objective_moved" in changes:
                parts.append("a moved objective file")
            self._reasons.append(f"segment {i} was resumed after accepting {', '.join(parts) or 'changes'}")
        foreign = seg.get("foreign_before") or []
        if foreign:
            self._reasons.append(f"trials {_span(foreign)} were written by another process before segment {i}")
        if seg.get("pipeline_flush"):
            self._reasons.append(
                f"segment {i}: the pipeline was flushed at trial {seg['start_trial']} (an "
                "uninterrupted pipelined run asks the next batch before telling the current one)"
            )
        rec = seg.get("recovery")
        if seg.get("resumed_by") == "recovery" and rec is not None and not rec.get("equivalent", False):
            self._reasons.append(f"segment {i}: crash recovery could not hide the crash: {rec.get('reason')}")

    # --- divergence causes -------------------------------------------------------------------------------------
    def _diverge(
        self,
        divergence: Divergence,
        cause: str | None,
        batch: Sequence[FrozenTrial] = (),
        trial: FrozenTrial | None = None,
    ) -> None:
        self._divergence = divergence
        self.version_skip = self._version_excuse(divergence, cause)
        causes = [cause] if cause else []
        causes.extend(self._likely_causes(divergence.trial))
        if trial is not None and not causes:
            edited = self._distribution_edit_before(divergence, batch)
            if edited is not None:
                causes.append(edited)
            else:
                causes.extend(self._record_edit_causes(divergence, trial, batch))
        self._cause = "; ".join(dict.fromkeys(causes)) or None

    def _budget_spent(self, number: int) -> bool:
        """True (and version_skip set) when the replay is still before a version change after its time budget: the
        history up to the change is then taken as given, and the change stays unchecked."""
        if self._budget is None or self._untold or time.monotonic() - self._created <= self._budget:
            return False
        stop = next((b for b in self._change_boundaries if b > number), None)
        if stop is None or any(skip.stop >= stop for skip in self.version_skips):
            return False  # no change ahead, or its history is already taken as given
        segment = [s for s in self._boundaries[stop].segments if version_change_of(s)][-1]
        changes = describe_differences(version_change_of(segment) or {})
        why = f"the replay had not reached it after {self._budget:g} s"
        self.version_skip = VersionSkip(0, stop, segment["index"], changes, why, "unchecked")
        return True

    def _version_excuse(self, divergence: Divergence, cause: str | None) -> VersionSkip | None:
        """A divergence in trials recorded under other versions of a package the sampler uses, when the run went on
        under new versions from a saved state (a later segment records the change): the new versions compute
        differently, which makes the run replayable only, not diverged. None otherwise."""
        number = divergence.trial
        if not self.meta.present or self.role(number) != "claimed":
            return None
        diffs = self._version_diffs(number)
        if not diffs:
            return None
        for b in sorted(self._boundaries):
            if b <= number or b not in self.meta.states:
                continue
            changed = [s for s in self._boundaries[b].segments if version_change_of(s)]
            if changed:
                owner = self._owner(number) or {}
                # A fleet's batches span their segment: the whole segment is taken as given.
                start = owner.get("start_trial", number) if self._fleet is not None else number
                found = divergence.describe() if divergence.param is not None else (cause or divergence.describe())
                return VersionSkip(start, b, changed[-1]["index"], describe_differences(diffs), found)
        return None

    def _record_edit_causes(self, divergence: Divergence, trial: FrozenTrial, batch) -> list[str]:
        """Clues that the record itself was edited: reordered trials, a value moved by a few ulps, one value
        changed while the trial's other suggestions reproduce."""
        name, number = divergence.param, divergence.trial
        if name is None:  # no suggestion differed: nothing in the trial's values to read clues from
            return []
        dist = trial.distributions[name]
        try:
            replayed_bits = float_bits(dist.to_internal_repr(divergence.replayed))
            recorded_bits = float_bits(dist.to_internal_repr(divergence.recorded))
        except (TypeError, ValueError):
            return []
        replayed = _fingerprint(self._replay.replayed_trial(trial))
        for other in batch:
            # Reordering moves whole trials: only a trial matching every replayed suggestion is evidence of it (one
            # categorical or integer value matches some other trial by chance).
            if other.number != number and _fingerprint(other) == replayed:
                return [
                    f"the replay produced at trial {number} what the record holds for trial {other.number}: "
                    "trials were reordered or renumbered"
                ]
        previous = [t for t in batch if t.number == number - 1]
        if (
            previous
            and previous[0].datetime_start
            and trial.datetime_start
            and trial.datetime_start < previous[0].datetime_start
        ):
            return [f"trial {number} started before trial {number - 1}: trials were reordered or renumbered"]
        if isinstance(dist, (FloatDistribution,)) and (replayed_bits >= 0) == (recorded_bits >= 0):
            ulps = abs(replayed_bits - recorded_bits)
            if ulps <= 16:
                return [
                    f"recorded and replayed values differ by {ulps} ulp{'s' if ulps > 1 else ''}: the recorded "
                    "value was edited, or a numeric library computes differently here"
                ]
        others = [entry for entry in _fingerprint(trial) if entry[0] != name]
        if others and others == [entry for entry in replayed if entry[0] != name]:
            return [
                f"only {name!r} differs at trial {number}: its other {len(others)} suggestion"
                f"{'s' if len(others) > 1 else ''} reproduce, so the recorded value of {name!r} was edited"
            ]
        if self.meta.present:
            return [
                f"trial {number} is not what the sampler produces from the recorded history: the record was "
                "edited or the trial was written by another process"
            ]
        return []

    def _distribution_edit_before(self, divergence: Divergence, batch: Sequence[FrozenTrial]) -> str | None:
        """A parameter whose recorded distribution differs at one earlier trial from the trials on both sides of
        it: the sampler still reproduces that trial (its value fits either distribution), but the changed search
        space moves the next suggestions. The divergence is moved to the edited trial, where the record changed."""
        by_number = {t.number: t for t in batch}
        for trial in sorted(batch, key=lambda t: t.number):
            number = trial.number
            if number >= divergence.trial or self.role(number) == "history":
                continue
            before, after = by_number.get(number - 1), by_number.get(number + 1)
            if before is None or after is None:
                continue
            for name, dist in trial.distributions.items():
                neighbour = before.distributions.get(name)
                if neighbour is not None and neighbour == after.distributions.get(name) and neighbour != dist:
                    self._divergence = Divergence(number, name)
                    self._uncount_from(number, batch)
                    return (
                        f"the distribution of {name!r} recorded at trial {number}, {dist}, differs from the one at "
                        f"trials {number - 1} and {number + 1}, {neighbour}: the record was edited at trial "
                        f"{number} (the sampler first suggested differently at trial {divergence.trial}, "
                        f"parameter {divergence.param!r})"
                    )
        return None

    def _uncount_from(self, number: int, batch: Sequence[FrozenTrial]) -> None:
        """Trials from `number` on are no longer vouched for: take them out of the checked count."""
        first, last = self._first_checked, self._last_checked
        if first is None or last is None:
            return
        counted = [
            t.number
            for t in batch
            if t.state.is_finished() and self.role(t.number) != "history" and first <= t.number <= last
        ]
        self._n_checked -= sum(1 for n in counted if n >= number)
        kept = [n for n in counted if n < number]
        self._last_checked = max(kept) if kept else number - 1
        if self._n_checked <= 0:
            self._n_checked, self._first_checked, self._last_checked = 0, None, None

    def _gap_cause(self, trial: FrozenTrial, batch, index) -> str:
        if trial.number > self._next:
            missing = trial.number - self._next
            return (
                f"trial {self._next} is missing from the record ({missing} trial number"
                f"{'s' if missing > 1 else ''} skipped): trials were deleted or edited"
            )
        return f"trial number {trial.number} appears twice in the record: trials were edited"

    def _likely_causes(self, number: int) -> list[str]:
        causes = []
        owner = self._owner(number)
        if self.meta.present and self.role(number) == "outside" and owner is not None:
            causes.append(
                f"trial {number} was written by another process: it lies outside every optgui run segment "
                f"(segment {owner['index']} ended at trial {owner['end']['last_trial']})"
            )
        overlap = self._first_overlap()
        if overlap is not None:
            a, b = overlap
            if self.meta.present:
                causes.append(
                    f"trials {a} and {b} ran at the same time: another process or n_jobs>1 wrote to the "
                    "study during the run"
                )
            else:
                causes.append(
                    f"trials {a} and {b} ran at the same time: the study was run with n_jobs>1 (or by "
                    "several processes), which reseeds the sampler from OS entropy on every trial"
                )
        if self._start_state_mismatch is not None:
            causes.append(
                f"seed or spec changed: the sampler built from the recorded spec {self._replayed_spec.to_text()} does "
                f"not start in the state the run saved at trial {self._start_state_mismatch}"
            )
        for b in self._unexplained:
            if b <= number:
                causes.append(f"the sampler state saved at trial {b} does not match the replayed history")
        diffs = self._version_diffs(number)
        if diffs:
            causes.append(
                "package versions differ from those recorded: "
                + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in diffs.items())
            )
        if not self.meta.present and not causes:
            if number == 0:
                causes.append(
                    f"the study was not made by {self._replayed_spec.to_text()}: its sampler, seed or arguments differ"
                )
            else:
                causes.append(
                    f"the sampler, seed or arguments differ from {self._replayed_spec.to_text()}, or the study was "
                    f"resumed at trial {number} with a fresh sampler (plain Optuna does not save sampler "
                    "state)"
                )
        return causes

    def _first_overlap(self) -> tuple[int, int] | None:
        """The first two trials whose start–complete intervals overlap (concurrent trials), by start time."""
        latest_end: datetime | None = None  # the latest end so far, and the trial that ended then
        latest_number = -1
        timed = sorted((start, number, end) for number, (start, end) in self._intervals.items() if start is not None)
        for start, number, end in timed:
            if latest_end is not None and start < latest_end:
                return (min(latest_number, number), max(latest_number, number))
            if end is not None and (latest_end is None or end > latest_end):
                latest_end, latest_number = end, number
        return None

    def _version_diffs(self, number: int) -> dict:
        if not self.meta.present:
            return {}
        owner = self._owner(number)
        recorded = (owner or {}).get("versions") or (self.meta.run or {}).get("versions") or {}
        return version_differences(recorded, current_versions(), self._used_packages)

    def _recorded_versions_text(self, seg: dict) -> str:
        versions = seg.get("versions") or (self.meta.run or {}).get("versions") or {}
        return ", ".join(f"{k} {v}" for k, v in versions.items() if k in ("optuna", "numpy", "scipy", "torch"))

    # --- resuming in a later session ---------------------------------------------------------------------------
    def checkpoint(self) -> dict | None:
        """Everything needed to continue this replay later without re-enacting the verified prefix, as JSON.

        A verified prefix's replayed trials equal the recorded ones, so a later session rebuilds the replay's
        in-memory study by copying the recorded prefix and restores the sampler state captured here.
        """
        if self.done or self._reenactor is None:
            return None
        self._note_pickle_mismatches()
        return {
            # next: every trial below it is told; asked_below: the batched replay also asked the trials between
            # (`untold`, with their suggested params, which a later session restores as RUNNING).
            "next": self.next_number,
            "asked_below": self._next,
            "untold": {str(t.number): _param_fingerprint(t) for t in self._untold},
            "asked_unfinished": sorted(self._asked_unfinished),
            "n_checked": self._n_checked,
            "first_checked": self._first_checked,
            "last_checked": self._last_checked,
            "n_history": self._n_history,
            "reasons": list(self._reasons),
            "notes": list(self._notes),
            "start_state_mismatch": self._start_state_mismatch,
            "unexplained": list(self._unexplained),
            "outside_seen": list(self._outside_seen),
            "segments": {str(k): list(v.__dict__.values()) for k, v in self._segment_summaries.items()},
            "intervals": {str(n): [_iso(a), _iso(b)] for n, (a, b) in self._intervals.items() if n < self._next},
            "sampler_state": self._reenactor.capture(),
            "study_attrs": self._reenactor.study_attrs(),
            "n_unchecked": self._n_unchecked,
            "version_skips": [list(skip.__dict__.values()) for skip in self.version_skips],
            "version_checks": {str(k): list(v.__dict__.values()) for k, v in self._version_checks.items()},
        }

    def resume(self, checkpoint: dict, prefix: Sequence[FrozenTrial]) -> None:
        """Continue from `checkpoint()` of an earlier session; `prefix` are the recorded trials below its "next"
        (the caller has checked that they are unchanged)."""
        if self.done:
            return
        n = checkpoint["next"]
        asked_below = checkpoint.get("asked_below", n)
        prefix = sorted((t for t in prefix if t.number < asked_below), key=lambda t: t.number)
        if [t.number for t in prefix] != list(range(asked_below)):
            raise ValueError("resume needs every recorded trial below the checkpoint")
        untold = prefix[n:]
        expected = checkpoint.get("untold", {})
        if sorted(expected) != sorted(str(t.number) for t in untold) or any(
            _param_fingerprint(t) != expected[str(t.number)] for t in untold
        ):
            raise ValueError("trials asked before the checkpoint differ from the record now")
        replay = self._replay
        replay.add_history(prefix[:n])
        for trial in untold:
            replay.add_running(trial)
        self._untold = untold
        replay.set_study_attrs(checkpoint["study_attrs"])
        replay.restore(checkpoint["sampler_state"])
        self._next = asked_below
        self._highest = asked_below - 1
        self._n_checked = checkpoint["n_checked"]
        # Checkpoints written before this key existed lack it: their unfinished asked trials stay uncounted.
        self._asked_unfinished = set(checkpoint.get("asked_unfinished", ()))
        self._first_checked = checkpoint["first_checked"]
        self._last_checked = checkpoint["last_checked"]
        self._n_history = checkpoint["n_history"]
        self._reasons = list(checkpoint["reasons"])
        self._notes = list(checkpoint["notes"])
        self._start_state_mismatch = checkpoint["start_state_mismatch"]
        self._unexplained = list(checkpoint["unexplained"])
        self._outside_seen = list(checkpoint["outside_seen"])
        self._segment_summaries = {int(k): SegmentSummary(*v) for k, v in checkpoint["segments"].items()}
        self._intervals = {int(k): (_from_iso(a), _from_iso(b)) for k, (a, b) in checkpoint["intervals"].items()}
        self._n_unchecked = checkpoint.get("n_unchecked", 0)
        self.version_skips = tuple(VersionSkip(*v) for v in checkpoint.get("version_skips", ()))
        self._version_checks = {int(k): VersionCheck(*v) for k, v in checkpoint.get("version_checks", {}).items()}

    def _note_pickle_mismatches(self) -> None:
        """Copied trials that store a CMA-ES optimizer pickle the sampler would not have stored there (the replay never
        loads a recorded pickle, so it does not change the verdict, but the user should know)."""
        if self._reenactor is None or not self._reenactor.pickle_mismatches:
            return
        numbers = sorted(self._reenactor.pickle_mismatches)
        self._reenactor.pickle_mismatches.clear()
        which = f"trial {numbers[0]} stores" if len(numbers) == 1 else f"trials {_span(numbers)} store"
        self._notes.append(
            f"{which} a CMA-ES optimizer (a pickle) where the sampler, given the trials before, stores none; "
            "it was not loaded (a replay never loads a pickle from the study)"
        )

    # --- result ------------------------------------------------------------------------------------------------
    def _all_version_checks(self) -> tuple[VersionCheck, ...]:
        """The checks made, plus the version changes the replay has not reached (yet): unchecked."""
        checks = dict(self._version_checks)
        for seg in self._segments if self.meta.present else ():
            change = version_change_of(seg)
            if change and seg["index"] not in checks:
                checks[seg["index"]] = VersionCheck(
                    seg["index"], seg["start_trial"], describe_differences(change), "unchecked"
                )
        return tuple(checks[i] for i in sorted(checks))

    def verdict(self) -> Verdict:
        self._note_pickle_mismatches()
        if not self.done and self._reenactor is not None:
            self._check_segment_ends(self._highest)
        versions: dict[str, dict[str, Any] | None] = {"current": current_versions()}
        if self.meta.present:
            versions["recorded"] = (self.meta.last_segment or {}).get("versions") or (self.meta.run or {}).get(
                "versions"
            )
        # What every verdict says; the kind and what it found are filled in below.
        common = Verdict(
            UNVERIFIABLE,
            study=self.study_name,
            sampler=self.spec.to_text() if self.spec else None,
            versions=versions,
            spec_source=self.spec_source,
            history=self._n_history,
            segments=tuple(self._segment_summaries[i] for i in sorted(self._segment_summaries)),
            version_checks=self._all_version_checks(),
        )
        if self.not_reproducible is not None:
            return replace(common, kind=NOT_REPRODUCIBLE, reason=self.not_reproducible)
        if self.unverifiable is not None:
            return replace(common, reason=self.unverifiable)
        total = max(self._known_total, self._n_checked)
        notes = list(self._notes)
        reasons = list(dict.fromkeys(self._reasons))
        if self._outside_seen:
            reasons.append(
                f"trials {_span(self._outside_seen)} lie outside every optgui run segment (written by another process)"
            )
        # A study without metadata replays from one freshly built sampler with no state restored anywhere: if it
        # reproduces, it is exactly what one uninterrupted run of that spec produces.
        if self._start_state_mismatch is not None and self._divergence is None:
            reasons.append(
                f"the sampler built from the spec does not start in the state saved at trial "
                f"{self._start_state_mismatch}"
            )
        if self._divergence is not None:
            return replace(
                common,
                kind=DIVERGED,
                n_checked=self._n_checked,
                n_total=total,
                first_trial=self._first_checked,
                last_trial=self._last_checked,
                divergence=self._divergence,
                cause=self._cause,
                reasons=tuple(reasons),
                pending=self._pending,
                notes=tuple(notes),
            )
        return replace(
            common,
            kind=VERIFIED,
            n_checked=self._n_checked,
            n_total=total,
            first_trial=self._first_checked,
            last_trial=self._last_checked,
            equivalent=not reasons,
            reasons=tuple(reasons),
            pending=self._pending,
            notes=tuple(notes),
        )


def _fingerprint(trial: FrozenTrial) -> list:
    """A trial's suggestions as (name, distribution, bit pattern), in suggest order, for exact comparison."""
    return [
        (name, dist, float_bits(dist.to_internal_repr(trial.params[name])))
        for name, dist in trial.distributions.items()
    ]


def _param_fingerprint(trial: FrozenTrial) -> list:
    """A trial's suggestions exactly (names, distributions, bit patterns), to recognise it in a later session."""
    from optuna.distributions import distribution_to_json

    return [
        [name, distribution_to_json(dist), float_bits(dist.to_internal_repr(trial.params[name]))]
        for name, dist in trial.distributions.items()
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _span(numbers: Sequence[int]) -> str:
    numbers = sorted(numbers)
    if not numbers:
        return ""
    if numbers[-1] - numbers[0] + 1 == len(numbers) and len(numbers) > 1:
        return f"{numbers[0]}–{numbers[-1]}"
    return ", ".join(str(n) for n in numbers)


def replay_past_version_changes(
    make_verifier: Callable[[Sequence[VersionSkip]], Verifier],
    trials: Sequence[FrozenTrial],
    verifier: Verifier | None = None,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Verifier:
    """Replay `trials`; when the replay diverges in trials recorded under other package versions and the run went
    on under new ones (`Verifier.version_skip`), replay again taking those trials as given, so that what the run
    did under the new versions is still checked (the verdict is then replayable only, not diverged)."""
    verifier = verifier if verifier is not None else make_verifier(())
    if not verifier.done:
        verifier.extend(trials, progress=progress, cancel=cancel)
    while verifier.version_skip is not None:
        verifier = make_verifier((*verifier.version_skips, verifier.version_skip))
        if not verifier.done:
            verifier.extend(trials, progress=progress, cancel=cancel)
    return verifier


def verify_snapshot(
    snapshot,
    *,
    spec: Spec | str | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    version_check_budget: float | None = VERSION_CHECK_SECONDS,
) -> Verdict:
    """Verify a study already read (optgui.core.storage._study_read.StudySnapshot) from scratch."""

    def make_verifier(skips: Sequence[VersionSkip]) -> Verifier:
        return Verifier(
            study_name=snapshot.name,
            directions=snapshot.directions,
            system_attrs=snapshot.system_attrs,
            spec=spec,
            version_skips=skips,
            version_check_budget=version_check_budget,
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verifier = replay_past_version_changes(make_verifier, snapshot.trials, progress=progress, cancel=cancel)
    return verifier.verdict()


def verify_study(
    storage_text: str,
    study_name: str | None = None,
    spec: Spec | str | None = None,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    use_cache: bool = True,
    on_study: Callable[[str], None] | None = None,
    version_check_budget: float | None = VERSION_CHECK_SECONDS,
) -> Verdict:
    """Read the study (never writing to its storage) and verify it, using and filling the verdict cache.

    study_name None: the storage's only study. on_study(name) is called once the study is read."""

    snapshot = read_study(storage_text, study_name)
    if on_study is not None:
        on_study(snapshot.name)
    if not use_cache:
        return verify_snapshot(
            snapshot, spec=spec, progress=progress, cancel=cancel, version_check_budget=version_check_budget
        )
    return verify_with_cache(
        snapshot, spec=spec, progress=progress, cancel=cancel, version_check_budget=version_check_budget
    )


def _contiguous(trials: Iterable[FrozenTrial]) -> bool:
    return all(t.number == i for i, t in enumerate(trials))


def verify_with_cache(
    snapshot,
    *,
    spec=None,
    progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    version_check_budget: float | None = None,
) -> Verdict:
    import warnings
    from dataclasses import replace

    chain = TrialChain(snapshot.trials)
    key = verdict_key(snapshot, chain, spec)
    cached = load_verdict(key)
    if cached is not None:
        if progress is not None:
            progress(Progress(cached.n_checked, cached.n_total, cached.first_trial, cached.last_trial))
        return replace(cached, cached=True)

    def make_verifier(skips=()):
        return Verifier(
            study_name=snapshot.name,
            directions=snapshot.directions,
            system_attrs=snapshot.system_attrs,
            spec=spec,
            version_skips=skips,
            version_check_budget=version_check_budget,
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verifier = make_verifier()
        rid = resume_id(snapshot, spec)
        if not verifier.done and _contiguous(snapshot.trials):
            checkpoint = load_resume(rid, snapshot, chain)
            if checkpoint is not None:
                try:
                    verifier.resume(checkpoint, snapshot.trials[: checkpoint.get("asked_below", checkpoint["next"])])
                except ValueError:  # the record moved under a batched replay's asked trials: start afresh
                    verifier = make_verifier()
        verifier = replay_past_version_changes(
            make_verifier, snapshot.trials, verifier, progress=progress, cancel=cancel
        )
    verdict = verifier.verdict()
    checkpoint = verifier.checkpoint()
    if checkpoint is not None and checkpoint["next"] > 0 and _contiguous(snapshot.trials[: checkpoint["next"]]):
        store_resume(rid, snapshot, chain, checkpoint)
    store_verdict(key, verdict)
    return verdict
