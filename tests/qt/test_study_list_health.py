"""The study list's Health column says what `optgui inspect` says of each study (running, idle, finished, stalled,
failing, orphaned), read in the background after the file is listed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import optuna
from PySide6.QtCore import Qt

from optgui.qt.window.study_list import HEALTH
from optgui.qt.workspace.health_line import reread_due
from tests.support.studies import finished_trial


def _inspect_health(path) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "optgui", "inspect", str(path), "--json"], check=True, capture_output=True, text=True
    ).stdout
    return {s["name"]: s["health"]["state"] for s in json.loads(out)["studies"]}


def test_the_health_column_says_what_inspect_says(qtbot, tmp_path, make_window, dialog_log):
    path = tmp_path / "studies.db"
    subprocess.run(
        [sys.executable, "-m", "optgui", "run", str(path), "--study", "done", "--objective", "builtin:quadratic",
         "--n-trials", "3", "--seed", "1", "--quiet"],
        check=True, capture_output=True,
    )  # fmt: skip
    stuck = optuna.create_study(study_name="stuck", storage=f"sqlite:///{path}")
    for i in range(5):  # 10 s trials, the last one 26 minutes ago; then a trial starts and nothing finishes
        stuck.add_trial(finished_trial(float(i), dt.datetime.now() - dt.timedelta(minutes=30 - i)))
    stuck.ask()
    quiet = optuna.create_study(study_name="quiet", storage=f"sqlite:///{path}")
    quiet.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    expected = _inspect_health(path)
    assert expected == {"done": "finished", "stuck": "stalled", "quiet": "idle"}  # three states to tell apart

    window = make_window()
    window.resize(1600, 900)
    window.study_list.live.setChecked(False)
    list_reads: list[set[str]] = []
    window.list_health.landed.connect(lambda storage, healths: list_reads.append(set(healths)))
    assert window.open_storage(str(path), "quiet")
    window.splitter.setSizes([800, 800])  # a wide list: every column
    studies = window.study_list
    model = studies.model

    def shown() -> dict[str, str]:
        return {row.name: model.data(model.index(i, HEALTH)) for i, row in enumerate(model.rows)}

    qtbot.waitUntil(lambda: "…" not in shown().values(), timeout=30000)
    assert shown() == expected
    # The shown study's health is the header's read, not read a second time for the list.
    assert list_reads and list_reads[0] == {"done", "stuck"}
    assert window.study_view.health.text_for(str(path), "quiet") == "idle"
    assert "Health" in studies.shown_columns()
    tip = model.data(model.index(model.row_of("stuck"), HEALTH), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("stalled: no trial finished for 26 min")
    studies.table.sortByColumn(HEALTH, Qt.SortOrder.AscendingOrder)
    assert [row.name for row in model.rows] == ["done", "quiet", "stuck"]  # finished, idle, stalled

    # A list of the usual width keeps the health beside the names and trial counts, inside its width.
    window.resize(1280, 800)
    window.splitter.setSizes([260, 1020])
    qtbot.waitUntil(lambda: studies.table.viewport().width() < 260)
    header = studies.table.horizontalHeader()
    qtbot.waitUntil(lambda: studies.shown_columns()[:3] == ["Study", "Trials", "Health"], timeout=5000)
    shown = [c for c in range(header.count()) if not header.isSectionHidden(c)]
    assert sum(header.sectionSize(c) for c in shown) <= studies.table.viewport().width() + 1, studies.shown_columns()
    assert not dialog_log.errors


def test_a_slow_health_read_is_repeated_less_often():
    """A health read is repeated after the list's period, or after ten times its own duration if that is longer
    (watching a 1M-trial study costs at most ~10% of a core)."""
    assert reread_due(started=0.0, duration=0.05, every=10.0, now=10.0)
    assert not reread_due(started=0.0, duration=0.05, every=10.0, now=9.9)
    assert not reread_due(started=0.0, duration=2.5, every=10.0, now=24.0)
    assert reread_due(started=0.0, duration=2.5, every=10.0, now=25.0)
