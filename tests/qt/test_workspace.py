"""The workspace panel with real study files: a folder is read in the background, its files appear, change and
disappear while it is watched, a read can be cancelled, and the window opens a study chosen there."""

from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pytest

from optgui.qt.workspace.workspace_panel import WorkspacePanel
from tests.support.studies import finished_trial


def _study(path: Path, name: str, n_trials: int) -> None:
    study = optuna.create_study(
        study_name=name, storage=f"sqlite:///{path}", sampler=optuna.samplers.RandomSampler(0), load_if_exists=True
    )
    study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=n_trials)


def _rows(panel: WorkspacePanel) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(item.parent().text(0), item.text(0)): tuple(item.text(c) for c in range(1, 5)) for item in panel.items()}


@pytest.fixture
def panel(qtbot):
    widget = WorkspacePanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_files_appear_change_and_disappear_while_watched(qtbot, panel, tmp_path):
    _study(tmp_path / "a.db", "alpha", 3)
    (tmp_path / "notes.db").write_text("not a study\n")
    with qtbot.waitSignal(panel.read_finished, timeout=30000):
        panel.open_folder(tmp_path)
    rows = _rows(panel)
    assert list(rows) == [("a.db", "alpha")]
    assert rows[("a.db", "alpha")][:2] == ("idle", "3")
    assert "notes.db: neither a SQLite database nor an Optuna journal" in panel.problems.text()

    (tmp_path / "sub").mkdir()
    shutil.copyfile(tmp_path / "a.db", tmp_path / "sub" / "b.db")  # a new file in a new subfolder
    qtbot.waitUntil(lambda: ("sub/b.db", "alpha") in _rows(panel), timeout=30000)

    _study(tmp_path / "a.db", "alpha", 2)  # another process adds trials
    qtbot.waitUntil(lambda: _rows(panel)[("a.db", "alpha")][1] == "5", timeout=30000)
    assert _rows(panel)[("sub/b.db", "alpha")][1] == "3"

    (tmp_path / "sub" / "b.db").unlink()
    qtbot.waitUntil(lambda: ("sub/b.db", "alpha") not in _rows(panel), timeout=30000)
    assert list(_rows(panel)) == [("a.db", "alpha")]


def test_reading_shows_progress_and_can_be_cancelled(qtbot, panel, tmp_path):
    _study(tmp_path / "a.db", "alpha", 2)
    for i in range(40):
        shutil.copyfile(tmp_path / "a.db", tmp_path / f"copy{i:02d}.db")
    panel.open_folder(tmp_path)
    assert panel.busy_row.isVisibleTo(panel) and panel.reading
    panel.cancel()
    assert not panel.busy_row.isVisibleTo(panel) and not panel.reading
    with qtbot.waitSignal(panel.read_finished, timeout=60000):
        panel.reload()
    assert len(panel.items()) == 41


def test_the_window_opens_a_folder_as_a_workspace_and_a_chosen_study_as_usual(qtbot, make_window, tmp_path):
    _study(tmp_path / "a.db", "alpha", 3)
    _study(tmp_path / "b.db", "beta", 2)
    window = make_window()
    assert window.open_storage(str(tmp_path))  # what `optgui-app FOLDER` and a recent folder do
    panel = window.workspace_dock.widget()
    qtbot.waitUntil(lambda: len(panel.items()) == 2, timeout=30000)
    assert window.workspace_dock.isVisible()
    assert window.settings.recent()[0] == str(tmp_path)
    beta = next(item for item in panel.items() if item.text(0) == "beta")
    panel.tree.itemClicked.emit(beta, 0)
    qtbot.waitUntil(lambda: window.study_view.summary is not None and window.study_view.summary.name == "beta")
    assert window.storage == str(tmp_path / "b.db")


def test_the_study_header_shows_the_run_health(qtbot, make_window, tmp_path):
    import datetime as dt

    path = tmp_path / "h.db"
    study = optuna.create_study(study_name="h", storage=f"sqlite:///{path}")
    now = dt.datetime.now()
    for i in range(5):
        end = now - dt.timedelta(minutes=20 - i)
        study.add_trial(finished_trial(float(i), end))
    study.ask()  # a worker is busy, but nothing finished for 16 minutes
    window = make_window()
    assert window.open_storage(str(path), "h")
    subtitle = window.study_view.subtitle
    qtbot.waitUntil(lambda: "health:\u00a0stalled" in subtitle.text(), timeout=30000)
    assert "stalled: no trial finished for 16 min" in subtitle.toolTip()
