"""The GUI's two update rates, by name, and a throttle that holds a widget to one of them.

    self._texts = Throttle(self, TEXTS, self._update_texts, leading=False)
    self._texts()            # as often as data arrives: _update_texts runs at most twice a second

- DATA (at most 10 Hz): what follows the data itself — a run's new points on the plot, rows in a table.
- TEXTS (at most 2 Hz): what a person reads at a glance — progress, counts, the status bar — and views redrawn
  whole (the analysis views), whose cost would otherwise grow with the trial rate.

A widget names the rate it needs instead of carrying its own millisecond constant (superqt's `qthrottled`, with
the rates fixed for the whole application).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer


@dataclass(frozen=True)
class Rate:
    name: str
    interval_ms: int

    @property
    def hz(self) -> float:
        return 1000 / self.interval_ms


DATA = Rate("data", 100)
TEXTS = Rate("texts", 500)


class Throttle(QObject):
    """Calls `callback` at most once per `rate` interval, however often it is asked (on the GUI thread).

    leading=True: the first request of a quiet period calls at once, later ones once at the end of the interval.
    leading=False: every call comes at the end of an interval (the asking pass stays short: a run's flush).
    """

    def __init__(self, parent: QObject, rate: Rate, callback: Callable[[], object], *, leading: bool = True):
        super().__init__(parent)
        self.rate = rate
        self.leading = leading
        self._callback = callback
        self._last = float("-inf")
        self._timer = QTimer(self)  # a child: it cannot fire after its owner is gone
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    def __call__(self) -> None:
        if self._timer.isActive():
            return
        wait_ms = self.rate.interval_ms
        if self.leading:
            elapsed_ms = (time.monotonic() - self._last) * 1000
            if elapsed_ms >= wait_ms:
                self._fire()
                return
            wait_ms -= int(elapsed_ms)
        self._timer.start(wait_ms)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def cancel(self) -> None:
        """Drop a pending call (the data it would show is gone: another study is shown)."""
        self._timer.stop()

    def now(self) -> None:
        """Call now, pending or not (the interval starts again from here)."""
        self._timer.stop()
        self._fire()

    def flush(self) -> None:
        """Make a pending call now."""
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def _fire(self) -> None:
        self._last = time.monotonic()
        self._callback()
