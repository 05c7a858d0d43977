"""studies(counts=False): the same studies as a full summary, with their trial counts, without the scan of every
trial that counts states, best values and activity (a large storage is listed at once and counted later)."""

from __future__ import annotations

import numpy as np
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage

from optgui.core.storage._reader import open_reader
from tests.support.reader_fixtures import populate


@pytest.fixture(scope="module")
def storages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uncounted")
    sqlite_path = folder / "varied.db"
    populate(f"sqlite:///{sqlite_path}")
    journal_path = folder / "varied.log"
    populate(JournalStorage(JournalFileBackend(str(journal_path))))
    return {"sqlite": sqlite_path, "journal": journal_path}


def test_uncounted_summaries_name_every_study_with_its_trial_count(storages):
    with open_reader(str(storages["sqlite"])) as reader:
        counted, uncounted = reader.studies(), reader.studies(counts=False)
    assert [s.name for s in uncounted] == [s.name for s in counted]
    for full, quick in zip(counted, uncounted, strict=True):
        assert full.counted and not quick.counted
        assert quick.study_id == full.study_id and quick.directions == full.directions
        assert quick.metric_names == full.metric_names
        assert quick.n_trials == full.n_trials == sum(full.state_counts.values())
        assert dict(quick.optgui_metadata) == dict(full.optgui_metadata)
        assert dict(quick.user_attrs) == dict(full.user_attrs)
        assert dict(quick.state_counts) == {} and quick.best_values is None
        assert np.isnat(quick.first_activity) and np.isnat(quick.last_activity)
    assert any(s.n_trials > 0 for s in uncounted) and any(s.n_trials == 0 for s in uncounted)


def test_a_journal_is_counted_anyway(storages):
    # A journal is replayed into memory whole: leaving the counts out would save nothing.
    with open_reader(str(storages["journal"])) as reader:
        counted, uncounted = reader.studies(), reader.studies(counts=False)
    assert [s.as_json() for s in uncounted] == [s.as_json() for s in counted]
    assert all(s.counted for s in uncounted)
