"""The SPEC grammar (docs/cli.md): every built-in sampler and pruner builds; bad specs get specific errors."""

from __future__ import annotations

import warnings

import optuna
import pytest

from optgui.core.engine._samplers import parse_spec, resolve_seed
from optgui.core.errors import SpecError

BUILDS = [
    ("random", optuna.samplers.RandomSampler),
    ("tpe", optuna.samplers.TPESampler),
    ("TPESampler(multivariate=False)", optuna.samplers.TPESampler),
    ("TPESampler(multivariate=True, group=True)", optuna.samplers.TPESampler),
    ("TPESampler(constant_liar=False)", optuna.samplers.TPESampler),
    ("cmaes", optuna.samplers.CmaEsSampler),
    ("CmaEsSampler(use_separable_cma=True)", optuna.samplers.CmaEsSampler),
    ("CmaEsSampler(independent_sampler=TPESampler(seed=3))", optuna.samplers.CmaEsSampler),
    ("qmc", optuna.samplers.QMCSampler),
    ("QMCSampler(qmc_type='halton', scramble=True)", optuna.samplers.QMCSampler),
    ("nsgaii", optuna.samplers.NSGAIISampler),
    ("NSGAIISampler(crossover=UNDXCrossover(), mutation=PolynomialMutation())", optuna.samplers.NSGAIISampler),
    ("nsgaiii", optuna.samplers.NSGAIIISampler),
    ("gp", optuna.samplers.GPSampler),
    ("GridSampler({'x': [1, 2], 'y': ['a', 'b']})", optuna.samplers.GridSampler),
    ("bruteforce", optuna.samplers.BruteForceSampler),
    ('{"sampler": "TPESampler", "kwargs": {"seed": 42, "n_startup_trials": 5}}', optuna.samplers.TPESampler),
    (
        '{"sampler": "CmaEsSampler", "kwargs": {"independent_sampler": {"sampler": "RandomSampler", "kwargs": {}}}}',
        optuna.samplers.CmaEsSampler,
    ),
]


@pytest.mark.parametrize(
    "text,cls", [pytest.param(*b, marks=pytest.mark.needs("torch")) if b[0].startswith("gp") else b for b in BUILDS]
)
def test_every_builtin_sampler_builds_and_round_trips(text, cls):
    spec = parse_spec(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert isinstance(spec.build(), cls)
    assert parse_spec(spec.to_json()) == spec
    assert parse_spec(spec.to_text()) == spec


@pytest.mark.parametrize(
    "text",
    [
        "median",
        "MedianPruner(n_startup_trials=5)",
        "nop",
        "percentile(25.0)",
        "hyperband",
        "SuccessiveHalvingPruner(reduction_factor=3)",
        "ThresholdPruner(upper=1.0)",
        "PatientPruner(MedianPruner(), patience=2)",
        "wilcoxon",
    ],
)
def test_every_builtin_pruner_builds(text):
    spec = parse_spec(text, "pruner")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert isinstance(spec.build(), optuna.pruners.BasePruner)


def test_seed_is_applied_to_nested_samplers_so_the_record_is_complete():
    spec = parse_spec("CmaEsSampler(independent_sampler=RandomSampler())").with_seed(7)
    assert spec.seed == 7
    assert spec.kwargs["independent_sampler"].seed == 7


@pytest.mark.parametrize(
    "text,message",
    [
        ("superfast", "unknown sampler 'superfast'"),
        ("my_module.MySampler()", "cannot parse spec"),
        ("TPESampler(gamma=lambda n: 10)", "callables cannot be recorded"),
        ("TPESampler(constraints_func=f)", "takes a callable"),
        ("TPESampler(seed='abc')", "seed must be a whole number"),
        ("TPESampler(seed=-1)", "seed must be between 0 and 2**32-1"),
        ("TPESampler(seed=1.5)", "seed must be a whole number"),
        ("TPESampler(n_trials=3)", "TPESampler has no argument 'n_trials'"),
        ("TPESampler(seed=__import__('os'))", "only Python literals"),
        ("TPESampler(", "cannot parse sampler spec"),
        ('{"sampler": "TPESampler", "kwargs": [1]}', '"kwargs" of a JSON spec must be an object'),
        ("{not json", "not valid JSON"),
        ("MedianPruner()", "is a pruner, not a sampler"),
    ],
)
def test_bad_specs_get_specific_errors(text, message):
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    assert message in str(info.value)


def test_cli_seed_conflicting_with_spec_seed_is_an_error():
    with pytest.raises(SpecError, match="--seed 2 disagrees with seed=1"):
        resolve_seed(parse_spec("TPESampler(seed=1)"), 2)
    assert resolve_seed(parse_spec("TPESampler(seed=1)"), 1).seed == 1
    assert resolve_seed(parse_spec("tpe"), 9).seed == 9
