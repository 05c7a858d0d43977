"""Specs are compared by what Optuna does with them, not as written: Optuna's defaults filled in for the study's
directions (`TPESampler(seed=1)` is `TPESampler(seed=1, multivariate=True)` on a single-objective study in Optuna 5).
`run` reruns and `verify --spec` agree on it."""

from __future__ import annotations

import pytest

from optgui.core.engine._samplers import parse_spec
from optgui.core.errors import SpecError
from optgui.core.verify._verifier import verify_study
from tests.support.verify import SAMPLERS, run_in_process

SINGLE, MULTI = ["minimize"], ["minimize", "minimize"]


@pytest.mark.parametrize(
    ("a", "b", "directions", "same"),
    [
        ("TPESampler(seed=1)", "TPESampler(seed=1, multivariate=True)", SINGLE, True),
        ("TPESampler(seed=1)", "TPESampler(seed=1, multivariate=False)", SINGLE, False),
        ("TPESampler(seed=1)", "TPESampler(seed=1, multivariate=False)", MULTI, True),
        ("TPESampler(seed=1)", "TPESampler(seed=1, multivariate=True)", MULTI, False),
        ("TPESampler(seed=1, group=True)", "TPESampler(seed=1, group=True, multivariate=True)", MULTI, True),
        ("tpe(seed=1)", "TPESampler(seed=1, n_startup_trials=10, consider_prior=True, prior_weight=1)", SINGLE, True),
        ("TPESampler(seed=1)", "TPESampler(seed=1, warn_independent_sampling=True)", SINGLE, True),
        ("TPESampler(seed=1)", "TPESampler(seed=2)", SINGLE, False),
        ("CmaEsSampler(seed=3)", "CmaEsSampler(seed=3, independent_sampler=RandomSampler(seed=3))", SINGLE, True),
        ("CmaEsSampler(seed=3)", "CmaEsSampler(seed=3, independent_sampler=RandomSampler(seed=4))", SINGLE, False),
        ("NSGAIISampler(seed=5)", "NSGAIISampler(seed=5, crossover=UniformCrossover(swapping_prob=0.5))", MULTI, True),
        ("NSGAIISampler(seed=5)", "NSGAIISampler(seed=5, crossover=UniformCrossover(swapping_prob=0.4))", MULTI, False),
        ("NSGAIISampler(seed=5)", "NSGAIISampler(seed=5, population_size=50)", MULTI, True),
    ],
)
def test_effective_arguments_decide_sameness(a, b, directions, same):
    assert parse_spec(a).same_as(parse_spec(b), directions) is same
    assert parse_spec(b).same_as(parse_spec(a), directions) is same


def test_pruner_defaults_are_filled_in():
    median = parse_spec("MedianPruner()", "pruner")
    assert median.same_as(parse_spec("MedianPruner(n_startup_trials=5, n_warmup_steps=0)", "pruner"))
    assert not median.same_as(parse_spec("MedianPruner(n_startup_trials=4)", "pruner"))


@pytest.fixture(scope="module")
def tpe_study(tmp_path_factory):
    path = tmp_path_factory.mktemp("specs") / "s.db"
    run_in_process(path, "TPESampler(seed=11)", SAMPLERS["tpe"][1], 6)
    return path


def test_run_rerun_accepts_the_same_sampler_written_out(tpe_study):
    outcome = run_in_process(tpe_study, "TPESampler(seed=11, multivariate=True)", SAMPLERS["tpe"][1], 8)
    assert outcome.n_finished == 8
    with pytest.raises(SpecError, match="differs from the study's recorded sampler"):
        run_in_process(tpe_study, "TPESampler(seed=11, multivariate=False)", SAMPLERS["tpe"][1], 9)


def test_verify_spec_accepts_the_same_sampler_written_out(tpe_study):
    verdict = verify_study(str(tpe_study), spec="TPESampler(seed=11, multivariate=True)", use_cache=False)
    assert verdict.kind == "verified" and verdict.equivalent, verdict.summary()
    assert verdict.sampler == "TPESampler(seed=11)"  # the recorded spec is what was replayed
    with pytest.raises(SpecError, match="differs from the study's recorded sampler"):
        verify_study(str(tpe_study), spec="TPESampler(seed=11, multivariate=False)", use_cache=False)
