"""The Compare view counts its studies in English: "1 study", "2 studies" (issue 18, item 8: "1 studies")."""

from __future__ import annotations

from optgui.core.storage._reader import open_reader
from optgui.qt import theme
from optgui.qt.plots.panel import AnalysisPanel
from optgui.qt.study.selection import TrialSelection
from tests.support.studies import plain_study


def _objective(trial):
    return trial.suggest_float("x", -1, 1) ** 2


def test_the_compare_status_says_1_study_and_2_studies(qapp, qtbot, tmp_path):
    if theme.current() is None:
        theme.install(qapp, "light")
    db = plain_study(tmp_path / "s.db", name="first", trials=5, objective=_objective)
    plain_study(db, name="second", trials=5, objective=_objective)
    reader = open_reader(str(db))
    try:
        panel = AnalysisPanel(TrialSelection())
        qtbot.addWidget(panel)
        panel.show()
        panel.open(reader, next(s for s in reader.studies() if s.name == "first"))
        view = panel.show_view("compare")
        view.redraw()
        assert view.status.text().startswith("1 study"), view.status.text()
        view.set_checked(["second"])
        view.redraw()
        assert view.status.text().startswith("2 studies"), view.status.text()
    finally:
        from optgui.qt.tasks import tasks

        tasks.wait_for_all(60000)
        reader.close()
