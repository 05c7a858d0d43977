"""Version changes that matter: a run records the versions of the packages its sampler uses; a package the sampler
never imports is no change; a changed one does not block the run but is checked by replaying the recorded history
under the new versions (equivalent when it matches, replayable only when it really diverges)."""

from __future__ import annotations

import importlib.metadata
import inspect
import pathlib
import platform
import sqlite3

import numpy as np
import optuna
import pytest

from optgui.core import records
from optgui.core.engine import _versions as versions
from optgui.core.engine._runner import RunRequest, StudyRunner
from optgui.core.engine._samplers import parse_spec
from optgui.core.verify._verifier import verify_study
from tests.support.determinism import first_difference, recorded, reference

STUDY = "demo"
SAMPLER = "TPESampler(seed=42)"  # the demo's sampler (optgui.core.engine._demo)
OBJECTIVE = "builtin:quadratic"
OLD_NUMPY = "1.26.4"


def _request(path, n_trials: int) -> RunRequest:
    # No accept_version_change anywhere: a version change needs no consent.
    return RunRequest(storage=str(path), study_name=STUDY, objective=OBJECTIVE, sampler=SAMPLER, n_trials=n_trials)


def _storage(path):
    return optuna.storages.RDBStorage(f"sqlite:///{path}")


def _rewrite_versions(path, **changed) -> None:
    """Make the study look as if an earlier install had recorded these versions (run record and every segment)."""
    storage = _storage(path)
    sid = storage.get_study_id_from_name(STUDY)
    attrs = storage.get_study_system_attrs(sid)
    run = attrs[records.KEY_RUN]
    storage.set_study_system_attr(sid, records.KEY_RUN, {**run, "versions": {**run["versions"], **changed}})
    for key, value in attrs.items():
        if key.startswith(records.KEY_SEGMENT):
            storage.set_study_system_attr(sid, key, {**value, "versions": {**value["versions"], **changed}})
    storage.remove_session()


def _segments(path) -> list[dict]:
    storage = _storage(path)
    meta = records.read_metadata(storage, storage.get_study_id_from_name(STUDY))
    return list(meta.segments)


def _todays_main_versions() -> dict:
    """The run record's versions as optgui recorded them before this policy: every tracked package."""

    def version(name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        **{name: version(name) for name in ("optuna", "numpy", "scipy", "cmaes", "torch")},
        "greenlet": version("greenlet") is not None,
        "python": platform.python_version(),
    }


# --- which sampler uses what --------------------------------------------------------------------------------------
def _sources(module_name: str) -> str:
    module = __import__(module_name, fromlist=["_"])
    path = pathlib.Path(inspect.getfile(module))
    files = sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else [path]
    return "\n".join(f.read_text() for f in files)


def test_the_package_table_matches_what_optuna_imports():
    """The table in optgui.core.engine._versions was read from Optuna's sources; this pins it, so an Optuna upgrade that
    makes TPE import scipy (say) fails here instead of silently ignoring a version change that matters."""
    tpe = _sources("optuna.samplers._tpe")
    for package in ("scipy", "cmaes", "torch", "greenlet"):
        assert f"import {package}" not in tpe and f"from {package}" not in tpe, package
    assert "scipy.stats.qmc" in _sources("optuna.samplers._qmc")
    assert "import cmaes" in _sources("optuna.samplers._cmaes")
    gp = _sources("optuna._gp") + _sources("optuna.samplers._gp")
    assert "import torch" in gp and "scipy" in gp and "from greenlet import" in gp
    assert "scipy.stats" in _sources("optuna.pruners._wilcoxon")


@pytest.mark.parametrize(
    "spec,pruner,expected",
    [
        ("TPESampler(seed=42)", "MedianPruner()", ("optuna", "numpy")),
        ("RandomSampler(seed=1)", "MedianPruner()", ("optuna", "numpy")),
        ("NSGAIISampler(seed=1)", "NopPruner()", ("optuna", "numpy")),
        ("QMCSampler(seed=1)", "MedianPruner()", ("optuna", "numpy", "scipy")),
        ("CmaEsSampler(seed=1)", "MedianPruner()", ("optuna", "numpy", "cmaes")),
        ("GPSampler(seed=1)", "MedianPruner()", ("optuna", "numpy", "torch", "scipy", "greenlet")),
        (
            "CmaEsSampler(seed=1, independent_sampler=QMCSampler(seed=2))",
            "MedianPruner()",
            ("optuna", "numpy", "cmaes", "scipy"),
        ),
        ("TPESampler(seed=1)", "WilcoxonPruner()", ("optuna", "numpy", "scipy")),
    ],
)
def test_used_packages_per_sampler(spec, pruner, expected):
    assert versions.used_packages(parse_spec(spec, "sampler"), parse_spec(pruner, "pruner")) == expected


def test_a_package_the_sampler_does_not_use_is_no_change():
    recorded_then = {**_todays_main_versions(), "scipy": None, "cmaes": None}
    now = {**recorded_then, "scipy": "1.17.1", "cmaes": "0.13.1"}
    tpe = versions.used_packages(parse_spec(SAMPLER, "sampler"))
    assert versions.version_differences(recorded_then, now, tpe) == {}
    assert versions.version_differences(
        recorded_then, now, versions.used_packages(parse_spec("QMCSampler(seed=1)", "sampler"))
    ) == {"scipy": (None, "1.17.1")}


# --- the demo after installing the test extra ---------------------------------------------------------------------
def test_demo_recorded_without_scipy_and_cmaes_resumes_and_stays_equivalent(tmp_path):
    """The README's test install adds scipy and cmaes; a TPE demo recorded before that resumes without any prompt,
    verifies equivalent and equals plain TPESampler(seed=42)."""
    path = tmp_path / "demo.db"
    StudyRunner(_request(path, 12)).run()
    _rewrite_versions(path, **{**_todays_main_versions(), "scipy": None, "cmaes": None})

    runner = StudyRunner(_request(path, 25))
    outcome = runner.run()  # today's main: "package versions differ (scipy None -> ..., cmaes None -> ...)"

    assert outcome.reason == "completed" and outcome.n_finished == 25
    assert not any("version" in note for note in runner.notes)
    segment = _segments(path)[-1]
    assert "version_change" not in segment and not segment["accepted"]
    assert set(segment["versions"]) == {"optuna", "numpy", "python"}  # what TPE uses (and Python, informative)
    verdict = verify_study(str(path), STUDY, use_cache=False)
    assert verdict.verified and verdict.equivalent, verdict.summary()
    assert verdict.n_checked == 25 and verdict.version_checks == ()
    assert first_difference(reference(SAMPLER, OBJECTIVE, 25), recorded(str(path), study_name=STUDY)) is None


def test_a_new_run_records_only_what_its_sampler_uses(tmp_path):
    path = tmp_path / "s.db"
    StudyRunner(_request(path, 2)).run()
    storage = _storage(path)
    run = storage.get_study_system_attrs(storage.get_study_id_from_name(STUDY))[records.KEY_RUN]
    assert run["versions"] == versions.versions_for(
        parse_spec(SAMPLER, "sampler"), parse_spec("MedianPruner()", "pruner")
    )
    assert run["versions"]["numpy"] == np.__version__ and "scipy" not in run["versions"]


# --- a version the sampler uses changed -----------------------------------------------------------------------------
def test_a_changed_numpy_runs_on_and_the_verdict_shows_the_checked_change(tmp_path):
    path = tmp_path / "demo.db"
    StudyRunner(_request(path, 10)).run()
    _rewrite_versions(path, numpy=OLD_NUMPY)

    runner = StudyRunner(_request(path, 20))
    outcome = runner.run()  # today's main: StudyStateError "package versions differ ... --accept-version-change"

    assert outcome.reason == "completed" and outcome.n_finished == 20
    assert any(note.startswith("version change: checking") and OLD_NUMPY in note for note in runner.notes)
    segment = _segments(path)[-1]
    assert segment["version_change"] == {"numpy": [OLD_NUMPY, np.__version__]}
    verdict = verify_study(str(path), STUDY, use_cache=False)
    assert verdict.verified and verdict.equivalent, verdict.summary()
    assert verdict.n_checked == 20
    [check] = verdict.version_checks
    assert (check.segment, check.trial, check.status) == (1, 10, "checked")
    assert check.change == f"numpy {OLD_NUMPY} -> {np.__version__}"
    assert any("version change at trial 10" in line and "checked" in line for line in verdict.summary())
    assert first_difference(reference(SAMPLER, OBJECTIVE, 20), recorded(str(path), study_name=STUDY)) is None


def test_a_real_divergence_under_a_version_change_makes_the_run_replayable_only(tmp_path):
    """Segment 0 was (as far as the record says) computed by another numpy, which suggested a different x at
    trial 5; the run then went on under today's numpy from the saved state. The replay under today's numpy cannot
    reproduce trials 5-9, but everything the run did after the change is still checked."""
    path = tmp_path / "demo.db"
    StudyRunner(_request(path, 10)).run()
    _rewrite_versions(path, numpy=OLD_NUMPY)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE trial_params SET param_value = 1.25 WHERE param_name = 'x' AND trial_id = "
            "(SELECT trial_id FROM trials WHERE number = 5)"
        )
    conn.close()
    StudyRunner(_request(path, 20)).run()

    verdict = verify_study(str(path), STUDY, use_cache=False)

    assert verdict.kind == "verified" and not verdict.equivalent, verdict.summary()
    assert verdict.n_checked == 15 and verdict.n_total == 20  # trials 0-4 and 10-19
    assert any("trials 5–9 were recorded under other package versions" in r for r in verdict.reasons)
    [check] = verdict.version_checks
    assert (check.trial, check.status) == (10, "diverged")
    assert "replayable only" in verdict.headline()


def test_a_divergence_without_a_later_version_change_is_still_a_divergence(tmp_path):
    """An edit inside a segment recorded under today's versions is no version effect: diverged, as before."""
    path = tmp_path / "demo.db"
    StudyRunner(_request(path, 10)).run()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE trial_params SET param_value = 1.25 WHERE param_name = 'x' AND trial_id = "
            "(SELECT trial_id FROM trials WHERE number = 5)"
        )
    conn.close()
    verdict = verify_study(str(path), STUDY, use_cache=False)
    assert verdict.kind == "diverged" and verdict.divergence.trial == 5


def test_a_history_too_long_to_replay_in_time_leaves_the_change_unchecked(tmp_path):
    """Bounded: when the replay has not reached the version change within its budget (a long GPSampler history
    replays at seconds per trial), the history before the change is taken as given, the change stays unchecked,
    and what the run did after the change is still checked."""
    path = tmp_path / "demo.db"
    StudyRunner(_request(path, 10)).run()
    _rewrite_versions(path, numpy=OLD_NUMPY)
    StudyRunner(_request(path, 20)).run()

    verdict = verify_study(str(path), STUDY, use_cache=False, version_check_budget=0.0)

    assert verdict.verified, verdict.summary()
    assert (verdict.n_checked, verdict.n_total, verdict.first_trial) == (10, 20, 10)
    [check] = verdict.version_checks
    assert (check.trial, check.status) == (10, "unchecked")
    assert any("were not replayed" in note for note in verdict.notes)


def test_a_change_accepted_by_an_older_optgui_is_checked_the_same_way(tmp_path):
    """Studies resumed with --accept-version-change before this policy carry the change in segment["accepted"]
    ["versions"] (no version_change key): they are no longer 'replayable only' when the replay matches."""
    path = tmp_path / "demo.db"
    StudyRunner(_request(path, 10)).run()
    _rewrite_versions(path, numpy=OLD_NUMPY)
    StudyRunner(_request(path, 20)).run()
    storage = _storage(path)
    sid = storage.get_study_id_from_name(STUDY)
    segment = storage.get_study_system_attrs(sid)[records.segment_key(1)]
    legacy = {k: v for k, v in segment.items() if k != "version_change"}
    legacy["accepted"] = {"versions": segment["version_change"]}
    storage.set_study_system_attr(sid, records.segment_key(1), legacy)
    storage.remove_session()

    verdict = verify_study(str(path), STUDY, use_cache=False)

    assert verdict.verified and verdict.equivalent, verdict.summary()
    assert [c.status for c in verdict.version_checks] == ["checked"]
