"""Public engine entry points the GUI uses: creating a study without running it, and the exception an objective
wrapper raises to abandon its trial."""

from __future__ import annotations

import optuna
import pytest

from optgui.core import records
from optgui.core.engine._builtin_objectives import quadratic as quadratic_factory
from optgui.core.engine._runner import RunInterrupted, RunRequest, StudyRunner, TrialAbandoned
from optgui.core.errors import StudyStateError
from tests.support.determinism import STUDY, first_difference, recorded, reference

SAMPLER = "TPESampler(seed=5)"


def _request(path, **kw):
    base = dict(storage=str(path), study_name=STUDY, objective="builtin:quadratic", sampler=SAMPLER, n_trials=12)
    base.update(kw)
    return RunRequest(**base)


def _meta(path) -> records.StudyMetadata:
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    return records.read_metadata(storage, storage.get_study_id_from_name(STUDY))


def test_create_writes_the_run_record_without_a_segment_and_the_first_run_starts_it(tmp_path):
    path = tmp_path / "new.db"
    StudyRunner(_request(path)).create()
    meta = _meta(path)
    assert meta.present and meta.run["seed"] == 5 and meta.target == {"n_trials": 12}
    assert not meta.segments and not meta.states and not meta.lease
    assert len(optuna.load_study(study_name=STUDY, storage=f"sqlite:///{path}").trials) == 0

    outcome = StudyRunner(_request(path, objective=None, sampler=None, n_trials=None)).run()
    assert outcome.reason == "completed" and outcome.n_finished == 12
    segments = _meta(path).segments
    assert [(s["resumed_by"], s["start_trial"], s["end"]["reason"]) for s in segments] == [("start", 0, "completed")]
    assert first_difference(reference(SAMPLER, "builtin:quadratic", 12), recorded(str(path))) is None


def test_create_refuses_an_existing_study_and_leaves_it_unchanged(tmp_path):
    path = tmp_path / "old.db"
    StudyRunner(_request(path, n_trials=3)).run()
    before = path.read_bytes()
    with pytest.raises(StudyStateError, match="already exists"):
        StudyRunner(_request(path)).create()
    assert path.read_bytes() == before


def test_an_objective_raising_trial_abandoned_ends_the_run_and_resume_stays_equivalent(tmp_path):
    """What an objective wrapper does when told to stop at once (e.g. after killing the child it runs in)."""
    path = tmp_path / "abandon.db"
    quadratic = quadratic_factory()  # the objective the reference runs

    def objective(trial):
        if trial.number == 4:
            trial.suggest_float("x", -10, 10)  # the trial has started to use the sampler, as a real one would
            raise TrialAbandoned()
        return quadratic(trial)

    with pytest.raises(RunInterrupted):
        StudyRunner(_request(path), objective=objective).run()
    assert _meta(path).segments[-1]["end"]["reason"] == "interrupted"
    assert issubclass(TrialAbandoned, BaseException) and not issubclass(TrialAbandoned, Exception)
    outcome = StudyRunner(_request(path)).run()
    assert outcome.reason == "completed"
    assert first_difference(reference(SAMPLER, "builtin:quadratic", 12), recorded(str(path))) is None
