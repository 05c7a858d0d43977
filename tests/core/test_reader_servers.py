"""The reader on PostgreSQL and MySQL/MariaDB servers equals Optuna, polls incrementally and cannot write.

The servers come from .ci/services.sh, which exports OPTGUI_TEST_POSTGRES_URL / OPTGUI_TEST_MYSQL_URL. Without a
URL these tests skip, unless OPTGUI_REQUIRE_SERVERS=1 (set by CI), in which case they fail. Every test uses study
names of its own, so runs can share a database; they run in one xdist group because Optuna's first table
creation on an empty database is not safe to race.
"""

from __future__ import annotations

import os
import time
import uuid

import optuna
import pytest

from optgui.core.errors import StorageError
from optgui.core.storage._reader import open_reader
from optgui.core.storage._tables import COMPLETE
from tests.support.reader_fixtures import assert_matches_optuna, populate

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("servers")]

SERVERS = {"postgresql": "OPTGUI_TEST_POSTGRES_URL", "mysql": "OPTGUI_TEST_MYSQL_URL"}


@pytest.fixture(params=list(SERVERS))
def server_url(request) -> str:
    variable = SERVERS[request.param]
    url = os.environ.get(variable)
    if not url:
        message = f"{variable} is not set (run .ci/services.sh to start a {request.param} server)"
        if os.environ.get("OPTGUI_REQUIRE_SERVERS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}-"


@pytest.fixture
def storage(server_url):
    rdb = optuna.storages.RDBStorage(server_url)
    created: list[str] = []
    yield rdb, created
    for name in created:
        try:
            optuna.delete_study(study_name=name, storage=rdb)
        except KeyError:
            pass
    rdb.engine.dispose()


def test_server_equals_optuna(server_url, storage, monkeypatch):
    # A non-UTC zone: Optuna shows naive local time, the servers store naive UTC, the reader returns UTC.
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        rdb, created = storage
        names = populate(rdb, prefix=unique("eq"))
        created.extend(names)
        with open_reader(server_url) as reader:
            assert reader.kind == "rdb" and reader.schema.is_current
            assert set(names) <= set(reader.study_names())
            summaries = {s.name: s for s in reader.studies()}
            for name in names:
                assert_matches_optuna(reader, rdb, name)
                assert summaries[name].n_trials == len(optuna.load_study(study_name=name, storage=rdb).trials)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_server_poll(server_url, storage):
    rdb, created = storage
    name = unique("poll") + "live"
    created.append(name)
    study = optuna.create_study(storage=rdb, study_name=name, sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    running = study.ask()
    with open_reader(server_url) as reader:
        first = reader.poll(name)
        assert first.is_full and len(first.table) == 4
        running.suggest_float("x", 0, 1)
        study.tell(running, 0.5)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
        delta = reader.poll(name, first.watermark)
        assert delta.n_new == 2 and sorted(delta.table.number.tolist()) == [3, 4, 5]
        table = first.table.with_rows_replaced(delta.table)
        assert (table.state == COMPLETE).all() and table.number.tolist() == list(range(6))
        assert len(reader.poll(name, reader.poll(name, delta.watermark).watermark).table) == 0


def test_server_reader_cannot_write(server_url, storage):
    rdb, created = storage
    name = unique("ro") + "s"
    created.append(name)
    optuna.create_study(storage=rdb, study_name=name)
    with open_reader(server_url) as reader:
        with pytest.raises(StorageError, match="(?i)read.only"):
            reader.db.rows("INSERT INTO studies (study_name) VALUES (?)", ("written-by-reader",))
    # Names only: summaries read each study's trials, and a parallel test may delete its study meanwhile.
    assert "written-by-reader" not in optuna.get_all_study_names(rdb)


def test_server_bad_password_is_one_clean_line(server_url):
    scheme, rest = server_url.split("://", 1)
    user = rest.split(":", 1)[0]
    host = rest.split("@", 1)[1]
    bad = f"{scheme}://{user}:wrong-secret@{host}"
    with pytest.raises(StorageError, match="cannot connect to") as info:
        open_reader(bad)
    assert "wrong-secret" not in str(info.value) and "\n" not in str(info.value)


def test_url_without_driver_uses_the_installed_one(server_url, storage):
    rdb, created = storage
    name = unique("drv") + "s"
    created.append(name)
    optuna.create_study(storage=rdb, study_name=name)
    scheme, rest = server_url.split("://", 1)
    plain = f"{scheme.split('+')[0]}://{rest}"
    with open_reader(plain) as reader:
        assert name in reader.study_names()
