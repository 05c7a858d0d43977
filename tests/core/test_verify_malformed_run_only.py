"""A study whose only optgui record is a malformed run record (no segments: a plain Optuna study someone marked
by hand, or a run record that was damaged before the first segment was written) is refused by verify with the one
clear "malformed" line, like every other malformed record, instead of crashing while the replay is planned."""

from __future__ import annotations

from pathlib import Path

from optgui.core.verify._verdict import UNVERIFIABLE
from optgui.core.verify._verifier import verify_study
from tests.support.trust import assert_clean_exit, folder_state, optgui, set_study_attr
from tests.support.verify import STUDY, plain_study


def _marked_plain_study(tmp_path: Path) -> Path:
    path = tmp_path / "study.db"
    plain_study(path, "TPESampler(seed=3)", "builtin:quadratic", 3)
    set_study_attr(path, "optgui:run", '"hello"')
    return path


def test_verify_study_names_a_malformed_run_record_without_segments(tmp_path):
    path = _marked_plain_study(tmp_path)

    verdict = verify_study(str(path), STUDY, use_cache=False)

    assert verdict.kind == UNVERIFIABLE
    assert verdict.reason is not None and "optgui metadata is malformed" in verdict.reason
    assert "optgui:run" in verdict.reason


def test_verify_command_refuses_a_malformed_run_record_without_segments_in_one_line(tmp_path):
    path = _marked_plain_study(tmp_path)
    before = folder_state(path)

    proc = optgui("verify", str(path), "--no-cache", cwd=tmp_path)

    assert_clean_exit(proc, {2})
    assert "optgui metadata is malformed" in proc.stdout and "optgui:run" in proc.stdout, proc.stdout
    assert folder_state(path) == before
