"""Reading optuna-dashboard's notes and Optuna's artifact metadata from studies made by the real packages, and
saving notes that optuna-dashboard reads back (both ways)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from optgui.core.annotations import (
    NoteConflictError,
    artifact_path,
    artifact_size,
    find_artifact_store,
    read_annotations,
    read_artifacts,
    read_notes,
    save_note,
)
from optgui.core.errors import LeaseHeldError, StudyStateError
from optgui.core.storage import open_reader
from tests.support.annotated import ARTIFACT_FILES, LONG_NOTE, make_annotated_study

pytestmark = pytest.mark.needs("optuna_dashboard")


@pytest.fixture
def annotated(tmp_path):
    return make_annotated_study(tmp_path)


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _dashboard_note(storage: str, name: str, trial_number: int | None) -> str:
    import optuna
    from optuna_dashboard import get_note

    study = optuna.load_study(study_name=name, storage=f"sqlite:///{storage}")
    if trial_number is None:
        return get_note(study)
    frozen = study.get_trials(deepcopy=False)[trial_number]
    return get_note(optuna.Trial(study, frozen._trial_id))


def test_notes_written_by_the_dashboard_are_read(annotated):
    with open_reader(annotated.storage) as reader:
        notes = read_notes(reader, annotated.study_name)
    assert notes.study is not None and notes.study.body.startswith("## Study note")
    assert notes.study.version == 1
    assert sorted(notes.trials) == [0, 2]
    assert notes.for_trial(0).body == "**Trial 0** note, second version"
    assert notes.for_trial(0).version == 2
    assert notes.for_trial(2).body == LONG_NOTE  # split over several attributes by the dashboard
    assert len(LONG_NOTE) > 3 * 2045
    assert notes.for_trial(1) is None
    assert notes.problems == []
    assert notes.numbers_with_text().tolist() == [0, 2]


def test_artifacts_uploaded_by_optuna_are_listed_with_sizes(annotated):
    with open_reader(annotated.storage) as reader:
        artifacts = read_artifacts(reader, annotated.study_name)
    assert [a.filename for a in artifacts.study] == ["summary.txt"]
    listed = {a.filename: a for a in artifacts.for_trial(1)}
    assert set(listed) == set(ARTIFACT_FILES)
    assert listed["plot.png"].mimetype == "image/png"
    assert listed["table.csv"].mimetype == "text/csv"
    assert listed["config.json"].mimetype == "application/json"
    assert listed["weights.bin"].mimetype == "application/octet-stream"
    assert listed["plot.png"].artifact_id == annotated.artifact_ids["plot.png"]
    store = find_artifact_store(Path(annotated.storage))
    assert store == annotated.store
    for filename, content in ARTIFACT_FILES.items():
        assert artifact_size(store, listed[filename].artifact_id) == len(content)
    assert artifacts.counts()[0].tolist() == [1] and artifacts.total == len(ARTIFACT_FILES) + 1


def test_a_missing_artifact_file_is_missing_not_an_error(annotated):
    (annotated.store / annotated.artifact_ids["log.txt"]).unlink()
    assert artifact_size(annotated.store, annotated.artifact_ids["log.txt"]) is None
    assert artifact_size(annotated.store, annotated.artifact_ids["table.csv"]) == len(ARTIFACT_FILES["table.csv"])
    assert artifact_size(None, annotated.artifact_ids["table.csv"]) is None
    assert artifact_path(annotated.store, "../outside") is None
    assert artifact_path(annotated.store, "/etc/passwd") is None


def test_malformed_records_give_a_message_and_hide_nothing_else(annotated):
    import optuna

    storage = optuna.storages.RDBStorage(f"sqlite:///{annotated.storage}")
    study_id = storage.get_study_id_from_name(annotated.study_name)
    trial_ids = [t._trial_id for t in storage.get_all_trials(study_id)]
    storage.set_study_system_attr(study_id, f"dashboard:{trial_ids[3]}:note_ver", "seven")
    storage.set_study_system_attr(study_id, f"dashboard:{trial_ids[3]}:note_str:1", "second half only")
    storage.set_study_system_attr(study_id, "dashboard:99999:note_ver", 1)
    storage.set_study_system_attr(study_id, "dashboard:99999:note_str:0", "orphan")
    storage.engine.dispose()
    # Optuna refuses attributes on finished trials: write the malformed artifact records as a damaged file has them.
    with sqlite3.connect(annotated.storage) as db:
        db.executemany(
            "INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, ?, ?)",
            [
                (trial_ids[3], "artifacts:broken", json.dumps("{not json")),
                (trial_ids[3], "artifacts:partial", json.dumps(json.dumps({"artifact_id": "partial"}))),
            ],
        )
    db.close()
    with open_reader(annotated.storage) as reader:
        annotations = read_annotations(reader, annotated.study_name)
    notes, artifacts = annotations.notes, annotations.artifacts
    assert notes.for_trial(3).body == "second half only"
    assert "'seven', not an integer" in notes.for_trial(3).problem
    assert "lacks part 0 of 2" in notes.for_trial(3).problem
    assert notes.for_trial(0).body == "**Trial 0** note, second version" and notes.for_trial(0).problem is None
    assert notes.for_trial(2).body == LONG_NOTE
    assert [o.body for o in notes.orphans] == ["orphan"]
    broken = {a.artifact_id: a for a in artifacts.for_trial(3)}
    assert broken["broken"].problem == "is not JSON"
    assert broken["partial"].problem == "has no 'filename'"
    assert len(artifacts.for_trial(1)) == len(ARTIFACT_FILES)
    problems = annotations.problems
    assert any("trial 3" in p and "not an integer" in p for p in problems)
    assert any("trial id 99999" in p for p in problems)
    assert any("'broken' is not JSON" in p for p in problems)


def test_saved_notes_read_back_by_the_dashboard_and_versions_bump_like_it(annotated):
    save_note(annotated.storage, annotated.study_name, None, "Study note by **optgui**", expected_version=1)
    save_note(annotated.storage, annotated.study_name, 1, LONG_NOTE + "tail", expected_version=0)
    # Shortening a long note clears the chunks it no longer needs, as the dashboard does.
    version = save_note(annotated.storage, annotated.study_name, 2, "short now", expected_version=1)
    assert version == 2
    assert _dashboard_note(annotated.storage, annotated.study_name, None) == "Study note by **optgui**"
    assert _dashboard_note(annotated.storage, annotated.study_name, 1) == LONG_NOTE + "tail"
    assert _dashboard_note(annotated.storage, annotated.study_name, 2) == "short now"
    with open_reader(annotated.storage) as reader:
        notes = read_notes(reader, annotated.study_name)
    assert (notes.study.version, notes.for_trial(1).version, notes.for_trial(2).version) == (2, 1, 2)


def test_saved_attributes_equal_what_the_dashboard_writes(tmp_path):
    """The same edits through optgui and through optuna_dashboard.save_note leave identical attributes."""
    import optuna
    from optuna_dashboard import save_note as dashboard_save_note

    attrs = []
    for who in ("optgui", "dashboard"):
        path = tmp_path / f"{who}.db"
        study = optuna.create_study(study_name="s", storage=f"sqlite:///{path}")
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
        for version, body in enumerate([LONG_NOTE, "short", ""]):
            if who == "optgui":
                save_note(str(path), "s", None, body, expected_version=version)
                save_note(str(path), "s", 1, body, expected_version=version)
            else:
                dashboard_save_note(study, body)
                dashboard_save_note(optuna.Trial(study, study.trials[1]._trial_id), body)
        attrs.append(study._storage.get_study_system_attrs(study._study_id))
    assert attrs[0] == attrs[1]
    assert any(key.startswith("dashboard:") for key in attrs[0])


def test_a_stale_version_is_refused_and_writes_nothing(annotated):
    before = _digest(annotated.storage)
    with pytest.raises(NoteConflictError, match="saved elsewhere"):
        save_note(annotated.storage, annotated.study_name, 0, "mine", expected_version=1)  # stored: 2
    assert _digest(annotated.storage) == before


def test_a_live_lease_of_another_process_refuses_the_save(annotated):
    import optuna

    from optgui.core.records import KEY_LEASE, LeaseRecord

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lease = LeaseRecord.taken("token").to_json() | {"pid": sleeper.pid}
        storage = optuna.storages.RDBStorage(f"sqlite:///{annotated.storage}")
        storage.set_study_system_attr(storage.get_study_id_from_name(annotated.study_name), KEY_LEASE, lease)
        storage.engine.dispose()
        before = _digest(annotated.storage)
        with pytest.raises(LeaseHeldError, match="being run by"):
            save_note(annotated.storage, annotated.study_name, None, "x", expected_version=1)
        assert _digest(annotated.storage) == before
        # A run of this app's own engine writes beside it.
        assert (
            save_note(annotated.storage, annotated.study_name, None, "x", expected_version=1, own_pids=[sleeper.pid])
            == 2
        )
    finally:
        sleeper.kill()
        sleeper.wait()


def test_reading_leaves_the_file_byte_identical(annotated):
    before = _digest(annotated.storage)
    with open_reader(annotated.storage) as reader:
        read_annotations(reader, annotated.study_name)
    assert _digest(annotated.storage) == before


def test_journal_files_give_the_same_notes_and_artifacts(tmp_path, annotated):
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    journal = tmp_path / "copy.log"
    target = JournalStorage(JournalFileBackend(str(journal)))
    optuna.copy_study(
        from_study_name=annotated.study_name,
        from_storage=f"sqlite:///{annotated.storage}",
        to_storage=target,
    )
    with open_reader(str(journal)) as reader:
        annotations = read_annotations(reader, annotated.study_name)
    assert annotations.notes.study.body.startswith("## Study note")
    # copy_study copies study attributes verbatim: trial notes keep the source's trial ids, which the copy's
    # trials (ids from 0) may not have. Whatever cannot be placed is listed, never dropped.
    placed = len(annotations.notes.trials) + len(annotations.notes.orphans)
    assert placed == 2
    assert {a.filename for a in annotations.artifacts.for_trial(1)} == set(ARTIFACT_FILES)


def test_a_note_with_a_malformed_version_is_not_saved(annotated):
    import optuna

    storage = optuna.storages.RDBStorage(f"sqlite:///{annotated.storage}")
    storage.set_study_system_attr(storage.get_study_id_from_name(annotated.study_name), "dashboard:note_ver", "x")
    storage.engine.dispose()
    before = _digest(annotated.storage)
    with pytest.raises(StudyStateError, match="malformed version"):
        save_note(annotated.storage, annotated.study_name, None, "new", expected_version=0)
    assert _digest(annotated.storage) == before
