"""StudyRunner: the Qt-free run engine. Ask/tell loop with start, pause, resume, stop, checkpoints, crash recovery.

A run equals plain Optuna's `study.optimize(objective, n_trials=N, catch=(Exception,))` with the same sampler and
seed, however it is interrupted. The loop below mirrors Optuna's own `_run_trial` (same storage calls,
same tell semantics for exceptions, pruning, NaN and None) and adds only:

* at each segment start and end, the sampler state as JSON under `optgui:state:<boundary>`;
* a checkpoint at most every CHECKPOINT_SECONDS (one study attribute write, amortised over many trials);
* the error text of a failed trial before its tell;
* a lease with a heartbeat thread.

Control (from any thread) is through threading.Event: pause, resume and stop act at the next trial boundary (the
trial in flight completes and is recorded). `abandon_trial()` interrupts the trial in flight as a crash would; the
next resume recovers it (optgui.core.engine._recovery).

Test-only fault points (OPTGUI_FAULT="point:trial[:SIGNAL],...", e.g. "before_tell:12") SIGKILL the process (or
send it SIGINT/SIGTERM, a Ctrl-C at an exact moment, or SIGSTOP) at named places, so that tests can prove recovery
at exactly those moments: in_objective (after the trial's first suggest), before_tell, after_tell, state_save
(after a state key is written, before its segment or checkpoint record); during crash recovery, numbered by the
zombie trial: recovery_planned (nothing written yet), zombie_handled (new state saved, zombie re-entered or
abandoned), dead_segment_closed; and segment_started:<boundary> (the new segment recorded, no trial run yet).
"""

from __future__ import annotations

import binascii
import contextlib
import math
import os
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.study import StudyDirection
from optuna.trial import TrialState

from optgui import __version__
from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine import _pickle_trust as pickle_trust
from optgui.core.engine import _rng_state as rng_state
from optgui.core.engine import _trial_output as trial_output
from optgui.core.engine._bridge import BridgeObjective, parse_objective_in
from optgui.core.engine._builtin_objectives import DEFAULT_DIRECTIONS
from optgui.core.engine._events import (
    RecoveryPerformed,
    RunFailed,
    RunStarted,
    RunStateChanged,
    TrialStarted,
    trial_finished,
)
from optgui.core.engine._lease import Lease
from optgui.core.engine._objectives import ObjectiveRef, check_against_record, load_objective, parse_objective
from optgui.core.engine._python_env import (
    PythonEnvironment,
    environment_change,
    probe_environment,
    recorded_environment,
)
from optgui.core.engine._recovery import reset_zombie_rdb
from optgui.core.engine._samplers import DEFAULT_PRUNER, Spec, draw_seed, parse_spec, resolve_seed
from optgui.core.engine._segment_plan import (
    ENDED_WITH_STATE,
    SegmentPlan,
    count_finished,
    ended_with_state,
    plan_segment,
    run_target,
    specs_of,
)
from optgui.core.engine._versions import (
    current_versions,
    describe_differences,
    used_packages,
    version_differences,
    versions_for,
)
from optgui.core.errors import LeaseLostError, OptguiError, SpecError, StudyStateError
from optgui.core.records import StudyMetadata
from optgui.core.storage import StorageRef, open_for_run, parse_storage

DEFAULT_SAMPLER = "TPESampler"
T = TypeVar("T")


@dataclass
class RunRequest:
    """What the user asked for. None means "as recorded in the study" (or the default for a new study)."""

    storage: str
    study_name: str
    objective: str | None = None
    sampler: str | None = None
    pruner: str | None = None
    seed: int | None = None
    directions: list[str] | None = None
    metric_names: list[str] | None = None
    n_trials: int | None = None
    timeout: float | None = None
    create_storage: bool = True
    accept_version_change: bool = False  # no longer needed: a version change is recorded and checked, not refused
    accept_objective_change: bool = False
    trust_pickles: bool = False  # load CMA-ES optimizer pickles optgui did not write (the user trusts the file)
    # Where a module objective's imports come from, for a process whose own import path is isolated (the engine:
    # optgui.core.engine._child_process); None: found with this process's path (PYTHONPATH, current folder).
    objective_import_root: str | None = None
    # The recipe a new study is created from (optgui.core.share): recorded in its run record.
    recipe: dict | None = None
    # The interpreter the objective runs in (`--python`, through optgui's bridge); None: optgui's own, or the one
    # the study recorded (optgui.core.engine._python_env).
    python: str | None = None
    accept_environment_change: bool = False


@dataclass
class RunOutcome:
    reason: str  # completed | paused | stopped | timeout | exhausted | nothing-to-do | interrupted
    n_finished: int
    n_target: int | None
    last_trial: int | None
    notes: list[str] = field(default_factory=list)


class RunInterrupted(OptguiError):
    """The trial in flight was abandoned (second Ctrl-C / abort); the next resume recovers it."""

    exit_code = 130


class TrialAbandoned(BaseException):
    """Abandons the trial in flight as a crash would: the engine raises it from the trial's next suggest/report
    call after abandon_trial(), and an objective wrapper (e.g. one running the objective in a child process) may
    raise it itself when told to stop at once. Not an Exception, so an objective's `except Exception` never
    swallows it; the run ends with RunInterrupted and the next resume recovers the trial."""


_FAULT_SIGNALS = {"KILL": signal.SIGKILL, "INT": signal.SIGINT, "TERM": signal.SIGTERM, "STOP": signal.SIGSTOP}


def _invalid_return_error(value, n_objectives: int) -> records.TrialError | None:
    """The reason Optuna's tell will fail a trial whose objective returned `value` (None, NaN, not a number, or the
    wrong number of values), in Optuna's own words, as an optgui:error record; None for a value Optuna accepts.
    The details pane shows it: a FAIL trial without a reason looked as if optgui had not run it."""
    if value is None:
        reasons = ["The value None could not be cast to float"]
    else:
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        reasons = []
        for v in values:
            try:
                if math.isnan(float(v)):
                    reasons.append(f"The value {v} is not acceptable")
            except (ValueError, TypeError):
                reasons.append(f"The value {v!r} could not be cast to float")
        if not reasons and len(values) != n_objectives:
            reasons.append(
                f"The number of the values {len(values)} did not match the number of the objectives {n_objectives}"
            )
    if not reasons:
        return None
    message = "the objective returned an invalid value: " + "; ".join(reasons) + " (Optuna records such a trial FAIL)"
    return records.TrialError(type="InvalidValue", message=message, traceback="")


def _fault_signals(point: str, number: int | None) -> list[signal.Signals]:
    """The signals OPTGUI_FAULT asks for at this point: a comma-separated list of "point:number[:SIGNAL]"
    entries, SIGNAL one of KILL (the default), INT, TERM, STOP; an entry listed twice sends its signal twice."""
    found = []
    for entry in filter(None, os.environ.get("OPTGUI_FAULT", "").split(",")):
        name, _, rest = entry.strip().partition(":")
        at, _, sig = rest.partition(":")
        if name == point and at == str(number):
            found.append(_FAULT_SIGNALS[sig or "KILL"])
    return found


def _fault(point: str, number: int | None) -> None:
    """Test-only fault point: deliver the signals OPTGUI_FAULT names for it, one at a time. raise_signal runs the
    Python handler before returning, so two SIGINTs are two Ctrl-Cs (the second raises KeyboardInterrupt here)."""
    for sig in _fault_signals(point, number):
        signal.raise_signal(sig)


def _checkpoint_seconds() -> float:
    return float(os.environ.get("OPTGUI_CHECKPOINT_SECONDS", records.CHECKPOINT_SECONDS))


class SetByPrepare(Generic[T]):
    """An attribute of a runner that only exists once prepare() (or create()) opened the study: its storage, the
    study, the sampler, the segment… Declared on the class so that a runner has every attribute from its
    construction, typed without None; reading one before it is set is a bug in the caller and says so."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, runner: None, owner: type) -> SetByPrepare[T]: ...
    @overload
    def __get__(self, runner: object, owner: type) -> T: ...
    def __get__(self, runner: object | None, owner: type) -> T | SetByPrepare[T]:
        if runner is None:
            return self
        try:
            return runner.__dict__[self._name]
        except KeyError:
            raise AttributeError(f"{type(runner).__name__}.{self._name} is set by prepare(); call it first") from None

    def __set__(self, runner: object, value: T) -> None:
        runner.__dict__[self._name] = value


class StudyRunner:
    # A study recorded as a parallel run (run record "fleet") is continued only by its coordinator/workers.
    runs_fleet = False

    # Set once the study is opened (prepare, create) and its segment planned.
    _ref = SetByPrepare[StorageRef]()
    _storage = SetByPrepare[Any]()  # an Optuna storage opened read-write
    _study_id = SetByPrepare[int]()
    _objective_fn = SetByPrepare[Callable[..., Any]]()
    _objective_ref = SetByPrepare[ObjectiveRef]()
    _sampler_spec = SetByPrepare[Spec]()
    _pruner_spec = SetByPrepare[Spec]()
    _sampler = SetByPrepare[Any]()  # the sampler object the study samples with
    study = SetByPrepare[optuna.Study]()
    _segment = SetByPrepare[records.Segment]()  # the running segment's record

    def __init__(
        self, request: RunRequest, listener: Callable[[object], None] | None = None, objective: Callable | None = None
    ):
        self.request = request
        self._listener = listener
        self._objective_override = objective
        self._python_env: PythonEnvironment | None = None  # the objective's interpreter, when not optgui's own
        self._bridge: BridgeObjective | None = None
        self._pause = threading.Event()
        self._resume = threading.Event()
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._lease_lost: LeaseLostError | None = None
        self._stop_reason = "stopped"  # what request_stop() asked to record
        self._prepared = False
        self._version_change: dict[str, list] | None = None  # {package: [recorded, now]} of a changed dependency
        self.notes: list[str] = []
        self.created_storage = False
        self.drawn_seed: int | None = None  # the seed optgui drew for a new run whose spec had none
        self._lease: Lease | None = None  # taken by prepare() (not when there is nothing to do)
        self._accepted: dict | None = None  # what the user accepted for this segment (objective change, pickles)
        self._pickle_key: bytes | None = None  # signs the CMA-ES pickles this run stores (see pickle_trust)
        self._pickle_recorder: pickle_trust.PickleRecorder | None = None
        self._run_record: dict = {}
        self._directions: list[str] = []
        self._target: int | None = None  # finished trials the run aims at
        self._n_finished = 0
        self._nothing_to_do = False  # the target is met already
        self._reenter_trial_id: int | None = None  # a zombie trial to continue under its number, before new asks
        self._reenter_number: int | None = None
        self._last_trial: int | None = None  # the last trial told in this segment
        self._last_checkpoint = time.monotonic()

    # --- control (thread-safe) -----------------------------------------------------------------------------
    def request_pause(self) -> None:
        self._resume.clear()
        self._pause.set()
        self._emit(RunStateChanged(records.RunState.PAUSING, "pausing after the current trial…"))

    def request_resume(self) -> None:
        self._pause.clear()
        self._resume.set()

    def request_stop(self, reason: str = "stopped") -> None:
        """End the run after the trial in flight. reason is recorded: "stopped", or "paused" for a CLI Ctrl-C
        (both can be resumed later)."""
        self._stop_reason = reason
        self._stop.set()
        self._resume.set()
        self._emit(RunStateChanged(records.RunState.STOPPING, "stopping after the current trial…"))

    def abandon_trial(self) -> None:
        """Interrupt the trial in flight at its next suggest/report call, as a crash would."""
        self._abandon.set()
        self._stop.set()
        self._resume.set()
        if self._bridge is not None:
            self._bridge.abort()  # kills the objective's process: a trial that never calls back stops too

    def _leased(self) -> Lease:
        """The lease this run holds (a run that has something to do holds one from prepare() on)."""
        if self._lease is None:
            raise LeaseLostError("this run holds no lease")
        return self._lease

    def _release_lease(self) -> None:
        if self._lease is not None:
            self._lease.release()

    def _emit(self, event) -> None:
        if self._listener is not None:
            self._listener(event)

    # --- preparation ----------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Open the storage, create or validate the study and its metadata, take the lease, recover if needed."""
        req = self.request
        ref = parse_storage(req.storage)
        self._ref = ref
        storage, self.created_storage = open_for_run(ref, create=req.create_storage)
        self._storage = storage
        with self._removing_created_file_on_failure():
            try:
                study_id = storage.get_study_id_from_name(req.study_name)
            except KeyError:
                study_id = None
            if study_id is None:
                self._create_study()
            else:
                self._study_id = study_id
                meta = _read_metadata_for_run(storage, study_id)
                if meta.present:
                    self._validate_against_record(meta)
                    self._check_saved_states(meta)
                    if not self.runs_fleet and self._target_already_met(meta):
                        self._prepared = True
                        return  # nothing to write: not even the lease (and nothing is unpickled)
                foreign_pickles = self._check_pickles(meta)
                if not meta.present:
                    self._adopt_study()
                if foreign_pickles:
                    self._record_pickle_consent(foreign_pickles)
            self._prepare_signing()
            self._lease = Lease(self._storage, self._study_id)
            self._lease.acquire()
            try:
                self._setup_segment()
            except BaseException:
                self._release_lease()
                raise
        self._prepared = True

    @contextlib.contextmanager
    def _removing_created_file_on_failure(self):
        """A study file this command created is removed again when preparing the run fails (a bad --sampler, no
        --objective, Ctrl-C…): it holds nothing yet, and a failed command must leave nothing behind."""
        try:
            yield
        except BaseException:
            if self.created_storage:
                _remove_created_file(self._storage, self._ref)
                self.created_storage = False
            raise

    def create(self) -> None:
        """Create the study with optgui's run record and no trials, without running it: no lease, no segment and
        no saved state (what "New study…" needs). The first run() of the study is then an ordinary start.
        Raises StudyStateError when the study already exists."""
        req = self.request
        ref = parse_storage(req.storage)
        self._ref = ref
        self._storage, self.created_storage = open_for_run(ref, create=req.create_storage)
        try:
            self._storage.get_study_id_from_name(req.study_name)
        except KeyError:
            with self._removing_created_file_on_failure():
                self._create_study()
            return
        raise StudyStateError(f"a study named {req.study_name!r} already exists in {ref.display}")

    def _definition_for_new_run(self, missing_objective: str) -> tuple[ObjectiveRef, Spec, Spec]:
        """Objective and specs of a run optgui has not recorded yet; a missing seed is drawn here (and recorded)."""
        req = self.request
        if not req.objective:
            raise StudyStateError(missing_objective)
        self._python_env = probe_environment(req.python) if req.python else None
        objective = self._parse_objective(req.objective)
        self._objective_fn = self._load_objective_fn(objective)
        self._objective_ref = objective
        sampler = resolve_seed(parse_spec(req.sampler or DEFAULT_SAMPLER, "sampler"), req.seed)
        if sampler.accepts_seed() and sampler.seed is None:
            self.drawn_seed = draw_seed()
            sampler = sampler.with_seed(self.drawn_seed)
        sampler.build()  # fail on a spec that cannot be built before anything is written
        pruner = parse_spec(req.pruner, "pruner") if req.pruner else DEFAULT_PRUNER
        return objective, sampler, pruner

    def _new_run_record(
        self,
        objective: ObjectiveRef,
        sampler: Spec,
        pruner: Spec,
        directions,
        metric_names,
        origin: str,
        history_until: int,
    ) -> records.RunRecord:
        return records.RunRecord(
            created=records.now_iso(),
            optgui_version=__version__,
            origin=records.RunOrigin(origin),
            history_until=history_until,
            sampler=sampler.to_json_obj(),
            pruner=pruner.to_json_obj(),
            seed=sampler.seed,
            objective=objective.to_record(),
            directions=list(directions),
            metric_names=metric_names,
            versions=versions_for(sampler, pruner),
            recipe=self.request.recipe,
            environment=self._python_env.to_record() if self._python_env else None,
        )

    def _create_study(self) -> None:
        req = self.request
        objective, sampler, pruner = self._definition_for_new_run(
            f"study {req.study_name!r} does not exist; a new study needs --objective "
            "(FILE.py:FUNCTION, module:FUNCTION or builtin:NAME)"
        )
        directions = req.directions or DEFAULT_DIRECTIONS.get(objective.builtin_name or "", ["minimize"])
        directions = [_check_direction(d) for d in directions]
        if req.metric_names and len(req.metric_names) != len(directions):
            raise StudyStateError(f"{len(req.metric_names)} metric names for {len(directions)} objectives")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            as_directions = [StudyDirection[d.upper()] for d in directions]
            study = optuna.create_study(storage=self._storage, study_name=req.study_name, directions=as_directions)
            if req.metric_names:
                study.set_metric_names(list(req.metric_names))
        self._study_id = oi.study_id_of(study)
        record = self._new_run_record(objective, sampler, pruner, directions, req.metric_names, "new", 0)
        self._write_run_record(record, req.n_trials)

    def _adopt_study(self) -> None:
        """A study made by another tool: record a run whose claims start after its existing trials."""
        req = self.request
        objective, sampler, pruner = self._definition_for_new_run(
            f"study {req.study_name!r} was not made by optgui (no optgui metadata), so its objective is unknown: "
            "pass --objective (and --sampler/--seed) to run it"
        )
        directions = [d.name.lower() for d in self._storage.get_study_directions(self._study_id)]
        if req.directions and [_check_direction(d) for d in req.directions] != directions:
            raise StudyStateError(
                f"--direction {' '.join(req.directions)} differs from the study's directions {' '.join(directions)}"
            )
        n_existing = len(self._storage.get_all_trials(self._study_id, deepcopy=False))
        metric_names = self._storage.get_study_system_attrs(self._study_id).get("study:metric_names")
        record = self._new_run_record(
            objective, sampler, pruner, directions, metric_names, "adopted" if n_existing else "new", n_existing
        )
        self._write_run_record(record, req.n_trials)
        if n_existing:
            self.notes.append(
                f"study {req.study_name!r} has {n_existing} trials made without optgui: they are "
                f"history; determinism claims start at trial {n_existing}"
            )

    # --- pickles (CMA-ES optimizers): load only what this user's optgui signed, or what the user trusts ---------
    def _uses_cmaes(self, sampler_text) -> bool:
        try:
            return pickle_trust.spec_uses_cmaes(parse_spec(sampler_text, "sampler"))
        except SpecError:
            return False  # the run's own validation reports a bad spec

    def _check_pickles(self, meta: StudyMetadata) -> list[int]:
        """Before Optuna can unpickle anything: the trials whose pickles optgui did not sign. Raises unless the
        user said to trust them (request.trust_pickles)."""
        sampler_text = (meta.run or {}).get("sampler") if meta.present else (self.request.sampler or DEFAULT_SAMPLER)
        if not self._uses_cmaes(sampler_text):
            return []
        foreign = pickle_trust.foreign_pickle_trials(
            self._storage.get_all_trials(self._study_id, deepcopy=False),
            self._storage.get_study_system_attrs(self._study_id),
            pickle_trust.signing_key(),
        )
        if foreign and not self.request.trust_pickles:
            raise pickle_trust.ForeignPicklesError(foreign, self.request.study_name)
        return foreign

    def _record_pickle_consent(self, foreign: list[int]) -> None:
        """Remember the consent (a later resume does not ask again about these bytes) and mark the segment."""
        key = pickle_trust.signing_key()
        previous = self._storage.get_study_system_attrs(self._study_id).get(pickle_trust.KEY_TRUSTED_PICKLES)
        trials = self._storage.get_all_trials(self._study_id, deepcopy=False)
        record = pickle_trust.trust_record(trials, foreign, key, previous)
        self._storage.set_study_system_attr(self._study_id, pickle_trust.KEY_TRUSTED_PICKLES, record)
        self._accepted = {**(self._accepted or {}), "foreign_pickles": foreign}
        self.notes.append(
            f"loading CMA-ES optimizer pickles optgui did not write (trials {', '.join(map(str, foreign))}), as asked"
        )

    def _prepare_signing(self) -> None:
        meta = records.read_metadata(self._storage, self._study_id)
        if meta.present and self._uses_cmaes((meta.run or {}).get("sampler")):
            self._pickle_key = pickle_trust.signing_key()

    def _sign_pickles(self, trial_id: int) -> None:
        """Sign the optimizer pickle the sampler stored on this trial (still RUNNING, so it takes attributes)."""
        if self._pickle_recorder is None or self._pickle_key is None:
            return
        attrs = self._pickle_recorder.take(trial_id)
        if attrs:
            self._storage.set_trial_system_attr(
                trial_id, pickle_trust.TRIAL_PICKLE_SIGNATURE, pickle_trust.signature(attrs, self._pickle_key)
            )

    def _write_run_record(self, record: records.RunRecord, n_trials: int | None) -> None:
        records.write_run(self._storage, self._study_id, record, records.Target(n_trials=n_trials))

    def _validate_against_record(self, meta: StudyMetadata) -> None:
        req, run = self.request, _run_record_of(meta)
        if run.get("fleet") and not self.runs_fleet:
            raise StudyStateError(
                f"study {req.study_name!r} is a parallel run ({run['fleet']['mode']} mode); continue "
                "it with optgui run --workers N or optgui worker"
            )
        if meta.schema != records.SCHEMA_VERSION:
            raise StudyStateError(
                f"the study's optgui metadata has schema {meta.schema}; "
                f"this optgui reads schema {records.SCHEMA_VERSION}"
            )
        recorded_sampler = parse_spec(run["sampler"], "sampler")
        if req.sampler is not None:
            given = parse_spec(req.sampler, "sampler")
            if req.seed is not None:
                given = resolve_seed(given, req.seed)
            if given.seed is None and recorded_sampler.seed is not None:
                given = given.with_seed(recorded_sampler.seed)
            if not given.same_as(recorded_sampler, run["directions"]):  # Optuna's defaults filled in on both
                raise SpecError(
                    f"--sampler {given.to_text()} differs from the study's recorded sampler "
                    f"{recorded_sampler.to_text()}"
                )
        if req.seed is not None and req.seed != run.get("seed"):
            raise SpecError(f"--seed {req.seed} differs from the study's recorded seed {run.get('seed')}")
        recorded_pruner = parse_spec(run["pruner"], "pruner")
        if req.pruner is not None and not parse_spec(req.pruner, "pruner").same_as(recorded_pruner):
            raise SpecError(
                f"--pruner {req.pruner} differs from the study's recorded pruner {recorded_pruner.to_text()}"
            )
        if req.directions and [_check_direction(d) for d in req.directions] != run["directions"]:
            raise StudyStateError(
                f"--direction {' '.join(req.directions)} differs from the study's directions "
                f"{' '.join(run['directions'])}"
            )
        if req.metric_names and list(req.metric_names) != (run.get("metric_names") or []):
            raise StudyStateError(
                f"--metric-name {' '.join(req.metric_names)} differs from the study's metric "
                f"names {' '.join(run.get('metric_names') or []) or '(none)'}"
            )
        environment_note = self._choose_environment(meta)
        given_obj = self._parse_objective(req.objective) if req.objective else None
        if given_obj is None and self._python_env is not None and run["objective"].get("kind") == "module":
            given_obj = self._parse_objective(run["objective"]["ref"], run["objective"].get("import_root"))
        objective, change = check_against_record(given_obj, run["objective"], accept_change=req.accept_objective_change)
        self._objective_ref = objective
        self._objective_fn = self._load_objective_fn(objective)
        self._accepted = {**(change or {}), **(environment_note or {})} or None
        self._check_versions(meta, recorded_sampler, recorded_pruner)

    def _choose_environment(self, meta: StudyMetadata) -> dict | None:
        """The objective's interpreter for a rerun: --python, else the recorded one; the change note (or refusal)."""
        recorded = recorded_environment(meta.run or {}, meta.segments)
        python = self.request.python or (recorded or {}).get("executable")
        self._python_env = probe_environment(python) if python else None
        return environment_change(recorded, self._python_env, accept_change=self.request.accept_environment_change)

    def _parse_objective(self, text: str, import_root: str | None = None) -> ObjectiveRef:
        root = import_root or self.request.objective_import_root
        if self._python_env is None:
            return parse_objective(text, import_root=root)
        return parse_objective_in(self._python_env.executable, text, import_root=root)

    def _load_objective_fn(self, objective: ObjectiveRef) -> Callable:
        """The objective as a callable: through the bridge in the chosen interpreter, else in this process."""
        if self._python_env is None:
            return self._objective_override or load_objective(objective)
        self.close_objective()
        self._bridge = BridgeObjective(
            self._python_env.executable, objective.ref, import_root=objective.import_root, abandoned=TrialAbandoned
        )
        self._bridge.start()  # the objective's import error is one clear line before the run starts
        return self._bridge

    def close_objective(self) -> None:
        """End the objective's process of a run in another interpreter (it also ends when this process does)."""
        bridge, self._bridge = self._bridge, None
        if bridge is not None:
            bridge.close()

    def _target_already_met(self, meta: StudyMetadata) -> bool:
        """A rerun whose target is met by a run that ended cleanly: "nothing to do", and the study stays
        byte-identical (docs/cli.md: an already-met target exits 0 with "nothing to do")."""
        target = run_target(meta, self.request.n_trials)
        if target is None or not ended_with_state(meta.last_segment):
            return False
        n_finished = count_finished(meta, self._storage.get_all_trials(self._study_id, deepcopy=False))
        if n_finished < target:
            return False
        self._target, self._n_finished, self._nothing_to_do = target, n_finished, True
        self._note_unrecorded_target(meta)
        return True

    def _check_saved_states(self, meta: StudyMetadata) -> None:
        """Before anything is written: the saved sampler states this run will restore must fit its sampler, so a
        corrupted `optgui:state:<b>` is one clear error with the study unchanged, not a traceback half-way."""
        last = meta.last_segment
        if last is None:
            return
        try:
            end = last.get("end") or {}
            if end.get("reason") in ENDED_WITH_STATE:
                needed = {end["last_trial"] + 1: meta.states.get(end["last_trial"] + 1)}
                needed = {b: r for b, r in needed.items() if r is not None}  # a missing one: reported by the resume
            else:  # a recovery restores the latest state of the dead segment
                needed = {b: r for b, r in meta.states.items() if b >= last["start_trial"]}
                cp = meta.checkpoint
                if isinstance(cp, dict) and cp.get("segment") == last["index"]:
                    needed[cp.get("boundary")] = cp
        except (KeyError, TypeError, AttributeError) as exc:
            raise StudyStateError(
                f"the study's last optgui run segment is malformed ({exc.__class__.__name__}: {exc}); it cannot be "
                "resumed (it was left unchanged)"
            ) from None
        sampler_spec = parse_spec(_run_record_of(meta)["sampler"], "sampler")
        for boundary, record in needed.items():
            problem = _saved_state_problem(record, sampler_spec)
            if problem:
                raise StudyStateError(
                    f"the sampler state saved at trial {boundary} is corrupted ({problem}); the study cannot be "
                    "resumed deterministically (it was left unchanged)"
                )

    def _check_versions(self, meta: StudyMetadata, sampler: Spec, pruner: Spec) -> None:
        """A changed version of a package the sampler uses does not block the run: the new segment records the
        change, and the verifier checks it by replaying the recorded history under the new versions (a matching
        replay keeps the run equivalent; only a real divergence makes it replayable only). Packages the sampler
        never imports (scipy next to TPE, say) are no change at all."""
        recorded = (meta.last_segment or {}).get("versions") or _run_record_of(meta)["versions"]
        diffs = version_differences(recorded, current_versions(), used_packages(sampler, pruner))
        if not diffs:
            return
        self._version_change = {name: list(pair) for name, pair in diffs.items()}
        self.notes.append(
            f"version change: checking — {describe_differences(diffs)} since the last segment; the run continues "
            "and the verifier replays the recorded history under the new versions"
        )

    # --- segments -------------------------------------------------------------------------------------------
    def _setup_segment(self) -> None:
        """Plan the next segment from what the study holds (optgui.core.engine._segment_plan), then carry the plan
        out."""
        meta = records.read_metadata(self._storage, self._study_id)
        self._adopt_record(meta)
        trials = self._storage.get_all_trials(self._study_id, deepcopy=False)
        plan = plan_segment(
            meta,
            trials,
            n_trials=self.request.n_trials,
            study_name=self.request.study_name,
            reentry_supported=self._ref.kind != "journal",
        )
        self._start_planned_segment(meta, plan)

    def _adopt_record(self, meta: StudyMetadata) -> None:
        """What the run record fixes for every segment: the specs, the directions, and the target (--n-trials when
        given: recorded when the segment starts, unless already met or below the recorded one)."""
        run = meta.run or {}
        self._run_record = run
        self._sampler_spec, self._pruner_spec = specs_of(meta)
        self._directions = run["directions"]
        self._target = run_target(meta, self.request.n_trials)

    def _start_planned_segment(self, meta: StudyMetadata, plan: SegmentPlan) -> None:
        last = meta.last_segment
        sampler = self._sampler_spec.build()
        if plan.recovery is not None and last is not None:
            self._carry_out_recovery(meta, last, plan)
            sampler_state, study_attrs = plan.recovery.sampler_state, plan.recovery.study_attrs
        elif plan.saved_state is not None:
            for trial in plan.abandon:
                self._abandon_trial(trial.trial_id, trial.segment, trial.reason)
            self.notes.extend(plan.notes)
            if plan.reenter is not None:
                self._reenter_trial_id, self._reenter_number = plan.reenter
            sampler_state, study_attrs = plan.saved_state["sampler_state"], plan.saved_state.get("study_attrs", {})
        else:
            study_attrs = records.sampler_owned_study_attrs(self._storage, self._study_id)
            sampler_state = rng_state.capture(sampler)
        if plan.restores_state:
            rng_state.restore(sampler, sampler_state)
        self._sampler = sampler
        if plan.nothing_to_do:
            # Already done: no new segment, nothing written (a rerun of a finished command changes nothing).
            self._nothing_to_do = True
            self._n_finished = plan.n_finished
            self._note_unrecorded_target(meta)
            return
        self._record_target(meta)
        if plan.recovery is None and plan.boundary not in meta.states:  # written once, never overwritten
            self._save_state(plan.boundary, sampler_state, study_attrs)  # (a recovery saved its state already)
        self._segment = self._new_segment_record(plan.index, plan.boundary, plan)
        self._write_segment()
        _fault("segment_started", plan.boundary)
        self._load_study(sampler)

    def _new_segment_record(self, index: int, boundary: int, plan: SegmentPlan | None = None) -> records.Segment:
        """The record of a segment starting now at `boundary` (plan: how it started; None: an in-process resume)."""
        return records.Segment.begin(
            index=index,
            start_trial=boundary,
            resumed_by=records.SegmentStart(plan.resumed_by) if plan is not None else records.SegmentStart.RESUME,
            versions=versions_for(self._sampler_spec, self._pruner_spec),
            output_log=self._output_log(index),
            accepted=self._accepted if plan is not None else None,
            foreign_before=list(plan.foreign_before) if plan is not None else None,
            recovery=plan.recovery.info if plan is not None and plan.recovery is not None else None,
            version_change=self._version_change if plan is not None else None,
        )

    def _write_segment(self) -> None:
        records.write_segment(self._storage, self._study_id, self._segment)

    def _load_study(self, sampler: Any) -> None:
        """The Optuna study the segment runs, with its restored sampler; counts the run's finished trials."""
        storage, study_id = self._storage, self._study_id
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.study = optuna.load_study(
                study_name=self.request.study_name, storage=storage, sampler=sampler, pruner=self._pruner_spec.build()
            )
        if self._pickle_key is not None:
            self._pickle_recorder = pickle_trust.PickleRecorder(oi.study_storage(self.study))
        self._n_finished = count_finished(
            records.read_metadata(storage, study_id), storage.get_all_trials(study_id, deepcopy=False)
        )
        self._last_checkpoint = time.monotonic()

    def _record_target(self, meta: StudyMetadata) -> None:
        """--n-trials larger than the recorded target extends it (docs/cli.md); a smaller one only ends this
        invocation earlier, and an already-met one changes nothing."""
        given, recorded_target = self.request.n_trials, (meta.target or {}).get("n_trials")
        if given is None or given == recorded_target:
            return
        if recorded_target is None or given > recorded_target:
            records.write_target(self._storage, self._study_id, records.Target(n_trials=given))
        else:
            self._note_unrecorded_target(meta)

    def _note_unrecorded_target(self, meta: StudyMetadata) -> None:
        given, recorded_target = self.request.n_trials, (meta.target or {}).get("n_trials")
        if given is not None and recorded_target is not None and given < recorded_target:
            self.notes.append(
                f"--n-trials {given} is below the study's target of {recorded_target} trials, which stays recorded "
                "(a rerun without --n-trials continues to it)"
            )

    def _carry_out_recovery(self, meta: StudyMetadata, last: dict, plan: SegmentPlan) -> None:
        """Recover a segment whose process died (or was interrupted in a trial), as planned.

        The writes come in an order that survives being cut anywhere (a second Ctrl-C, SIGTERM or SIGKILL while
        recovering): each prefix of them leaves a study the next run recovers into the same result. The new
        boundary's state goes first (so a rerun finds the state this recovery computed, even after the zombie
        was abandoned), then the zombie is re-entered or abandoned, then the dead segment is closed."""
        recovery = plan.recovery
        assert recovery is not None  # a recovery plan
        zombie_number = recovery.info["zombie"]
        _fault("recovery_planned", zombie_number)
        if recovery.boundary not in meta.states:
            self._save_state(recovery.boundary, recovery.sampler_state, recovery.study_attrs)
        if plan.reenter is not None:
            self._reenter_zombie(plan.reenter[0], recovery.study_attrs, last["index"])
            self._reenter_trial_id, self._reenter_number = plan.reenter
        for trial in plan.abandon:
            self._abandon_trial(trial.trial_id, trial.segment, trial.reason)
        _fault("zombie_handled", zombie_number)
        self._finish_dead_segment(last, recovery.boundary - 1)
        _fault("dead_segment_closed", zombie_number)
        self._emit(
            RecoveryPerformed(
                last["index"],
                zombie_number,
                recovery.info["handling"],
                recovery.info["replayed_trials"],
                recovery.info["equivalent"],
                recovery.info["reason"],
            )
        )
        self.notes.append(_describe_recovery(recovery.info))

    def _reenter_zombie(self, trial_id: int, study_attrs: dict, dead_segment: int) -> None:
        """Roll a zombie trial (and the sampler-owned study attributes) back to the moment before its ask, so that
        it is asked again under its number (RDB storages)."""
        reset_zombie_rdb(
            oi.sql_engine(self._storage), study_id=self._study_id, trial_id=trial_id, study_attrs=study_attrs
        )
        # A fresh storage object: nothing cached from before the reset survives.
        storage, _ = open_for_run(self._ref, create=False)
        self._storage = storage
        self._leased().rebind(storage)
        recovered = records.Recovered(segment=dead_segment + 1, dead_segment=dead_segment)
        storage.set_trial_system_attr(trial_id, records.TRIAL_RECOVERED, recovered.to_json())

    def _abandon_trial(self, trial_id: int, segment_index: int, reason: str) -> None:
        """Tell an unfinished trial FAIL, tagged as abandoned (comparisons with an uninterrupted run skip it)."""
        abandoned = records.Abandoned(segment=segment_index, reason=reason)
        self._storage.set_trial_system_attr(trial_id, records.TRIAL_ABANDONED, abandoned.to_json())
        self._storage.set_trial_state_values(trial_id, TrialState.FAIL)

    def _finish_dead_segment(self, segment: dict, last_trial: int) -> None:
        """Close the segment of a process that died: it ends "crashed" (or as it said) after `last_trial`."""
        closed = records.Segment.from_json(segment).closed_by_recovery(last_trial)
        records.write_segment(self._storage, self._study_id, closed)

    def _save_state(self, boundary: int, sampler_state: dict, study_attrs: dict, *, checkpoint: bool = False) -> None:
        record = records.SavedState.now(boundary, sampler_state, study_attrs)
        if checkpoint:
            _fault("state_save", boundary)
            records.write_checkpoint(self._storage, self._study_id, record.checkpoint(self._segment.index))
        else:
            # Only what changed since the previous boundary's state: GA samplers' parent caches would otherwise
            # be copied again at every boundary (the overwritten checkpoint above stays a full copy).
            states = records.read_metadata(self._storage, self._study_id).states
            base = max((b for b in states if b < boundary), default=None)
            base_attrs = (
                states[base].get("study_attrs") if base is not None and isinstance(states[base], dict) else None
            )
            if isinstance(base_attrs, dict) and base is not None:
                record = record.stored_as_change_from(base, base_attrs)
            records.write_state(self._storage, self._study_id, record)

    def _end_segment(self, reason: str) -> None:
        boundary = self._next_boundary()
        if reason != "interrupted":
            self._save_state(
                boundary,
                rng_state.capture(self._sampler),
                records.sampler_owned_study_attrs(self._storage, self._study_id),
            )
            _fault("state_save", boundary)
        end = records.SegmentEnd(
            reason=records.EndReason(reason),
            at=records.now_iso(),
            last_trial=boundary - 1,
            n_finished=self._n_finished,
            states=self._segment_states(self._segment.start_trial, boundary),
            # Stopped before the re-entered zombie ran (e.g. Ctrl-C during recovery): the next run re-enters it.
            reentry_pending=self._reenter_number if self._reenter_trial_id is not None else None,
        )
        self._segment = self._segment.ended(end)
        records.write_segment(self._storage, self._study_id, self._segment)

    def _segment_states(self, start: int, stop: int) -> str:
        """The states of trials start..stop-1 as this segment leaves them (metadata end.states): what the verifier
        holds the record against, so that a deleted or re-stated trial is named where it was edited."""
        if stop <= start:
            return ""
        by_number = {
            t.number: t.state.name
            for t in self._storage.get_all_trials(self._study_id, deepcopy=False)
            if start <= t.number < stop
        }
        return records.encode_states(by_number.get(n, "MISSING") for n in range(start, stop))

    def _start_next_segment(self) -> None:
        """After an in-process pause: a new segment from the state saved when pausing."""
        assert self._segment.end is not None  # ended by the pause
        boundary = self._segment.end.last_trial + 1
        self._segment = self._new_segment_record(self._segment.index + 1, boundary)
        self._write_segment()

    def _output_log(self, index: int) -> str:
        """Where this segment's trials' output goes (on the segment's host; opened at a trial's first print)."""
        return str(trial_output.segment_log_path(self.request.storage, self.request.study_name, index))

    # --- the loop -------------------------------------------------------------------------------------------
    @property
    def n_finished(self) -> int:
        return self._n_finished

    @property
    def target(self) -> int | None:
        return self._target

    def run(self) -> RunOutcome:
        """Run the planned segment until the target, a timeout, a stop or the sampler's own stop; a pause ends the
        segment and waits for resume or stop. The objective's process of a run in another interpreter ends with
        the run."""
        try:
            return self._run_segment()
        finally:
            self.close_objective()

    def _run_segment(self) -> RunOutcome:
        """The skeleton every run shares (a fleet's coordinator too): prepare, announce, `_loop`, then end the
        segment and release the lease."""
        if not self._prepared:
            self.prepare()
        if self._nothing_to_do:
            self._release_lease()
            self._emit(
                RunStateChanged(
                    records.RunState.COMPLETED,
                    f"nothing to do: {self._n_finished} of {self._target} trials already finished",
                )
            )
            return RunOutcome("nothing-to-do", self._n_finished, self._target, None, self.notes)
        oi.enter_optimize_loop(self.study)  # Study.stop() (GridSampler) needs it, as in optimize
        self._before_loop()
        resumed_by = self._segment.resumed_by
        assert resumed_by is not None  # a segment this process began (Segment.begin) says how it started
        self._emit(
            RunStarted(
                self.request.study_name,
                self._segment.index,
                self._n_finished,
                self._target,
                resumed_by,
                tuple(self.notes),
            )
        )
        self._emit(RunStateChanged(records.RunState.RUNNING))
        reason = self._loop()
        if reason is None:  # stopped while paused: the segment ended at the pause
            self._after_loop("stopped")
            self._release_lease()
            self._emit(RunStateChanged(records.RunState.STOPPED))
            return RunOutcome("paused", self._n_finished, self._target, self._last_trial, self.notes)
        self._end_segment(reason)
        completed = reason in ("completed", "exhausted")
        self._after_loop("completed" if completed else "stopped")
        self._release_lease()
        state = (
            records.RunState.COMPLETED
            if completed
            else records.RunState.PAUSED
            if reason == "paused"
            else records.RunState.STOPPED
        )
        self._emit(RunStateChanged(state, reason))
        return RunOutcome(reason, self._n_finished, self._target, self._last_trial, self.notes)

    def _before_loop(self) -> None:
        """What a run records before its first trial (a coordinator: its fleet record)."""

    def _after_loop(self, state: str) -> None:
        """What a run records once its segment ended, before it releases the lease (a coordinator: its fleet's
        state, "completed" or "stopped")."""

    def _loop(self) -> str | None:
        """Trials one after another until a reason to end: returns it, or None when the run was stopped while
        paused (the segment already ended at the pause)."""
        study = self.study
        started = time.monotonic()
        timeout = self.request.timeout
        try:
            while True:
                reason = None
                if self._stop.is_set():
                    reason = self._stop_reason
                elif self._target is not None and self._n_finished >= self._target:
                    reason = "completed"
                elif timeout is not None and time.monotonic() - started >= timeout:
                    reason = "timeout"
                elif oi.stop_requested(study):
                    reason = "exhausted"
                elif self._pause.is_set():
                    self._end_segment("paused")
                    self._emit(RunStateChanged(records.RunState.PAUSED, f"paused after trial {self._last_trial}"))
                    self._resume.wait()
                    if self._stop.is_set():
                        return None
                    self._pause.clear()
                    self._start_next_segment()
                    self._emit(RunStateChanged(records.RunState.RUNNING))
                    continue
                if reason is not None:
                    return reason
                self._run_one_trial()
                if time.monotonic() - self._last_checkpoint >= _checkpoint_seconds():
                    self._checkpoint()
        except LeaseLostError as exc:
            # Another process owns the study now: write nothing (no segment end, no lease release), just stop.
            self._leased().stop_heartbeat()
            self._emit(RunStateChanged(records.RunState.FAILED, str(exc)))
            raise
        except TrialAbandoned:
            self._end_segment("interrupted")
            self._release_lease()
            self._emit(RunStateChanged(records.RunState.STOPPED, "trial abandoned; resume to recover it"))
            raise RunInterrupted("the trial in flight was abandoned; run again to recover it and continue") from None
        except KeyboardInterrupt:
            self._end_segment("interrupted")
            self._release_lease()
            self._emit(RunStateChanged(records.RunState.STOPPED, "interrupted"))
            raise RunInterrupted("interrupted: the trial in flight was abandoned; run again to recover it") from None
        except BaseException as exc:
            # Storage failures and bugs: leave the segment open (it looks crashed, and the next resume recovers
            # it from the saved states), but free the lease so that resume is possible at once.
            try:
                self._release_lease()
            finally:
                self._emit(RunFailed(f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
                self._emit(RunStateChanged(records.RunState.FAILED, f"{exc.__class__.__name__}: {exc}"))
            raise

    def _next_boundary(self) -> int:
        """The first trial number after the trials this segment told."""
        return (self._last_trial + 1) if self._last_trial is not None else self._segment.start_trial

    def _checkpoint(self) -> None:
        boundary = self._next_boundary()
        self._save_state(
            boundary,
            rng_state.capture(self._sampler),
            records.sampler_owned_study_attrs(self._storage, self._study_id),
            checkpoint=True,
        )
        self._last_checkpoint = time.monotonic()

    def _run_one_trial(self) -> None:
        study = self.study
        self._leased().check_held()
        if self._reenter_trial_id is not None:
            trial = oi.reenter_trial(study, self._reenter_trial_id)
            self._reenter_trial_id = self._reenter_number = None
        else:
            trial = study.ask()
            self._check_lease_after_ask(trial)
        number = trial.number
        self._emit(TrialStarted(number))
        self._instrument(trial, number)
        state = None
        value = None
        error = None
        t0 = time.monotonic()
        try:
            with trial_output.capture_trial(self.request.storage, self.request.study_name, self._segment.index, number):
                value = self._objective_fn(trial)
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except (TrialAbandoned, KeyboardInterrupt):
            if self._lease_lost is not None:
                raise self._lease_lost from None
            raise
        except Exception as exc:  # noqa: BLE001 - objective errors become FAIL trials, as optimize(catch=...)
            self._leased().check_held()  # (the error may be the other process's finished trial refusing a write)
            state = TrialState.FAIL
            error = records.TrialError(type=exc.__class__.__name__, message=str(exc), traceback=traceback.format_exc())
            self._storage.set_trial_system_attr(oi.trial_id(trial), records.TRIAL_ERROR, error.to_json())
        duration = time.monotonic() - t0
        if state is None and error is None:
            error = _invalid_return_error(value, len(self._directions))
            if error is not None:  # recorded now: once told, the trial takes no more attributes
                self._storage.set_trial_system_attr(oi.trial_id(trial), records.TRIAL_ERROR, error.to_json())
        self._sign_pickles(oi.trial_id(trial))
        _fault("before_tell", number)
        self._leased().check_held()  # a process stopped past its lease must not tell a trial someone else took over
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                final_state, values, message = oi.tell(study, trial, value, state)
        except UpdateFinishedTrialError:
            self._leased().check_held()  # lost in the moment between the check and the tell: say so
            raise
        _fault("after_tell", number)
        if final_state == TrialState.FAIL and error is None and message:
            error = records.TrialError(type="InvalidValue", message=message, traceback="")
        self._n_finished += 1
        self._last_trial = number
        # The told trial as stored (one read by primary key): the window shows the run from these events alone.
        told = self._storage.get_trial(oi.trial_id(trial))
        self._emit(trial_finished(told, duration, error.message if error else None, self._n_finished, self._target))

    def _check_lease_after_ask(self, trial) -> None:
        """Stopped inside ask() past the lease's life, this process created a trial in a study another process now
        runs: nobody else will ever finish it, so it is told FAIL, tagged abandoned, before giving up."""
        try:
            self._leased().check_held()
        except LeaseLostError:
            self._abandon_trial(oi.trial_id(trial), self._segment.index, "created after the run lost its lease")
            raise

    def _guard_lease_in_objective(self) -> None:
        """Before a suggest/report writes to the trial: a lost lease ends the trial like an abandon (a BaseException
        the objective cannot swallow), then the run ends with the LeaseLostError."""
        try:
            self._leased().check_held()
        except LeaseLostError as exc:
            self._lease_lost = exc
            raise TrialAbandoned() from None

    def _instrument(self, trial, number: int) -> None:
        """Hooks on this trial's suggest/report calls: the abandon request, the lease check and the in_objective
        fault point."""
        fault_in_objective = bool(_fault_signals("in_objective", number))
        fired: list[bool] = []
        abandon = self._abandon

        def guarded(original: oi.SuggestFn) -> oi.SuggestFn:
            def suggest(name: str, distribution: Any) -> Any:
                if abandon.is_set():
                    raise TrialAbandoned()
                self._guard_lease_in_objective()
                result = original(name, distribution)
                if fault_in_objective and not fired:
                    fired.append(True)  # once per trial, at its first suggest
                    _fault("in_objective", number)
                return result

            return suggest

        oi.wrap_suggest(trial, guarded)
        original_report = trial.report

        def report(value, step):
            if abandon.is_set():
                raise TrialAbandoned()
            self._guard_lease_in_objective()
            return original_report(value, step)

        trial.report = report


def _run_record_of(meta: StudyMetadata) -> dict:
    """The run record of a study optgui runs (checked present before any segment is planned)."""
    if meta.run is None:
        raise StudyStateError("the study has no optgui run record")
    return meta.run


def _read_metadata_for_run(storage, study_id: int) -> StudyMetadata:
    try:
        return records.read_metadata(storage, study_id)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StudyStateError(
            f"the study's optgui metadata is malformed ({exc.__class__.__name__}: {exc}); it cannot be resumed"
        ) from None


def _saved_state_problem(record, sampler_spec: Spec) -> str | None:
    """Why a saved state record cannot be restored into a fresh sampler of the run's spec, or None."""
    if not isinstance(record, dict) or not isinstance(record.get("sampler_state"), dict):
        return "not a sampler state record"
    if not isinstance(record.get("study_attrs", {}), dict):
        return "its study attributes are not a mapping"
    try:
        rng_state.restore(sampler_spec.build(), record["sampler_state"])
    except rng_state.SamplerStateError as exc:
        return str(exc)
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        return f"{exc.__class__.__name__}: {exc}"
    return None


def _remove_created_file(storage, ref) -> None:
    """Delete a study file (and SQLite's side files) that this process created moments ago."""
    if ref.path is None:
        return
    engine = oi.sql_engine(storage) if ref.kind != "journal" else None
    if engine is not None:
        engine.dispose()
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{ref.path}{suffix}")


def _check_direction(direction: str) -> str:
    d = direction.lower()
    if d not in ("minimize", "maximize"):
        raise StudyStateError(f"direction must be minimize or maximize, got {direction!r}")
    return d


def _describe_recovery(info: dict) -> str:
    what = {
        "reentered": f"re-entered trial {info['zombie']} (same number)",
        "abandoned": f"abandoned trial {info['zombie']}",
        "none": "no trial was in flight",
    }[info["handling"]]
    text = (
        f"recovered from a run that died: replayed {info['replayed_trials']} trials from the state saved at "
        f"trial {info['replayed_from']}; {what}"
    )
    if not info["equivalent"]:
        text += f"; NOT equivalent to an uninterrupted run: {info['reason']}"
    return text
