"""Sampler state capture/restore as JSON. The pinned paths make an Optuna upgrade that moves a generator fail here
instead of resuming wrongly."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from optgui.core.engine import _rng_state as rng_state
from optgui.core.engine._samplers import parse_spec

PINNED = {
    "random": {"_rng": "rng"},
    "tpe": {"_random_sampler._rng": "rng", "_rng": "rng"},
    "cmaes": {"_cma_rng": "rng", "_independent_sampler._rng": "rng"},
    "qmc": {"_independent_sampler._rng": "rng", "_seed": "extra"},
    "nsgaii": {"_child_generation_strategy._rng": "alias of _rng", "_random_sampler._rng": "rng", "_rng": "rng"},
    "nsgaiii": {
        "_child_generation_strategy._rng": "alias of _rng",
        "_elite_population_selection_strategy._rng": "alias of _rng",
        "_random_sampler._rng": "rng",
        "_rng": "rng",
    },
    "gp": {
        "_constraints_gprs_cache_list": "extra",
        "_gprs_cache_list": "extra",
        "_independent_sampler._rng": "rng",
        "_rng": "rng",
    },
    "GridSampler({'x': [1, 2, 3]})": {"_rng": "rng"},
    "bruteforce": {"_rng": "rng"},
    "CmaEsSampler(independent_sampler=TPESampler())": {
        "_cma_rng": "rng",
        "_independent_sampler._random_sampler._rng": "rng",
        "_independent_sampler._rng": "rng",
    },
}


def _build(text, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_spec(text).with_seed(seed).build()


@pytest.mark.parametrize(
    "spec", [pytest.param(s, marks=pytest.mark.needs("torch")) if s == "gp" else s for s in PINNED]
)
def test_state_paths_are_pinned_per_sampler(spec):
    assert rng_state.state_paths(_build(spec, 1)) == PINNED[spec]


@pytest.mark.parametrize("spec", ["random", "tpe", "cmaes", "nsgaii", "qmc", "bruteforce"])
def test_restore_makes_a_differently_seeded_sampler_draw_the_same_stream(spec):
    a, b = _build(spec, 1), _build(spec, 2)
    # Advance a's generators so the captured position is not the seed's start.
    for path, kind in rng_state.state_paths(a).items():
        if kind == "rng":
            holder = a
            for part in path.split("."):
                holder = getattr(holder, part)
            holder.rng.normal(size=3)  # leaves a cached Gaussian: has_gauss must round-trip
    state = json.loads(json.dumps(rng_state.capture(a)))  # through JSON, as stored
    before = rng_state.capture(b)
    rng_state.restore(b, state)
    assert rng_state.capture(b) == rng_state.capture(a)
    assert rng_state.capture(b) != before
    a_rng = a._rng if hasattr(a, "_rng") else a._cma_rng if hasattr(a, "_cma_rng") else a._independent_sampler._rng
    b_rng = b._rng if hasattr(b, "_rng") else b._cma_rng if hasattr(b, "_cma_rng") else b._independent_sampler._rng
    assert np.array_equal(a_rng.rng.normal(size=5), b_rng.rng.normal(size=5))


def test_shared_generator_is_restored_in_place():
    a, b = _build("nsgaii", 1), _build("nsgaii", 2)
    a._rng.rng.random_sample(7)
    rng_state.restore(b, rng_state.capture(a))
    assert b._child_generation_strategy._rng is b._rng
    assert b._child_generation_strategy._rng.rng.random_sample() == a._rng.rng.random_sample()


def test_restore_into_another_sampler_kind_is_refused():
    with pytest.raises(rng_state.SamplerStateError, match="for TPESampler, not RandomSampler"):
        rng_state.restore(_build("random", 1), rng_state.capture(_build("tpe", 1)))


def test_restore_with_a_changed_layout_is_refused():
    state = rng_state.capture(_build("tpe", 1))
    del state["rngs"]["_random_sampler._rng"]
    with pytest.raises(rng_state.SamplerStateError, match="layout changed"):
        rng_state.restore(_build("tpe", 1), state)


def test_state_is_small_json_without_pickle():
    text = json.dumps(rng_state.capture(_build("tpe", 1)))
    assert len(text) < 8000
    assert "pickle" not in text and "\\x80" not in text
