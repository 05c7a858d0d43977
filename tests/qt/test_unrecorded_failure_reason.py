"""A FAIL trial with no recorded error (Optuna failed it for its return value: a fleet worker or plain Optuna
records nothing then) is explained by that likeliest reason, not as "not run by optgui" (issue 18, item 6)."""

from __future__ import annotations

from tests.support.studies import plain_study


def _objective(trial):
    x = trial.suggest_float("x", 0, 1)
    return float("nan") if trial.number == 1 else x


def test_a_failure_without_a_record_names_optunas_rule(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "s.db", trials=3, objective=_objective)
    window = make_window()
    assert window.open_storage(str(db))
    bench = window.workbench
    bench.show_tab(bench.trials_page)
    qtbot.waitUntil(lambda: bench.loaded, timeout=10000)
    bench.table.select_trial(1)
    details = bench.details
    assert details.number == 1 and "FAIL" in details.header.text()
    assert details.error_box.isVisible()
    shown = details.error_text.toPlainText()
    assert "not run by optgui" not in shown
    assert "NaN" in shown, shown
