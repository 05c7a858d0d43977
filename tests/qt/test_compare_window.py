"""The Compare window through the real main window: pick studies of the open file and of an added file, see the
definition diff and every overlay, export each view as PNG, SVG and CSV, and select a trial of the shown study
from its best-so-far step."""

from __future__ import annotations

import csv
import warnings

import optuna
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from optgui.qt.compare.compare_window import VIEWS
from tests.support.verify import run_in_process

pytestmark = pytest.mark.xdist_group("compare-window")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare-window")
    for seed in (1, 2):
        run_in_process(folder / "runs.db", f"TPESampler(seed={seed})", "builtin:mixed", 12, study_name=f"seed{seed}")
    run_in_process(folder / "other.db", "RandomSampler(seed=5)", "builtin:mixed", 12, study_name="random")
    for seed in (1, 2):
        spec = f"NSGAIISampler(seed={seed}, population_size=6)"
        run_in_process(folder / "multi.db", spec, "builtin:multi", 12, study_name=f"m{seed}")
    return folder


def _compare(qtbot, window, dialog_log):
    window.workbench.compare_action.trigger()
    compare = window.compare_window
    assert compare.isVisible()
    return compare


def _check_all(compare):
    for i in range(compare.studies.count()):
        compare.studies.item(i).setCheckState(Qt.CheckState.Checked)


def test_compare_window_shows_the_diff_and_every_view_and_exports(qtbot, files, make_window, dialog_log, tmp_path):
    window = make_window()
    assert window.open_storage(str(files / "runs.db"), "seed1")
    compare = _compare(qtbot, window, dialog_log)
    assert [compare.studies.item(i).checkState() for i in range(2)] == [Qt.CheckState.Checked, Qt.CheckState.Unchecked]
    assert compare.add_file(str(files / "other.db"))
    _check_all(compare)
    qtbot.mouseClick(compare.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: compare.overlays is not None, timeout=60000)
    assert dialog_log.errors == []

    table = compare.definition
    rows = [table.verticalHeaderItem(i).text() for i in range(table.rowCount())]
    seed = rows.index("run: seed")
    assert [table.item(seed, j).text() for j in range(3)] == ["1", "2", "5"]
    assert table.item(seed, 0).font().bold() and not table.item(rows.index("run: objective"), 0).font().bold()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = optuna.load_study(study_name="seed2", storage=f"sqlite:///{files}/runs.db").best_value
    assert compare.overlays.by_trial["seed2"].y[-1] == best
    [group] = compare.overlays.comparison.seed_groups
    assert group.labels == ("seed1", "seed2")
    assert set(compare.overlays.importances) == {"seed1", "seed2", "random"}

    for key, _title in VIEWS:
        view = compare.views[key]
        compare.tabs.setCurrentWidget(view)
        for suffix, export in ((".png", view.export_png), (".svg", view.export_svg), (".csv", view.export_csv)):
            path = tmp_path / f"{key}{suffix}"
            assert export(str(path)) == str(path)
            assert path.stat().st_size > 0, path
    with open(tmp_path / "best-by-trial.csv", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["study", "trial", "best_value"]
    assert {line[0] for line in lines[1:]} == {"seed1", "seed2", "random"}
    assert "Pareto fronts need studies with 2 objectives" in compare.views["pareto"].message.text()

    # Linked selection: a step of the study shown in the main window selects its trial there.
    steps = next(
        item
        for item in compare.views["best-by-trial"].plot.items
        if isinstance(item, pg.ScatterPlotItem)
        and item.name() is None
        and item.opts["brush"].color().name() == "#2f6db5"
    )
    point = steps.points()[-1]
    steps.sigClicked.emit(steps, [point], None)
    assert window.study_view.selection.selected == int(point.data())


def test_pareto_fronts_overlay_and_the_two_to_eight_rule(qtbot, files, make_window, dialog_log):
    window = make_window()
    assert window.open_storage(str(files / "multi.db"), "m1")
    compare = _compare(qtbot, window, dialog_log)
    compare.compare()  # one study ticked
    assert dialog_log.errors and "Tick 2 to 8 studies (1 ticked)" in dialog_log.errors[-1][1]
    _check_all(compare)
    compare.compare()
    qtbot.waitUntil(lambda: compare.overlays is not None, timeout=60000)
    fronts = compare.overlays.fronts
    assert set(fronts) == {"m1", "m2"} and all(f.shape[1] == 2 and len(f) for f in fronts.values())
    curves = [i for i in compare.views["pareto"].plot.items if isinstance(i, pg.PlotDataItem)]
    assert len(curves) == 2
