"""Notifications with a fake tray (the sink interface): watched studies that finish, stall or are orphaned, a run
of this window that completes or fails, a verification that diverges; each kind can be turned off in Preferences,
and clicking a notification opens its study."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import optuna

from optgui.qt.settings import Settings
from optgui.qt.window.preferences import PreferencesDialog
from optgui.qt.workspace.notifier import NotificationKind, Notifier
from optgui.qt.workspace.workspace_panel import WorkspacePanel


class FakeTray:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str, tuple[str, str], bool]] = []

    def show(self, title: str, message: str, key: tuple[str, str], critical: bool) -> None:
        self.shown.append((title, message, key, critical))


def _finished_trial(value: float, ended: dt.datetime) -> optuna.trial.FrozenTrial:
    return optuna.trial.FrozenTrial(
        number=0,
        trial_id=0,
        state=optuna.trial.TrialState.COMPLETE,
        value=value,
        params={"x": value},
        distributions={"x": optuna.distributions.FloatDistribution(-100, 100)},
        datetime_start=ended - dt.timedelta(seconds=10),
        datetime_complete=ended,
        user_attrs={},
        system_attrs={},
        intermediate_values={},
    )


def _notifier(qtbot) -> tuple[Notifier, FakeTray]:
    notifier = Notifier(Settings())
    tray = FakeTray()
    notifier.sink = tray
    return notifier, tray


def test_a_watched_study_that_stalls_raises_one_notification_and_a_click_opens_it(qtbot, tmp_path):
    path = tmp_path / "w.db"
    study = optuna.create_study(study_name="w", storage=f"sqlite:///{path}")
    for i in range(5):
        study.add_trial(_finished_trial(float(i), dt.datetime.now() - dt.timedelta(minutes=30 - i)))
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
