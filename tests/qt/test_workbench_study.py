"""The workbench on real studies through the real window: a failed trial's traceback and output, the live output
pane, copying and enqueueing the best params (then running and verifying), Save as / Run on a copy, delete,
rename, exports (CSV equal to Optuna's trials_dataframe, plot, verdict) and preferences."""

from __future__ import annotations

import ast
import json
import warnings

import numpy as np
import optuna
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from optgui.qt import dialogs
from tests.support.determinism import recorded, reference, run_cli
from tests.support.studies import plain_study

OBJECTIVE_SOURCE = """
import logging
import optuna

log = logging.getLogger("user.training")


def objective(trial):
    x = trial.suggest_float("x", -5, 5)
    opt = trial.suggest_categorical("opt", ["adam", "sgd"])
    print(f"hello from trial {trial.number} with opt={opt}")
    log.warning("epoch loss for trial %d", trial.number)
    if trial.number == 2:
        raise ValueError(f"bad trial {trial.number}: x={x}")
    return (x - 1) ** 2 + (opt == "sgd")
"""


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _load(path, name="det"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        return optuna.load_study(study_name=name, storage=f"sqlite:///{path}")


def _run_in_window(qtbot, window, objective: str, sampler: str, n: int):
    panel = window.study_view.panel
    if panel.objective.isEnabled():
        panel.objective.setCurrentText(objective)
        panel.sampler.setText(sampler)
    panel.n_trials.setValue(n)
    button = panel.buttons["Start"] if panel.start_action.isEnabled() else panel.buttons["Resume"]
    click(qtbot, button)
    qtbot.waitUntil(
        lambda: not window.controller.active and window.controller.state in ("completed", "failed"), timeout=90000
    )
    assert window.controller.state == "completed"


def test_failed_trial_shows_traceback_and_captured_output(qtbot, tmp_path, make_window, dialog_log):
    source = tmp_path / "train.py"
    source.write_text(OBJECTIVE_SOURCE)
    db = plain_study(tmp_path / "study.db")
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    bench.show_tab(bench.log)
    _run_in_window(qtbot, window, f"{source}:objective", "RandomSampler(seed=1)", 5)
    # The Output tab followed the run's log.
    qtbot.waitUntil(lambda: "=== trial 4 ===" in bench.log.text.toPlainText(), timeout=10000)
    assert "hello from trial 0" in bench.log.text.toPlainText()
    bench.show_tab(bench.trials_page)
    assert bench.loaded and bench.table.model.frame.n == 5
    bench.table.expression.setText("state == FAIL")
    assert bench.table.apply_expression()
    assert list(bench.table.model.order) == [2]
    bench.table.view.selectRow(0)
    details = bench.details
    assert details.number == 2 and details.header.text().startswith("Trial 2  ·  FAIL")
    assert details.error_box.isVisible()
    assert details.error_title.text().startswith("ValueError: bad trial 2")
    trace = details.error_text.toPlainText()
    assert "Traceback (most recent call last)" in trace and 'raise ValueError(f"bad trial' in trace
    output = details.output.toPlainText()
    assert "hello from trial 2 with opt=" in output
    assert "WARNING user.training: epoch loss for trial 2" in output
    assert "ValueError: bad trial 2" in output  # the traceback as the objective's stderr would show it
    assert "trial 1" not in output and "trial 3" not in output  # only this trial's part of the log
    # a trial that succeeded: params with distributions, no error box
    bench.table.expression.setText("")
    bench.table.apply_expression()
    bench.table.select_trial(1)
    assert not details.error_box.isVisible()
    tree = [details.tree.topLevelItem(i).text(0) for i in range(details.tree.topLevelItemCount())]
    assert tree[0] == "Params (2)" and "Values" in tree
    params = details.tree.topLevelItem(0)
    assert params.child(0).text(0) == "x" and params.child(0).text(2) == "float [-5.0, 5.0]"
    assert params.child(1).text(2) == 'categorical ["adam", "sgd"]'
    assert "hello from trial 1" in details.output.toPlainText()
    assert not dialog_log.errors


@pytest.mark.slow
@pytest.mark.timeout(150)  # took 46 s on a busy 2-core machine
def test_copy_params_parse_back_and_enqueue_then_run_verifies(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    window = make_window()
    assert window.open_storage(str(db))
    sampler, objective = "TPESampler(seed=7)", "builtin:mixed"
    _run_in_window(qtbot, window, objective, sampler, 6)
    bench = window.workbench
    bench.show_tab(bench.best)
    study = _load(db)
    best = study.best_trial
    assert bench.best.title.text().startswith(f"Best trial {best.number}: value = ")
    click(qtbot, bench.best.copy_json)
    assert json.loads(QGuiApplication.clipboard().text()) == best.params
    click(qtbot, bench.best.copy_python)
    assert ast.literal_eval(QGuiApplication.clipboard().text()) == best.params
    # Enqueue: asked first (a refusal changes nothing), then recorded as a waiting trial.
    dialog_log.answers = [None]
    click(qtbot, bench.best.enqueue)
    assert dialog_log.questions[-1][0] == "Enqueue params"
    assert len(_load(db).trials) == 6
    click(qtbot, bench.best.enqueue)
    assert _load(db).trials[6].state == optuna.trial.TrialState.WAITING
    _run_in_window(qtbot, window, objective, sampler, 9)
    trials = _load(db).trials
    assert trials[6].params == best.params and trials[6].system_attrs["fixed_params"] == best.params
    view = window.study_view
    qtbot.waitUntil(lambda: view.badge.state.kind in ("verified", "diverged", "unverifiable"), timeout=90000)
    assert view.badge.state.kind == "verified", view.badge.state.text
    assert not dialog_log.errors


@pytest.mark.slow
@pytest.mark.timeout(150)  # took 45 s on a busy 2-core machine
def test_save_as_and_run_on_a_copy_leave_the_original_alone(qtbot, tmp_path, make_window, dialog_log, monkeypatch):
    sampler, objective = "TPESampler(seed=11)", "builtin:quadratic"
    db = tmp_path / "study.db"
    assert run_cli(str(db), sampler, objective, 6).returncode == 0
    original = db.read_bytes()
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    copy = tmp_path / "saved.db"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(copy))
    dialog_log.answers = [0, 1]  # Copy; then "Stay here"
    assert bench.save_as() == str(copy)
    assert dialog_log.questions[-2][0] == "Save study as"
    assert window.storage == str(db)
    assert [t.params for t in _load(copy).trials] == [t.params for t in _load(db).trials]
    # Run on a copy: the copy opens; running it extends the copy only, deterministically.
    run_copy = tmp_path / "run-copy.db"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(run_copy))
    dialog_log.answers = [0]
    bench.save_as(run_copy=True)
    assert window.storage == str(run_copy)
    assert "copy of 'det'" in window.study_view.panel.notice.text()
    _run_in_window(qtbot, window, objective, sampler, 10)
    assert recorded(str(run_copy)) == reference(sampler, objective, 10)
    assert db.read_bytes() == original
    assert not dialog_log.errors


def test_delete_asks_and_removes_only_that_study(qtbot, tmp_path, make_window, dialog_log):
    db = tmp_path / "two.db"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("keep", "drop"):
            s = optuna.create_study(storage=f"sqlite:///{db}", study_name=name)
            s.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    keep_before = [(t.params, t.values) for t in _load(db, "keep").trials]
    window = make_window()
    assert window.open_storage(str(db), "drop")
    dialog_log.answers = [None]  # cancelled: nothing happens
    assert not window.workbench.delete()
    assert dialog_log.questions[-1][0] == "Delete study" and "'drop'" in dialog_log.questions[-1][1]
    assert sorted(optuna.get_all_study_names(f"sqlite:///{db}")) == ["drop", "keep"]
    dialog_log.answers = [0]
    assert window.workbench.delete()
    assert optuna.get_all_study_names(f"sqlite:///{db}") == ["keep"]
    assert [(t.params, t.values) for t in _load(db, "keep").trials] == keep_before
    assert [s.name for s in window.study_list.model.rows] == ["keep"]
    assert not dialog_log.errors


@pytest.mark.slow
def test_rename_keeps_the_run_record(qtbot, tmp_path, make_window, dialog_log, monkeypatch):
    db = tmp_path / "study.db"
    assert run_cli(str(db), "RandomSampler(seed=3)", "builtin:quadratic", 4).returncode == 0
    window = make_window()
    assert window.open_storage(str(db))
    monkeypatch.setattr(dialogs, "text", lambda *a, **k: "renamed")
    dialog_log.answers = [0]
    assert window.workbench.rename() == "renamed"
    assert optuna.get_all_study_names(f"sqlite:///{db}") == ["renamed"]
    assert window.study_view.summary.name == "renamed"
    assert window.study_view.panel.defined  # the run record came along
    assert not dialog_log.errors


def test_exported_csv_equals_trials_dataframe(qtbot, tmp_path, make_window, dialog_log, monkeypatch):
    pd = pytest.importorskip("pandas")
    db = tmp_path / "study.db"

    def objective(trial):
        x = trial.suggest_float("x", -3, 3)
        n = trial.suggest_int("n", 1, 9)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        trial.set_user_attr("tag", f"t{trial.number % 3}")
        trial.set_user_attr("score", x * 2)
        if trial.number % 5 == 4:
            raise optuna.TrialPruned()
        if trial.number % 7 == 6:
            raise RuntimeError("boom")
        return x * x + n + (c == "b")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            storage=f"sqlite:///{db}", study_name="csv", sampler=optuna.samplers.RandomSampler(seed=4)
        )
        study.optimize(objective, n_trials=25, catch=(RuntimeError,))
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    out = tmp_path / "trials.csv"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(out))
    bench.table.set_column_visible("datetime_start", True)
    assert bench.export_csv() == str(out)
    exported = pd.read_csv(out, keep_default_na=False, na_values=[""])
    df = study.trials_dataframe()
    shared = [c for c in exported.columns if c in df.columns]
    assert set(shared) == {
        "number",
        "value",
        "datetime_start",
        "datetime_complete",
        "params_x",
        "params_n",
        "params_c",
        "user_attrs_tag",
        "user_attrs_score",
        "state",
    }
    for column in shared:
        mine, theirs = exported[column], df[column]
        if column.startswith("datetime"):
            mine = pd.to_datetime(mine)
        assert mine.tolist() == theirs.tolist() or np.array_equal(mine.to_numpy(), theirs.to_numpy(), equal_nan=True), (
            column
        )
    np.testing.assert_allclose(exported["duration_seconds"], df["duration"].dt.total_seconds())
    # What the table shows is what is exported: filtered and sorted rows.
    bench.table.expression.setText("state == COMPLETE and x > 0")
    assert bench.table.apply_expression()
    bench.table.view.horizontalHeader().setSortIndicator(
        bench.table.model.column_index("value"), Qt.SortOrder.DescendingOrder
    )
    bench.export_csv()
    exported = pd.read_csv(out)
    expected = df[(df.state == "COMPLETE") & (df.params_x > 0)].sort_values("value", ascending=False)
    assert exported["number"].tolist() == expected["number"].tolist()


def test_plot_and_verdict_exports(qtbot, tmp_path, make_window, dialog_log, monkeypatch):
    from optgui.qt.workbench.plot_export import export_plot

    db = tmp_path / "study.db"
    assert run_cli(str(db), "RandomSampler(seed=3)", "builtin:quadratic", 8).returncode == 0
    window = make_window()
    assert window.open_storage(str(db))
    bench, view = window.workbench, window.study_view
    png = tmp_path / "plot.png"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(png))
    assert bench.export_plot() == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "plot.svg"
    assert export_plot(view.plot.view, svg) in ("svg", "svg-fallback")
    assert b"<svg" in svg.read_bytes()
    fallback = tmp_path / "fallback.svg"
    assert export_plot(view.plot.view, fallback, use_fallback=True) == "svg-fallback"
    text = fallback.read_text()
    assert "<svg" in text and text.count("<path") + text.count("<polyline") > 20  # drawn, not an empty canvas
    qtbot.waitUntil(lambda: view.badge.state.kind in ("verified", "diverged", "unverifiable"), timeout=90000)
    verdict = tmp_path / "verdict.json"
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(verdict))
    assert bench.export_verdict() == str(verdict)
    data = json.loads(verdict.read_text())
    assert data["schema"] == "optgui.verdict-export/1" and data["study"] == "det"
    assert data["badge"]["kind"] == view.badge.state.kind == "verified"
    from optgui.core.verify._verdict import VERDICT_SCHEMA

    assert data["verdict"]["schema"] == VERDICT_SCHEMA and data["verdict"]["kind"] == "verified"
    assert data["verdict"]["n_checked"] == 8 and data["details"]["equivalent"] is True


def test_preferences_are_saved_and_applied(qtbot, tmp_path, make_window, dialog_log):
    from optgui.qt.settings import Settings
    from optgui.qt.window.preferences import Preferences

    window = make_window()
    shown = []

    def fill(dialog):
        shown.append(dialog)
        dialog.theme.setCurrentIndex(2)  # dark
        dialog.interval.setValue(7.5)
        dialog.sampler.setText("nonsense(((")
        dialog.accept()
        assert dialog.result() == 0 and not dialog.error.isHidden()  # refused: the dialog stays open
        assert "Default sampler" in dialog.error.text()
        dialog.sampler.setText("RandomSampler")
        dialog.seed.setText("123")
        dialog.verify.setChecked(False)
        dialog.child.setChecked(True)
        dialog.accept()
        return dialog.result() == 1

    dialog_log.dialog_hook = fill
    assert window.workbench.preferences()
    from optgui.core import paths

    labels = [w.text() for w in shown[0].findChildren(type(shown[0].error))]
    assert str(paths.data_dir()) in labels and str(paths.cache_dir()) in labels
    again = Preferences(Settings())
    assert again.default_sampler == "RandomSampler" and again.default_seed == 123
    assert not again.verify_automatically and again.objective_in_child_process
    assert Settings().theme() == "dark" and Settings().live_refresh() == (True, 7.5)
    assert window.theme_actions["dark"].isChecked()
    assert window.live_timer.interval() == 7500
    assert window.study_view.auto_verify is False
    db = plain_study(tmp_path / "s.db")
    window.open_storage(str(db))
    panel = window.study_view.panel
    assert panel.child_process.isChecked()
    assert panel.sampler.text() == "RandomSampler" and panel.seed.text() == "123"
    window.set_theme("light")


@pytest.mark.slow
@pytest.mark.timeout(180)  # took 56 s on a busy 2-core machine
def test_save_as_copies_off_the_gui_thread_and_cancel_leaves_no_file(
    qtbot, tmp_path, make_window, dialog_log, monkeypatch
):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QProgressDialog, QPushButton

    db = plain_study(tmp_path / "big.db", trials=300, objective=lambda t: t.suggest_float("x", 0, 1))
    original = db.read_bytes()
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    target = tmp_path / "copies" / "saved.db"
    target.parent.mkdir()
    monkeypatch.setattr(dialogs, "save_file", lambda *a, **k: str(target))
    ticks = []
    ticker = QTimer()
    ticker.timeout.connect(lambda: ticks.append(1))
    ticker.start(10)
    seen = []

    def cancel_when_under_way():
        dialog = window.findChild(QProgressDialog, "backgroundProgress")
        if dialog is not None and dialog.value() > 0:
            seen.append(dialog.labelText())
            dialog.findChild(QPushButton).click()  # the dialog's Cancel button
            watcher.stop()

    watcher = QTimer()
    watcher.timeout.connect(cancel_when_under_way)
    watcher.start(5)
    dialog_log.answers = [0]  # Copy
    assert bench.save_as() is None
    assert seen and "of 300 trials" in seen[0]
    assert list(target.parent.iterdir()) == []  # neither the copy nor a hidden partial file
    assert "cancelled" in window.statusBar().currentMessage()
    assert ticks  # the GUI thread kept running its event loop during the copy
    # Not cancelled: the copy completes in the background and Optuna loads it with the same trials.
    ticks.clear()
    dialog_log.answers = [0, 1]  # Copy; then "Stay here"
    assert bench.save_as() == str(target)
    assert ticks
    assert [(t.params, t.values) for t in _load(target).trials] == [(t.params, t.values) for t in _load(db).trials]
    assert (
        window.findChild(QProgressDialog, "backgroundProgress") is None
        or not window.findChild(QProgressDialog, "backgroundProgress").isVisible()
    )
    ticker.stop()
    watcher.stop()
    assert db.read_bytes() == original
    assert not dialog_log.errors


def test_details_pane_rereads_only_the_selected_trial_and_only_when_it_changed(qtbot, tmp_path, make_window):
    def learning(trial):
        x = trial.suggest_float("x", 0, 1)
        for step in range(3):
            trial.report(x * step, step)
        return x

    db = plain_study(tmp_path / "live.db", trials=20, objective=learning)
    study = _load(db)
    running = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    running.report(0.5, 0)
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    bench.show_tab(bench.trials_page)
    details, extras = bench.details, bench.details.extras
    assert bench.table.select_trial(running.number)
    assert details.header.text().startswith(f"Trial {running.number}")
    assert details.curve.getData()[1].tolist() == [0.5]
    window.study_view.refresh()  # the first poll after opening re-sends unfinished trials once (reader contract)
    reads = extras.reads
    # Another process finishes more trials: the details pane reads nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(learning, n_trials=4)
    assert window.study_view.refresh() > 0
    assert bench.table.model.frame.n == 25
    assert extras.reads == reads
    # The selected trial reports again and finishes: its details are read again, and only its own.
    running.report(0.25, 1)
    study.tell(running, 0.25)
    assert window.study_view.refresh() > 0
    assert extras.reads == reads + 2  # its system attributes and its intermediate values
    assert details.curve.getData()[1].tolist() == [0.5, 0.25]
    assert "COMPLETE" in details.header.text()
    # Selecting another trial reads that trial only (the earlier ones stay read).
    bench.table.select_trial(3)
    assert extras.reads == reads + 4
    assert details.curve.getData()[1].tolist() == [v for _, v in sorted(study.trials[3].intermediate_values.items())]
