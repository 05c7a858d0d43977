"""The "should I stop?" evidence against a hand-computed case, both directions, and a real study's table."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from optgui.core.analysis import stopping_evidence
from optgui.core.storage import COMPLETE, FAIL, open_reader

# Minimised; trial 3 fails. COMPLETE values in order: 10 8 9 5 6 5 7 5.001 4.9999 6 (10 trials, trial 3 skipped).
VALUES = [10, 8, 9, np.nan, 5, 6, 5.0, 7, 5.001, 4.9999, 6]
STATES = [COMPLETE] * 3 + [FAIL] + [COMPLETE] * 7


def _evidence(values, direction="minimize", **kwargs):
    return stopping_evidence(
        np.arange(len(values)), np.array(STATES, dtype=np.int8), np.array(values, dtype=float), direction, **kwargs
    )


def test_a_hand_computed_plateau():
    # Half of the 10 COMPLETE trials form the window: trials 6..10 (5.0 7 5.001 4.9999 6). Best before them: 5
    # (trial 4); at the end: 4.9999 (trial 9): improved by 1e-4, 2e-5 relative, 2e-5 per trial.
    e = _evidence(VALUES, window_fraction=0.5)
    assert (e.n_complete, e.window) == (10, 5)
    assert (e.best_value, e.best_number, e.trials_since_best) == (4.9999, 9, 1)
    assert e.improvement == pytest.approx(1e-4)
    assert e.relative_improvement == pytest.approx(2e-5)
    assert e.improvement_per_trial == pytest.approx(2e-5)
    assert e.plateau is True
    assert not _evidence(VALUES, window_fraction=0.5, tolerance=1e-5).plateau  # 2e-5 > 1e-5
    # the last 80% (8 trials: from trial 2 on) include the drop from 8 to 4.9999: no plateau
    wide = _evidence(VALUES, window_fraction=0.8)
    assert wide.window == 8 and wide.improvement == pytest.approx(3.0001) and wide.plateau is False
    assert wide.sentences[0] == "Best 4.9999 at trial 9; 1 complete trial since."
    assert wide.sentences[2] == "Plateau: no (tolerance 0.001 relative over the last 80%)."


def test_maximisation_mirrors_minimisation():
    e = _evidence([-v for v in VALUES], "maximize", window_fraction=0.5)
    assert (e.best_value, e.best_number, e.trials_since_best) == (-4.9999, 9, 1)
    assert e.improvement == pytest.approx(1e-4) and e.plateau is True


def test_too_few_trials_decide_nothing():
    e = _evidence(VALUES, min_trials=11)
    assert e.plateau is None and e.best_number == 9
    none = stopping_evidence(np.arange(2), np.array([FAIL, FAIL], dtype=np.int8), np.full(2, np.nan), "minimize")
    assert none.best_number is None and none.sentences == ("No complete trial yet.",)


def test_on_a_real_study_the_best_matches_optuna(tmp_path):
    path = tmp_path / "s.db"
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{path}", sampler=optuna.samplers.RandomSampler(3))
    study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=40)
    with open_reader(str(path)) as reader:
        table = reader.trials("s", params=False)
    e = stopping_evidence(table.number, table.state, table.values[:, 0], "minimize")
    assert e.best_number == study.best_trial.number and e.best_value == study.best_value
    later = [t for t in study.trials if t.number > study.best_trial.number]
    assert e.trials_since_best == len(later) and e.window == 8


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", range(6))
def test_the_best_so_far_shortcut_gives_the_same_evidence(direction, seed, monkeypatch):
    # TrialStore.best per row (what the plot's label passes) must not change a word of the evidence: random states,
    # NaN values, infinities, ties and long flat stretches.
    from optgui.core.engine import TrialStore
    from optgui.core.storage import PRUNED, RUNNING, TrialTable

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    states = rng.choice(np.array([COMPLETE, COMPLETE, COMPLETE, PRUNED, FAIL, RUNNING], dtype=np.int8), size=n)
    values = np.round(rng.normal(size=n), 1)  # ties
    values[rng.random(n) < 0.05] = np.nan
    values[rng.random(n) < 0.02] = rng.choice([np.inf, -np.inf])
    if seed == 0:
        values[:] = np.inf  # nothing ever improves on the first value
    if seed == 1:  # every trial improves: the window's edges and the last trial are improvements
        values = np.arange(n, 0, -1.0) if direction == "minimize" else np.arange(n, dtype=float)
    numbers, nat = np.arange(n, dtype=np.int64), np.full(n, np.datetime64("NaT", "us"))
    table = TrialTable(
        "s", (direction,), numbers + 1, numbers, states, values.reshape(-1, 1), nat, nat, np.full(n, np.nan)
    )
    store = TrialStore((direction,), capacity=8)
    store.load(table)
    from optgui.core.analysis import _stopping

    monkeypatch.setattr(_stopping, "BLOCK_ROWS", [1, 7, 64, 1 << 16][seed % 4])  # the k-th row across blocks
    for fraction in (0.2, 0.5, 1.0):
        plain = stopping_evidence(np.arange(n), states, values, direction, window_fraction=fraction)
        fast = stopping_evidence(np.arange(n), states, values, direction, window_fraction=fraction, best=store.best[:n])
        assert repr(fast) == repr(plain)  # (repr: NaN fields compare unequal to themselves)
