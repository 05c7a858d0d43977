"""Exported files get the mode a plainly created file gets (0666 less the umask), not mkstemp's 0600, and an
overwritten export keeps its mode (issue 18, item 8)."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from optgui.core.storage._exports import write_json, write_trials_csv
from optgui.core.storage._trial_frame import TrialFrame
from tests.support.qt_tables import synthetic_table


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_exported_csv_is_readable_as_the_umask_allows(tmp_path, umask_022):
    frame = TrialFrame(("minimize",))
    frame.load(synthetic_table(5))
    path = tmp_path / "trials.csv"
    assert write_trials_csv(frame, np.arange(5), [frame.column("number")], path) == 5
    assert _mode(path) == 0o644


def test_an_exported_verdict_is_readable_as_the_umask_allows(tmp_path, umask_022):
    path = tmp_path / "verdict.json"
    write_json({"ok": True}, path)
    assert _mode(path) == 0o644


def test_overwriting_an_export_keeps_its_mode(tmp_path, umask_022):
    path = tmp_path / "verdict.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    write_json({"ok": True}, path)
    assert _mode(path) == 0o640
