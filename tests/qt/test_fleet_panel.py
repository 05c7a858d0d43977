"""The Fleet tab through the real widgets on a real PostgreSQL server: start 2 worker processes, watch them, pause
(nothing RUNNING afterwards), resume, finish; the trials equal the plain-Optuna batched reference. Closing the
window during a fleet stops the processes it started, in order. SQLite is refused with a dialog and left unchanged.

The server comes from .ci/services.sh (OPTGUI_TEST_POSTGRES_URL). Without it the server tests skip, unless
OPTGUI_REQUIRE_SERVERS=1, when they fail. Every test fails if a child process or a monitor thread is left running.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import warnings
from pathlib import Path

import optuna
import pytest
from PySide6.QtCore import Qt

from optgui.qt.fleet.fleet_monitor import running_monitors
from optgui.qt.fleet.fleet_panel import live_workers
from tests.support.fleet import REPO, batched_reference, recorded_signatures, write_objective
from tests.support.studies import plain_study
from tests.support.waiting import poll_until

pytestmark = pytest.mark.slow

SAMPLER = "TPESampler(seed=7, n_startup_trials=4)"
N_TRIALS = 40
BATCH = 2
GATE_FROM = 6  # trials from here on wait until the pause has reached the study: it lands mid-run on any machine


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True  # no /proc: os.kill said it exists


@pytest.fixture
def pg_study(pg_url):
    """An empty plain-Optuna study on the server, deleted afterwards."""
    name = f"fleet-gui-{uuid.uuid4().hex[:10]}"
    storage = optuna.storages.RDBStorage(pg_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.create_study(storage=storage, study_name=name)
    yield name
    try:
        optuna.delete_study(study_name=name, storage=storage)
    except KeyError:
        pass
    storage.engine.dispose()


@pytest.fixture
def fleet_env(monkeypatch, tmp_path):
    """What the window's child processes inherit: this checkout first, slow enough trials to pause in flight, and a
    gate (a file that does not exist yet) holding trials from GATE_FROM on; returns the gate's path."""
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("FLEET_MAX_SLEEP", "0.6")
    gate = tmp_path / "gate-open"
    monkeypatch.setenv("FLEET_GATE", str(gate))
    monkeypatch.setenv("FLEET_GATE_FROM", str(GATE_FROM))
    monkeypatch.setenv("FLEET_JITTER_SEED", "gui")
    monkeypatch.delenv("OPTGUI_FAULT", raising=False)
    return gate


class Started(set):
    """Pids of every process a window started (and of the workers its coordinators started), and the fleet panels
    to clean up if a test fails half-way."""

    panels: list


@pytest.fixture
def child_pids():
    """None of the processes a window started may outlive the test."""
    seen = Started()
    seen.panels = []
    yield seen
    for panel in seen.panels:  # a failed test's window: its monitor thread must not outlive the widgets
        panel.monitor.stop()
    poll_until(lambda: not any(_pid_running(p) for p in seen), 60)
    left = [p for p in seen if _pid_running(p)]
    for pid in left:
        os.kill(pid, 9)
    assert not left, f"child processes left running: {left}"
    assert not running_monitors(), "a fleet monitor was left running"


def click(qtbot, button):
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _remember_pids(fleet, pids: set[int]) -> None:
    pids.update(fleet.processes.pids())
    if fleet.status is not None:
        pids.update(w.pid for w in fleet.status.workers if w.pid)


def _counts(url: str, name: str) -> dict[str, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name=name, storage=url)
        trials = study.get_trials(deepcopy=False)
    out: dict[str, int] = {}
    for t in trials:
        out[t.state.name] = out.get(t.state.name, 0) + 1
    return out


def _open_and_define(make_window, url, name, objective, pids):
    window = make_window()
    pids.panels.append(window.study_view.fleet)
    assert window.open_storage(url, name)
    view = window.study_view
    view.panel.objective.setCurrentText(f"{objective}:search_space,evaluate")
    view.panel.sampler.setText(SAMPLER)
    view.panel.n_trials.setValue(N_TRIALS)
    fleet = view.fleet
    view.tabs.setCurrentWidget(fleet)
    fleet.workers.setValue(2)
    fleet.batch.setValue(BATCH)
    return window, view, fleet


@pytest.mark.timeout(330)  # took 107 s on a busy 2-core machine
@pytest.mark.server
def test_fleet_from_the_panel_pauses_resumes_and_equals_the_batched_reference(
    qtbot, tmp_path, make_window, dialog_log, pg_url, pg_study, fleet_env, child_pids
):
    objective = write_objective(tmp_path)
    window, view, fleet = _open_and_define(make_window, pg_url, pg_study, objective, child_pids)
    assert fleet.phase is None or fleet.status is None
    click(qtbot, fleet.start_button)
    assert dialog_log.questions[0][0] == "Run the study?"  # writing asks first

    def two_running():
        _remember_pids(fleet, child_pids)
        return fleet.status is not None and len(live_workers(fleet.status)) == 2 and fleet.phase == "running"

    qtbot.waitUntil(two_running, timeout=120000)
    assert fleet.table.rowCount() == 2
    assert {fleet.table.item(r, 3).text() for r in range(2)} <= {"running", "starting"}
    assert all(fleet.table.item(r, 2).text() == str(w.pid) for r, w in enumerate(fleet.status.workers))
    assert fleet.pause_button.isEnabled() and not fleet.resume_button.isEnabled()
    qtbot.waitUntil(lambda: sum(w.n_evaluated for w in fleet.status.workers) >= 2, timeout=120000)

    click(qtbot, fleet.pause_button)
    qtbot.waitUntil(lambda: fleet.status.command == "pause", timeout=60000)  # read back from the study
    fleet_env.touch()  # only now may the held trials finish
    qtbot.waitUntil(lambda: fleet.phase == "paused", timeout=120000)
    _remember_pids(fleet, child_pids)
    assert "Paused" in fleet.state_label.text()
    assert fleet.resume_button.isEnabled() and not fleet.pause_button.isEnabled()
    assert fleet.status.running_trials == ()
    counts = _counts(pg_url, pg_study)
    assert "RUNNING" not in counts, counts
    finished = counts.get("COMPLETE", 0) + counts.get("PRUNED", 0)
    assert 0 < finished < N_TRIALS and finished % BATCH == 0  # drained to a batch boundary
    qtbot.wait(2000)
    assert _counts(pg_url, pg_study) == counts  # a paused fleet does nothing
    assert all(w.state == "paused" for w in live_workers(fleet.status))

    click(qtbot, fleet.resume_button)
    qtbot.waitUntil(lambda: fleet.phase == "running", timeout=60000)
    qtbot.waitUntil(lambda: not fleet.busy, timeout=240000)  # the coordinator exits when the target is met
    qtbot.waitUntil(lambda: fleet.phase == "completed", timeout=30000)
    _remember_pids(fleet, child_pids)
    assert len(child_pids) >= 3  # the coordinator and two workers
    assert not dialog_log.errors, dialog_log.errors
    assert recorded_signatures(pg_url, pg_study) == batched_reference(
        SAMPLER, objective, N_TRIALS, BATCH, study_name="ref"
    )
    qtbot.waitUntil(lambda: view.data.counts()["RUNNING"] == 0 and view.data.n == N_TRIALS, timeout=30000)
    window.close()
    assert not window.isVisible()


@pytest.mark.server
def test_closing_the_window_stops_the_fleet_it_started_in_order(
    qtbot, tmp_path, make_window, dialog_log, pg_url, pg_study, fleet_env, child_pids
):
    objective = write_objective(tmp_path)
    window, view, fleet = _open_and_define(make_window, pg_url, pg_study, objective, child_pids)
    click(qtbot, fleet.start_button)

    def running():
        _remember_pids(fleet, child_pids)
        return fleet.status is not None and len(live_workers(fleet.status)) == 2 and bool(fleet.status.running_trials)

    qtbot.waitUntil(running, timeout=120000)
    window.close()
    assert window.isVisible()  # not before the fleet is down
    assert dialog_log.questions[-1][0] == "A fleet is running"
    qtbot.waitUntil(lambda: fleet.status.command == "stop", timeout=60000)  # the run cannot end by itself first
    fleet_env.touch()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=120000)
    assert not fleet.busy
    counts = _counts(pg_url, pg_study)
    assert "RUNNING" not in counts, counts  # stopped in order: the trials in flight were finished and told
    assert not dialog_log.errors, dialog_log.errors


def test_sqlite_study_refuses_a_fleet_with_a_dialog_and_stays_unchanged(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    window = make_window()
    assert window.open_storage(str(db))
    fleet = window.study_view.fleet
    assert not fleet.supported and not fleet.monitor.active
    assert "SQLite" in fleet.start_note.text()
    assert not fleet.start_button.isEnabled()  # not offered, then refused (issue 18)
    assert "SQLite cannot take concurrent writers" in fleet.start_button.toolTip()
    fleet.start_fleet()  # called anyway, it still refuses with the one dialog
    assert dialog_log.errors and dialog_log.errors[-1][0] == "Cannot start a fleet"
    assert "SQLite cannot take concurrent writers" in dialog_log.errors[-1][1]
    assert not fleet.processes.children
    window.close()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
