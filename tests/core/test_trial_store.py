"""TrialStore: one apply() for polls and engine events (in any order, more than once), the caches it keeps (counts,
best so far, Pareto front, plot points, snapshot), and equality with a fresh read of the study it follows."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from optgui.core.engine._events import TrialFinished
from optgui.core.engine._runner import RunRequest, StudyRunner
from optgui.core.engine._trial_store import TrialStore
from optgui.core.storage._reader import open_reader
from optgui.core.storage._tables import COMPLETE, FAIL, PRUNED, RUNNING, TrialTable

NAT = np.datetime64("NaT", "us")


def _table(numbers, states, values, directions=("minimize",)) -> TrialTable:
    n = len(numbers)
    values = np.asarray(values, dtype=float).reshape(n, len(directions))
    nat = np.full(n, NAT)
    return TrialTable(
        "s",
        directions,
        np.asarray(numbers, dtype=np.int64) + 1,
        np.asarray(numbers, dtype=np.int64),
        np.asarray(states, dtype=np.int8),
        values,
        nat,
        nat,
        np.full(n, np.nan),
    )


def _event(number, state, value) -> TrialFinished:
    return TrialFinished(number, state, None if value is None else (value,), (), 0.0, None, number + 1, None)


def test_rows_arrive_out_of_order_twice_and_change_state_and_the_caches_follow():
    store = TrialStore(("minimize",), capacity=2)
    store.load(_table([0, 1, 2], [COMPLETE, RUNNING, FAIL], [5.0, np.nan, np.nan]))
    assert store.counts() == {"COMPLETE": 1, "PRUNED": 0, "FAIL": 1, "RUNNING": 1}
    # Trial 4 before 3, trial 1 finishing (RUNNING -> COMPLETE): 3 becomes a placeholder until it arrives.
    change = store.apply(_table([4, 1], [COMPLETE, COMPLETE], [1.0, 2.0]))
    assert change.new.tolist() == [3, 4] and change.changed.tolist() == [1]
    assert store.counts() == {"COMPLETE": 3, "PRUNED": 0, "FAIL": 1, "RUNNING": 1}  # the placeholder 3
    assert store.trial_id[3] == -1
    store.apply(_table([3], [PRUNED], [9.0]))
    assert store.best[: store.n].tolist() == [5.0, 2.0, 2.0, 2.0, 1.0]
    assert store.complete.view()[0].tolist() == [0.0, 1.0, 4.0]  # the late finisher put in order
    assert store.pruned.view()[0].tolist() == [3.0] and store.failed.view()[0].tolist() == [2.0]
    revision, generation = store.revision, store.generation
    # The same rows again (an engine event and then a poll of the same trial): nothing moves.
    store.apply([_event(4, "COMPLETE", 1.0)])
    store.apply(_table([4], [COMPLETE], [1.0]))
    assert store.revision == revision + 2 and store.generation == generation
    assert store.complete.view()[0].tolist() == [0.0, 1.0, 4.0]
    assert store.counts() == {"COMPLETE": 3, "PRUNED": 1, "FAIL": 1, "RUNNING": 0}
    assert store.best_value() == 1.0
    # A finished row that a re-read changes (a plotted point moves): the points are rebuilt, not appended to.
    store.apply(_table([0], [COMPLETE], [0.5]))
    assert store.generation == generation + 1
    assert store.complete.view()[1].tolist() == [0.5, 2.0, 1.0] and store.best_value() == 0.5


def test_a_reload_forgets_rows_past_the_new_end_and_gaps_are_placeholders():
    store = TrialStore(("maximize",))
    store.load(_table(range(6), [COMPLETE] * 6, [1, 2, 3, 4, 5, 6]))
    store.load(_table([0, 3], [COMPLETE, COMPLETE], [1.0, 7.0]))  # rows 1, 2 must not keep the old load's values
    assert store.n == 4
    assert np.isnan(store.values[1:3, 0]).all() and (store.state[1:3] == RUNNING).all()
    assert store.best[:4].tolist() == [1.0, 1.0, 1.0, 7.0]  # maximize
    assert len(store.snapshot()) == 2  # placeholders are not trials


def test_best_so_far_follows_the_plotted_objective_and_its_direction():
    store = TrialStore(("minimize", "maximize"))
    store.load(
        _table([0, 1, 2], [COMPLETE, COMPLETE, FAIL], [[3, 1], [2, 0], [np.nan, np.nan]], ("minimize", "maximize"))
    )
    assert store.best[:3].tolist() == [3.0, 2.0, 2.0]
    store.set_objective(1)
    assert store.best[:3].tolist() == [1.0, 1.0, 1.0]
    assert store.complete.view()[1].tolist() == [1.0, 0.0]


def test_pareto_rows_are_the_non_dominated_complete_trials():
    rng = np.random.default_rng(3)
    n = 400
    values = rng.normal(size=(n, 2))
    states = rng.choice([COMPLETE, COMPLETE, COMPLETE, PRUNED, FAIL], size=n)
    directions = ("minimize", "maximize")
    store = TrialStore(directions)
    store.load(_table(range(n), states, values, directions))
    signed = values * np.array([1, -1])
    expected = []
    for i in np.flatnonzero(states == COMPLETE):
        others = signed[states == COMPLETE]
        dominated = np.any(np.all(others <= signed[i], axis=1) & np.any(others < signed[i], axis=1))
        if not dominated:
            expected.append(i)
    assert sorted(store.pareto_rows().tolist()) == expected
    assert store.pareto_rows() is store.pareto_rows()  # computed once per revision


def _run(path, objective, sampler, n_trials, events, pruner=None):
    request = RunRequest(
        storage=str(path), study_name="s", objective=objective, sampler=sampler, n_trials=n_trials, pruner=pruner
    )
    StudyRunner(request, events.append).run()


def _assert_same_trials(store: TrialStore, fresh: TrialTable) -> None:
    held = store.snapshot()
    for name in ("trial_id", "number", "state", "datetime_start", "datetime_complete"):
        assert np.array_equal(getattr(held, name), getattr(fresh, name)), name
    assert np.array_equal(held.values, fresh.values, equal_nan=True)
    assert np.array_equal(held.duration, fresh.duration, equal_nan=True)
    assert held.param_names == fresh.param_names or set(held.param_names) == set(fresh.param_names)
    for name, column in fresh.params.items():
        mine = held.params[name]
        assert np.array_equal(mine.present, column.present), name
        assert np.array_equal(mine.values[column.present], column.values[column.present]), name
        assert [d.kind for d in mine.distributions] == [d.kind for d in column.distributions]
        assert mine.decoded().tolist() == column.decoded().tolist(), name


@pytest.mark.parametrize("storage", ["study.db", "study.log"])
@pytest.mark.parametrize("objective", ["builtin:mixed", "builtin:pruned", "builtin:flaky"])
def test_the_engines_events_alone_give_what_a_fresh_read_of_the_study_gives(tmp_path, storage, objective):
    """What a window shows of its own run (events only, no read) equals a read of the storage afterwards: params
    (floats, ints, categoricals), values, states (also FAIL and PRUNED), datetimes, durations and intermediate
    values; in two runs (a resumed study)."""
    path = tmp_path / storage
    events: list = []
    pruner = "MedianPruner(n_startup_trials=2)"
    _run(path, objective, "TPESampler(seed=2)", 6, events, pruner=pruner)
    _run(path, objective, "TPESampler(seed=2)", 12, events, pruner=pruner)
    finished = [e for e in events if isinstance(e, TrialFinished)]
    assert finished and all(e.full for e in finished)
    with open_reader(str(path)) as reader:
        directions = reader.studies()[0].directions
        store = TrialStore(directions, study_name="s")
        for i in range(0, len(finished), 5):  # in batches, as the GUI's flush delivers them
            store.apply(finished[i : i + 5])
        fresh = reader.trials("s")
        _assert_same_trials(store, fresh)
        mine, theirs = store.intermediate_values(), reader.intermediate_values("s")
        assert len(theirs) > 0 or objective != "builtin:pruned"
        for name in ("trial_id", "number", "step", "value"):
            assert np.array_equal(getattr(mine, name), getattr(theirs, name)), name
        # A poll of the same rows afterwards (the end-of-run catch-up) changes nothing that is shown.
        generation = store.generation
        store.apply(reader.poll("s", None).table)
        _assert_same_trials(store, fresh)
        assert store.generation == generation


def test_polls_of_another_writer_and_a_fresh_read_agree(tmp_path):
    path = tmp_path / "other.db"
    study = optuna.create_study(storage=f"sqlite:///{path}", study_name="s", sampler=optuna.samplers.RandomSampler(0))

    def objective(trial):
        x = trial.suggest_float("x", -1, 1)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        trial.set_user_attr("note", kind * 2)
        if x > 0.8:
            raise optuna.TrialPruned()
        return x * x

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study.optimize(objective, n_trials=10)
    with open_reader(str(path)) as reader:
        table, watermark = reader.trials_with_watermark("s", params=False, user_attrs=False, datetimes=False)
        store = TrialStore(("minimize",), study_name="s")
        store.load(table)
        study.optimize(objective, n_trials=7)
        store.apply(reader.poll("s", watermark).table)
        store.apply(reader.trials("s"))  # the params of the first trials, read when the table first needs them
        fresh = reader.trials("s")
        _assert_same_trials(store, fresh)
        assert store.snapshot().user_attrs["note"].tolist() == fresh.user_attrs["note"].tolist()
        assert store.counts()["COMPLETE"] == int((fresh.state == COMPLETE).sum())
        best = np.fmin.accumulate(np.where(fresh.state == COMPLETE, fresh.values[:, 0], np.nan))
        assert np.array_equal(store.best[: store.n], best, equal_nan=True)


def test_random_deltas_keep_counts_best_and_points_equal_to_a_recomputation():
    """Counts are kept by apply in O(rows given), not recounted: any mix of new, repeated, out-of-order and changed
    rows (RUNNING trials finishing) must leave them equal to counting the held rows."""
    rng = np.random.default_rng(7)
    store = TrialStore(("maximize",), capacity=4)
    truth_state = np.zeros(0, dtype=np.int8)
    for _ in range(60):
        k = int(rng.integers(1, 12))
        numbers = rng.integers(0, store.n + 8, size=k)
        numbers = np.unique(numbers) if rng.random() < 0.5 else numbers[:1]
        # Finished trials never change; unfinished ones (and placeholders) may finish or stay RUNNING.
        if len(truth_state):
            known = numbers[numbers < len(truth_state)]
            numbers = np.concatenate([known[truth_state[known] == RUNNING], numbers[numbers >= len(truth_state)]])
        if len(numbers) == 0:
            continue
        states = rng.choice([RUNNING, COMPLETE, COMPLETE, PRUNED, FAIL], size=len(numbers)).astype(np.int8)
        values = np.where(states == COMPLETE, rng.normal(size=len(numbers)), np.nan)
        order = rng.permutation(len(numbers))
        store.apply(_table(numbers[order], states[order], values[order]))
        grown = np.zeros(max(len(truth_state), int(numbers.max()) + 1), dtype=np.int8)
        grown[: len(truth_state)] = truth_state
        grown[numbers] = states
        truth_state = grown
    tally = np.bincount(store.state[: store.n], minlength=5)
    assert store.counts() == {
        "COMPLETE": int(tally[COMPLETE]),
        "PRUNED": int(tally[PRUNED]),
        "FAIL": int(tally[FAIL]),
        "RUNNING": int(tally[RUNNING]),
    }
    best = np.fmax.accumulate(np.where(store.state[: store.n] == COMPLETE, store.values[: store.n, 0], np.nan))
    assert np.array_equal(store.best[: store.n], best, equal_nan=True)
    x, y = store.complete.view()
    complete = np.flatnonzero(store.state[: store.n] == COMPLETE)
    assert x.astype(int).tolist() == complete.tolist()
    assert np.array_equal(y, store.values[complete, 0])


def test_the_best_lines_steps_are_kept_as_rows_arrive():
    rng = np.random.default_rng(11)
    store = TrialStore(("minimize",))
    n = 0
    for k in rng.integers(1, 40, size=50):
        states = rng.choice([COMPLETE, COMPLETE, FAIL], size=k)
        store.apply(_table(range(n, n + k), states, np.where(states == COMPLETE, rng.normal(size=k), np.nan)))
        n += k
        best = store.best[: store.n]
        finite = np.isfinite(best)
        first = int(np.argmax(finite))
        expected = np.concatenate(([first], np.flatnonzero(best[first + 1 :] != best[first:-1]) + first + 1))
        assert store.best_steps().tolist() == (expected.tolist() if finite.any() else [])


def test_an_older_full_read_never_takes_a_finished_trial_back():
    """A full read made before a poll or an event that finished a trial arrives after them: its RUNNING row for
    that trial is left out, everything else (params) is merged and the params count as loaded."""
    store = TrialStore(("minimize",))
    store.load(_table([0, 1], [COMPLETE, RUNNING], [1.0, np.nan]))
    store.apply([_event(1, "COMPLETE", 0.5)])  # the engine told trial 1 meanwhile
    old_read = _table([0, 1], [COMPLETE, RUNNING], [1.0, np.nan])
    change = store.apply_read(old_read)
    assert store.params_loaded and change.changed.tolist() == [0]
    assert store.state[1] == COMPLETE and store.values[1, 0] == 0.5 and store.best_value() == 0.5


def test_a_full_read_into_an_empty_store_then_a_poll_past_a_gap_leaves_placeholders():
    """A full read into an empty store is written without clearing its rows first: the rows a later poll skips must
    still be RUNNING placeholders, and carry the best so far, in a store that held more rows before (a reload)."""
    store = TrialStore(("minimize",), capacity=4)
    store.load(_table(range(12), [COMPLETE] * 12, np.arange(12.0)))  # grows past the first capacity
    store.load(_table(range(3), [COMPLETE, PRUNED, FAIL], [5.0, 4.0, np.nan]))  # shorter: rows 3..11 are gone
    assert store.n == 3 and store.number[:3].tolist() == [0, 1, 2]
    store.apply(_table([6], [COMPLETE], [1.0]))  # rows 3, 4, 5 not delivered yet
    assert store.n == 7
    assert store.state[3:6].tolist() == [RUNNING] * 3 and store.trial_id[3:6].tolist() == [-1] * 3
    assert np.isnan(store.values[3:6, 0]).all() and np.isnat(store.datetime_start[3:6]).all()
    assert store.number[:7].tolist() == list(range(7))
    assert store.counts()["RUNNING"] == 3 and store.counts()["COMPLETE"] == 2
    assert store.complete.view()[0].tolist() == [0.0, 6.0] and store.pruned.view()[0].tolist() == [1.0]
    assert store.best[:7].tolist() == [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 1.0]  # (pruned 4.0 is not a best)
