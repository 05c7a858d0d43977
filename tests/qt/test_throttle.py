"""The two named update rates (optgui.qt.tasks.throttle): a throttle calls at most once per interval."""

from __future__ import annotations

from PySide6.QtCore import QObject

from optgui.qt.tasks.throttle import DATA, TEXTS, Throttle


def test_the_rates_are_10_and_2_hz():
    assert DATA.hz == 10 and TEXTS.hz == 2


def test_a_leading_throttle_calls_at_once_then_once_per_interval(qtbot, qapp):
    owner = QObject()
    calls: list[int] = []
    throttle = Throttle(owner, DATA, lambda: calls.append(1))
    throttle()
    assert calls == [1]  # a quiet period: at once
    for _ in range(50):
        throttle()
    assert calls == [1] and throttle.pending
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=2000)  # the requests of the interval: one call at its end
    qtbot.wait(2 * DATA.interval_ms)
    assert len(calls) == 2


def test_a_trailing_throttle_calls_only_at_the_end_of_the_interval(qtbot, qapp):
    owner = QObject()
    calls: list[int] = []
    throttle = Throttle(owner, TEXTS, lambda: calls.append(1), leading=False)
    throttle()
    throttle()
    assert calls == []
    qtbot.waitUntil(lambda: calls == [1], timeout=3000)


def test_cancel_drops_a_pending_call(qtbot, qapp):
    owner = QObject()
    calls: list[int] = []
    throttle = Throttle(owner, DATA, lambda: calls.append(1), leading=False)
    throttle()
    throttle.cancel()
    qtbot.wait(3 * DATA.interval_ms)
    assert calls == []
