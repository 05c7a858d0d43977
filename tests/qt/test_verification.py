"""The GUI's verifier door: a check asked for "soon" starts once, in its own pass, and cancel() stops it."""

from __future__ import annotations

from optgui.core.verify import Verdict, VerificationState
from optgui.qt.verify import verification
from optgui.qt.verify.verification import VerifyJob
from tests.support.studies import plain_study


def test_a_check_started_soon_starts_once_and_cancel_stops_it(qtbot, tmp_path):
    db = plain_study(tmp_path / "study.db", trials=2, objective=lambda t: t.suggest_float("x", -1, 1) ** 2)
    job = VerifyJob()
    states = []
    job.state.connect(states.append)

    job.start_soon(str(db), "det")
    assert job.running and states == []  # nothing yet: the asking pass stays short
    job.cancel()
    qtbot.wait(2 * verification.SOON_MS + verification.LAUNCH_DELAY_MS)
    assert states == [] and not job.running

    job.start_soon(str(db), "det")
    job.start_soon(str(db), "det")  # asked twice: one check
    qtbot.waitUntil(lambda: len(states) > 0, timeout=5000)
    assert states[0].kind == "checking"
    qtbot.waitUntil(lambda: not job.running, timeout=120000)
    assert [s.kind for s in states].count("checking") == 1
    assert states[-1].kind is VerificationState.UNVERIFIABLE  # made by plain Optuna: no run record to replay
    # The verdict behind the badge says the same in the core's vocabulary, also read back from its JSON.
    verdict = Verdict.from_json_obj(states[-1].verdict["json"]) if "json" in states[-1].verdict else None
    assert verdict is None or verdict.kind is VerificationState.UNVERIFIABLE
