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

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from optgui import __version__
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
from optgui.core.engine._recovery import plan_recovery, reset_zombie_rdb
from optgui.core.engine._samplers import DEFAULT_PRUNER, Spec, draw_seed, parse_spec, resolve_seed
from optgui.core.engine._versions import (
    current_versions,
    describe_differences,
    used_packages,
    version_differences,
    versions_for,
)
from optgui.core.errors import LeaseLostError, OptguiError, SpecError, StudyStateError
from optgui.core.records import StudyMetadata
from optgui.core.storage import open_for_run, parse_storage

DEFAULT_SAMPLER = "TPESampler"
ENDED_WITH_STATE = records.ENDED_WITH_STATE  # segments that saved the sampler state at their end


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


def _invalid_return_error(value, n_objectives: int) -> dict | None:
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
    return {"type": "InvalidValue", "message": message, "traceback": ""}


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


class StudyRunner:
    # A study recorded as a parallel run (run record "fleet") is continued only by its coordinator/workers.
    runs_fleet = False

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
        self._prepared = False
        self._version_change: dict[str, list] | None = None  # {package: [recorded, now]} of a changed dependency
        self.notes: list[str] = []
        self.created_storage = False
        self.drawn_seed: int | None = None  # the seed optgui drew for a new run whose spec had none

    # --- control (thread-safe) -----------------------------------------------------------------------------
    def request_pause(self) -> None:
        self._resume.clear()
        self._pause.set()
        self._emit(RunStateChanged("pausing", "pausing after the current trial…"))

    def request_resume(self) -> None:
        self._pause.clear()
        self._resume.set()

    def request_stop(self, reason: str = "stopped") -> None:
        """End the run after the trial in flight. reason is recorded: "stopped", or "paused" for a CLI Ctrl-C
        (both can be resumed later)."""
        self._stop_reason = reason
        self._stop.set()
        self._resume.set()
        self._emit(RunStateChanged("stopping", "stopping after the current trial…"))

    def abandon_trial(self) -> None:
        """Interrupt the trial in flight at its next suggest/report call, as a crash would."""
        self._abandon.set()
        self._stop.set()
        self._resume.set()
        if self._bridge is not None:
            self._bridge.abort()  # kills the objective's process: a trial that never calls back stops too

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
        self._pickle_key = None
        self._pickle_recorder = None
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
                self._lease.release()
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
            study = optuna.create_study(storage=self._storage, study_name=req.study_name, directions=directions)
            if req.metric_names:
                study.set_metric_names(list(req.metric_names))
        self._study_id = study._study_id
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
        sampler_text = meta.run.get("sampler") if meta.present else (self.request.sampler or DEFAULT_SAMPLER)
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
        self._accepted = {**(getattr(self, "_accepted", None) or {}), "foreign_pickles": foreign}
        self.notes.append(
            f"loading CMA-ES optimizer pickles optgui did not write (trials {', '.join(map(str, foreign))}), as asked"
        )

    def _prepare_signing(self) -> None:
        meta = records.read_metadata(self._storage, self._study_id)
        if meta.present and self._uses_cmaes(meta.run.get("sampler")):
            self._pickle_key = pickle_trust.signing_key()

    def _sign_pickles(self, trial_id: int) -> None:
        """Sign the optimizer pickle the sampler stored on this trial (still RUNNING, so it takes attributes)."""
        if self._pickle_recorder is None:
            return
        attrs = self._pickle_recorder.take(trial_id)
        if attrs:
            self._storage.set_trial_system_attr(
                trial_id, pickle_trust.TRIAL_PICKLE_SIGNATURE, pickle_trust.signature(attrs, self._pickle_key)
            )

    def _write_run_record(self, record: records.RunRecord, n_trials: int | None) -> None:
        records.write_run(self._storage, self._study_id, record, records.Target(n_trials=n_trials))

    def _validate_against_record(self, meta: StudyMetadata) -> None:
        req, run = self.request, meta.run
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
        self._accepted = {**(change or {}), **(environment_note or {})}
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
        last = meta.last_segment
        target = self.request.n_trials if self.request.n_trials is not None else (meta.target or {}).get("n_trials")
        if target is None or last is None or (last.get("end") or {}).get("reason") not in ENDED_WITH_STATE:
            return False
        n_finished = _count_finished(meta, self._storage.get_all_trials(self._study_id, deepcopy=False))
        if n_finished < target:
            return False
        self._target, self._n_finished, self._nothing_to_do = target, n_finished, True
        self._lease = _NoLease()
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
        sampler_spec = parse_spec(meta.run["sampler"], "sampler")
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
        recorded = (meta.last_segment or {}).get("versions") or meta.run["versions"]
        diffs = version_differences(recorded, current_versions(), used_packages(sampler, pruner))
        if not diffs:
            return
        self._version_change = {name: list(pair) for name, pair in diffs.items()}
        self.notes.append(
            f"version change: checking — {describe_differences(diffs)} since the last segment; the run continues "
            "and the verifier replays the recorded history under the new versions"
        )

    # --- segments -------------------------------------------------------------------------------------------
    def _specs_from_record(self, meta: StudyMetadata) -> tuple[Spec, Spec]:
        return parse_spec(meta.run["sampler"], "sampler"), parse_spec(meta.run["pruner"], "pruner")

    def _setup_segment(self) -> None:
        storage, study_id = self._storage, self._study_id
        meta = records.read_metadata(storage, study_id)
        self._run_record = meta.run
        self._sampler_spec, self._pruner_spec = self._specs_from_record(meta)
        self._target = (meta.target or {}).get("n_trials")
        if self.request.n_trials is not None:
            self._target = self.request.n_trials  # recorded below, unless already met or below the recorded one
        self._directions = meta.run["directions"]
        accepted = getattr(self, "_accepted", None) or None
        self._reenter_trial_id = None  # a zombie trial to continue under its number, before asking new trials
        self._reenter_number = None
        trials = storage.get_all_trials(study_id, deepcopy=False)
        last = meta.last_segment
        recovery_info = None
        foreign_before: list[int] = []
        sampler = self._sampler_spec.build()
        if last is None:
            resumed_by = "start"
            boundary = len(trials)
            study_attrs = records.sampler_owned_study_attrs(storage, study_id)
            sampler_state = rng_state.capture(sampler)
        elif last.get("end") and last["end"].get("reason") in ENDED_WITH_STATE:
            resumed_by = "resume"
            boundary, sampler_state, study_attrs, foreign_before = self._resume_point(meta, trials, last)
            rng_state.restore(sampler, sampler_state)
        else:
            resumed_by = "recovery"
            plan = self._recover(meta, trials, last)
            storage = self._storage  # recovery may have reopened it
            boundary, sampler_state, study_attrs = plan.boundary, plan.sampler_state, plan.study_attrs
            recovery_info = plan.info
            rng_state.restore(sampler, sampler_state)
        self._sampler = sampler
        self._nothing_to_do = False
        if resumed_by != "recovery" and self._target is not None and _count_finished(meta, trials) >= self._target:
            # Already done: no new segment, nothing written (a rerun of a finished command changes nothing).
            self._nothing_to_do = True
            self._n_finished = _count_finished(meta, trials)
            self._note_unrecorded_target(meta)
            return
        self._record_target(meta)
        if resumed_by != "recovery" and boundary not in meta.states:  # written once, never overwritten
            self._save_state(boundary, sampler_state, study_attrs)  # (a recovery saved its state already)
        index = last["index"] + 1 if last else 0
        self._segment = records.Segment.begin(
            index=index,
            start_trial=boundary,
            resumed_by=records.SegmentStart(resumed_by),
            versions=versions_for(self._sampler_spec, self._pruner_spec),
            output_log=self._output_log(index),
            accepted=accepted,
            foreign_before=foreign_before,
            recovery=recovery_info,
            version_change=self._version_change,
        )
        records.write_segment(storage, study_id, self._segment)
        _fault("segment_started", boundary)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.study = optuna.load_study(
                study_name=self.request.study_name, storage=storage, sampler=sampler, pruner=self._pruner_spec.build()
            )
        if self._pickle_key is not None:
            self._pickle_recorder = pickle_trust.PickleRecorder(self.study._storage)
        meta_now = records.read_metadata(storage, study_id)
        all_trials = storage.get_all_trials(study_id, deepcopy=False)
        self._n_finished = _count_finished(meta_now, all_trials)
        self._last_checkpoint = time.monotonic()
        self._last_trial = None

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

    def _resume_point(self, meta: StudyMetadata, trials, last: dict) -> tuple[int, dict, dict, list[int]]:
        """Where a segment that ended with a saved state goes on: (boundary, sampler state, study attributes,
        trials other processes added meanwhile). A zombie that a recovery re-entered but did not run before the
        run was stopped (a Ctrl-C during recovery) is re-entered now, so it never stays RUNNING."""
        saved_boundary = last["end"]["last_trial"] + 1
        record = meta.states.get(saved_boundary)
        if record is None:
            raise StudyStateError(
                f"the sampler state saved at trial {saved_boundary} is missing from the "
                "study; it cannot be resumed deterministically"
            )
        pending = _pending_reentry(last, trials)
        if pending is not None and pending.number == len(trials) - 1 == saved_boundary:
            self._reenter_trial_id, self._reenter_number = pending._trial_id, pending.number
            return saved_boundary, record["sampler_state"], record.get("study_attrs", {}), []
        if pending is not None:
            self._abandon_trial(pending, last["index"], "other trials were added while it waited to be re-entered")
        foreign_before = list(range(saved_boundary, len(trials)))
        if foreign_before:
            self.notes.append(
                f"{len(foreign_before)} trials ({foreign_before[0]}–{foreign_before[-1]}) were "
                "added by another process since optgui paused: the resumed run is no longer "
                "equivalent to an uninterrupted one"
            )
        return len(trials), record["sampler_state"], record.get("study_attrs", {}), foreign_before

    def _recover(self, meta: StudyMetadata, trials, last: dict):
        """Recover a segment whose process died (or was interrupted in a trial), and return the RecoveryPlan.

        The writes come in an order that survives being cut anywhere (a second Ctrl-C, SIGTERM or SIGKILL while
        recovering): each prefix of them leaves a study the next run recovers into the same result. The new
        boundary's state goes first (so a rerun finds the state this recovery computed, even after the zombie
        was abandoned), then the zombie is re-entered or abandoned, then the dead segment is closed."""
        storage, study_id = self._storage, self._study_id
        plan = plan_recovery(
            trials=trials,
            meta=meta,
            build_sampler=self._sampler_spec.build,
            build_pruner=self._pruner_spec.build,
            study_name=self.request.study_name,
            directions=self._directions,
            sampler_name=self._sampler_spec.name,
            reentry_supported=self._ref.kind != "journal",
        )
        zombie_number = plan.info["zombie"]
        _fault("recovery_planned", zombie_number)
        if plan.boundary not in meta.states:
            self._save_state(plan.boundary, plan.sampler_state, plan.study_attrs)
        if plan.reenter_trial_id is not None:
            reset_zombie_rdb(
                _engine_of(storage), study_id=study_id, trial_id=plan.reenter_trial_id, study_attrs=plan.study_attrs
            )
            # A fresh storage object: nothing cached from before the reset survives.
            storage, _ = open_for_run(self._ref, create=False)
            self._storage = storage
            self._lease._storage = storage
            recovered = records.Recovered(segment=last["index"] + 1, dead_segment=last["index"])
            storage.set_trial_system_attr(plan.reenter_trial_id, records.TRIAL_RECOVERED, recovered.to_json())
            self._reenter_trial_id, self._reenter_number = plan.reenter_trial_id, zombie_number
        elif zombie_number is not None:
            zombie = next(t for t in trials if t.number == zombie_number)
            if zombie.state == TrialState.RUNNING:
                self._abandon_trial(zombie, last["index"], "process died during the trial")
        _fault("zombie_handled", zombie_number)
        self._finish_dead_segment(last, plan)
        _fault("dead_segment_closed", zombie_number)
        self._emit(
            RecoveryPerformed(
                last["index"],
                zombie_number,
                plan.info["handling"],
                plan.info["replayed_trials"],
                plan.info["equivalent"],
                plan.info["reason"],
            )
        )
        self.notes.append(_describe_recovery(plan.info))
        return plan

    def _abandon_trial(self, trial, segment_index: int, reason: str) -> None:
        """Tell an unfinished trial FAIL, tagged as abandoned (comparisons with an uninterrupted run skip it)."""
        abandoned = records.Abandoned(segment=segment_index, reason=reason)
        self._storage.set_trial_system_attr(trial._trial_id, records.TRIAL_ABANDONED, abandoned.to_json())
        self._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)

    def _finish_dead_segment(self, segment: dict, plan) -> None:
        closed = records.Segment.from_json(segment).closed_by_recovery(plan.boundary - 1)
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
        boundary = (self._last_trial + 1) if self._last_trial is not None else self._segment.start_trial
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
        index = self._segment.index + 1
        self._segment = records.Segment.begin(
            index=index,
            start_trial=boundary,
            resumed_by=records.SegmentStart.RESUME,
            versions=versions_for(self._sampler_spec, self._pruner_spec),
            output_log=self._output_log(index),
        )
        records.write_segment(self._storage, self._study_id, self._segment)

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
        if not self._prepared:
            self.prepare()
        if self._nothing_to_do:
            self._lease.release()
            self._emit(
                RunStateChanged(
                    "completed", f"nothing to do: {self._n_finished} of {self._target} trials already finished"
                )
            )
            return RunOutcome("nothing-to-do", self._n_finished, self._target, None, self.notes)
        study = self.study
        study._thread_local.in_optimize_loop = True  # Study.stop() (GridSampler) needs it, as in optimize
        started = time.monotonic()
        timeout = self.request.timeout
        self._emit(
            RunStarted(
                self.request.study_name,
                self._segment.index,
                self._n_finished,
                self._target,
                self._segment.resumed_by,
                tuple(self.notes),
            )
        )
        self._emit(RunStateChanged("running"))
        reason = None
        try:
            while True:
                if self._stop.is_set():
                    reason = getattr(self, "_stop_reason", "stopped")
                elif self._target is not None and self._n_finished >= self._target:
                    reason = "completed"
                elif timeout is not None and time.monotonic() - started >= timeout:
                    reason = "timeout"
                elif study._stop_flag:
                    reason = "exhausted"
                elif self._pause.is_set():
                    self._end_segment("paused")
                    self._emit(RunStateChanged("paused", f"paused after trial {self._last_trial}"))
                    self._resume.wait()
                    if self._stop.is_set():
                        self._lease.release()
                        self._emit(RunStateChanged("stopped"))
                        return RunOutcome("paused", self._n_finished, self._target, self._last_trial, self.notes)
                    self._pause.clear()
                    self._start_next_segment()
                    self._emit(RunStateChanged("running"))
                    continue
                if reason is not None:
                    break
                self._run_one_trial()
                if time.monotonic() - self._last_checkpoint >= _checkpoint_seconds():
                    self._checkpoint()
        except LeaseLostError as exc:
            # Another process owns the study now: write nothing (no segment end, no lease release), just stop.
            self._lease.stop_heartbeat()
            self._emit(RunStateChanged("failed", str(exc)))
            raise
        except TrialAbandoned:
            self._end_segment("interrupted")
            self._lease.release()
            self._emit(RunStateChanged("stopped", "trial abandoned; resume to recover it"))
            raise RunInterrupted("the trial in flight was abandoned; run again to recover it and continue") from None
        except KeyboardInterrupt:
            self._end_segment("interrupted")
            self._lease.release()
            self._emit(RunStateChanged("stopped", "interrupted"))
            raise RunInterrupted("interrupted: the trial in flight was abandoned; run again to recover it") from None
        except BaseException as exc:
            # Storage failures and bugs: leave the segment open (it looks crashed, and the next resume recovers
            # it from the saved states), but free the lease so that resume is possible at once.
            try:
                self._lease.release()
            finally:
                self._emit(RunFailed(f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
                self._emit(RunStateChanged("failed", f"{exc.__class__.__name__}: {exc}"))
            raise
        self._end_segment(reason)
        self._lease.release()
        self._emit(
            RunStateChanged(
                "completed" if reason in ("completed", "exhausted") else "paused" if reason == "paused" else "stopped",
                reason,
            )
        )
        return RunOutcome(reason, self._n_finished, self._target, self._last_trial, self.notes)

    def _checkpoint(self) -> None:
        boundary = self._last_trial + 1
        self._save_state(
            boundary,
            rng_state.capture(self._sampler),
            records.sampler_owned_study_attrs(self._storage, self._study_id),
            checkpoint=True,
        )
        self._last_checkpoint = time.monotonic()

    def _run_one_trial(self) -> None:
        from optuna.study._tell import _tell_with_warning

        study = self.study
        self._lease.check_held()
        if self._reenter_trial_id is not None:
            study._thread_local.cached_all_trials = None  # as Study.ask does
            trial = optuna.Trial(study, self._reenter_trial_id)
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
            self._lease.check_held()  # (the error may be the other process's finished trial refusing a write)
            state = TrialState.FAIL
            error = {"type": exc.__class__.__name__, "message": str(exc), "traceback": traceback.format_exc()}
            self._storage.set_trial_system_attr(trial._trial_id, records.TRIAL_ERROR, error)
        duration = time.monotonic() - t0
        if state is None and error is None:
            error = _invalid_return_error(value, len(self._directions))
            if error is not None:  # recorded now: once told, the trial takes no more attributes
                self._storage.set_trial_system_attr(trial._trial_id, records.TRIAL_ERROR, error)
        self._sign_pickles(trial._trial_id)
        _fault("before_tell", number)
        self._lease.check_held()  # a process stopped past its lease must not tell a trial someone else took over
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                final_state, values, message = _tell_with_warning(
                    study, trial, value, state=state, suppress_warning=True
                )
        except UpdateFinishedTrialError:
            self._lease.check_held()  # lost in the moment between the check and the tell: say so
            raise
        _fault("after_tell", number)
        if final_state == TrialState.FAIL and error is None and message:
            error = {"type": "InvalidValue", "message": message, "traceback": ""}
        self._n_finished += 1
        self._last_trial = number
        # The told trial as stored (one read by primary key): the window shows the run from these events alone.
        told = self._storage.get_trial(trial._trial_id)
        self._emit(trial_finished(told, duration, error["message"] if error else None, self._n_finished, self._target))

    def _check_lease_after_ask(self, trial) -> None:
        """Stopped inside ask() past the lease's life, this process created a trial in a study another process now
        runs: nobody else will ever finish it, so it is told FAIL, tagged abandoned, before giving up."""
        try:
            self._lease.check_held()
        except LeaseLostError:
            self._abandon_trial(trial, self._segment.index, "created after the run lost its lease")
            raise

    def _guard_lease_in_objective(self) -> None:
        """Before a suggest/report writes to the trial: a lost lease ends the trial like an abandon (a BaseException
        the objective cannot swallow), then the run ends with the LeaseLostError."""
        try:
            self._lease.check_held()
        except LeaseLostError as exc:
            self._lease_lost = exc
            raise TrialAbandoned() from None

    def _instrument(self, trial, number: int) -> None:
        """Hooks on this trial's suggest/report calls: the abandon request, the lease check and the in_objective
        fault point."""
        original = trial._suggest
        fault_in_objective = bool(_fault_signals("in_objective", number))
        fired: list[bool] = []
        abandon = self._abandon

        def suggest(name, distribution):
            if abandon.is_set():
                raise TrialAbandoned()
            self._guard_lease_in_objective()
            result = original(name, distribution)
            if fault_in_objective and not fired:
                fired.append(True)  # once per trial, at its first suggest
                _fault("in_objective", number)
            return result

        trial._suggest = suggest
        original_report = trial.report

        def report(value, step):
            if abandon.is_set():
                raise TrialAbandoned()
            self._guard_lease_in_objective()
            return original_report(value, step)

        trial.report = report


class _NoLease:
    """Stands for the lease of a run that has nothing to do and so never takes one."""

    def release(self) -> None:
        pass


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
    if ref.kind != "journal":
        with contextlib.suppress(AttributeError):
            _engine_of(storage).dispose()
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{ref.path}{suffix}")


def _engine_of(storage):
    backend = getattr(storage, "_backend", storage)
    return backend.engine


def _check_direction(direction: str) -> str:
    d = direction.lower()
    if d not in ("minimize", "maximize"):
        raise StudyStateError(f"direction must be minimize or maximize, got {direction!r}")
    return d


def _count_finished(meta: StudyMetadata, trials) -> int:
    """Finished trials of the run, as optimize counts them (FAIL counts; abandoned and foreign trials do not)."""
    mine = meta.optgui_trial_numbers(len(trials))
    return sum(
        1
        for t in trials
        if t.number in mine and t.state.is_finished() and records.TRIAL_ABANDONED not in t.system_attrs
    )


def _pending_reentry(segment: dict, trials):
    """The zombie a recovery re-entered in `segment` but never ran (the run stopped first), if still RUNNING."""
    number = (segment.get("end") or {}).get("reentry_pending")
    if number is None:
        return None
    trial = next((t for t in trials if t.number == number), None)
    return trial if trial is not None and trial.state == TrialState.RUNNING else None


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
