"""Deterministic parallel mode: one coordinator samples, any number of workers evaluate, results are told in order.

The coordinator is a StudyRunner (same study creation, run record, lease, segments and saved sampler states) whose
loop, instead of evaluating, does for each batch of k trials:

  1. ask k trials one after another, running each one's suggest phase (optgui.core.engine._split_objective) right after
     its ask — every sampler call happens here, in one thread, in trial-number order;
  2. release the batch (`optgui:fleet`.released_below): workers claim its trials, evaluate them and post results
     as trial attributes (optgui.core.fleet._worker);
  3. once every result of the batch is in, tell them in trial-number order.

A worker's evaluation therefore sees exactly the trials of earlier batches finished and its own batch unfinished,
whatever the timing, which keeps pruners that compare with finished trials (Median, Percentile) deterministic.
The outcome equals this plain-Optuna loop in one thread, for any number of workers and any timing:

    while trials remain:
        batch = []
        for _ in range(min(k, remaining)):
            trial = study.ask(); search_space(trial); batch.append(trial)
        values = [evaluate(trial) for trial in batch]
        for trial, value in zip(batch, values): study.tell(trial, value)

With `pipeline`, batch b+1 is asked (step 1) while batch b is evaluated, so sampling overlaps evaluation; its
reference loop asks the next batch before evaluating and telling the current one. It is as deterministic, but a
different sequence (the sampler sees batch b still running), and a pause or stop drains the pipeline: the resumed
run equals the pipelined loop restarted at that boundary (recorded in the segment as "pipeline_flush").

Pause and stop drain: the coordinator asks no more trials, the trials already asked are evaluated and told (they
are fixed; at most one batch, two with pipelining), then nothing is RUNNING and the sampler state is saved at the
boundary, exactly like a single-process pause.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
import uuid
import warnings
from collections.abc import Callable

from optuna.trial import FrozenTrial, TrialState

from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine import _rng_state as rng_state
from optgui.core.engine._events import (
    RecoveryPerformed,
    RunFailed,
    RunStateChanged,
    TrialFinished,
    TrialStarted,
)
from optgui.core.engine._runner import RunRequest, SetByPrepare, StudyRunner, _checkpoint_seconds, _fault
from optgui.core.engine._segment_plan import ended_with_state
from optgui.core.engine._split_objective import run_suggest_phase
from optgui.core.engine._versions import versions_for
from optgui.core.errors import OptguiError, StudyStateError
from optgui.core.fleet import _store as fl
from optgui.core.fleet._recovery import CoordinatorRecovery, plan_coordinator_recovery
from optgui.core.fleet._recovery import describe as describe_coordinator_recovery
from optgui.core.records import StudyMetadata
from optgui.core.storage import open_for_run, parse_storage

# Pruners that compare a trial with other *unfinished* trials: their decisions depend on how far other workers
# have got, so no parallel evaluation can make them deterministic.
PRUNERS_READING_RUNNING_TRIALS = ("SuccessiveHalvingPruner", "HyperbandPruner")
POLL_SECONDS = 0.01  # polling for results, once they can be in (a single indexed query)
IDLE_POLL_SECONDS = 0.5


class FleetOptions:
    def __init__(self, mode: str = "deterministic", batch: int = 1, pipeline: bool = False):
        if mode not in fl.MODES:
            raise OptguiError(f"--mode must be deterministic or free, got {mode!r}")
        if batch < 1:
            raise OptguiError(f"--batch must be >= 1, got {batch}")
        self.mode, self.batch, self.pipeline = mode, int(batch), bool(pipeline)

    def to_record(self) -> dict:
        if self.mode == "free":
            return {"mode": "free"}
        return {"mode": self.mode, "batch": self.batch, "pipeline": self.pipeline}


class Coordinator(StudyRunner):
    runs_fleet = True
    _store = SetByPrepare[fl.FleetStore]()  # where the fleet's records and commands are read and written
    _fleet = SetByPrepare[records.FleetRecord]()  # this session's fleet record (optgui:fleet), from _before_loop

    def __init__(
        self,
        request: RunRequest,
        options: FleetOptions,
        listener: Callable[[object], None] | None = None,
        objective: Callable | None = None,
        explicit_options: frozenset = frozenset(),
    ):
        super().__init__(request, listener, objective)
        self.options = options
        self._explicit = explicit_options  # which of mode/batch/pipeline the user gave (others may come from record)
        self._warned_returned = False
        self.session = uuid.uuid4().hex
        self._released_at = 0.0  # when the batch being evaluated was released (monotonic)
        self._typical_duration = 0.0  # shortest evaluation of the last batch told
        self._recovered: CoordinatorRecovery | None = None  # what a dead predecessor left in flight
        self._n_asked = 0  # trials asked and not yet told

    # --- run record ---------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        ref = parse_storage(self.request.storage)
        if ref.kind == "sqlite":
            raise OptguiError(
                "parallel workers need a PostgreSQL/MySQL URL or an Optuna journal file (.log/.jsonl);"
                " SQLite cannot take concurrent writers"
            )
        super().prepare()
        self._store = fl.fleet_store(self._storage, self._study_id, self._ref)
        if self._pruner_spec.name in PRUNERS_READING_RUNNING_TRIALS:
            raise StudyStateError(
                f"{self._pruner_spec.name} compares a trial with other unfinished trials, so its "
                "decisions depend on worker timing; use MedianPruner, PercentilePruner or "
                "ThresholdPruner in deterministic mode"
            )

    def _new_run_record(self, *args, **kwargs) -> records.RunRecord:
        return dataclasses.replace(super()._new_run_record(*args, **kwargs), fleet=self.options.to_record())

    def _validate_against_record(self, meta) -> None:
        recorded = (meta.run or {}).get("fleet")
        if recorded is None:
            raise StudyStateError(
                f"study {self.request.study_name!r} was run by a single process; it cannot be "
                "continued in parallel (its reference is a sequential run)"
            )
        if recorded.get("mode") != "deterministic":
            raise StudyStateError(
                f"study {self.request.study_name!r} runs in {recorded.get('mode')} mode, not deterministic"
            )
        given = self.options.to_record()
        for key in ("batch", "pipeline"):
            if key in self._explicit and given[key] != recorded[key]:
                raise StudyStateError(f"--{key} {given[key]} differs from the study's recorded {key} {recorded[key]}")
        self.options = FleetOptions("deterministic", recorded["batch"], recorded["pipeline"])
        super()._validate_against_record(meta)

    def _setup_segment(self) -> None:
        self._store = fl.fleet_store(self._storage, self._study_id, self._ref)
        meta = records.read_metadata(self._storage, self._study_id)
        last = meta.last_segment
        self._recovered = None
        if last is not None and not ended_with_state(last):
            self._recover_dead_coordinator(meta, last)
            self._record_target(meta)  # a larger --n-trials extends the recorded target, as in super()
            return
        super()._setup_segment()
        if self.options.pipeline and not self._nothing_to_do and self._segment.index > 0:
            self._mark_pipeline_flush()

    def _mark_pipeline_flush(self) -> None:
        """The new segment restarts the pipeline at its boundary (the one before it drained)."""
        self._segment = dataclasses.replace(self._segment, pipeline_flush=True)
        self._write_segment()

    def _recover_dead_coordinator(self, meta: StudyMetadata, last: dict) -> None:
        """Continue the segment of a coordinator that died (optgui.core.fleet._recovery): plan from the study, then
        write in order — the state the schedule was re-enacted from, the zombie asked again under its number, the
        dead segment closed, the new one opened."""
        self._adopt_record(meta)
        dead_fleet = self._store.fleet_attrs().get(fl.KEY_FLEET) or {}
        plan = plan_coordinator_recovery(
            meta,
            self._storage.get_all_trials(self._study_id, deepcopy=False),
            dead_fleet,
            batch=self.options.batch,
            pipeline=self.options.pipeline,
            sampler_spec=self._sampler_spec,
            pruner_spec=self._pruner_spec,
            study_name=self.request.study_name,
            reentry_supported=self._ref.kind != "journal",
        )
        sampler = self._sampler_spec.build()
        rng_state.restore(sampler, plan.sampler_state)
        if not plan.start_state_saved:  # persist the state the schedule is re-enacted from (write-once)
            records.write_state(self._storage, self._study_id, records.SavedState.from_json(plan.start_state))
        if plan.reenter_trial_id is not None:
            # Its partial suggestions and the sampler-owned study attributes it changed are rolled back.
            self._reenter_zombie(plan.reenter_trial_id, plan.study_attrs, plan.dead_segment)
            self._store.storage = self._storage
        self._finish_dead_segment(last, plan.first_untold - 1)
        self._segment = self._recovered_segment_record(plan)
        self._write_segment()
        self._sampler = sampler
        self._reenter_trial_id = None  # the coordinator re-enters it itself, inside its batch
        self._nothing_to_do = False
        self._load_study(sampler)
        self._last_trial = plan.first_untold - 1 if plan.first_untold > plan.schedule_start else None
        info = plan.info
        self._emit(
            RecoveryPerformed(
                plan.dead_segment,
                info["zombie"],
                info["handling"],
                info["replayed_trials"],
                info["equivalent"],
                info["reason"],
            )
        )
        self.notes.append(describe_coordinator_recovery(info))
        self._recovered = plan

    def _recovered_segment_record(self, plan: CoordinatorRecovery) -> records.Segment:
        """The segment that continues a dead coordinator's schedule (it starts at the first trial not told)."""
        index = plan.dead_segment + 1
        return records.Segment.begin(
            index=index,
            start_trial=plan.first_untold,
            state_boundary=plan.replay_from,
            resumed_by=records.SegmentStart.RECOVERY,
            versions=versions_for(self._sampler_spec, self._pruner_spec),
            output_log=self._output_log(index),
            accepted=self._accepted,
            recovery=plan.info,
        )

    # --- control: through the study, so that every worker sees it ---------------------------------------------
    def request_pause(self) -> None:
        fl.send_command(self._store, "pause")
        self._emit(RunStateChanged(records.RunState.PAUSING, "pausing: the trials already asked are finished first…"))

    def request_resume(self) -> None:
        fl.send_command(self._store, "resume")

    def request_stop(self, reason: str = "stopped") -> None:
        self._stop_reason = reason
        self._stop.set()
        fl.send_command(self._store, "stop")
        self._emit(RunStateChanged(records.RunState.STOPPING, "stopping: the trials already asked are finished first…"))

    def abandon_trial(self) -> None:
        raise OptguiError("a deterministic fleet cannot abandon trials; stop it instead")

    # --- the loop -------------------------------------------------------------------------------------------
    def _fleet_record(self, **changes) -> None:
        self._fleet = self._fleet.stamped(**changes)
        self._store.set_study_attr(fl.KEY_FLEET, self._fleet.to_json())

    def _command(self) -> str:
        if self._stop.is_set():
            return "stop"
        return fl.effective_command(self._store.fleet_state().get(fl.KEY_CONTROL))

    def _before_loop(self) -> None:
        n_total = len(self._storage.get_all_trials(self._study_id, deepcopy=False))
        asked_below = released_below = n_total
        if self._recovered is not None:  # nothing in flight is released before its batch is (re)released
            info = self._recovered.info
            released_below = self._segment.start_trial
            asked_below = info["zombie"] if info["zombie"] is not None else n_total
        self._fleet = records.FleetRecord.leading(
            records.FleetMode.DETERMINISTIC,
            self.session,
            records.RunState.RUNNING,
            batch=self.options.batch,
            pipeline=self.options.pipeline,
            asked_below=asked_below,
            released_below=released_below,
        )
        if fl.effective_command(self._store.fleet_attrs().get(fl.KEY_CONTROL)) != "run":
            fl.send_command(self._store, "run")  # a new run is not held back by an old session's pause or stop
        self._fleet_record()

    def _after_loop(self, state: str) -> None:
        self._fleet_record(state=state)

    def _loop(self) -> str | None:
        """Batches: ask (the suggest phase), release to the workers, tell the results in trial-number order."""
        study = self.study
        started = time.monotonic()
        self._n_asked = 0  # trials asked and not yet told
        pending: list[list] = []  # batches asked and not yet told; pending[0] is released
        reason = None
        drain_first = False
        try:
            if self._recovered is not None:
                pending = self._continue_recovered_batches(self._recovered)
                # A predecessor that died while draining (pause/stop) asked no more: finish its drain, so that
                # the schedule breaks where it broke, then go on from a clean boundary.
                drain_first = bool(self._recovered.info.get("drained")) and bool(pending)
            while True:
                command = self._command()
                draining = command in ("pause", "stop") or reason is not None or drain_first
                if (
                    not draining
                    and self.request.timeout is not None
                    and time.monotonic() - started >= self.request.timeout
                ):
                    reason = "timeout"
                    draining = True
                room = self._room()
                if (
                    not draining
                    and room > 0
                    and not oi.stop_requested(study)
                    and (not pending or (self.options.pipeline and len(pending) == 1))
                ):
                    # A batch that is released at once is recorded asked and released in one write.
                    pending.append(self._ask_batch(min(room, self.options.batch), release=not pending))
                    continue
                if pending:
                    if draining and self._fleet.state == records.RunState.RUNNING:
                        self._fleet_record(state="pausing" if command == "pause" else "stopping")
                    self._tell_batch(self._wait_for_results(pending[0]))
                    pending.pop(0)
                    if pending:
                        self._release(pending[0])
                    elif time.monotonic() - self._last_checkpoint >= _checkpoint_seconds():
                        self._checkpoint()
                    continue
                # Nothing asked and untold: a clean boundary.
                if drain_first:
                    drain_first = False
                    self._end_segment("paused")
                    self._start_next_segment()
                    self._fleet_record(state="running")
                    continue
                if command == "stop":
                    return self._stop_reason
                if command == "pause":
                    self._end_segment("paused")
                    self._fleet_record(state="paused")
                    self._emit(RunStateChanged(records.RunState.PAUSED, f"paused after trial {self._last_trial}"))
                    if self._wait_while_paused() == "stop":
                        return None
                    self._start_next_segment()
                    self._fleet_record(state="running")
                    self._emit(RunStateChanged(records.RunState.RUNNING))
                    continue
                return reason or ("exhausted" if oi.stop_requested(study) else "completed")
        except BaseException as exc:
            try:
                self._fleet_record(state="failed")
                self._release_lease()
            finally:
                self._emit(RunFailed(f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
                self._emit(RunStateChanged(records.RunState.FAILED, f"{exc.__class__.__name__}: {exc}"))
            raise

    def _start_next_segment(self) -> None:
        super()._start_next_segment()
        if self.options.pipeline:  # the pipeline was drained at the pause: the resumed schedule restarts here
            self._mark_pipeline_flush()

    def _room(self) -> int:
        if self._target is None:
            return self.options.batch
        return self._target - self._n_finished - self._n_asked

    def _wait_while_paused(self) -> str:
        while True:
            command = self._command()
            if command != "pause":
                return command
            time.sleep(IDLE_POLL_SECONDS)

    def _continue_recovered_batches(self, recovered: CoordinatorRecovery) -> list[list]:
        """The batches the dead coordinator left in flight; a batch it was still asking is completed first (its
        last trial asked again under the same number), exactly as the dead coordinator would have."""
        pending = [list(batch) for batch in recovered.pending]
        self._n_asked = sum(len(batch) for batch in pending)
        if recovered.reenter_trial_id is not None:
            asked_before = recovered.partial_batch_size
            size = max(asked_before + 1, min(self.options.batch, self._room() + asked_before))
            self._reenter_trial_id = recovered.reenter_trial_id
            pending[-1] = self._ask_batch(size - asked_before, pending[-1], release=False)
        if pending:
            self._release(pending[0])
        return pending

    def _ask_batch(self, size: int, batch: list | None = None, *, release: bool) -> list:
        batch = list(batch or [])
        for _ in range(size):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if self._reenter_trial_id is not None:
                    trial = oi.reenter_trial(self.study, self._reenter_trial_id)
                    self._reenter_trial_id = None
                else:
                    trial = self.study.ask()
                how = run_suggest_phase(self._objective_fn, trial)
                _fault("coordinator_after_ask", trial.number)
            if how == "returned" and not self._warned_returned:
                self._warned_returned = True
                self.notes.append(
                    "the objective ran to completion in the coordinator's suggest phase (it never "
                    "used the trial after its suggests), so each trial is evaluated twice; use the "
                    "two-function form FILE.py:search_space,evaluate"
                )
                self._emit(RunStateChanged(records.RunState.RUNNING, self.notes[-1]))
            batch.append(trial)
        self._n_asked += size
        if release:
            self._release(batch, asked_below=batch[-1].number + 1)
        else:
            self._fleet_record(asked_below=batch[-1].number + 1)
        return batch

    def _release(self, batch: list, **record) -> None:
        self._fleet_record(released_below=batch[-1].number + 1, **record)
        self._released_at = time.monotonic()
        for trial in batch:
            self._emit(TrialStarted(trial.number))

    def _wait_for_results(self, batch: list) -> list[tuple]:
        """Poll for the batch's results with one small query, and only from about when they can be in: the
        evaluations of the previous batch tell how long they take, and polling earlier only takes CPU from the
        workers and the database."""
        wanted = {oi.trial_id(t): t for t in batch}
        results: dict[int, dict] = {}
        earliest = self._released_at + 0.8 * self._typical_duration
        while True:
            results.update(self._store.results([i for i in wanted if i not in results]))
            if len(results) == len(wanted):
                durations = [float(r.get("duration") or 0.0) for r in results.values()]
                self._typical_duration = min(durations) if durations else 0.0
                return [(t, results[oi.trial_id(t)]) for t in batch]
            time.sleep(max(POLL_SECONDS, earliest - time.monotonic()))

    def _tell_batch(self, items: list[tuple]) -> None:
        for trial, result in items:
            state = {"PRUNED": TrialState.PRUNED, "FAIL": TrialState.FAIL}.get(result.get("state"))
            values = result.get("values") if state is None else None
            self._sign_pickles(oi.trial_id(trial))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # A trial recovered from a dead coordinator is a FrozenTrial: told by number (an optuna.Trial
                # built for it would sample its relative parameters again).
                final_state, told, message = oi.tell(
                    self.study, trial.number if isinstance(trial, FrozenTrial) else trial, values, state
                )
            _fault("coordinator_after_tell", trial.number)
            self._n_finished += 1
            self._n_asked -= 1
            self._last_trial = trial.number
            error = result.get("message") or (message if final_state == TrialState.FAIL else None)
            self._emit(
                TrialFinished(
                    trial.number,
                    final_state.name,
                    tuple(told) if told else None,
                    tuple(trial.params.items()),
                    float(result.get("duration") or 0.0),
                    error,
                    self._n_finished,
                    self._target,
                )
            )


class FreeRunSetup(StudyRunner):
    """Free-running mode: creates (or validates) the study and its run record, then leaves asking and telling to
    the workers. Takes no run lease and writes no segments: each worker's sampler starts from its recorded seed
    (seed + worker index), and the study's history is the only record of the interleaving."""

    runs_fleet = True
    store = SetByPrepare[fl.FleetStore]()  # where the fleet's state and commands are written

    def __init__(self, request: RunRequest, explicit_options: frozenset = frozenset()):
        super().__init__(request)
        self.options = FleetOptions("free")
        self.session = uuid.uuid4().hex

    def _new_run_record(self, *args, **kwargs) -> records.RunRecord:
        return dataclasses.replace(super()._new_run_record(*args, **kwargs), fleet=self.options.to_record())

    def _validate_against_record(self, meta) -> None:
        recorded = (meta.run or {}).get("fleet")
        if recorded is None or recorded.get("mode") != "free":
            raise StudyStateError(f"study {self.request.study_name!r} is not a free-running parallel run")
        super()._validate_against_record(meta)

    def prepare(self) -> None:

        req = self.request
        ref = parse_storage(req.storage)
        if ref.kind == "sqlite":
            raise OptguiError(
                "parallel workers need a PostgreSQL/MySQL URL or an Optuna journal file (.log/.jsonl);"
                " SQLite cannot take concurrent writers"
            )
        self._ref = ref
        self._storage, self.created_storage = open_for_run(ref, create=req.create_storage)
        try:
            study_id: int | None = self._storage.get_study_id_from_name(req.study_name)
        except KeyError:
            study_id = None
        if study_id is None:
            self._create_study()
        else:
            self._study_id = study_id
            meta = records.read_metadata(self._storage, self._study_id)
            foreign_pickles = self._check_pickles(meta)  # the workers' samplers would load them
            if meta.present:
                self._validate_against_record(meta)
            else:
                self._adopt_study()
            if foreign_pickles:
                self._record_pickle_consent(foreign_pickles)  # the local workers then load them too
        self.store = fl.fleet_store(self._storage, self._study_id, ref)
        if fl.effective_command(self.store.fleet_attrs().get(fl.KEY_CONTROL)) != "run":
            fl.send_command(self.store, "run")
        self.set_state("running")
        self._prepared = True

    def set_state(self, state: str) -> None:
        record = records.FleetRecord.leading(records.FleetMode.FREE, self.session, records.RunState(state))
        self.store.set_study_attr(fl.KEY_FLEET, record.stamped().to_json())
