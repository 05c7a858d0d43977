"""A study file from someone else: JSON nested 3000 levels deep in an attribute, and malformed `optgui:` records,
never crash inspect, verify, run or the app's reader. inspect shows what it can, verify and run refuse with one
clear line, and the file is left byte-identical with nothing created beside it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from optgui.core.errors import StorageError
from optgui.core.records import MetadataError, StudyMetadata
from optgui.core.storage._reader import open_reader
from tests.support.trust import assert_clean_exit, deep_json, folder_state, optgui, set_study_attr, set_trial_attr
from tests.support.verify import run_in_process

STUDY = "trust"


@pytest.fixture(scope="module")
def made_by_optgui(tmp_path_factory) -> Path:
    """A real optgui run: two segments (paused after trial 2), a saved state at boundary 3."""
    path = tmp_path_factory.mktemp("made") / "study.db"
    run_in_process(path, "TPESampler(seed=5)", "builtin:quadratic", 6, pause_after=2, study_name=STUDY)
    return path


@pytest.fixture
def copy(made_by_optgui, tmp_path) -> Path:
    folder = tmp_path / "study"
    folder.mkdir()
    return Path(shutil.copy(made_by_optgui, folder / "study.db"))


def inspect_everything(db: Path) -> None:
    for args in (["--json"], ["--study", STUDY]):  # the study list with its metadata, and the trials
        proc = optgui("inspect", str(db), *args, cwd=db.parent)
        assert_clean_exit(proc, {0})


# --- JSON nested deeper than Python decodes ------------------------------------------------------------------
@pytest.mark.parametrize(
    "where",
    ["study optgui attr", "study run record", "trial optgui attr", "trial optuna attr", "trial user attr"],
)
def test_deeply_nested_attribute_is_shown_as_text_by_inspect_and_refused_by_verify(copy, where):
    deep = deep_json()
    if where == "study optgui attr":
        set_study_attr(copy, "optgui:note", deep)
    elif where == "study run record":
        set_study_attr(copy, "optgui:run", deep)
    elif where == "trial optgui attr":
        set_trial_attr(copy, 1, "optgui:error", deep)
    elif where == "trial optuna attr":
        set_trial_attr(copy, 1, "cma:optimizer:0", deep)
    else:
        set_trial_attr(copy, 1, "note", deep, table="trial_user_attributes")
    before = folder_state(copy)

    inspect_everything(copy)
    with open_reader(str(copy)) as reader:
        summary = reader.studies()[0]
        attrs = reader.trial_system_attrs(STUDY, prefix="")
        table = reader.trials(STUDY)
    if where.startswith("study"):
        key = "optgui:note" if where == "study optgui attr" else "optgui:run"
        assert summary.optgui_metadata[key] == deep  # undecodable: shown as the stored text
        StudyMetadata.from_system_attrs(dict(summary.optgui_metadata))  # the app parses it without crashing
    elif where == "trial user attr":
        assert table.user_attrs["note"][1] == deep
    else:
        assert attrs[1][next(k for k in attrs[1] if k in ("optgui:error", "cma:optimizer:0"))] == deep

    proc = optgui("verify", str(copy), "--no-cache", cwd=copy.parent)
    assert_clean_exit(proc, {2, 3})
    assert folder_state(copy) == before


def test_deeply_nested_journal_line_is_one_clear_error(tmp_path):
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = tmp_path / "study.log"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(path))), study_name=STUDY)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    (tmp_path / "study.log.lock").unlink(missing_ok=True)
    op = {"op_code": 3, "worker_id": "w", "study_id": 0, "system_attr": {"optgui:note": "DEEP"}}  # study system attr
    with open(path, "a") as handle:
        handle.write(json.dumps(op).replace('"DEEP"', deep_json()) + "\n")
    before = folder_state(path)
    proc = optgui("inspect", str(path), cwd=tmp_path)
    assert_clean_exit(proc, {3})
    assert "nested deeper than can be decoded" in proc.stderr
    proc = optgui("verify", str(path), "--no-cache", cwd=tmp_path)
    assert_clean_exit(proc, {2, 3})
    with pytest.raises(StorageError, match="nested deeper than can be decoded"):
        with open_reader(str(path)) as reader:
            reader.studies()
    assert folder_state(path) == before


def test_deeply_nested_distribution_is_one_clear_error(copy):
    from tests.support.trust import edit

    edit(copy, ("UPDATE trial_params SET distribution_json = ? WHERE param_name = 'x'", (deep_json(),)))
    proc = optgui("inspect", str(copy), "--study", STUDY, cwd=copy.parent)
    assert_clean_exit(proc, {3})
    assert "distribution is not valid" in proc.stderr


# --- malformed optgui: records -------------------------------------------------------------------------------
MALFORMED = {
    "run record is a string": ("optgui:run", '"hello"'),
    "run record without sampler": ("optgui:run", '{"directions": ["minimize"]}'),
    "run record with bad directions": ("optgui:run", '{"sampler": "tpe", "directions": [1]}'),
    "segment index is text": ("optgui:segment:0", '{"index": "x", "start_trial": 0}'),
    "segment index disagrees with its key": ("optgui:segment:1", '{"index": 0, "start_trial": 3, "end": null}'),
    "segment start is huge": ("optgui:segment:1", '{"index": 1, "start_trial": 1e300, "end": null}'),
    "segment end without last trial": ("optgui:segment:1", '{"index": 1, "start_trial": 3, "end": {"reason": "x"}}'),
    "segment key without number": ("optgui:segment:one", '{"index": 1, "start_trial": 3}'),
    "state is a list": ("optgui:state:3", "[1, 2]"),
    "state key is not a number": ("optgui:state:x", '{"boundary": 3, "sampler_state": {}}'),
    "state without sampler state": ("optgui:state:3", '{"boundary": 3}'),
    "lease pid is text": ("optgui:lease", '{"host": "h", "pid": "abc", "heartbeat": "2026-01-01T00:00:00+00:00"}'),
    "lease heartbeat without zone": ("optgui:lease", '{"host": "h", "pid": 1, "heartbeat": "2026-01-01T00:00:00"}'),
    "target is negative": ("optgui:target", '{"n_trials": -5}'),
    "checkpoint is a number": ("optgui:checkpoint", "7"),
    "schema is text": ("optgui:schema", '"1"'),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_record_is_named_by_verify_and_run_and_shown_by_inspect(copy, case):
    key, value = MALFORMED[case]
    set_study_attr(copy, key, value)
    before = folder_state(copy)

    with open_reader(str(copy)) as reader:
        meta = StudyMetadata.from_system_attrs(dict(reader.studies()[0].optgui_metadata))
    assert meta.present and any(p.startswith(key) for p in meta.problems), meta.problems
    with pytest.raises(MetadataError, match="malformed"):
        meta.check()
    inspect_everything(copy)

    proc = optgui("verify", str(copy), "--no-cache", cwd=copy.parent)
    assert_clean_exit(proc, {2})
    assert "optgui metadata is malformed" in proc.stdout and key in proc.stdout, proc.stdout
    assert folder_state(copy) == before

    proc = optgui("run", str(copy), "--study", STUDY, "--n-trials", "8", cwd=copy.parent)
    assert_clean_exit(proc, {3})
    assert "optgui metadata is malformed" in proc.stderr and key in proc.stderr, proc.stderr
    assert folder_state(copy) == before  # refused before anything was written


def test_well_formed_records_have_no_problems(made_by_optgui):
    with open_reader(str(made_by_optgui)) as reader:
        meta = StudyMetadata.from_system_attrs(dict(reader.studies()[0].optgui_metadata))
    assert meta.problems == () and len(meta.segments) == 2 and 3 in meta.states
    assert meta.check() is meta
