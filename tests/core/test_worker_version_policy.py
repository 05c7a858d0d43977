"""A fleet worker follows the runner's version policy: a changed version of a package the run's sampler uses does not
stop it (a deterministic-mode worker never samples); the change is recorded in the worker's record and said once.
A package the sampler does not use is no change."""

from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage

from optgui.core import records
from optgui.core.fleet import _store as fl
from optgui.core.fleet._worker import FleetWorker
from optgui.core.verify._verifier import verify_study
from tests.support.fleet import (
    batched_reference,
    child_env,
    fleet_difference,
    optgui_cmd,
    run_fleet,
    write_objective,
)

pytestmark = pytest.mark.slow

STUDY = "versions"
SAMPLER = "TPESampler(seed=3, n_startup_trials=4)"
OLD_NUMPY = "1.26.4"


def _record_versions(journal, **changed) -> None:
    """Make the study look as if an earlier install had recorded these versions: the run record and every segment,
    rewritten with the records' own writers."""
    storage = JournalStorage(JournalFileBackend(str(journal)))
    study_id = storage.get_study_id_from_name(STUDY)
    meta = records.read_metadata(storage, study_id)
    run, target = meta.run_record, meta.target_record
    assert run is not None and target is not None
    records.write_run(
        storage,
        study_id,
        dataclasses.replace(run, versions={**run.versions, **changed}),
        target,
    )
    for raw in meta.segments:
        segment = records.Segment.from_json(raw)
        records.write_segment(
            storage,
            study_id,
            dataclasses.replace(segment, versions={**(segment.versions or {}), **changed}),
        )


def _worker_records(journal) -> list[dict]:
    storage = JournalStorage(JournalFileBackend(str(journal)))
    attrs = storage.get_study_system_attrs(storage.get_study_id_from_name(STUDY))
    return [value for key, value in sorted(attrs.items()) if key.startswith(fl.KEY_WORKER)]


def _completed_fleet(tmp_path, n_trials: int):
    objective = write_objective(tmp_path)
    journal = tmp_path / "fleet.log"
    env = child_env(FLEET_MAX_SLEEP=0.005)
    proc = run_fleet(
        str(journal),
        STUDY,
        f"{objective}:search_space,evaluate",
        SAMPLER,
        n_trials,
        workers=2,
        batch=2,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return objective, journal, env


def test_a_worker_under_a_changed_numpy_evaluates_and_records_the_change(tmp_path):
    _objective, journal, _env = _completed_fleet(tmp_path, 4)
    _record_versions(journal, numpy=OLD_NUMPY)

    worker = FleetWorker(str(journal), STUDY)
    worker.prepare()  # today's main: StudyStateError "package versions differ ... --accept-version-change"
    try:
        assert worker.version_change == {"numpy": [OLD_NUMPY, np.__version__]}
        [note] = worker.notes
        assert note.startswith(f"version change: numpy {OLD_NUMPY} -> {np.__version__}") and "does not sample" in note
        [record] = [r for r in _worker_records(journal) if r["index"] == worker.index]
        assert record["version_change"] == {"numpy": [OLD_NUMPY, np.__version__]}
        assert records.WorkerRecord.from_json(record).version_change == {"numpy": [OLD_NUMPY, np.__version__]}
    finally:
        worker.registration.close()


def test_a_package_the_sampler_does_not_use_is_no_change_for_a_worker(tmp_path):
    _objective, journal, _env = _completed_fleet(tmp_path, 2)
    _record_versions(journal, scipy=None, cmaes=None, torch=None)  # TPE computes with none of them

    worker = FleetWorker(str(journal), STUDY)
    worker.prepare()
    try:
        assert worker.version_change is None and worker.notes == []
        [record] = [r for r in _worker_records(journal) if r["index"] == worker.index]
        assert "version_change" not in record
    finally:
        worker.registration.close()


def test_a_fleet_recorded_under_another_numpy_resumes_with_its_workers_and_stays_equivalent(
    tmp_path,
):
    """The rerun's coordinator records the change in its segment (the verifier checks it by replay); its workers,
    which today's main stopped at once, evaluate, and the trials equal the batched reference."""
    objective, journal, env = _completed_fleet(tmp_path, 4)
    _record_versions(journal, numpy=OLD_NUMPY)

    proc = run_fleet(
        str(journal),
        STUDY,
        f"{objective}:search_space,evaluate",
        SAMPLER,
        8,
        workers=2,
        batch=2,
        env=env,
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    storage = JournalStorage(JournalFileBackend(str(journal)))
    reference = batched_reference(SAMPLER, objective, 8, 2, study_name="ref")
    difference = fleet_difference(reference, storage, STUDY)
    assert difference is None, difference
    meta = records.read_metadata(storage, storage.get_study_id_from_name(STUDY))
    assert meta.last_segment is not None
    assert meta.last_segment["version_change"] == {"numpy": [OLD_NUMPY, np.__version__]}
    verdict = verify_study(str(journal), STUDY, use_cache=False)
    assert verdict.verified and verdict.equivalent, verdict.summary()
    assert [check.status for check in verdict.version_checks] == ["checked"]


def test_optgui_worker_says_the_version_change_once_on_stderr(tmp_path):
    """`optgui worker` on a stopped fleet prints the note, then waits for the next session: stopped by SIGTERM."""
    _objective, journal, env = _completed_fleet(tmp_path, 2)
    _record_versions(journal, numpy=OLD_NUMPY)
    proc = subprocess.Popen(
        optgui_cmd("worker", str(journal), "--study", STUDY, "--quiet"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        while not any(line.startswith("optgui: worker ") for line in lines) and len(lines) < 50:
            line = proc.stderr.readline()
            if not line:  # today's main: the worker exits at once with "package versions differ ..."
                break
            lines.append(line)
    finally:
        proc.terminate()
        _out, rest = proc.communicate(timeout=60)
    said = "".join(lines) + rest
    notes = [line for line in lines if line.startswith("optgui: version change:")]
    expected = (
        f"optgui: version change: numpy {OLD_NUMPY} -> {np.__version__} since the run's last segment; "
        "the worker evaluates anyway: it does not sample (the coordinator does)\n"
    )
    assert notes == [expected], said
    assert "package versions differ" not in said and proc.returncode == 0, said
