"""Opening storages: bad files give a dialog (never a crash), drag and drop, recent files, the demo."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from optgui.qt.settings import Settings
from tests.support.studies import plain_study


def _bad_files(tmp_path):
    files = {}
    files["missing"] = tmp_path / "missing.db"
    # (a folder, even one named like a study file, opens as a workspace: tests/qt/test_workspace.py)
    files["empty"] = tmp_path / "empty.db"
    files["empty"].write_bytes(b"")
    files["random bytes"] = tmp_path / "noise.db"
    files["random bytes"].write_bytes(bytes(range(256)) * 40)
    files["text"] = tmp_path / "notes.txt"
    files["text"].write_text("just some notes\n")
    files["foreign sqlite"] = tmp_path / "other.db"
    with sqlite3.connect(files["foreign sqlite"]) as con:
        con.execute("CREATE TABLE things (id INTEGER)")
    files["truncated sqlite"] = tmp_path / "truncated.db"
    good = plain_study(tmp_path / "good.db")
    files["truncated sqlite"].write_bytes(good.read_bytes()[:2000])
    files["broken journal"] = tmp_path / "broken.jsonl"
    files["broken journal"].write_text(
        '{"op_code": 0, "worker_id": "x", "study_name": "s", "directions": [1]}\n{"op_code": 99, garbage\n'
    )
    files["url scheme"] = "ftp://example.org/study.db"
    return files


def test_each_bad_file_gives_a_dialog_not_a_crash(qtbot, tmp_path, make_window, dialog_log):
    window = make_window()
    failed = []
    for kind, path in _bad_files(tmp_path).items():
        before = len(dialog_log.errors)
        opened = window.open_storage(str(path))
        if opened:  # a journal whose last line is torn (a writer may be appending it) opens without it
            assert kind == "broken journal"
            assert window.study_list.model.rowCount() == 1
            window.close_storage()
            continue
        failed.append(str(path))
        assert len(dialog_log.errors) == before + 1, kind
        title, text, _ = dialog_log.errors[-1]
        assert title == "Cannot open the storage" and text, kind
    assert window.isVisible()
    assert window.stack.currentWidget() is window.start_page
    assert len(failed) == 7
    assert not set(Settings().recent()) & set(failed)  # failures are not remembered


def _drop(window, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(drop)


def test_drag_and_drop_opens_the_file(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "dropped.db", name="dropped")
    window = make_window()
    _drop(window, db)
    assert window.stack.currentWidget() is window.storage_page
    assert window.study_view.summary.name == "dropped"
    _drop(window, tmp_path / "nothing-here.db")
    assert dialog_log.errors and "does not exist" in dialog_log.errors[-1][1]


def test_recent_files_are_remembered_pruned_and_never_hold_passwords(qtbot, tmp_path, make_window, dialog_log):
    a = plain_study(tmp_path / "a.db")
    b = plain_study(tmp_path / "b.db")
    window = make_window()
    window.open_storage(str(a))
    window.open_storage(str(b))
    assert Settings().recent() == [str(b), str(a)]
    assert [act.text() for act in window.recent_menu.actions()][:2] == [str(b), str(a)]
    b.unlink()
    settings = Settings()
    settings.add_recent("postgresql://alice:s3cret@db.example.org/optuna")
    text = settings.path.read_text()
    assert "s3cret" not in text and "alice:***@db.example.org" in text
    again = make_window()
    items = [
        again.start_page.recent.item(i).data(Qt.ItemDataRole.UserRole) for i in range(again.start_page.recent.count())
    ]
    assert items == ["postgresql://alice:***@db.example.org/optuna", str(a)]  # the missing file was pruned
    again.start_page.recent.itemActivated.emit(again.start_page.recent.item(1))
    assert again.study_view.summary.name == "det"


def test_file_open_uses_the_dialog_and_opening_never_writes(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "study.db")
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    dialog_log.open_file = str(db)
    window = make_window()
    window.open_action.trigger()
    assert window.study_view.summary.name == "det"
    window.refresh()
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]


def test_open_demo_creates_the_demo_study_without_trials(qtbot, make_window, dialog_log):
    from optgui.core.paths import demo_study_path

    window = make_window()
    window.start_page.buttons["Open demo"].click()
    assert demo_study_path().exists()
    view = window.study_view
    assert view.summary.name == "demo" and view.data.n == 0
    assert view.panel.sampler.text() == "TPESampler(seed=42)"
    assert view.panel.n_trials.value() == 200
    assert view.panel.start_action.isEnabled()
    # Created, not run: a run record and a target, but no run segment (nothing was run, nothing timed out).
    from optgui.qt.study import reading

    meta = reading.metadata_of(view.summary)
    assert meta.present and meta.target == {"n_trials": 200} and not meta.segments and not meta.states


def test_storage_and_study_from_the_command_line(qtbot, tmp_path, make_window, dialog_log):
    db = plain_study(tmp_path / "two.db", name="first")
    plain_study(db, name="second")
    window = make_window()
    window.open_storage(str(db), "second")
    assert window.study_view.summary.name == "second"
    window.open_storage(str(db), "third")
    assert dialog_log.errors[-1][0] == "No such study"


@pytest.mark.parametrize("mode", ["dark", "light"])
def test_theme_override_restyles_the_plot_and_is_saved(qtbot, make_window, dialog_log, mode):
    from optgui.qt import theme

    window = make_window()
    window.set_theme(mode)
    assert theme.colors().dark == (mode == "dark")

    def restyled():
        lightness = window.palette().window().color().lightness()
        return (lightness < 100) if mode == "dark" else (lightness > 200)

    qtbot.waitUntil(restyled, timeout=5000)
    lightness = window.palette().window().color().lightness()
    assert (lightness < 100) if mode == "dark" else (lightness > 200), lightness
    bg = window.study_view.plot.view.backgroundBrush().color().name()
    assert bg == theme.colors().background
    assert Settings().theme() == mode
    window.set_theme("light")


@pytest.mark.slow
def test_a_study_made_without_optgui_gets_a_trial_target_beyond_its_trials(qtbot, tmp_path, make_window):
    db = plain_study(tmp_path / "adopted.db", trials=130, objective=lambda t: t.suggest_float("x", 0, 1))
    window = make_window()
    window.open_storage(str(db), "det")
    assert window.study_view.panel.n_trials.value() == 230  # the 130 it has + 100 more, not the default 100
