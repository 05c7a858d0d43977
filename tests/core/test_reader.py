"""The reader equals Optuna on varied studies (SQLite and journal, UTC and non-UTC), polls incrementally, reads
WAL files without side files, and reads/upgrades old schemas only as allowed."""

from __future__ import annotations

import shutil
import sqlite3
import time

import numpy as np
import optuna
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage

from optgui.core.errors import StorageError
from optgui.core.storage._naming import snapshot_copy
from optgui.core.storage._reader import open_reader
from optgui.core.storage._schema import HEAD_REVISION, upgrade_with_backup
from optgui.core.storage._tables import COMPLETE, RUNNING
from tests.support.reader_fixtures import (
    UNICODE_NAME,
    assert_matches_optuna,
    current_schema_db,
    file_state,
    make_old_schema,
    populate,
)


@pytest.fixture(scope="module")
def varied_journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("varied_journal") / "varied.log"
    names = populate(JournalStorage(JournalFileBackend(str(path))))
    return path, names


@pytest.fixture(params=["UTC", "America/St_Johns"])
def timezone_env(request, monkeypatch):
    """Optuna's FrozenTrial shows naive local time; the reader UTC. A -3:30 zone makes a mix-up visible."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_sqlite_equals_optuna(varied_sqlite, tmp_path, timezone_env):
    path, names = varied_sqlite
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    before = file_state(copy)
    with open_reader(str(copy)) as reader:
        assert reader.schema.is_current and reader.notes == ()
        assert reader.study_names() == names
        for name in names:
            assert_matches_optuna(reader, f"sqlite:///{copy}", name)
    assert file_state(copy) == before


def test_journal_equals_optuna(varied_journal, timezone_env):
    path, names = varied_journal
    before = file_state(path)
    with open_reader(str(path)) as reader:
        assert reader.kind == "journal"
        assert reader.study_names() == names
        for name in names:
            assert_matches_optuna(reader, JournalStorage(JournalFileBackend(str(path))), name)
    assert file_state(path) == before


@pytest.mark.parametrize("which", ["sqlite", "journal"])
def test_summaries(varied_sqlite, varied_journal, which):
    path = varied_sqlite[0] if which == "sqlite" else varied_journal[0]
    storage = f"sqlite:///{path}" if which == "sqlite" else JournalStorage(JournalFileBackend(str(path)))
    with open_reader(str(path)) as reader:
        summaries = {s.name: s for s in reader.studies()}
    for name, summary in summaries.items():
        study = optuna.load_study(study_name=name, storage=storage)
        trials = study.trials
        assert summary.n_trials == len(trials)
        counts = {}
        for t in trials:
            counts[t.state.name] = counts.get(t.state.name, 0) + 1
        assert dict(summary.state_counts) == counts
        assert summary.directions == tuple(d.name.lower() for d in study.directions)
        complete = [t for t in trials if t.state.name == "COMPLETE"]
        if not complete:
            assert summary.best_values is None
        elif len(study.directions) == 1:
            assert summary.best_values == (study.best_value,)
        else:
            for k, direction in enumerate(summary.directions):
                pick = max if direction == "maximize" else min
                assert summary.best_values[k] == pick(t.values[k] for t in complete)
        if trials:
            starts = [t.datetime_start for t in trials if t.datetime_start]
            assert summary.first_activity == min(
                np.datetime64(s.astimezone(__import__("datetime").timezone.utc).replace(tzinfo=None), "us")
                for s in starts
            )
        else:
            assert np.isnat(summary.first_activity)
    assert summaries["three"].metric_names == ("loss", "accuracy", "latency")
    assert summaries["varied"].user_attrs == {"owner": "tests"}
    assert summaries[UNICODE_NAME].directions == ("maximize",)


def test_best_so_far_and_convergence_columns(varied_sqlite):
    path, _ = varied_sqlite
    with open_reader(str(path)) as reader:
        table = reader.trials("varied", params=False, user_attrs=False, datetimes=False)
        full = reader.trials("varied")
    assert not table.params and np.isnat(table.datetime_start).all()
    assert np.array_equal(table.number, full.number)
    best = table.best_so_far()
    complete = table.state == COMPLETE
    for row in range(len(table)):
        seen = table.values[: row + 1, 0][complete[: row + 1]]
        assert (np.isnan(best[row]) and len(seen) == 0) or best[row] == seen.min()
    with pytest.raises(ValueError):
        table.values[0, 0] = 1.0  # snapshots are read-only


def test_optgui_metadata_and_trial_system_attrs(tmp_path):
    path = tmp_path / "meta.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    study = optuna.create_study(storage=storage, study_name="m")
    storage.set_study_system_attr(study._study_id, "optgui:run", {"seed": 7, "sampler": "TPESampler"})
    storage.set_study_system_attr(study._study_id, "other:key", 1)
    trial = study.ask()
    storage.set_trial_system_attr(trial._trial_id, "optgui:error", "boom")
    study.tell(trial, 1.0)
    storage.engine.dispose()
    with open_reader(str(path)) as reader:
        (summary,) = reader.studies()
        assert dict(summary.optgui_metadata) == {"optgui:run": {"seed": 7, "sampler": "TPESampler"}}
        assert reader.trial_system_attrs("m") == {0: {"optgui:error": "boom"}}


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_poll_returns_only_new_and_changed_trials(tmp_path, kind):
    if kind == "sqlite":
        path = tmp_path / "live.db"
        storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    else:
        path = tmp_path / "live.log"
        storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(storage=storage, study_name="live", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=5)
    running = study.ask()
    with open_reader(str(path)) as reader:
        first = reader.poll("live")
        assert first.is_full and len(first.table) == 6
        table = first.table
        # Nothing happened: nothing comes back (the unfinished trial is sent once more only for a full read).
        again = reader.poll("live", first.watermark)
        quiet = reader.poll("live", again.watermark)
        assert len(quiet.table) == 0 and quiet.n_new == 0
        # The running trial gains a param, then finishes; two new trials arrive.
        running.suggest_float("x", 0, 1)
        grown = reader.poll("live", quiet.watermark)
        assert grown.table.trial_id.tolist() == [running._trial_id] and grown.n_changed == 1
        assert grown.table.params["x"].present.all()
        study.tell(running, 0.25)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
        delta = reader.poll("live", grown.watermark)
        assert delta.n_new == 2 and delta.n_changed == 1
        assert sorted(delta.table.number.tolist()) == [5, 6, 7]
        table = table.with_rows_replaced(again.table).with_rows_replaced(grown.table)
        table = table.with_rows_replaced(delta.table)
        assert table.number.tolist() == list(range(8))
        assert (table.state == COMPLETE).all() and not (table.state == RUNNING).any()
        assert table.values[5, 0] == 0.25
        assert_matches_optuna_table(table, reader.trials("live"))
        assert len(reader.poll("live", delta.watermark).table) == 0
    if kind == "sqlite":
        storage.engine.dispose()


def assert_matches_optuna_table(merged, fresh):
    assert np.array_equal(merged.trial_id, fresh.trial_id)
    assert np.array_equal(merged.state, fresh.state)
    assert np.array_equal(merged.values, fresh.values, equal_nan=True)
    assert list(merged.params) == list(fresh.params)
    for name in fresh.params:
        assert np.array_equal(merged.params[name].values, fresh.params[name].values, equal_nan=True)


def test_poll_after_study_recreated_is_full(tmp_path):
    path = tmp_path / "re.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    optuna.create_study(storage=storage, study_name="s").optimize(lambda t: 1.0, n_trials=2)
    with open_reader(str(path)) as reader:
        mark = reader.poll("s").watermark
        optuna.delete_study(study_name="s", storage=storage)
        with pytest.raises(StorageError, match="no study named 's'"):
            reader.poll("s", mark)
        optuna.create_study(storage=storage, study_name="s").optimize(lambda t: 2.0, n_trials=1)
        delta = reader.poll("s", mark)
        assert delta.is_full and delta.table.values[:, 0].tolist() == [2.0]
    storage.engine.dispose()


def _wal_db(path):
    current_schema_db(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    assert path.read_bytes()[18:20] == b"\x02\x02"
    return path


def test_wal_file_without_writer_is_read_without_side_files(tmp_path):
    path = _wal_db(tmp_path / "wal.db")
    before = file_state(path)
    with open_reader(str(path)) as reader:
        assert len(reader.trials("old")) == 7
        assert any("WAL" in note for note in reader.notes)
    assert file_state(path) == before


def test_wal_file_with_live_writer_is_read_through_its_side_files(tmp_path):
    path = _wal_db(tmp_path / "wal.db")
    with open_reader(str(path)) as reader:
        writer = sqlite3.connect(path)  # a writer connects while the reader is open
        writer.execute("UPDATE studies SET study_name = 'renamed'")
        writer.commit()
        assert reader.study_names() == ["renamed"]
        writer.close()


def test_wal_file_with_lone_wal_file_needs_a_snapshot(tmp_path):
    path = _wal_db(tmp_path / "wal.db")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE studies SET study_name = 'in-wal'")
    writer.commit()
    # Simulate a writer that died after its last commit: copy the files as they are, without the -shm.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    shutil.copyfile(path, crashed / "wal.db")
    shutil.copyfile(f"{path}-wal", crashed / "wal.db-wal")
    writer.close()
    before = file_state(crashed / "wal.db")
    with pytest.raises(StorageError, match="only its -wal file.*snapshot"):
        open_reader(str(crashed / "wal.db"))
    copy = snapshot_copy(str(crashed / "wal.db"), tmp_path / "snap.db")
    assert file_state(crashed / "wal.db") == before
    with open_reader(str(copy)) as reader:
        assert reader.study_names() == ["in-wal"]  # the WAL's committed change is in the copy


def test_old_schema_is_read_with_a_warning_and_upgraded_only_on_request(tmp_path):
    path = make_old_schema(tmp_path / "old.db")
    reference = current_schema_db(tmp_path / "reference.db")
    before = file_state(path)
    with open_reader(str(path)) as reader:
        assert not reader.schema.is_current
        assert reader.schema.description == "created by Optuna 2.6.0, schema v2.6.0.a"
        assert any("upgrade" in note for note in reader.notes)
        old = reader.trials("old")
    with open_reader(str(reference)) as reader:
        new = reader.trials("old")
    assert np.array_equal(old.values, new.values)  # +inf stored as a float in the old layout
    assert np.isinf(old.values[-1, 0])
    for name in new.params:
        assert old.params[name].decoded().tolist() == new.params[name].decoded().tolist()
    assert file_state(path) == before  # reading changed nothing
    with pytest.raises(RuntimeError, match="no longer compatible"):
        optuna.load_study(study_name="old", storage=f"sqlite:///{shutil.copy(path, tmp_path / 'probe.db')}")

    backup = upgrade_with_backup(str(path))
    assert file_state(backup)[0] == before[0]  # the backup is the original, byte for byte
    with open_reader(str(path)) as reader:
        assert reader.schema.revision == HEAD_REVISION
        upgraded = reader.trials("old")
    trials = optuna.load_study(study_name="old", storage=f"sqlite:///{path}").trials
    assert [t.params for t in trials] == [
        {k: c.decoded()[i] for k, c in upgraded.params.items() if c.present[i]} for i in range(len(trials))
    ]
    with pytest.raises(StorageError, match="already has the current schema"):
        upgrade_with_backup(str(path))


def test_interleaved_studies_read_through_join(tmp_path):
    # Two studies whose trials alternate: each has half the ids, so the reader takes the join path.
    path = tmp_path / "two.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    a = optuna.create_study(storage=storage, study_name="a", sampler=optuna.samplers.RandomSampler(0))
    b = optuna.create_study(storage=storage, study_name="b", sampler=optuna.samplers.RandomSampler(1))
    for _ in range(4):
        a.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
        b.optimize(lambda t: t.suggest_int("n", 0, 9), n_trials=3)
    storage.engine.dispose()
    with open_reader(str(path)) as reader:
        assert_matches_optuna(reader, f"sqlite:///{path}", "a")
        assert_matches_optuna(reader, f"sqlite:///{path}", "b")


def test_reader_never_imports_qt():
    import subprocess
    import sys

    code = (
        "import sys, optgui.core.storage._reader, optgui.core.storage._rdb_reader, "
        "optgui.core.storage._journal_reader, optgui.core.storage._schema; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_poll_far_behind_returns_batches(tmp_path, monkeypatch):
    import optgui.core.storage._rdb_reader as rdb_reader

    monkeypatch.setattr(rdb_reader, "POLL_BATCH", 3)
    path = tmp_path / "batch.db"
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    study = optuna.create_study(storage=storage, study_name="b")
    study.optimize(lambda t: 1.0, n_trials=1)
    with open_reader(str(path)) as reader:
        mark = reader.poll("b").watermark
        study.optimize(lambda t: 2.0, n_trials=7)
        sizes = []
        while True:
            delta = reader.poll("b", mark)
            sizes.append(len(delta.table))
            mark = delta.watermark
            if not delta.has_more:
                break
        assert sizes == [3, 3, 1]
    storage.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_reading_extras_of_chosen_trials_equals_optuna(varied_sqlite, varied_journal, kind):
    """The details pane reads one trial's intermediate values and system attributes; they equal Optuna's."""
    path, names = varied_sqlite if kind == "sqlite" else varied_journal
    storage = f"sqlite:///{path}" if kind == "sqlite" else JournalStorage(JournalFileBackend(str(path)))
    name = names[0]
    trials = optuna.load_study(study_name=name, storage=storage).trials
    chosen = [t.number for t in trials if t.intermediate_values][:2] + [len(trials) - 1, len(trials) + 5]
    with open_reader(str(path)) as reader:
        inter = reader.intermediate_values(name, numbers=chosen)
        attrs = reader.trial_system_attrs(name, prefix="", numbers=chosen)
    assert set(inter.number.tolist()) <= set(chosen[:3]) and len(chosen[:2]) == 2
    for number in chosen[:3]:
        trial = trials[number]
        assert inter.of_trial(number).keys() == trial.intermediate_values.keys()
        assert attrs.get(number, {}) == trial.system_attrs
    assert len(trials) + 5 not in attrs


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_trials_with_watermark_reads_light_columns_and_polls_on_from_there(tmp_path, kind):
    if kind == "sqlite":
        path = tmp_path / "mark.db"
        storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    else:
        path = tmp_path / "mark.log"
        storage = JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(storage=storage, study_name="mark", sampler=optuna.samplers.RandomSampler(1))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4)
    running = study.ask()
    with open_reader(str(path)) as reader:
        table, mark = reader.trials_with_watermark("mark", params=False, user_attrs=False, datetimes=False)
        assert table.number.tolist() == [0, 1, 2, 3, 4] and table.state[-1] == RUNNING
        assert np.array_equal(table.values, reader.trials("mark").values, equal_nan=True)
        if kind == "sqlite":
            assert not table.params  # the light read really skipped the params
        # The next poll is incremental: the still-running trial once more, then the new trials only.
        study.tell(running, 0.5)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        delta = reader.poll("mark", mark)
        assert not delta.is_full
        assert sorted(delta.table.number.tolist()) == [4, 5, 6, 7] and delta.n_new == 3
        assert len(reader.poll("mark", delta.watermark).table) == 0
    if kind == "sqlite":
        storage.engine.dispose()
