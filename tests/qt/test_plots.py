"""The analysis views draw what optgui.core.analysis._plot_data computes (itself checked against Optuna in
tests/core/test_analysis.py), share the trial selection, follow the theme and export PNG, SVG and CSV.

Studies are made by real Optuna in one journal file (several studies, for the comparison views) and read
through optgui's reader, as the study view does.
"""

from __future__ import annotations

import csv
import math
import warnings

import numpy as np
import optuna
import pytest
from PySide6.QtGui import QImage

from optgui.core.analysis import _plot_data as analysis
from optgui.core.storage._reader import open_reader
from optgui.core.storage._tables import PRUNED
from optgui.qt import theme
from optgui.qt.plots import base
from optgui.qt.plots.panel import AnalysisPanel, view_classes
from optgui.qt.study.selection import TrialSelection

KEYS = [cls.key for cls in view_classes()]


def objective(trial):
    x = trial.suggest_float("x", -2, 2)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    n = trial.suggest_int("n", 1, 5)
    value = x**2 + abs(math.log10(lr) + 2) + {"a": 0, "b": 0.5, "c": 1}[kind] + 0.1 * n
    for step in range(4):
        trial.report(value * (4 - step), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def two(trial):
    x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
    return x, (1 - x) ** 2 + y


def three(trial):
    x, y, z = (trial.suggest_float(n, 0, 1) for n in "xyz")
    return x + y, y + z, (1 - x) * (1 - z)


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = tmp_path_factory.mktemp("plots") / "studies.log"
    store = JournalStorage(JournalFileBackend(str(path)))
    studies = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        for name, fn, directions, n in (
            ("single", objective, ["minimize"], 50),
            ("single-b", objective, ["minimize"], 20),
            ("two", two, ["minimize", "minimize"], 40),
            ("three", three, ["minimize", "minimize", "minimize"], 40),
        ):
            study = optuna.create_study(
                storage=store,
                study_name=name,
                directions=directions,
                sampler=optuna.samplers.RandomSampler(seed=len(name)),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=5),
            )
            study.optimize(fn, n_trials=n)
            studies[name] = study
    return str(path), studies


@pytest.fixture
def panel(qapp, qtbot, storage):
    if theme.current() is None:
        theme.install(qapp, "light")
    path, _ = storage
    reader = open_reader(path)
    selection = TrialSelection()
    widget = AnalysisPanel(selection)
    widget.resize(1000, 640)
    qtbot.addWidget(widget)
    widget.show()

    def open_study(name):
        summary = next(s for s in reader.studies() if s.name == name)
        widget.open(reader, summary)
        return widget

    widget.open_study = open_study
    yield widget
    from optgui.qt.tasks import tasks

    tasks.wait_for_all(60000)  # importance jobs end before the reader closes
    reader.close()


def drawn(view):
    view.redraw()
    return view


def image_is_not_blank(path) -> bool:
    image = QImage(str(path))
    if image.isNull() or image.width() < 100:
        return False
    colors = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    return len(colors) > 3


@pytest.mark.parametrize("key", KEYS)
def test_every_view_draws_and_exports_png_svg_csv(panel, key, tmp_path, qtbot):
    panel.open_study("two" if key == "pareto-front" else "single")
    view = drawn(panel.show_view(key))
    if key == "importance":
        if view.result is None:
            with qtbot.waitSignal(view.computed, timeout=60000):
                pass
    view.export_png(str(tmp_path / "p.png"))
    assert image_is_not_blank(tmp_path / "p.png")
    assert base.svg_supported()  # PySide6 is pinned below 6.11, where pyqtgraph's SVG exporter works
    assert view.export_svg(str(tmp_path / "p.svg"))
    assert "<svg" in (tmp_path / "p.svg").read_text()[:2000]
    n = view.export_csv(str(tmp_path / "p.csv"))
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert n == len(rows) - 1 > 0


def test_export_menu_asks_for_a_path_and_writes(panel, tmp_path, monkeypatch):
    panel.open_study("single")
    view = drawn(panel.show_view("slice"))
    target = tmp_path / "chosen.csv"
    monkeypatch.setattr(base, "ask_export_path", lambda *a: str(target))
    next(a for a in view.export_button.menu().actions() if "CSV" in a.text()).trigger()
    assert target.exists() and target.read_text().startswith("number,")


def test_learning_curves_draw_every_trial_with_reports(panel, storage):
    study = storage[1]["single"]
    panel.open_study("single")
    view = drawn(panel.show_view("intermediate-values"))
    curves = view.curves
    expected = {t.number: sorted(t.intermediate_values.items()) for t in study.trials if t.intermediate_values}
    assert curves.trial_numbers().tolist() == sorted(expected)
    drawn_points = sum(len(item.getData()[0]) for item in view.lines.values())
    assert drawn_points == len(curves)  # a small study: every curve drawn
    pruned = [t.number for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and len(view.lines[PRUNED].getData()[0]) == sum(len(expected[n]) for n in pruned)
    steps, median = view.median.getData()
    by_step = {}
    for pairs in expected.values():
        for s, v in pairs:
            by_step.setdefault(s, []).append(v)
    assert median.tolist() == pytest.approx([np.median(by_step[s]) for s in sorted(by_step)])
    panel.selection.select(pruned[0])
    x, y = view.selected_line.getData()
    assert list(zip(x.tolist(), y.tolist(), strict=False)) == [(float(s), v) for s, v in expected[pruned[0]]]


def test_learning_curve_sample_keeps_best_and_respects_budget(panel):
    from optgui.qt.plots.learning_curves import sample_curves

    panel.open_study("single")
    table = panel.source.table()
    curves = analysis.learning_curves(table, panel.source.intermediate_values())
    chosen = sample_curves(curves, table, 1.0, budget=20, best=5)
    assert len(chosen) == 20 and set(chosen) <= set(curves.trial_numbers().tolist())
    complete = analysis.complete_rows(table)
    best = table.number[complete[np.argsort(table.values[complete, 0])[:5]]]
    assert set(best.tolist()) <= set(chosen.tolist())


def test_parallel_coordinates_brush_filters_trials(panel):
    panel.open_study("single")
    view = drawn(panel.show_view("parallel-coordinates"))
    table = panel.source.table()
    labels = [d.label for d in view.pc.dimensions]
    assert labels == ["Objective Value", "kind", "lr", "n", "x"]
    assert view.pc.dimensions[labels.index("lr")].is_log and view.pc.dimensions[labels.index("kind")].is_cat
    lines = sum(len(item.getData()[0]) for item in view.line_items)
    assert lines == len(view.pc.numbers) * len(labels)
    received = []
    panel.selection.filter_changed.connect(received.append)
    axis = labels.index("x")
    view.set_brush(axis, 0.0, 0.5)
    x = dict(zip(table.number.tolist(), table.params["x"].values.tolist(), strict=False))
    cut = view.pc.dimensions[axis].to_axis(0.5)
    expected = sorted(n for n in view.pc.numbers.tolist() if x[n] <= cut)
    assert received[-1].tolist() == expected and 0 < len(expected) < len(view.pc.numbers)
    assert panel.selection.filter_source == "parallel coordinates"
    dimmed = len(view.dimmed.getData()[0]) // len(labels)
    assert dimmed == len(view.pc.numbers) - len(expected)
    view.set_brush(labels.index("n"), 0.0, 0.3)  # a second axis narrows further (AND)
    assert set(received[-1].tolist()) < set(expected)
    view.clear_brushes()
    assert received[-1] is None and panel.selection.filter is None


def test_parallel_coordinates_drag_on_an_axis_brushes(panel, qtbot):
    from PySide6.QtCore import QPoint, Qt

    panel.open_study("single")
    view = drawn(panel.show_view("parallel-coordinates"))
    qtbot.wait(50)
    vb = view.plot.vb
    axis = 4
    top = vb.mapViewToScene(pg_point(axis, 0.9))
    bottom = vb.mapViewToScene(pg_point(axis, 0.2))
    canvas = view.canvas
    start = canvas.mapFromScene(top)
    end = canvas.mapFromScene(bottom)
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(start.x(), start.y()))
    for k in range(1, 6):
        p = start + (end - start) * k / 5
        from PySide6.QtCore import QEvent, QPointF
        from PySide6.QtGui import QMouseEvent

        event = QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(p),
            QPointF(canvas.viewport().mapToGlobal(p)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        from PySide6.QtWidgets import QApplication

        QApplication.sendEvent(canvas.viewport(), event)
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(end.x(), end.y()))
    assert axis in view.brushes
    lo, hi = view.brushes[axis]
    assert lo == pytest.approx(0.2, abs=0.05) and hi == pytest.approx(0.9, abs=0.05)
    assert panel.selection.filter is not None


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_selection_highlights_the_trial_in_every_view(panel):
    panel.open_study("single")
    table = panel.source.table()
    row = int(analysis.complete_rows(table)[3])
    number = int(table.number[row])
    views = {key: drawn(panel.view(key)) for key in ("slice", "rank", "contour", "timeline", "parallel-coordinates")}
    panel.selection.select(number)
    sx, sy = views["slice"].marker.getData()
    assert (sx[0], sy[0]) == (
        pytest.approx(table.params["kind"].values[row])
        if views["slice"].data.param == "kind"
        else pytest.approx(sx[0]),
        table.values[row, 0],
    )
    tx, ty = views["timeline"].marker.getData()
    assert ty.tolist() == [number, number]
    bars = views["timeline"].bars
    assert tx.tolist() == [bars.start[row], bars.end[row]]
    assert len(views["rank"].marker.getData()[0]) == 1
    assert len(views["contour"].marker.getData()[0]) == 1
    px, py = views["parallel-coordinates"].selected_line.getData()
    assert len(px) == 5 and py[0] == pytest.approx(
        views["parallel-coordinates"].matrix[views["parallel-coordinates"].pc.numbers.tolist().index(number), 0]
    )
    panel.selection.select(None)
    assert len(views["timeline"].marker.getData()[0]) == 0


def test_clicking_a_point_selects_its_trial(panel):
    panel.open_study("single")
    view = drawn(panel.show_view("slice"))
    item = view.scatter.item
    point = item.points()[5]
    item.sigClicked.emit(item, [point], None)
    assert panel.selection.selected == int(point.data())


def test_slice_points_are_the_complete_trials(panel, storage):
    study = storage[1]["single"]
    panel.open_study("single")
    view = drawn(panel.show_view("slice"))
    view.param_box.setCurrentText("x")
    view.redraw()
    complete = {t.number: (t.params["x"], t.value) for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
    x, y = view.scatter.item.getData()
    numbers = [int(p.data()) for p in view.scatter.item.points()]
    assert sorted(numbers) == sorted(complete)  # few points: nothing thinned away
    for n, xi, yi in zip(numbers, x, y, strict=False):
        assert (xi, yi) == pytest.approx(complete[n])


def test_thinning_keeps_the_best_point_per_cell():
    rng = np.random.default_rng(1)
    x, y = rng.random(50_000), rng.random(50_000)
    priority = rng.random(50_000)
    kept = base.thin(x, y, priority, (0, 1), (0, 1), (0.01, 0.01), cell_pixels=1.0)
    assert len(kept) <= 101 * 101 and len(kept) < len(x)
    cells = (np.floor(x / 0.01).astype(int), np.floor(y / 0.01).astype(int))
    best = {}
    for i in range(len(x)):
        key = (cells[0][i], cells[1][i])
        if key not in best or priority[i] > priority[best[key]]:
            best[key] = i
    assert sorted(kept.tolist()) == sorted(best.values())
    assert np.all(np.diff(priority[kept]) >= 0)  # drawn in priority order: the best on top


def test_importance_matches_optuna_off_the_gui_thread_and_is_cached(panel, storage, qtbot):
    study = storage[1]["single"]
    panel.open_study("single")
    view = panel.show_view("importance")
    with qtbot.waitSignal(view.computed, timeout=60000) as blocker:
        view.redraw()
    result = blocker.args[0]
    expected = optuna.importance.get_param_importances(study)
    assert result.importances == pytest.approx(expected)
    assert list(result.importances) == list(expected)
    ticks = [label for _, label in view.plot.getAxis("left")._tickLevels[0]]
    assert sorted(ticks) == sorted(expected)
    task_before = view.importance_task.current
    view.redraw()  # same trial count: from the cache, no new computation
    assert view.importance_task.current in (None, task_before) and view.pending_key is None
    assert view.result.importances == result.importances


def test_pareto_view_front_and_hypervolume_equal_optuna(panel, storage):
    from optuna.visualization._hypervolume_history import _get_hypervolume_history_info

    for name, n_pairs in (("two", 1), ("three", 3)):
        study = storage[1][name]
        panel.open_study(name)
        view = drawn(panel.show_view("pareto-front"))
        assert len(view.pair_plots) == n_pairs
        front_numbers = sorted(int(p.data()) for p in view.fronts[0].points())
        assert front_numbers == sorted(t.number for t in study.best_trials)
        info = _get_hypervolume_history_info(study, view.reference)
        x, y = view.hv_curve.getData()
        assert y.tolist() == pytest.approx(info.values)
    view.reference_edit.setText("2, 2, 2")
    view.redraw()
    assert view.reference.tolist() == [2.0, 2.0, 2.0]


def test_pareto_view_explains_single_objective(panel):
    panel.open_study("single")
    view = drawn(panel.show_view("pareto-front"))
    assert "two or more" in view.message.textItem.toPlainText()


def test_timeline_shows_every_trial():
    from optgui.qt.plots.timeline import rasterize

    n = 100_000
    starts = np.arange(n) * 0.5
    bars = analysis.Timeline(
        np.arange(n), np.where(np.arange(n) % 10 == 0, 2, 1).astype(np.int8), starts, starts + 0.001
    )  # bars far thinner than a pixel
    colors = {s: (s * 40, 0, 0, 255) for s in range(5)}
    image = rasterize(bars, (0, n * 0.5), (-0.5, n - 0.5), 800, 500, colors)
    assert (image[..., 3] > 0).sum(axis=1).min() >= 1  # every pixel row (200 trials each) shows its bars
    assert (image[..., 0] == 80).any()  # pruned trials painted over complete ones


def test_compare_and_edf_overlay_studies(panel, storage):
    from optuna.visualization._edf import _get_edf_info

    panel.open_study("single")
    view = drawn(panel.show_view("compare"))
    assert view.chosen_studies() == ["single"]
    view.set_checked(["single-b"])
    view.redraw()
    assert view.edf_data.names == ["single", "single-b"]
    info = _get_edf_info([storage[1]["single"], storage[1]["single-b"]])
    ref = analysis.edf({n: analysis.complete_values(panel.source.study_table(n)) for n in view.edf_data.names})
    assert ref.x.tolist() == pytest.approx(info.x_values.tolist())
    assert len(view.history.listDataItems()) == 2 and len(view.edf_plot.listDataItems()) == 2
    best = view.histories["single-b"].best
    assert best[-1] == min(t.value for t in storage[1]["single-b"].trials if t.value is not None)


def test_views_follow_the_theme(panel, qapp):
    panel.open_study("single")
    view = drawn(panel.show_view("slice"))
    t = theme.current()
    try:
        t.set_mode("dark")
        assert view.colors.dark and view.canvas.backgroundBrush().color().name() == theme.DARK.background
        t.set_mode("light")
        assert not view.colors.dark and view.canvas.backgroundBrush().color().name() == theme.LIGHT.background
    finally:
        t.set_mode("light")


def test_live_refresh_merges_new_trials(panel, storage, tmp_path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = tmp_path / "live.log"
    study = optuna.create_study(
        storage=JournalStorage(JournalFileBackend(str(path))),
        study_name="live",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    study.optimize(objective, n_trials=5)
    with open_reader(str(path)) as reader:
        summary = reader.studies()[0]
        panel.open(reader, summary)
        view = drawn(panel.show_view("slice"))
        first = len(view.data.numbers)
        delta = reader.poll("live", None)
        watermark = delta.watermark
        study.optimize(objective, n_trials=5)
        delta = reader.poll("live", watermark)
        assert delta.n_new == 5
        panel.apply(delta.table)
        view.redraw()
        assert len(view.data.numbers) == first + sum(
            t.state == optuna.trial.TrialState.COMPLETE for t in study.trials[5:]
        )


def test_study_view_has_the_analysis_tab(make_window, storage, qtbot):
    from optgui.qt.study.study_view import StudyView

    path, _ = storage
    window = make_window()
    window.open_storage(path, "single")
    view: StudyView = window.study_view
    index = [view.tabs.tabText(i) for i in range(view.tabs.count())].index("Analysis")
    view.tabs.setCurrentIndex(index)
    slice_view = view.analysis.show_view("slice")
    qtbot.waitUntil(lambda: slice_view.data is not None, timeout=10000)
    assert view.analysis.source.study_name == "single"
    assert len(slice_view.data.numbers) == sum(
        t.state == optuna.trial.TrialState.COMPLETE
        for t in optuna.load_study(
            study_name="single",
            storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path)),
        ).trials
    )
    view.selection.select(3)
    assert view.analysis.views["slice"].selection is view.selection
