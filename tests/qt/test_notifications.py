"""Notifications with a fake tray (the sink interface): watched studies that finish, stall or are orphaned, a run
of this window that completes or fails, a verification that diverges; each kind can be turned off in Preferences,
and clicking a notification opens its study."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import optuna

from optgui.core.health import HealthState, HealthThresholds, RunHealth
from optgui.qt.settings import Settings
from optgui.qt.window.preferences import PreferencesDialog
from optgui.qt.workspace.notifier import NotificationKind, Notifier
from optgui.qt.workspace.workspace_panel import WorkspacePanel
from tests.support.studies import finished_trial


class FakeTray:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str, tuple[str, str], bool]] = []

    def show(self, title: str, message: str, key: tuple[str, str], critical: bool) -> None:
        self.shown.append((title, message, key, critical))


def _notifier(qtbot) -> tuple[Notifier, FakeTray]:
    notifier = Notifier(Settings())
    tray = FakeTray()
    notifier.sink = tray
    return notifier, tray


def test_a_watched_study_that_stalls_raises_one_notification_and_a_click_opens_it(qtbot, tmp_path):
    path = tmp_path / "w.db"
    study = optuna.create_study(study_name="w", storage=f"sqlite:///{path}")
    for i in range(5):
        study.add_trial(finished_trial(float(i), dt.datetime.now() - dt.timedelta(minutes=30 - i)))
    notifier, tray = _notifier(qtbot)
    panel = WorkspacePanel()
    qtbot.addWidget(panel)
    panel.read_finished.connect(lambda: notifier.workspace_read(panel.workspace))
    with qtbot.waitSignal(panel.read_finished, timeout=30000):
        panel.open_folder(tmp_path)
    assert tray.shown == []  # idle: nothing to say
    study.ask()  # a worker starts a trial after 26 minutes of silence: the run is stalled
    with qtbot.waitSignal(panel.read_finished, timeout=30000):
        panel.reload()
    assert len(tray.shown) == 1
    title, message, key, critical = tray.shown[0]
    assert title == "optgui: w — a watched study stalls" and critical
    assert message.startswith("stalled: no trial finished for 26 min") and key == (str(path), "w")
    with qtbot.waitSignal(panel.read_finished, timeout=30000):
        panel.reload()
    assert len(tray.shown) == 1  # still stalled: not news
    with qtbot.waitSignal(notifier.open_requested) as opened:
        notifier.clicked(key)
    assert opened.args == [str(path), "w"]
    panel.stop()


def test_states_present_when_a_folder_opens_are_not_news_but_a_new_finished_file_is(qtbot, tmp_path):
    from optgui.core.health import read_workspace

    notifier, tray = _notifier(qtbot)
    template = tmp_path / "template"
    template.mkdir()
    folder = tmp_path / "folder"
    folder.mkdir()
    notifier.workspace_read(read_workspace(folder))
    subprocess.run(
        [sys.executable, "-m", "optgui", "run", str(template / "done.db"), "--study", "done", "--objective",
         "builtin:quadratic", "--n-trials", "2", "--seed", "1", "--quiet"],
        check=True, capture_output=True,
    )  # fmt: skip
    shutil.copyfile(template / "done.db", folder / "done.db")
    notifier.workspace_read(read_workspace(folder))
    assert [(t, k) for t, _, k, _ in tray.shown] == [
        ("optgui: done — a watched study finishes", (str(folder / "done.db"), "done"))
    ]
    notifier.forget_watched()
    notifier.workspace_read(read_workspace(folder))  # opened again: already finished, not news
    assert len(tray.shown) == 1


def test_each_kind_can_be_turned_off_in_preferences(qtbot, dialog_log):
    notifier, tray = _notifier(qtbot)
    dialog = PreferencesDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.notifications[NotificationKind.RUN_COMPLETED].setChecked(False)
    dialog.save()
    assert not notifier.notify(NotificationKind.RUN_COMPLETED, "s.db", "s", "completed 100 trials")
    assert notifier.notify(NotificationKind.RUN_PAUSED_ON_ERROR, "s.db", "s", "ValueError: boom")
    assert [(t, c) for t, _, _, c in tray.shown] == [("optgui: s — a run in this window pauses on an error", True)]
    again = PreferencesDialog(Settings())
    qtbot.addWidget(again)
    assert not again.notifications[NotificationKind.RUN_COMPLETED].isChecked()


def test_a_diverged_verification_is_notified_once(qtbot):
    notifier, tray = _notifier(qtbot)
    notifier.verification("s.db", "s", "diverged", "diverged at trial 3")  # opened already diverged: not news
    notifier.verification("t.db", "t", "verified", "verified")
    notifier.verification("t.db", "t", "checking", "checking")
    notifier.verification("t.db", "t", "diverged", "diverged at trial 7")
    notifier.verification("t.db", "t", "diverged", "diverged at trial 7")  # shown again on a switch
    assert [(t, m) for t, m, _, _ in tray.shown] == [("optgui: t — a verification diverges", "diverged at trial 7")]


def test_the_window_notifies_through_its_tray_sink(qtbot, make_window):
    window = make_window()
    tray = FakeTray()
    window.notifier.sink = tray  # the real one is the system tray (nothing where there is none)
    window.notifier.notify(NotificationKind.WATCHED_ORPHANED, "x.db", "x", "orphaned: 1 RUNNING trial")
    assert tray.shown and tray.shown[0][2] == ("x.db", "x")


def test_a_stalled_run_in_this_window_is_notified_once_and_a_click_shows_its_study(
    qtbot, tmp_path, make_window, dialog_log
):
    path = tmp_path / "r.db"
    run = optuna.create_study(study_name="run", storage=f"sqlite:///{path}")
    for i in range(5):  # trials of 10 s, the last one 26 minutes ago
        run.add_trial(finished_trial(float(i), dt.datetime.now() - dt.timedelta(minutes=30 - i)))
    other = optuna.create_study(study_name="other", storage=f"sqlite:///{path}")
    other.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    window = make_window()
    window.study_list.live.setChecked(False)
    tray = FakeTray()
    window.notifier.sink = tray
    # Judged sooner than the defaults (5 x the median, at least 60 s): stalled after 3 s without a finished trial.
    window.study_view.health.thresholds = HealthThresholds(stall_factor=0.2, min_stall=3.0)
    window.run_health_timer.setInterval(200)
    landed: list[tuple[str, str, object]] = []
    window.study_view.health.landed.connect(lambda storage, study, health: landed.append((storage, study, health)))
    assert window.open_storage(str(path), "run")
    panel = window.study_view.panel
    panel.objective.setCurrentText("builtin:slow(sleep=120)")  # the first trial hangs
    panel.n_trials.setValue(10)
    panel.child_process.setChecked(True)  # (so that Abort trial ends it at once)
    panel.buttons["Start"].click()
    qtbot.waitUntil(lambda: bool(tray.shown), timeout=60000)
    title, message, key, critical = tray.shown[0]
    assert title == "optgui: run — a run in this window stalls" and critical
    # (the 26 quiet minutes before the run are not its stall: the silence counts from the run's start)
    assert message.startswith("stalled: no trial finished in the") and "since the run started" in message
    assert key == (str(path), "run")
    seen = len(landed)
    qtbot.waitUntil(lambda: len(landed) >= seen + 5, timeout=30000)  # read again and again: still stalled
    assert [str(h.state) for _, s, h in landed[seen:] if s == "run"] == ["stalled"] * (len(landed) - seen)
    assert len(tray.shown) == 1
    assert "health: stalled" in window.study_view.subtitle.text().replace("\u00a0", " ")
    assert window.study_list.select("other")
    qtbot.waitUntil(lambda: window.study_view.summary.name == "other")
    window.notifier.clicked(key)  # the user clicks the notification: its study is shown (the run goes on)
    assert window.study_view.summary.name == "run" and window.controller.active
    panel.buttons["Abort trial"].click()
    qtbot.waitUntil(lambda: not window.controller.active, timeout=30000)
    assert not window.run_health_timer.isActive() and not dialog_log.errors


def test_the_stall_of_a_run_can_be_turned_off_in_preferences(qtbot):
    notifier, tray = _notifier(qtbot)
    stalled = RunHealth(HealthState.STALLED, "stalled: no trial finished for 12 min, 72× the median 10 s")
    dialog = PreferencesDialog(Settings())
    qtbot.addWidget(dialog)
    assert set(dialog.notifications) == set(NotificationKind)  # every kind has its switch
    dialog.notifications[NotificationKind.RUN_STALLED].setChecked(False)
    dialog.save()
    notifier.run_health("s.db", "s", stalled)
    assert tray.shown == []
    dialog.notifications[NotificationKind.RUN_STALLED].setChecked(True)
    dialog.save()
    notifier.run_health("s.db", "s", RunHealth(HealthState.RUNNING, "running"))
    notifier.run_health("s.db", "s", stalled)
    assert [t for t, _, _, _ in tray.shown] == ["optgui: s — a run in this window stalls"]


def test_a_run_of_this_window_is_not_notified_again_as_a_watched_study(qtbot, tmp_path, make_window, dialog_log):
    folder = tmp_path / "folder"
    folder.mkdir()
    path = folder / "q.db"
    optuna.create_study(study_name="q", storage=f"sqlite:///{path}").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    window = make_window()
    window.study_list.live.setChecked(False)
    tray = FakeTray()
    window.notifier.sink = tray
    assert window.open_folder(str(folder))
    panel = window.workspace_dock.widget()
    qtbot.waitUntil(lambda: [i.text(1) for i in panel.items()] == ["idle"], timeout=30000)
    panel._activated(panel.items()[0])  # the user opens the study from the workspace and runs it here
    qtbot.waitUntil(lambda: window.study_view.summary is not None and window.study_view.summary.name == "q")
    run_panel = window.study_view.panel
    run_panel.objective.setCurrentText("builtin:quadratic")
    run_panel.n_trials.setValue(4)
    run_panel.buttons["Start"].click()
    qtbot.waitUntil(lambda: window.controller.state == "completed" and not window.controller.active, timeout=60000)
    with qtbot.waitSignal(panel.read_finished, timeout=30000):
        panel.reload()
    assert [i.text(1) for i in panel.items()] == ["finished"]  # the workspace sees the run's end
    # A run this short ends without a notification, and the workspace does not raise one for it either.
    assert tray.shown == []
    assert not dialog_log.errors


def test_a_run_resumed_after_a_long_pause_is_not_notified_as_stalled(qtbot, tmp_path, make_window, dialog_log):
    path = tmp_path / "p.db"
    optuna.create_study(study_name="p", storage=f"sqlite:///{path}")
    window = make_window()
    window.study_list.live.setChecked(False)
    tray = FakeTray()
    window.notifier.sink = tray
    window.study_view.health.thresholds = HealthThresholds(stall_factor=0.2, min_stall=3.0)  # stalled after 3 s
    window.run_health_timer.setInterval(200)
    landed: list[tuple[str, str, object]] = []
    window.study_view.health.landed.connect(lambda storage, study, health: landed.append((storage, study, health)))
    assert window.open_storage(str(path), "p")
    view, panel = window.study_view, window.study_view.panel
    panel.objective.setCurrentText("builtin:slow(sleep=1.5)")
    panel.n_trials.setValue(20)
    panel.buttons["Start"].click()
    qtbot.waitUntil(lambda: view.session.data.counts()["COMPLETE"] >= 2, timeout=60000)
    panel.buttons["Pause"].click()
    qtbot.waitUntil(lambda: window.controller.state == "paused", timeout=30000)
    done = view.session.data.counts()["COMPLETE"]
    qtbot.wait(4500)  # the user pauses for longer than the run may go without a finished trial
    resumed = len(landed)
    panel.buttons["Resume"].click()
    qtbot.waitUntil(lambda: view.session.data.counts()["COMPLETE"] >= done + 1, timeout=30000)
    after = [health for _, _, health in landed[resumed:]]
    assert any(h is not None and h.running for h in after), "no health was read while a trial ran after the resume"
    assert [str(h.state) for h in after if h is not None and h.state is HealthState.STALLED] == []
    assert tray.shown == []  # the pause was no stall of the run
    window.controller.stop("paused")
    qtbot.waitUntil(lambda: not window.controller.active, timeout=30000)
    assert not dialog_log.errors
