"""Synthetic trial tables of any size (the reader's own TrialTable type), for the table tests and benchmark."""

from __future__ import annotations

import json

import numpy as np

from optgui.core.storage._tables import (
    COMPLETE,
    FAIL,
    PRUNED,
    RUNNING,
    ParamColumn,
    ParamDistribution,
    TrialTable,
    durations,
    frozen_array,
    frozen_mapping,
)

LR = ParamDistribution.from_json(
    json.dumps({"name": "FloatDistribution", "attributes": {"low": 1e-5, "high": 1.0, "log": True, "step": None}})
)
LAYERS = ParamDistribution.from_json(
    json.dumps({"name": "IntDistribution", "attributes": {"low": 1, "high": 8, "log": False, "step": 1}})
)
OPTIMIZER = ParamDistribution.from_json(
    json.dumps({"name": "CategoricalDistribution", "attributes": {"choices": ["adam", "sgd", "rmsprop"]}})
)


def synthetic_table(n: int, *, first: int = 0, seed: int = 0, running_tail: int = 0) -> TrialTable:
    """Trials first..first+n-1: params lr (log float), layers (int), optimizer (categorical, absent on some rows),
    a value, mixed states, datetimes, and a text and a numeric user attribute."""
    rng = np.random.default_rng(seed + first)
    number = np.arange(first, first + n, dtype=np.int64)
    state = rng.choice(np.array([COMPLETE, PRUNED, FAIL], dtype=np.int8), size=n, p=[0.8, 0.15, 0.05])
    if running_tail:
        state[-running_tail:] = RUNNING
    values = rng.normal(size=(n, 1))
    values[state != COMPLETE] = np.nan
    start = np.datetime64("2024-05-01T12:00:00", "us") + (number * 1_500_000).astype("timedelta64[us]")
    complete = start + rng.integers(1000, 2_000_000, size=n).astype("timedelta64[us]")
    complete[state == RUNNING] = np.datetime64("NaT")
    lr = 10 ** rng.uniform(-5, 0, size=n)
    layers = rng.integers(1, 9, size=n).astype(np.float64)
    opt = rng.integers(0, 3, size=n).astype(np.float64)
    opt_present = rng.random(n) > 0.1
    opt[~opt_present] = np.nan
    everywhere = np.ones(n, dtype=bool)
    params = {
        "lr": ParamColumn("lr", frozen_array(lr), frozen_array(everywhere), (LR,), frozen_array(np.zeros(n, np.int16))),
        "layers": ParamColumn(
            "layers", frozen_array(layers), frozen_array(everywhere), (LAYERS,), frozen_array(np.zeros(n, np.int16))
        ),
        "optimizer": ParamColumn(
            "optimizer",
            frozen_array(opt),
            frozen_array(opt_present),
            (OPTIMIZER,),
            frozen_array(np.where(opt_present, 0, -1).astype(np.int16)),
        ),
    }
    tags = np.array(["baseline", "wide", "deep", None], dtype=object)[rng.integers(0, 4, size=n)]
    epochs = np.array([int(v) for v in rng.integers(1, 50, size=n)], dtype=object)
    return TrialTable(
        "bench",
        ("minimize",),
        frozen_array(number + 1),
        frozen_array(number),
        frozen_array(state),
        frozen_array(values),
        frozen_array(start),
        frozen_array(complete),
        frozen_array(durations(start, complete)),
        frozen_mapping(params),
        frozen_mapping({"tag": frozen_array(tags), "epochs": frozen_array(epochs)}),
    )


class PaintCounter:
    """Counts paint events that reach a widget (a real event filter on the real viewport)."""

    def __init__(self, widget):
        from PySide6.QtCore import QEvent, QObject

        counter = self

        class Filter(QObject):
            def eventFilter(self, _obj, event):
                if event.type() == QEvent.Type.Paint:
                    counter.count += 1
                return False

        self.count = 0
        self._filter = Filter()
        widget.installEventFilter(self._filter)
