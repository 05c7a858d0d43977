"""A runner has every attribute from its construction: what only exists once the study is opened is declared on
the class (SetByPrepare) and says so when read too early; a run adds no other attribute, and nothing reads one
with a getattr default."""

from __future__ import annotations

import ast
import inspect

import pytest

from optgui.core.engine import _runner as runner
from optgui.core.engine._runner import RunRequest, SetByPrepare, StudyRunner
from optgui.core.fleet import _coordinator as coordinator
from optgui.core.fleet._coordinator import Coordinator, FleetOptions, FreeRunSetup
from tests.support.determinism import STUDY


def _declared(cls: type) -> set[str]:
    return {name for klass in cls.__mro__ for name, value in vars(klass).items() if isinstance(value, SetByPrepare)}


def _request(storage: str, **changes) -> RunRequest:
    base = dict(storage=storage, study_name=STUDY, objective="builtin:quadratic", sampler="TPESampler(seed=2)")
    return RunRequest(**{**base, **changes})


@pytest.mark.parametrize("n_runs", [1, 2], ids=["start", "resume"])
def test_a_run_sets_no_attribute_the_runner_did_not_have_or_declare(tmp_path, n_runs):
    storage = str(tmp_path / "s.db")
    for n in range(n_runs):
        study_runner = StudyRunner(_request(storage, n_trials=3 * (n + 1)))
        constructed = set(vars(study_runner))
        outcome = study_runner.run()
        assert outcome.reason == "completed"
        assert set(vars(study_runner)) - constructed <= _declared(StudyRunner)


def test_reading_an_opened_attribute_before_prepare_says_so(tmp_path):
    study_runner = StudyRunner(_request(str(tmp_path / "s.db")))
    with pytest.raises(AttributeError, match=r"StudyRunner\._storage is set by prepare\(\)"):
        _ = study_runner._storage
    assert study_runner.n_finished == 0 and study_runner.target is None


def test_a_coordinator_prepared_on_a_journal_file_sets_only_declared_attributes(tmp_path):
    fleet = Coordinator(_request(str(tmp_path / "fleet.log"), n_trials=4), FleetOptions("deterministic", batch=2))
    constructed = set(vars(fleet))
    fleet.prepare()
    try:
        assert set(vars(fleet)) - constructed <= _declared(Coordinator)
        assert fleet._segment.resumed_by == "start"
    finally:
        fleet._release_lease()


def test_a_free_run_setup_sets_only_declared_attributes(tmp_path):
    setup = FreeRunSetup(_request(str(tmp_path / "free.log"), n_trials=4))
    constructed = set(vars(setup))
    setup.prepare()
    assert set(vars(setup)) - constructed <= _declared(FreeRunSetup)
    assert setup.store.fleet_attrs()["optgui:fleet"]["mode"] == "free"


@pytest.mark.parametrize("module", [runner, coordinator], ids=lambda m: m.__name__)
def test_no_attribute_of_a_runner_is_read_with_a_getattr_default(module):
    calls = [
        node
        for node in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "hasattr")
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "self"
    ]
    assert calls == []
