"""The GUI's one way to run work off the GUI thread: tasks, owned by slots, with one registry of running tasks.

    self.poll_slot = TaskSlot(self, "poll")                       # one per purpose, a child of its owner
    task = self.poll_slot.start(lambda state: read(...), returned=self.show, errored=self.report)

The vocabulary is superqt's (`started / yielded / returned / errored / finished`); the slot is Orange's
`ConcurrentMixin`: **starting a task cancels and disconnects the previous task of the same slot**, so a result
computed for a study that is no longer shown can never reach a slot. Everything a task reports arrives on the GUI
thread, in order.

The work is a callable taking a `TaskState`. It returns a value (`returned`) or is a generator whose yielded values
arrive as `yielded` and whose return value as `returned`; an exception arrives as `errored` (a `TaskError`, with the
traceback text of the worker thread). A plain function can report partial results with `state.emit(value)`.
Cancellation is cooperative: a generator is closed at its next yield; a function checks `state.cancelled`, sleeps
with `state.sleep()`, or registers `state.on_cancel(callback)` to interrupt what it waits for (a child process, a
queue).

Why not superqt's workers (the same vocabulary): they run on `QThreadPool.globalInstance()`, whose size is the
core count, and two of ours live for hours (the engine's relay for a whole run, the fleet monitor while a fleet is
shown), which would starve the others on a two-core machine; they cancel nothing when the next one starts; and a
dependency (with qtpy and pygments) for ~200 lines is not worth it to the frozen build. Here every task gets a
thread of a small pool of daemon threads that are reused (starting a thread while a run updates the GUI waits for
the interpreter lock: several ms), and a slot runs one worker at a time unless made `serial=False`: the next task
of a slot whose cancelled work still runs (a read, fANOVA: neither can be interrupted) starts when that work ends,
so cancelled work never piles up.

Delivery: the worker appends to a deque and wakes the task's GUI-thread side with one queued signal per batch
(not per item), so a fast generator costs the GUI one event-loop pass per batch; `Task.wait()` drains what is left
at once (quitting).

The registry (`running_tasks`) holds every task whose work has not ended; `cancel_tasks_within(window)` cancels
the tasks of every slot below a window (closing it), and the tests' autouse fixture fails a test that leaves one.
"""

from __future__ import annotations

import collections
import inspect
import queue
import threading
import time
import traceback
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

Work = Callable[["TaskState"], Any]


@dataclass(frozen=True)
class TaskError:
    """What `errored` carries: the exception and the worker thread's traceback text."""

    exception: BaseException
    details: str

    @property
    def message(self) -> str:
        return f"{self.exception.__class__.__name__}: {self.exception}"


class TaskState:
    """What the work sees of its task (used in the worker thread)."""

    def __init__(self, task: Task):
        self._task = task

    @property
    def cancelled(self) -> bool:
        return self._task.cancelled

    def emit(self, value: Any) -> None:
        """Report a partial result: it arrives as `yielded` (the plain-function form of a generator's yield)."""
        if not self._task.cancelled:
            self._task._post("yielded", value)

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; False as soon as the task is cancelled."""
        return not self._task._cancel_event.wait(seconds)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the task is cancelled (in the thread that cancels; at once when it already is)."""
        with self._task._lock:
            if not self._task.cancelled:
                self._task._cancel_callbacks.append(callback)
                return
        callback()


class Task(QObject):
    """One piece of work on a pool thread; its signals arrive on the GUI thread."""

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)  # TaskError
    finished = Signal()  # after returned or errored (not after a cancel: a cancelled task says nothing)
    _wake = Signal()  # worker thread -> _drain on the GUI thread (queued: this object lives there)

    def __init__(self, work: Work, name: str, delay: float = 0.0):
        super().__init__()  # parentless: the registry and the slot keep it while it matters
        self.work = work
        self.name = name
        self.delay = delay
        self.state = TaskState(self)
        self.cancelled = False
        self._lock = threading.Lock()
        self._cancel_event = threading.Event()
        self._cancel_callbacks: list[Callable[[], None]] = []
        self._ended = threading.Event()  # the work has ended (or was cancelled before it began)
        self._begun = False  # the work itself has begun (after the delay)
        self._outbox: collections.deque[tuple[str, Any]] = collections.deque()
        self._wake_pending = False
        self._when_ended: list[Callable[[Task], None]] = []  # GUI-thread callbacks once the work has ended
        self.delivered = False  # the GUI thread has received everything the task reported
        self._wake.connect(self._drain)

    # --- state ------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Submitted and its work has not ended yet (cancelled or not)."""
        return self in _registry and not self._ended.is_set()

    @property
    def pending(self) -> bool:
        """Started but its work has not begun: waiting for its delay or for the previous task of its slot."""
        return not self._begun and not self._ended.is_set() and not self.cancelled

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def cancel(self) -> None:
        """Ask the work to stop and drop everything it would still report: no signal of this task fires after."""
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            callbacks, self._cancel_callbacks = self._cancel_callbacks, []
        self._cancel_event.set()
        for signal in (self.started, self.yielded, self.returned, self.errored, self.finished):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # PySide warns when nothing was connected
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError):
                    pass
        for callback in callbacks:
            callback()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until the work has ended, then deliver what it reported (used when quitting and in tests)."""
        done = self._ended.wait(timeout_ms / 1000)
        self._drain()
        return done

    # --- worker thread ----------------------------------------------------------------------------------------
    def _execute(self) -> None:
        try:
            if self.delay > 0 and not self.state.sleep(self.delay):
                return
            if self.cancelled:
                return
            self._begun = True
            self._post("started", None)
            try:
                result = self.work(self.state)
                if inspect.isgenerator(result):
                    result = self._iterate(result)
            except BaseException as exc:  # noqa: BLE001 - reported as `errored` on the GUI thread
                self._post("errored", TaskError(exc, traceback.format_exc()))
            else:
                self._post("returned", result)
            self._post("finished", None)
        finally:
            _unregister(self)
            self._ended.set()
            self._post("ended", None)

    def _iterate(self, generator: Any) -> Any:
        while True:
            if self.cancelled:
                generator.close()
                return None
            try:
                value = next(generator)
            except StopIteration as stop:
                return stop.value
            self._post("yielded", value)

    def _post(self, kind: str, value: Any) -> None:
        self._outbox.append((kind, value))
        if not self._wake_pending:
            self._wake_pending = True
            try:
                self._wake.emit()
            except RuntimeError:  # the Qt object is gone (the application is quitting): nobody is listening
                pass

    # --- GUI thread -------------------------------------------------------------------------------------------
    @Slot()
    def _drain(self) -> None:
        self._wake_pending = False  # before popping: an item appended after this sends a new wake
        while self._outbox:
            kind, value = self._outbox.popleft()
            if kind == "ended":
                self.delivered = True
                callbacks, self._when_ended = self._when_ended, []
                for callback in callbacks:
                    callback(self)
                continue
            if self.cancelled:
                continue
            if kind == "started":
                self.started.emit()
            elif kind == "yielded":
                self.yielded.emit(value)
            elif kind == "returned":
                self.returned.emit(value)
            elif kind == "errored":
                self.errored.emit(value)
            else:
                self.finished.emit()

    def _launch(self) -> None:
        if self.cancelled:  # cancelled while it waited for its slot's previous task: it never runs
            self._ended.set()
            self._post("ended", None)
            return
        _register(self)
        _pool.submit(self)


class TaskSlot(QObject):
    """One purpose of one owner ("poll", "importance", "run"): at most one current task; start() cancels it.

    serial (the default): the next task's work begins only when the previous task's (cancelled) work has ended.
    """

    def __init__(self, parent: QObject, name: str, *, serial: bool = True):
        super().__init__(parent)
        self.name = name
        self.serial = serial
        self.current: Task | None = None
        self._busy: Task | None = None  # the task whose work runs (maybe cancelled), serial slots only
        self._next: Task | None = None  # waits for _busy to end
        _slots.add(self)
        self.destroyed.connect(_forget_destroyed_slots)
        # Deleted with its owner (without a close): nothing may arrive for a widget that is gone. (cancel() only
        # touches Python attributes, so it is safe while the Qt object is being destroyed.)
        self.destroyed.connect(lambda *_: self.cancel())

    @property
    def running(self) -> bool:
        """The current task has not delivered all it reports (it may still be waiting to begin)."""
        return self.current is not None and not self.current.delivered and not self.current.cancelled

    def start(
        self,
        work: Work,
        *,
        name: str | None = None,
        delay: float = 0.0,
        started: Callable[[], Any] | None = None,
        yielded: Callable[[Any], Any] | None = None,
        returned: Callable[[Any], Any] | None = None,
        errored: Callable[[TaskError], Any] | None = None,
        finished: Callable[[], Any] | None = None,
    ) -> Task:
        """Cancel the current task and start `work` (after `delay` seconds, in the worker thread)."""
        self.cancel()
        task = Task(work, name or self.name, delay)
        for signal, callback in (
            (task.started, started),
            (task.yielded, yielded),
            (task.returned, returned),
            (task.errored, errored),
            (task.finished, finished),
        ):
            if callback is not None:
                signal.connect(callback)
        self.current = task
        if not self.serial:
            task._launch()
        elif self._busy is not None and not self._busy.ended:
            self._next = task  # begins when the busy one ends (a cancelled one still queued there is replaced)
        else:
            self._begin(task)
        return task

    def cancel(self) -> None:
        """Cancel the current task (nothing it would report arrives)."""
        task, self.current = self.current, None
        if task is not None:
            task.cancel()
        if self._next is not None:
            self._next.cancel()
            self._next._launch()  # ends at once: it is cancelled
            self._next = None

    def _begin(self, task: Task) -> None:
        self._busy = task
        task._when_ended.append(self._busy_ended)
        task._launch()

    def _busy_ended(self, task: Task) -> None:
        if task is self._busy:
            self._busy = None
            waiting, self._next = self._next, None
            if waiting is not None:
                self._begin(waiting)


# --- the pool ---------------------------------------------------------------------------------------------------
class _Pool:
    """Daemon threads that are reused: a task gets an idle one or a new one (never a wait for another task)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Task]] = []
        self._count = 0

    def submit(self, task: Task) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = self._new_thread()
        inbox.put(task)

    def warm_up(self, idle: int) -> None:
        """Start threads now until `idle` are idle (starting one during a run's updates costs the GUI ms)."""
        with self._lock:
            missing = idle - len(self._idle)
        for _ in range(missing):
            inbox = self._new_thread()
            with self._lock:
                self._idle.append(inbox)

    def _new_thread(self) -> queue.SimpleQueue[Task]:
        inbox: queue.SimpleQueue[Task] = queue.SimpleQueue()
        with self._lock:
            self._count += 1
            number = self._count
        threading.Thread(target=self._serve, args=(inbox,), name=f"optgui-task-{number}", daemon=True).start()
        return inbox

    def _serve(self, inbox: queue.SimpleQueue[Task]) -> None:
        thread = threading.current_thread()
        idle_name = thread.name
        while True:
            task = inbox.get()
            thread.name = f"{idle_name}: {task.name}"
            try:
                task._execute()
            finally:
                thread.name = idle_name
                with self._lock:
                    self._idle.append(inbox)


_pool = _Pool()


def warm_up(idle: int = 2) -> None:
    _pool.warm_up(idle)


# --- the registry -----------------------------------------------------------------------------------------------
_registry_lock = threading.Lock()
_registry: set[Task] = set()  # strong references: a task lives while its work runs
_slots: weakref.WeakSet[TaskSlot] = weakref.WeakSet()  # every slot, for cancel_tasks_within


def _register(task: Task) -> None:
    with _registry_lock:
        _registry.add(task)


def _unregister(task: Task) -> None:
    with _registry_lock:
        _registry.discard(task)


def _forget_destroyed_slots() -> None:
    for slot in list(_slots):
        if not shiboken6.isValid(slot):
            _slots.discard(slot)


def running_tasks() -> list[Task]:
    """Every task whose work has not ended (cancelled ones included: their thread is still busy)."""
    with _registry_lock:
        return [task for task in _registry if not task.ended]


def cancel_tasks_within(owner: QObject) -> None:
    """Cancel the current task of every slot that `owner` owns, however deep (closing a window)."""
    for slot in list(_slots):
        if not shiboken6.isValid(slot):  # deleted with its owner (never call into a deleted Qt object)
            _slots.discard(slot)
            continue
        parent: QObject | None = slot
        while parent is not None and parent is not owner:
            parent = parent.parent()
        if parent is owner:
            slot.cancel()


def wait_for_all(timeout_ms: int = 60000) -> bool:
    """Wait until every running task has ended and deliver what they reported (tests, benchmarks, quitting)."""
    deadline = time.monotonic() + timeout_ms / 1000
    for task in running_tasks():
        if not task.wait(max(0, int((deadline - time.monotonic()) * 1000))):
            return False
    return True


def leaked_tasks(grace_ms: int = 30000) -> list[Task]:
    """The tasks a test left behind: any running task nobody cancelled, and any cancelled one whose work does not
    end within `grace_ms`. All of them are cancelled and waited for, so the next test starts clean."""
    running = running_tasks()
    leaked = [task for task in running if not task.cancelled]
    for task in running:
        task.cancel()
    for task in running:
        if not task.wait(grace_ms) and task not in leaked:
            leaked.append(task)
    return leaked
