"""With the workspace dock open, a 1000 x 700 px window does not grow, every page of the study view shows its texts
whole, and the workspace panel shows whole columns inside its width (the names elided, the other columns in each
row's tooltip); a wider dock shows every column. (The dock's 300 px minimum made the window at least 1108 px wide,
and its last column was cut off at the panel's edge.)"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import optuna
from PySide6.QtCore import Qt

from optgui.qt.workspace.workspace_panel import COLUMNS, NAME_MIN
from tests.support.clipping import clipped_on_each_page


def _folder(tmp_path):
    folder = tmp_path / "a-folder-of-experiments-with-a-long-name"
    (folder / "sub").mkdir(parents=True)
    long = optuna.create_study(
        study_name="resnet50-learning-rate-sweep-seed-3", storage=f"sqlite:///{folder / 'experiments-2026.db'}"
    )
    long.optimize(lambda t: t.suggest_float("x", 0, 1) * 1e-4, n_trials=5)
    stuck = optuna.create_study(study_name="stuck", storage=f"sqlite:///{folder / 'sub' / 'stuck.db'}")
    for i in range(5):  # 10 s trials, the last one 26 minutes ago, then a trial starts and none finishes
        end = dt.datetime.now() - dt.timedelta(minutes=30 - i)
        stuck.add_trial(
            optuna.trial.FrozenTrial(
                number=0, trial_id=0, state=optuna.trial.TrialState.COMPLETE, value=float(i), params={"x": float(i)},
                distributions={"x": optuna.distributions.FloatDistribution(-100, 100)},
                datetime_start=end - dt.timedelta(seconds=10), datetime_complete=end,
                user_attrs={}, system_attrs={}, intermediate_values={},
            )
        )  # fmt: skip
    stuck.ask()
    subprocess.run(
        [sys.executable, "-m", "optgui", "run", str(folder / "done.db"), "--study", "done", "--objective",
         "builtin:quadratic", "--n-trials", "3", "--seed", "1", "--quiet"],
        check=True, capture_output=True,
    )  # fmt: skip
    return folder


def _columns_inside(panel) -> list[str]:
    """The panel's shown columns that are cut off or run past its viewport (none, when it fits)."""
    tree, header = panel.tree, panel.tree.header()
    width = tree.viewport().width()
    problems = []
    for column, name in enumerate(COLUMNS):
        if header.isSectionHidden(column):
            continue
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        if right > width:
            problems.append(f"{name} ends at {right} px of {width}")
        need = max(tree.sizeHintForColumn(column), header.sectionSizeHint(column))
        if column and header.sectionSize(column) < need:
            problems.append(f"{name} is {header.sectionSize(column)} px wide, its texts need {need}")
    return problems


def test_a_1000px_window_with_the_workspace_fits(qtbot, tmp_path, make_window, dialog_log):
    folder = _folder(tmp_path)
    window = make_window()
    window.resize(1000, 700)
    window.study_list.live.setChecked(False)
    assert window.open_folder(str(folder))
    panel = window.workspace_dock.widget()
    qtbot.waitUntil(lambda: len(panel.items()) == 3, timeout=30000)
    panel._activated(next(i for i in panel.items() if i.text(0) == "stuck"))  # the user chooses a study there
    qtbot.waitUntil(lambda: window.study_view.summary is not None and window.study_view.summary.name == "stuck")
    qtbot.waitUntil(lambda: window.width() == 1000)
    assert window.minimumSizeHint().width() <= 1000
    assert window.study_view.isVisible() and window.study_view.title.text() == "stuck"

    assert not _columns_inside(panel), _columns_inside(panel)
    assert not panel.tree.horizontalScrollBar().isVisible()
    shown = panel.shown_columns()
    assert shown[:2] == ["File / study", "Health"], shown
    assert panel.tree.header().sectionSize(0) >= NAME_MIN
    stuck = next(i for i in panel.items() if i.text(0) == "stuck")
    assert stuck.text(1) == "stalled"
    tip = stuck.toolTip(0)
    assert "health: stalled: no trial finished for 26 min" in tip and "6 trials" in tip and "last activity" in tip

    view = window.study_view
    # Every tab of the study view is inside the tab bar (its title shortened if need be, whole in its tooltip),
    # none behind scroll arrows.
    bar = view.tabs.tabBar()
    shown_tabs = [i for i in range(bar.count()) if bar.isTabVisible(i)]
    ends = [bar.tabRect(i).right() for i in shown_tabs]
    assert max(ends) <= view.tabs.width(), (view.tabs.width(), ends)
    assert not bar.usesScrollButtons()
    assert all(bar.tabToolTip(i) == bar.tabText(i) for i in shown_tabs)

    problems = clipped_on_each_page(qtbot, window, view, max_width=1000)
    assert not problems, "\n".join(problems)

    window.resize(1600, 900)
    window.resizeDocks([window.workspace_dock], [420], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: panel.shown_columns() == list(COLUMNS), timeout=5000)
    assert not _columns_inside(panel), _columns_inside(panel)
    assert not dialog_log.errors
