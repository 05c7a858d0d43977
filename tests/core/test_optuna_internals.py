"""Pins every piece of Optuna's private API optgui uses (optgui/core/_optuna_internals.py) against the installed
Optuna: each test names the internal it checks, so an Optuna upgrade that moves one fails here, by name."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.samplers import CmaEsSampler, GPSampler, QMCSampler, RandomSampler, TPESampler
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from optgui.core import _optuna_internals as oi

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture
def study(tmp_path) -> optuna.Study:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna.create_study(
            storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s", sampler=RandomSampler(seed=1)
        )


def _objective(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", -1, 1) ** 2


# --- Study ------------------------------------------------------------------------------------------------------
def test_tell_returns_final_state_values_and_why_a_trial_failed(study):
    """optuna.study._tell._tell_with_warning: (state, values, message); a NaN makes the trial FAIL with a reason."""
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    assert oi.tell(study, trial, 0.5, None) == (TrialState.COMPLETE, [0.5], None)
    state, values, message = oi.tell(study, study.ask(), float("nan"), None)
    assert state == TrialState.FAIL and values is None and "nan" in message
    state, _, _ = oi.tell(study, study.ask(), None, TrialState.PRUNED)
    assert state == TrialState.PRUNED


def test_tell_takes_a_trial_number(study):
    """A coordinator tells a trial asked by its dead predecessor by number."""
    number = study.ask().number
    assert oi.tell(study, number, [2.0], None)[0] == TrialState.COMPLETE
    assert study.trials[number].value == 2.0


def test_enter_optimize_loop_lets_study_stop_set_the_stop_flag(study):
    """Study._thread_local.in_optimize_loop gates Study.stop(); Study._stop_flag is what stop() sets."""
    with pytest.raises(RuntimeError):
        study.stop()
    assert oi.stop_requested(study) is False
    oi.enter_optimize_loop(study)
    study.stop()
    assert oi.stop_requested(study) is True


def test_ask_and_drop_trials_cache_clear_the_per_thread_trial_cache(study):
    """Study._thread_local.cached_all_trials: a sampler's view of the trials, cleared by ask (and by optgui before
    a re-entered trial)."""
    study.optimize(_objective, n_trials=2)
    stale: list[FrozenTrial] = []
    study._thread_local.cached_all_trials = stale
    assert study._get_trials(deepcopy=False, use_cache=True) is stale  # the cache is what samplers read
    oi.drop_trials_cache(study)
    assert len(study._get_trials(deepcopy=False, use_cache=True)) == 2
    study._thread_local.cached_all_trials = stale
    study.ask()
    assert study._thread_local.cached_all_trials is not stale


def test_study_storage_and_id(study):
    """Study._storage and Study._study_id: the storage a loaded study writes through, and its id there."""
    storage = oi.study_storage(study)
    assert oi.study_id_of(study) == storage.get_study_id_from_name("s")
    study.optimize(_objective, n_trials=1)
    assert len(storage.get_all_trials(oi.study_id_of(study))) == 1


# --- Trial ------------------------------------------------------------------------------------------------------
def test_trial_id_of_trial_and_frozen_trial(study):
    """Trial._trial_id and FrozenTrial._trial_id: the storage id."""
    trial = study.ask()
    storage, study_id = oi.study_storage(study), oi.study_id_of(study)
    expected = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
    assert oi.trial_id(trial) == expected
    assert oi.trial_id(storage.get_trial(expected)) == expected


def test_reenter_trial_continues_a_running_trial_under_its_number(study):
    """optuna.Trial(study, trial_id) for an existing RUNNING trial: its stored params stay, new suggests sample."""
    first = study.ask()
    x = first.suggest_float("x", 0, 1)
    again = oi.reenter_trial(study, oi.trial_id(first))
    assert again.number == first.number
    assert again.suggest_float("x", 0, 1) == x  # an existing param is returned, not sampled again
    assert oi.fixed_distributions(again) == {"x": FloatDistribution(0, 1)}
    assert oi.trial_of_id(study, oi.trial_id(first)).params == {"x": x}
    assert oi.tell(study, again, x, None)[0] == TrialState.COMPLETE


def test_suggest_is_what_every_suggest_method_calls(study):
    """Trial._suggest(name, distribution): suggest_float/suggest_int go through it (the engine's hooks rely on it)."""
    trial = study.ask()
    seen: list[tuple[str, object]] = []

    def spy(original: oi.SuggestFn) -> oi.SuggestFn:
        def suggest(name, distribution):
            seen.append((name, distribution))
            return original(name, distribution)

        return suggest

    oi.wrap_suggest(trial, spy)
    trial.suggest_float("x", 0, 1)
    trial.suggest_int("n", 1, 3)
    assert seen == [("x", FloatDistribution(0, 1)), ("n", IntDistribution(1, 3))]
    value = oi.suggest(trial, "y", FloatDistribution(2, 3))
    assert 2 <= value <= 3 and trial.params["y"] == value


def test_fixed_distributions_are_those_of_the_stored_params(study):
    """Trial._cached_frozen_trial: the distributions a trial had when its Trial object was built."""
    trial = study.ask()
    trial.suggest_int("n", 1, 3)
    worker_view = oi.trial_of_id(study, oi.trial_id(trial))
    assert set(oi.fixed_distributions(worker_view)) == {"n"}


# --- Storage ----------------------------------------------------------------------------------------------------
def test_sql_engine_of_plain_and_cached_rdb_storages(tmp_path, study):
    """_CachedStorage._backend.engine (a loaded study's storage) and RDBStorage.engine."""
    cached = oi.study_storage(study)
    assert type(cached).__name__ == "_CachedStorage"
    with oi.sql_engine(cached).connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM studies").scalar() == 1
    plain = RDBStorage(f"sqlite:///{tmp_path / 's.db'}")
    assert oi.sql_engine(plain) is plain.engine
    journal = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")))
    assert oi.sql_engine(journal) is None


def test_rdb_models_name_the_tables_a_fleet_store_queries():
    """optuna.storages._rdb.models: the attribute tables and their columns."""
    models = oi.rdb_models()
    study_attrs = models.StudySystemAttributeModel.__table__
    trial_attrs = models.TrialSystemAttributeModel.__table__
    assert study_attrs.name == "study_system_attributes" and trial_attrs.name == "trial_system_attributes"
    assert {"study_id", "key", "value_json"} <= set(study_attrs.c.keys())
    assert {"trial_id", "key", "value_json"} <= set(trial_attrs.c.keys())
    assert {"trial_id", "number", "study_id", "state"} <= set(models.TrialModel.__table__.c.keys())


# --- Samplers and pruners ---------------------------------------------------------------------------------------
def test_filter_study_is_the_study_itself_unless_hyperband(study):
    """optuna.pruners._filter_study: what Trial.relative_params hands the sampler."""
    trial = oi.study_storage(study).get_trial(oi.trial_id(study.ask()))
    assert oi.filter_study(study, trial) is study
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hyper = optuna.create_study(pruner=optuna.pruners.HyperbandPruner())
    frozen = oi.study_storage(hyper).get_trial(oi.trial_id(hyper.ask()))
    assert oi.filter_study(hyper, frozen) is not hyper


def test_search_space_transform_round_trip():
    """optuna._transform._SearchSpaceTransform(search_space, transform_log, transform_step, transform_0_1)."""
    space = {"x": FloatDistribution(1, 100, log=True), "n": IntDistribution(0, 4)}
    cls = oi.search_space_transform()
    expected = ["search_space", "transform_log", "transform_step", "transform_0_1"]
    assert list(inspect.signature(cls).parameters) == expected
    trans = cls(space, transform_step=True, transform_0_1=True)
    encoded = trans.transform({"x": 10.0, "n": 3})
    assert trans.bounds.shape == (2, 2) and np.all((encoded >= 0) & (encoded <= 1))
    decoded = trans.untransform(encoded)
    assert decoded["n"] == 3 and math.isclose(decoded["x"], 10.0)


def test_cma_internals_rebuild_the_optimizer_cmaes_sampler_pickles():
    """CmaEsSampler's _get_trials, _n_startup_trials, _with_margin, _restore_optimizer, _init_optimizer,
    _get_solution_trials and _split_optimizer_str, used as optgui.core.engine._pickled_attrs uses them."""
    pytest.importorskip("cmaes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = CmaEsSampler(seed=3, n_startup_trials=2)
        study = optuna.create_study(sampler=sampler)

        def objective(trial):
            return trial.suggest_float("x", -2, 2) ** 2 + trial.suggest_float("y", -2, 2) ** 2

        study.optimize(objective, n_trials=12)
    cma = oi.CmaInternals(sampler)
    assert cma.n_startup_trials == 2 and cma.with_margin is False
    completed = cma.completed_trials(study)
    assert [t.number for t in completed] == list(range(12))
    optimizer = cma.restore_optimizer(completed)
    assert optimizer is not None and optimizer.generation >= 1  # a later trial carries a pickled generation
    space = sampler.infer_relative_search_space(study, completed[-1])
    trans = oi.search_space_transform()(space, transform_step=True, transform_0_1=True)
    fresh = cma.init_optimizer(trans, study.direction)
    assert fresh.dim == 2 and fresh.generation == 0
    solutions = cma.solution_trials(completed, 0)
    assert all(t.system_attrs["cma:generation"] == 0 for t in solutions) and solutions
    chunks = cma.split_optimizer_str("ab" * 2000)
    assert list(chunks) == ["cma:optimizer:0", "cma:optimizer:1"] and "".join(chunks.values()) == "ab" * 2000


def test_sampler_generators_and_extras_are_where_rng_state_looks():
    """Samplers' `_rng`, `_random_sampler`, `_independent_sampler`, `_cma_rng` (LazyRandomState), GPSampler's
    kernel caches and QMCSampler's `_seed`."""
    tpe = TPESampler(seed=1)
    attrs = oi.object_attributes(tpe)
    assert attrs is not None and oi.is_lazy_random_state(attrs["_rng"])
    assert oi.is_lazy_random_state(oi.object_attributes(attrs["_random_sampler"])["_rng"])
    assert not oi.is_lazy_random_state(np.random.RandomState(0))
    cma = oi.object_attributes(CmaEsSampler(seed=1))
    assert oi.is_lazy_random_state(cma["_cma_rng"]) and isinstance(cma["_independent_sampler"], RandomSampler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gp = oi.object_attributes(GPSampler(seed=1))
        qmc = QMCSampler(seed=7)
    assert all(gp[name] is None for name in oi.GP_CACHE_ATTRS)  # filled by the first fit
    assert getattr(qmc, oi.QMC_SEED_ATTR) == 7


@pytest.mark.needs("torch")
def test_gp_regressor_takes_the_kernel_parameters_rng_state_saves():
    """optuna._gp.gp.GPRegressor(is_categorical, X_train, y_train, inverse_squared_lengthscales, kernel_scale,
    noise_var)."""
    params = set(inspect.signature(oi.gp_regressor_class()).parameters)
    kernel = {"inverse_squared_lengthscales", "kernel_scale", "noise_var"}
    assert {"is_categorical", "X_train", "y_train"} | kernel <= params


# --- Analysis ---------------------------------------------------------------------------------------------------
def test_tpe_mixture_classes_evaluate_a_density():
    """TPE's _BatchedCategoricalDistributions, _BatchedDiscreteTruncNormDistributions, _MixtureOfProductDistribution."""
    categorical, trunc_norm, mixture = oi.tpe_mixture_classes()
    dist = mixture(weights=np.array([1.0]), distributions=[categorical(np.array([[0.25, 0.75]]))])
    assert np.allclose(np.exp(dist.log_pdf(np.array([[0.0], [1.0]]))), [0.25, 0.75])
    normal = trunc_norm(mu=np.array([2.0]), sigma=np.array([1.0]), low=0, high=4, step=1)
    mixed = mixture(weights=np.array([1.0]), distributions=[normal])
    assert math.isclose(float(np.exp(mixed.log_pdf(np.arange(5.0)[:, None])).sum()), 1.0)


def test_fanova_class_takes_the_forest_parameters():
    """optuna.importance._fanova._fanova._Fanova(n_trees, max_depth, min_samples_split, min_samples_leaf, seed)."""
    pytest.importorskip("sklearn")
    params = list(inspect.signature(oi.fanova_class()).parameters)
    assert params == ["n_trees", "max_depth", "min_samples_split", "min_samples_leaf", "seed"]


def test_compute_hypervolume_of_a_two_point_front():
    """optuna._hypervolume.compute_hypervolume(loss_vals, reference_point, assume_pareto)."""
    points = np.array([[1.0, 2.0], [2.0, 1.0]])
    assert oi.compute_hypervolume(points, np.array([3.0, 3.0])) == 3.0
    assert oi.compute_hypervolume(points, np.array([3.0, 3.0]), True) == 3.0


# --- nothing else touches Optuna's internals --------------------------------------------------------------------
# Private names of Optuna objects optgui relies on (the attributes of optgui's own objects are not Optuna's).
OPTUNA_PRIVATE_ATTRIBUTES = {
    "_trial_id",
    "_thread_local",
    "_stop_flag",
    "_suggest",
    "_cached_frozen_trial",
    "_backend",
    "_filter_study",
    "_get_trials",
    "_restore_optimizer",
    "_init_optimizer",
    "_get_solution_trials",
    "_split_optimizer_str",
    "_n_startup_trials",
    "_with_margin",
}


def _private_optuna_uses(source: str) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("optuna"):
            names = (node.module or "").split(".") + [alias.name for alias in node.names]
            if any(name.startswith("_") for name in names):
                found.append(f"line {node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Import):
            private = [a.name for a in node.names if a.name.startswith("optuna") and "._" in a.name]
            found += [f"line {node.lineno}: import {name}" for name in private]
        elif isinstance(node, ast.Attribute) and node.attr in OPTUNA_PRIVATE_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in OPTUNA_PRIVATE_ATTRIBUTES:
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def test_the_scan_finds_private_uses():
    source = "from optuna.study._tell import x\nt._trial_id\ngetattr(s, '_backend')\nimport optuna._gp.gp\n"
    assert len(_private_optuna_uses(source)) == 4


def test_only_the_internals_module_touches_optuna_private_api():
    from pathlib import Path

    import optgui

    root = Path(optgui.__file__).parent
    offenders = {
        str(path.relative_to(root)): uses
        for path in sorted(root.rglob("*.py"))
        if path.name != "_optuna_internals.py" and (uses := _private_optuna_uses(path.read_text()))
    }
    assert offenders == {}
