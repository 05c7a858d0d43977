"""A headless worker of a fleet (`optgui worker STORAGE --study NAME`): runs the study's recorded objective.

* Deterministic mode: the worker never samples. It claims a released RUNNING trial (`optgui:claim:<attempt>`,
  insert-once), runs the objective's evaluation on it (suggests return the coordinator's values,
  optgui.core.engine._split_objective), and posts `optgui:result`; the coordinator tells. A claimed trial whose worker
  died is claimed again by another worker under the next attempt: its parameters are fixed, so the outcome is unchanged.
* Free-running mode (classic Optuna): the worker has its own sampler seeded `seed + index` (index = its never
  reused worker slot, recorded in `optgui:worker:<index>`), asks, evaluates and tells by itself. A RUNNING trial
  of a dead worker is told FAIL and tagged `optgui:abandoned` by another worker. The outcome depends on timing:
  such a run is replayable only in its recorded order, not reproducible.

Both poll `optgui:control` between trials (and every ~0.5 s while idle): pause finishes the trial in flight and
waits (in deterministic mode the trials the coordinator already released are drained first), stop exits.
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.samplers import BaseSampler
from optuna.trial import TrialState

from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine import (
    TRIAL_PICKLE_SIGNATURE,
    ForeignPicklesError,
    PickleRecorder,
    RunStateChanged,
    TrialFinished,
    TrialStarted,
    check_against_record,
    current_versions,
    describe_differences,
    fix_suggests,
    foreign_pickle_trials,
    load_objective,
    parse_spec,
    signature,
    signing_key,
    spec_uses_cmaes,
    used_packages,
    version_differences,
)
from optgui.core.errors import OptguiError, StudyStateError
from optgui.core.fleet import _store as fl
from optgui.core.storage import open_for_run, parse_storage

# A deterministic-mode worker polls one small query (the fleet record and the command) every POLL_SECONDS and looks
# for trials to claim (three queries) only when the coordinator released more, after its own evaluation, or every
# SCAN_SECONDS (a dead worker's trial to take over). With nothing new for BACKOFF_AFTER_SECONDS (a slow sampler,
# a long pause) it polls every IDLE_POLL_SECONDS instead: polling only takes CPU the evaluations need.
POLL_SECONDS = 0.02
SCAN_SECONDS = 1.0
BACKOFF_AFTER_SECONDS = 5.0
IDLE_POLL_SECONDS = 0.5
FINAL_FLEET_STATES = ("stopped", "completed", "failed")


class _NoSampling(BaseSampler):
    """A deterministic-mode worker's sampler: every parameter was fixed by the coordinator."""

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        raise OptguiError(f"a deterministic-mode worker cannot sample {param_name!r}")


@dataclass
class WorkerOutcome:
    reason: str  # "stopped" | "completed" | "interrupted"
    index: int
    n_evaluated: int


class FleetWorker:
    def __init__(
        self,
        storage: str,
        study_name: str,
        listener: Callable[[object], None] | None = None,
        *,
        objective: Callable | None = None,
        accept_objective_change: bool = False,
        accept_version_change: bool = False,
        trust_pickles: bool = False,
        fleet_session: str | None = None,
    ):
        self.storage_text = storage
        self._fleet_session = fleet_session  # the fleet this worker was started for, when its starter said
        self._trust_pickles = trust_pickles
        self._pickle_key: bytes | None = None
        self._pickle_recorder: PickleRecorder | None = None
        self.study_name = study_name
        self._listener = listener
        self._objective_override = objective
        self._accept_objective_change = accept_objective_change
        # No longer needed (kept for old scripts): a changed version is recorded, not refused (_check_versions).
        self._accept_version_change = accept_version_change
        self.version_change: dict[str, list] | None = None  # {package: [recorded, now]} of a package the run uses
        self.notes: list[str] = []  # what the worker wants the user to know (a version change)
        self._local_stop = False
        self.n_evaluated = 0
        self._registration: fl.WorkerRegistration | None = None  # made by prepare()

    def _emit(self, event) -> None:
        if self._listener is not None:
            self._listener(event)

    def request_stop(self) -> None:
        """Finish the trial in flight, then exit (Ctrl-C / SIGTERM)."""
        self._local_stop = True

    # --- preparation ----------------------------------------------------------------------------------------
    def prepare(self) -> None:
        ref = parse_storage(self.storage_text)
        self._ref = ref
        storage, _ = open_for_run(ref, create=False)
        self._storage = storage
        try:
            self._study_id = storage.get_study_id_from_name(self.study_name)
        except KeyError:
            raise StudyStateError(
                f"no study {self.study_name!r} in {ref.display}; start it with optgui run "
                "--workers N (or --mode free) first"
            ) from None
        meta = records.read_metadata(storage, self._study_id)
        run = meta.run or {}
        fleet_record = run.get("fleet")
        if fleet_record is None:
            raise StudyStateError(
                f"study {self.study_name!r} is not a parallel run (start it with optgui run "
                "--workers N --mode deterministic|free)"
            )
        self.mode = fleet_record["mode"]
        self._run_record = run
        self._store = fl.fleet_store(storage, self._study_id, ref)
        objective, _change = check_against_record(None, run["objective"], accept_change=self._accept_objective_change)
        fn = self._objective_override or load_objective(objective)
        self._evaluate = getattr(fn, "evaluate", fn)  # a two-function objective's evaluation part
        self._objective_fn = fn
        self._pruner = parse_spec(run["pruner"], "pruner")
        self._sampler_spec = parse_spec(run["sampler"], "sampler")
        self._check_versions(meta)
        if self.mode == "free":
            self._check_pickles()
        attrs = self._store.fleet_attrs()
        self._start_seq = int((attrs.get(fl.KEY_CONTROL) or {}).get("seq", 0))
        fleet = attrs.get(fl.KEY_FLEET) or {}
        # A finished fleet's session is not waited out, except the very fleet this worker was started for: a worker
        # that starts late, after its fleet finished, exits at once instead of waiting for the next one.
        finished = fleet.get("state") in FINAL_FLEET_STATES and fleet.get("session") != self._fleet_session
        self._initial_session = fleet.get("session") if finished else None
        extra: dict[str, Any] = {}
        registration = self._registration = fl.WorkerRegistration(self._store, mode=self.mode)
        if self.mode == "free":
            seed = run.get("seed")
            extra["seed"] = None if seed is None else int(seed) + registration.index
        if self.version_change is not None:
            extra["version_change"] = self.version_change
        if extra:
            registration.update(**extra)
        self._worker_seed = extra.get("seed")
        registration.start_heartbeat()

    def _check_versions(self, meta: records.StudyMetadata) -> None:
        """The runner's policy: a changed version of a package the run's sampler or pruner uses does not stop the
        worker; it is recorded in the worker's record and said in a note. Packages they never import (scipy next
        to TPE, say) are no change. A deterministic-mode worker never samples (the coordinator asked every
        parameter), so the sampler's numbers cannot change here; a free-running worker samples, but its trials are
        not replayed by the verifier (free mode is never reproducible)."""
        recorded = (meta.last_segment or {}).get("versions") or (meta.run or {}).get("versions") or {}
        diffs = version_differences(recorded, current_versions(), used_packages(self._sampler_spec, self._pruner))
        if not diffs:
            return
        self.version_change = {name: list(pair) for name, pair in diffs.items()}
        why = (
            "the worker evaluates anyway: it does not sample (the coordinator does)"
            if self.mode == "deterministic"
            else "the worker samples with them (recorded in its record)"
        )
        self.notes.append(f"version change: {describe_differences(diffs)} since the run's last segment; {why}")

    def _check_pickles(self) -> None:
        """A free worker samples, so its CmaEsSampler loads the optimizer pickles in the study: only signed ones
        (or ones the user trusted) unless this worker was told to trust the file. Pickles that other workers of
        the running fleet store later are loaded as they come: the fleet's workers are the user's own processes."""
        if not spec_uses_cmaes(self._sampler_spec):
            return
        self._pickle_key = signing_key()
        foreign = foreign_pickle_trials(
            self._storage.get_all_trials(self._study_id, deepcopy=False),
            self._storage.get_study_system_attrs(self._study_id),
            self._pickle_key,
        )
        if foreign and not self._trust_pickles:
            raise ForeignPicklesError(foreign, self.study_name)

    def _sign_pickles(self, trial_id: int) -> None:
        if self._pickle_recorder is None or self._pickle_key is None:
            return
        attrs = self._pickle_recorder.take(trial_id)
        if attrs:
            self._store.set_trial_attr(trial_id, TRIAL_PICKLE_SIGNATURE, signature(attrs, self._pickle_key))

    @property
    def registration(self) -> fl.WorkerRegistration:
        """This worker's record in the fleet (optgui:worker:<index>), made by prepare()."""
        if self._registration is None:
            raise StudyStateError("the worker is not registered yet: prepare() registers it")
        return self._registration

    @property
    def index(self) -> int:
        return self.registration.index

    # --- loop -----------------------------------------------------------------------------------------------
    def run(self) -> WorkerOutcome:
        if self._registration is None:
            self.prepare()
        state = "failed"
        try:
            reason = self._run_deterministic() if self.mode == "deterministic" else self._run_free()
            state = "exited"
            return WorkerOutcome(reason, self.index, self.n_evaluated)
        except KeyboardInterrupt:
            state = "exited"
            raise
        finally:
            try:
                self.registration.close(state)
            except Exception:  # noqa: BLE001 - the storage may be gone; the stale heartbeat then tells
                pass

    def _set_state(self, state: str, message: str = "") -> None:
        if self.registration.record.state != state:
            self.registration.update(state=state)
            self._emit(RunStateChanged(records.RunState(state), message))

    def _control(self, attrs: dict) -> str:
        control = attrs.get(fl.KEY_CONTROL) or {}
        command = fl.effective_command(control)
        if command == "stop" and int(control.get("seq", 0)) <= self._start_seq:
            return "run"  # a stop from before this worker started (e.g. the previous session's)
        return command

    def _fleet_over(self, attrs: dict) -> bool:
        fleet = attrs.get(fl.KEY_FLEET) or {}
        return fleet.get("state") in FINAL_FLEET_STATES and fleet.get("session") != self._initial_session

    def _run_deterministic(self) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = optuna.load_study(
                study_name=self.study_name, storage=self._storage, sampler=_NoSampling(), pruner=self._pruner.build()
            )
        self._set_state("running")
        seen = None  # (session, released_below) at the last scan
        last_scan = last_news = time.monotonic()
        scan = True
        while True:
            if self._local_stop:
                return "stopped"
            attrs = self._store.fleet_state()
            command = self._control(attrs)
            fleet = attrs.get(fl.KEY_FLEET) or {}
            released_below = int(fleet.get("released_below", 0))
            now = time.monotonic()
            released = (fleet.get("session"), released_below)
            if scan or released != seen or now - last_scan >= SCAN_SECONDS:
                if released != seen:
                    last_news = now
                claimed = self._claim_next(released_below)
                seen, last_scan, scan = released, now, False
                if claimed is not None:
                    self._evaluate_claimed(study, *claimed)
                    scan = True  # more of the batch may be unclaimed
                    last_news = time.monotonic()
                    continue
            if self._fleet_over(attrs):
                return "completed" if (attrs.get(fl.KEY_FLEET) or {}).get("state") == "completed" else "stopped"
            if command == "pause":
                self._set_state("paused", "paused")
                time.sleep(IDLE_POLL_SECONDS)
            elif command == "stop":
                self._set_state("stopping", "stopping once the coordinator has drained")
                time.sleep(POLL_SECONDS * 5)
            else:
                self._set_state("running")  # evaluating or waiting for the next batch: one write, not two per trial
                idle = time.monotonic() - last_news > BACKOFF_AFTER_SECONDS
                time.sleep(IDLE_POLL_SECONDS if idle else POLL_SECONDS)

    def _claim_next(self, released_below: int) -> tuple[fl.RunningTrial, int] | None:
        """Claim the first released trial that has no result and no live claimer (insert-once: one worker wins)."""
        attrs = self._store.fleet_attrs()  # the worker records, to tell a live claimer from a dead one
        for trial in self._store.running_trials():
            if trial.number >= released_below or trial.result is not None or fl.live_claimer(trial, attrs) is not None:
                continue
            attempt = trial.claims[-1][0] + 1 if trial.claims else 0
            if self._store.insert_trial_attr_once(
                trial.trial_id, fl.claim_key(attempt), records.Claim.now(self.index).to_json()
            ):
                return trial, attempt
        return None

    def _evaluate_claimed(self, study, trial_ref: fl.RunningTrial, attempt: int) -> None:
        number = trial_ref.number
        self.registration.note(trial=number)  # written with the next heartbeat (no extra write per trial)
        self._emit(TrialStarted(number))
        trial = oi.trial_of_id(study, trial_ref.trial_id)
        fix_suggests(trial)
        outcome, error, duration = self._call(self._evaluate, trial)
        if error is not None:
            self._store.set_trial_attr(trial_ref.trial_id, records.TRIAL_ERROR, error.to_json())
        result = outcome.changed(worker=self.index, attempt=attempt, duration=duration)
        if attempt == 0:
            _fault_point("worker_before_result", number)
        self._store.insert_trial_attr_once(trial_ref.trial_id, fl.TRIAL_RESULT, result.to_json())
        self.n_evaluated += 1
        self.registration.note(trial=None, n_evaluated=self.n_evaluated)
        self._emit(
            TrialFinished(
                number,
                result.state,
                tuple(result.values) if result.values else None,
                tuple(trial.params.items()),
                duration,
                result.message,
                self.n_evaluated,
                None,
            )
        )

    @staticmethod
    def _call(function, trial) -> tuple[records.TrialResult, records.TrialError | None, float]:
        """Run the evaluation as Optuna's optimize would and describe its outcome as a posted result (and the
        error record of a failure)."""
        t0 = time.monotonic()
        try:
            value = function(trial)
        except optuna.TrialPruned:
            return records.TrialResult(state=records.ResultState.PRUNED, values=None), None, time.monotonic() - t0
        except Exception as exc:  # noqa: BLE001 - objective errors become FAIL trials, as optimize(catch=...)
            error = records.TrialError(type=exc.__class__.__name__, message=str(exc), traceback=traceback.format_exc())
            failed = records.TrialResult(state=records.ResultState.FAIL, values=None, message=str(exc))
            return failed, error, time.monotonic() - t0
        duration = time.monotonic() - t0
        raw = list(value) if isinstance(value, (list, tuple)) else [value]
        try:
            values = [float(v) for v in raw]
        except (TypeError, ValueError):
            message = f"the objective returned {value!r}, which cannot be cast to float"
            return (
                records.TrialResult(state=records.ResultState.FAIL, values=None, message=message),
                records.TrialError(type="InvalidValue", message=message, traceback=""),
                duration,
            )
        # COMPLETE is decided by the coordinator's tell (NaN or a wrong number of values make the trial FAIL).
        return records.TrialResult(state=records.ResultState.COMPLETE, values=values), None, duration

    # --- free-running ---------------------------------------------------------------------------------------
    def _run_free(self) -> str:
        spec = self._sampler_spec
        if self._worker_seed is not None and spec.accepts_seed():
            spec = spec.with_seed(self._worker_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = optuna.load_study(
                study_name=self.study_name, storage=self._storage, sampler=spec.build(), pruner=self._pruner.build()
            )
        oi.enter_optimize_loop(study)
        if self._pickle_key is not None:
            self._pickle_recorder = PickleRecorder(oi.study_storage(study))
        history_until = int(self._run_record.get("history_until", 0))
        self._set_state("running")
        while True:
            if self._local_stop:
                return "stopped"
            attrs = self._store.fleet_attrs()
            command = self._control(attrs)
            if command == "stop" or self._fleet_over(attrs):
                return "stopped"
            if command == "pause":
                self._set_state("paused", "paused")
                time.sleep(IDLE_POLL_SECONDS)
                continue
            self._set_state("running")
            self._abandon_dead_workers_trials(attrs)
            target = (self._storage.get_study_system_attrs(self._study_id).get(records.KEY_TARGET) or {}).get(
                "n_trials"
            )
            if target is not None:
                made = self._storage.get_n_trials(self._study_id) - history_until
                failed_abandoned = self._n_abandoned()
                if made - failed_abandoned >= target:
                    return "completed"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trial = study.ask()
            self._store.set_trial_attr(
                oi.trial_id(trial), fl.TRIAL_ASKED_BY, records.AskedBy(worker=self.index).to_json()
            )
            self._emit(TrialStarted(trial.number))
            self.registration.note(trial=trial.number)
            result, error, duration = self._call(self._objective_fn, trial)
            if error is not None:
                self._store.set_trial_attr(oi.trial_id(trial), records.TRIAL_ERROR, error.to_json())
            state = {"PRUNED": TrialState.PRUNED, "FAIL": TrialState.FAIL}.get(result.state)
            self._sign_pickles(oi.trial_id(trial))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                final_state, told, message = oi.tell(study, trial, result.values, state)
            self.n_evaluated += 1
            self.registration.note(trial=None, n_evaluated=self.n_evaluated)
            self._emit(
                TrialFinished(
                    trial.number,
                    final_state.name,
                    tuple(told) if told else None,
                    tuple(trial.params.items()),
                    duration,
                    result.message or message,
                    self.n_evaluated,
                    target,
                )
            )

    def _n_abandoned(self) -> int:
        return sum(
            1
            for t in self._storage.get_all_trials(self._study_id, deepcopy=False, states=(TrialState.FAIL,))
            if records.TRIAL_ABANDONED in t.system_attrs
        )

    def _abandon_dead_workers_trials(self, attrs: dict) -> None:
        """RUNNING trials whose asking worker died: FAIL + optgui:abandoned (the insert-once tag is the lock)."""
        for trial in self._store.running_trials():
            asked_by = (trial.attrs.get(fl.TRIAL_ASKED_BY) or {}).get("worker")
            if asked_by is None or asked_by == self.index:
                continue
            if fl.worker_is_alive(attrs.get(fl.worker_key(asked_by))):
                continue
            if self._store.insert_trial_attr_once(
                trial.trial_id,
                records.TRIAL_ABANDONED,
                records.Abandoned(reason=f"worker {asked_by} died during the trial", by_worker=self.index).to_json(),
            ):
                self._storage.set_trial_state_values(trial.trial_id, TrialState.FAIL)


def _fault_point(point: str, number: int) -> None:
    """Test-only: OPTGUI_FAULT="worker_before_result:N" SIGKILLs the first worker that evaluates trial N, before it
    posts the result, so that tests can prove a dead worker's trial is evaluated again by another."""
    import os
    import signal

    if os.environ.get("OPTGUI_FAULT") == f"{point}:{number}":
        os.kill(os.getpid(), signal.SIGKILL)
