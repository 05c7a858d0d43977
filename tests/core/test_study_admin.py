"""Study management without Qt: copies that Optuna loads with identical trials and that resume deterministically
(including a GA sampler whose caches hold trial ids), rename, delete, enqueue; sources are never written."""

from __future__ import annotations

import hashlib
import warnings

import optuna
import pytest

from optgui.core import records
from optgui.core.engine import _study_admin as study_admin
from optgui.core.errors import StudyStateError
from tests.support.determinism import STUDY, recorded, reference, run_cli


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(path, name=STUDY):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        return optuna.load_study(study_name=name, storage=f"sqlite:///{path}")


def _full(trial) -> tuple:
    return (
        trial.number,
        trial.state,
        trial.params,
        trial.distributions,
        trial.values,
        trial.datetime_start,
        trial.datetime_complete,
        trial.user_attrs,
        trial.intermediate_values,
        {k: v for k, v in trial.system_attrs.items()},
    )


def _occupied(path, n: int = 3):
    """A destination that already holds trials, so the copy's trial ids differ from the source's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(storage=f"sqlite:///{path}", study_name="other")
        study.optimize(lambda t: t.suggest_float("y", 0, 1), n_trials=n)
    return path


@pytest.mark.slow
def test_save_as_copies_trials_and_metadata_and_resumes_deterministically(tmp_path):
    sampler, objective = "TPESampler(seed=3)", "builtin:pruned"
    src = tmp_path / "src.db"
    assert run_cli(str(src), sampler, objective, 8).returncode == 0
    before = _digest(src)
    dst = _occupied(tmp_path / "copy.db")
    study_admin.copy_study_with_metadata(str(src), str(dst), STUDY)
    assert _digest(src) == before  # the original was only read
    original, copy = _load(src), _load(dst)
    assert [_full(t) for t in copy.trials] == [_full(t) for t in original.trials]
    assert [t._trial_id for t in copy.trials] != [t._trial_id for t in original.trials]
    src_meta = records.read_metadata(original._storage, original._study_id)
    dst_meta = records.read_metadata(copy._storage, copy._study_id)
    assert dst_meta.run == src_meta.run and dst_meta.segments == src_meta.segments
    assert dst_meta.states == src_meta.states
    assert dst_meta.lease == {"released": True, "copied": True}
    result = run_cli(str(dst), sampler, objective, 14)
    assert result.returncode == 0, result.stderr
    assert recorded(str(dst)) == reference(sampler, objective, 14)
    assert _digest(src) == before


@pytest.mark.slow
@pytest.mark.timeout(150)  # took 41 s on a busy 2-core machine
def test_copy_translates_ga_parent_cache_trial_ids(tmp_path):
    sampler, objective = "NSGAIISampler(seed=5, population_size=4)", "builtin:multi"
    src = tmp_path / "src.db"
    assert run_cli(str(src), sampler, objective, 13).returncode == 0
    dst = _occupied(tmp_path / "copy.db", n=5)
    study_admin.copy_study_with_metadata(str(src), str(dst), STUDY, "moved")
    original, copy = _load(src), _load(dst, "moved")
    src_attrs = original._storage.get_study_system_attrs(original._study_id)
    dst_attrs = copy._storage.get_study_system_attrs(copy._study_id)
    parent_keys = [k for k in src_attrs if study_admin.TRIAL_ID_LIST_KEY.match(k)]
    assert parent_keys, "the run should have cached parent populations"
    by_id = {t._trial_id: t.number for t in original.trials}
    by_new_id = {t._trial_id: t.number for t in copy.trials}
    for key in parent_keys:
        assert dst_attrs[key] != src_attrs[key]  # ids changed...
        assert [by_new_id[i] for i in dst_attrs[key]] == [by_id[i] for i in src_attrs[key]]  # ...same trials
    # The copy resumes exactly as an uninterrupted run would have continued.
    result = run_cli(str(dst), sampler, objective, 20, study_name="moved")
    assert result.returncode == 0, result.stderr
    assert recorded(str(dst), study_name="moved") == reference(sampler, objective, 20)


def test_translate_reaches_inside_saved_states():
    attrs = {
        "NSGAIISampler:parent:1": [10, 11],
        "optgui:state:4": {"boundary": 4, "study_attrs": {"NSGAIISampler:parent:1": [10, 12]}},
        "optgui:run": {"seed": 1},
        "other:parent:x": [10],
    }
    out = study_admin.translate_trial_ids(attrs, {10: 1, 11: 2, 12: 3})
    assert out["NSGAIISampler:parent:1"] == [1, 2]
    assert out["optgui:state:4"]["study_attrs"]["NSGAIISampler:parent:1"] == [1, 3]
    assert out["optgui:run"] == {"seed": 1} and out["other:parent:x"] == [10]


def test_copy_refuses_an_existing_name_and_leaves_the_destination_alone(tmp_path):
    src = tmp_path / "src.db"
    assert run_cli(str(src), "RandomSampler(seed=1)", "builtin:quadratic", 3).returncode == 0
    dst = _occupied(tmp_path / "dst.db")
    before = _digest(dst)
    with pytest.raises(StudyStateError, match="already has a study named 'other'"):
        study_admin.copy_study_with_metadata(str(src), str(dst), STUDY, "other")
    assert _digest(dst) == before


def test_rename_keeps_trials_and_metadata(tmp_path):
    db = tmp_path / "s.db"
    assert run_cli(str(db), "RandomSampler(seed=2)", "builtin:quadratic", 5).returncode == 0
    before = [_full(t) for t in _load(db).trials]
    study_admin.rename_study(str(db), STUDY, "renamed")
    assert optuna.get_all_study_names(f"sqlite:///{db}") == ["renamed"]
    renamed = _load(db, "renamed")
    assert [_full(t) for t in renamed.trials] == before
    assert records.read_metadata(renamed._storage, renamed._study_id).present


def test_delete_removes_only_that_study(tmp_path):
    db = _occupied(tmp_path / "s.db")
    assert run_cli(str(db), "RandomSampler(seed=2)", "builtin:quadratic", 4).returncode == 0
    other_before = [_full(t) for t in _load(db, "other").trials]
    study_admin.delete_study(str(db), STUDY)
    assert optuna.get_all_study_names(f"sqlite:///{db}") == ["other"]
    assert [_full(t) for t in _load(db, "other").trials] == other_before
    with pytest.raises(StudyStateError, match="no study named"):
        study_admin.delete_study(str(db), STUDY)


def test_delete_refuses_a_study_that_is_being_run(tmp_path):
    db = tmp_path / "s.db"
    assert run_cli(str(db), "RandomSampler(seed=2)", "builtin:quadratic", 2).returncode == 0
    study = _load(db)
    import os
    import socket

    study._storage.set_study_system_attr(
        study._study_id,
        records.KEY_LEASE,
        {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": "t",
            "acquired": records.now_iso(),
            "heartbeat": records.now_iso(),
        },
    )
    with pytest.raises(StudyStateError, match="being run"):
        study_admin.delete_study(str(db), STUDY)
    assert optuna.get_all_study_names(f"sqlite:///{db}") == [STUDY]


def test_enqueue_records_fixed_params_for_the_next_trial(tmp_path):
    db = tmp_path / "s.db"
    sampler, objective = "TPESampler(seed=9)", "builtin:quadratic"
    assert run_cli(str(db), sampler, objective, 4).returncode == 0
    params = dict(_load(db).trials[1].params)
    number = study_admin.enqueue_params(str(db), STUDY, params)
    assert number == 4
    assert run_cli(str(db), sampler, objective, 6).returncode == 0
    trials = _load(db).trials
    assert trials[4].params == params and trials[4].system_attrs["fixed_params"] == params


def _cancel_after(reports: int):
    """A (progress, cancelled) pair that asks to stop once `reports` progress reports arrived."""
    seen = []

    def progress(done, total):
        seen.append((done, total))

    return seen, progress, lambda: len(seen) >= reports


@pytest.fixture(scope="module")
def study_of_80(tmp_path_factory):
    src = tmp_path_factory.mktemp("source") / "src.db"
    assert run_cli(str(src), "RandomSampler(seed=4)", "builtin:quadratic", 80).returncode == 0
    return src


@pytest.mark.parametrize("destination", ["new file", "existing file", "journal file"])
def test_a_cancelled_copy_leaves_nothing_behind(tmp_path, destination, study_of_80):
    src = study_of_80
    before = _digest(src)
    dst = {
        "new file": tmp_path / "out" / "copy.db",
        "existing file": _occupied(tmp_path / "dst.db"),
        "journal file": tmp_path / "out" / "copy.log",
    }[destination]
    dst.parent.mkdir(exist_ok=True)
    existing = _digest(dst) if dst.exists() else None
    seen, progress, cancelled = _cancel_after(2)
    with pytest.raises(study_admin.CopyCancelled):
        study_admin.copy_study_with_metadata(str(src), str(dst), STUDY, progress=progress, cancelled=cancelled)
    assert seen[:2] == [(0, 80), (study_admin.PROGRESS_EVERY, 80)]  # it stopped part-way
    assert _digest(src) == before
    if existing is None:
        assert sorted(p.name for p in dst.parent.iterdir()) == []  # no copy, no hidden partial file
    else:
        assert optuna.get_all_study_names(f"sqlite:///{dst}") == ["other"]
    # Not cancelled: the same call completes and reports the end.
    seen, progress, _ = _cancel_after(10**9)
    study_admin.copy_study_with_metadata(str(src), str(dst), STUDY, progress=progress)
    assert seen[-1] == (80, 80)
    assert STUDY in optuna.get_all_study_names(
        study_admin.parse_storage(str(dst)).url
        or optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(dst)))
    )
    assert not [p for p in dst.parent.iterdir() if "partial" in p.name]


def test_a_cancelled_rename_keeps_the_original_name(tmp_path):
    db = tmp_path / "s.db"
    assert run_cli(str(db), "RandomSampler(seed=2)", "builtin:quadratic", 60).returncode == 0
    before = [_full(t) for t in _load(db).trials]
    _, progress, cancelled = _cancel_after(2)
    with pytest.raises(study_admin.CopyCancelled):
        study_admin.rename_study(str(db), STUDY, "renamed", progress=progress, cancelled=cancelled)
    assert optuna.get_all_study_names(f"sqlite:///{db}") == [STUDY]
    assert [_full(t) for t in _load(db).trials] == before
