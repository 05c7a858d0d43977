"""The timeline's status gives the run's length in a unit that reads (issue 18, item 8: a 20 s run read "over
0.00 h")."""

from __future__ import annotations

import math

from optgui.qt.plots.timeline import span_text


def test_a_short_run_reads_in_seconds_a_long_one_in_minutes_or_hours():
    assert span_text(1.3) == "1.3 s"
    assert span_text(90) == "90 s"
    assert span_text(600) == "10.0 min"
    assert span_text(5 * 3600) == "5.00 h"
    assert span_text(math.nan) == "—"
