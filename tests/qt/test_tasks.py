"""The background-task API (optgui.qt.tasks.tasks): delivery on the GUI thread, cancel-on-restart, errors, the
registry."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QThread

from optgui.qt.tasks import tasks


@pytest.fixture
def owner(qapp):
    owner = QObject()
    yield owner
    tasks.cancel_tasks_within(owner)


def test_results_arrive_on_the_gui_thread_in_order(qtbot, owner):
    slot = tasks.TaskSlot(owner, "numbers")
    seen: list = []
    gui = QThread.currentThread()

    def work(state):
        seen.append(("worker thread", threading.current_thread() is not threading.main_thread()))
        yield from range(3)
        return "done"

    def record(kind):
        return lambda *args: seen.append((kind, *args, QThread.currentThread() is gui))

    task = slot.start(
        work,
        started=record("started"),
        yielded=record("yielded"),
        returned=record("returned"),
        finished=record("finished"),
    )
    qtbot.waitUntil(lambda: ("finished", True) in seen)
    assert seen == [
        ("worker thread", True),
        ("started", True),
        ("yielded", 0, True),
        ("yielded", 1, True),
        ("yielded", 2, True),
        ("returned", "done", True),
        ("finished", True),
    ]
    assert task.ended and task not in tasks.running_tasks()


def test_restarting_a_slot_cancels_and_disconnects_the_previous_task(qtbot, owner):
    slot = tasks.TaskSlot(owner, "poll")
    release = threading.Event()
    results: list = []

    def slow(state):
        release.wait(10)
        return "stale: the previous study"

    first = slot.start(slow, returned=results.append)
    qtbot.waitUntil(lambda: first._begun)
    second = slot.start(lambda state: "fresh", returned=results.append)
    assert first.cancelled and not second.cancelled
    assert second.pending  # a serial slot: it begins when the cancelled work has ended
    release.set()
    qtbot.waitUntil(lambda: second.ended)
    qtbot.wait(50)  # anything the first task still had queued would be delivered by now
    assert results == ["fresh"]


def test_a_result_already_queued_is_dropped_by_cancel(qtbot, owner):
    slot = tasks.TaskSlot(owner, "poll")
    results: list = []
    task = slot.start(lambda state: "stale", returned=results.append)
    assert task._ended.wait(10)  # the result sits in the task's outbox; the GUI has not drained it yet
    slot.cancel()
    qtbot.wait(50)
    assert results == []


def test_errors_arrive_as_errored_with_the_worker_traceback(qtbot, owner):
    slot = tasks.TaskSlot(owner, "fails")
    errors: list[tasks.TaskError] = []
    returned: list = []

    def work(state):
        raise ValueError("no such study")

    task = slot.start(work, errored=errors.append, returned=returned.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0].exception, ValueError)
    assert errors[0].message == "ValueError: no such study"
    assert "in work" in errors[0].details
    assert returned == [] and task.ended


def test_cancel_is_cooperative_and_reaches_what_the_work_waits_for(qtbot, owner):
    slot = tasks.TaskSlot(owner, "waits")
    woken = threading.Event()

    def work(state):
        state.on_cancel(woken.set)
        while not state.cancelled:
            state.sleep(5)
        return "ended early"

    task = slot.start(work)
    qtbot.waitUntil(lambda: task._begun)
    slot.cancel()
    assert woken.is_set()
    assert task._ended.wait(5)


def test_a_generator_is_closed_at_its_next_yield(qtbot, owner):
    slot = tasks.TaskSlot(owner, "generator")
    closed = threading.Event()
    at_yield = threading.Event()
    go_on = threading.Event()

    def work(state):
        try:
            yield 1
            at_yield.set()
            go_on.wait(10)
            yield 2
            yield 3
        finally:
            closed.set()

    task = slot.start(work)
    assert at_yield.wait(10)
    slot.cancel()
    go_on.set()
    assert closed.wait(10)
    assert task._ended.wait(10)


def test_closing_a_window_cancels_the_tasks_of_its_slots(qtbot, qapp):
    window = QObject()
    inner = QObject(window)
    slot = tasks.TaskSlot(inner, "deep")
    task = slot.start(lambda state: state.sleep(30))
    qtbot.waitUntil(lambda: task._begun)
    tasks.cancel_tasks_within(window)
    assert task.cancelled
    assert task._ended.wait(5)


def test_the_registry_catches_a_task_left_running(qtbot, owner):
    slot = tasks.TaskSlot(owner, "left behind")
    release = threading.Event()
    task = slot.start(lambda state: release.wait(30))
    qtbot.waitUntil(lambda: task._begun)
    assert task in tasks.running_tasks()
    release.set()  # ends it even though leaked_tasks cancels it: its work does not look at the state
    assert tasks.leaked_tasks(grace_ms=10000) == [task]
    assert tasks.running_tasks() == []


def test_a_cancelled_task_that_ends_in_time_is_no_leak(qtbot, owner):
    slot = tasks.TaskSlot(owner, "cancelled")
    task = slot.start(lambda state: state.sleep(30))
    qtbot.waitUntil(lambda: task._begun)
    slot.cancel()
    assert tasks.leaked_tasks(grace_ms=10000) == []


def test_a_delayed_task_is_pending_until_its_delay_has_passed(qtbot, owner):
    slot = tasks.TaskSlot(owner, "later")
    results: list = []
    task = slot.start(lambda state: "read", delay=0.2, returned=results.append)
    assert task.pending
    qtbot.waitUntil(lambda: results == ["read"])
    assert not task.pending


def test_cancelling_a_queued_task_means_it_never_runs(qtbot, owner):
    slot = tasks.TaskSlot(owner, "queue")
    release = threading.Event()
    ran: list = []
    first = slot.start(lambda state: release.wait(10))
    qtbot.waitUntil(lambda: first._begun)
    slot.start(lambda state: ran.append("second"))
    third = slot.start(lambda state: ran.append("third"))
    release.set()
    qtbot.waitUntil(lambda: third.ended)
    assert ran == ["third"]


def test_wait_delivers_what_is_left_at_once(qtbot, owner):
    slot = tasks.TaskSlot(owner, "quit")
    results: list = []
    task = slot.start(lambda state: 42, returned=results.append)
    assert task.wait(10000)
    assert results == [42]


def test_deleting_the_owner_cancels_its_tasks(qtbot, qapp):
    import shiboken6

    owner = QObject()
    slot = tasks.TaskSlot(owner, "owned")
    results: list = []
    task = slot.start(lambda state: state.sleep(30) or "late", returned=results.append)
    qtbot.waitUntil(lambda: task._begun)
    shiboken6.delete(owner)
    assert task.cancelled
    assert task._ended.wait(5)
    qtbot.wait(50)
    assert results == []


def test_closing_the_main_window_cancels_the_tasks_below_it(qtbot, make_window):
    window = make_window()
    slot = tasks.TaskSlot(window.study_view.analysis, "a view's computation")
    results: list = []
    task = slot.start(lambda state: state.sleep(30) or "late", returned=results.append)
    qtbot.waitUntil(lambda: task._begun)
    window.close()
    assert task.cancelled
    assert task._ended.wait(5)
    qtbot.wait(50)
    assert results == []
