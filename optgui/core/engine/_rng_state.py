"""Capture and restore everything a sampler keeps in memory that changes later suggestions — as JSON, never pickle.

Optuna 5.0 samplers keep their randomness in `LazyRandomState` objects wrapping numpy's legacy MT19937
`RandomState` (one or two per sampler, nested in independent/random samplers, and *shared* with NSGA strategy
objects). They are found by walking the sampler's attributes, so the walk follows Optuna's layout rather than a
hand-written list; `state_paths()` exposes what was found and a test pins it per sampler, so an Optuna upgrade that
moves a generator fails loudly instead of silently resuming wrong. Shared generators are stored once and restored
in place, so every holder sees the restored stream.

Beyond RNGs: GPSampler warm-starts each kernel fit from its previous fit (`_gprs_cache_list`,
`_constraints_gprs_cache_list`): their kernel parameters are saved as exact floats. An unseeded QMCSampler draws
its own `_seed`, which is saved too. Everything else a sampler needs lives in the storage already.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from optgui.core import _optuna_internals as oi

STATE_FORMAT = 1

_GP_CACHE_ATTRS = oi.GP_CACHE_ATTRS
_MAX_DEPTH = 6


class SamplerStateError(Exception):
    """A saved state that does not fit the sampler it is restored into."""


_is_lazy_random_state = oi.is_lazy_random_state


def _walk(obj: Any, prefix: str, depth: int, seen: dict[int, str], found: dict[str, tuple[str, Any]]) -> None:
    """Record every LazyRandomState / RandomState reachable through Optuna-owned objects.

    found maps a path to ("rng", holder) or ("alias", canonical path) for a generator already seen elsewhere.
    """
    if depth > _MAX_DEPTH:
        return
    attrs = oi.object_attributes(obj)
    if attrs is None:
        return
    # Generators held directly at this level first, so a generator shared with a strategy object is named by
    # its owner's path (`_rng`) and the strategy's reference becomes the alias.
    nested = []
    for key in sorted(attrs):
        value = attrs[key]
        path = f"{prefix}{key}"
        if _is_lazy_random_state(value) or isinstance(value, np.random.RandomState):
            if id(value) in seen:
                found[path] = ("alias", seen[id(value)])
            else:
                seen[id(value)] = path
                found[path] = ("rng", value)
        else:
            nested.append((path, value))
    for path, value in nested:
        module = type(value).__module__ or ""
        if module.startswith("optuna.") and id(value) not in seen:
            # Samplers, strategies, crossovers, mutations. Storage and study objects are never reachable from a
            # sampler in Optuna 5.0; skip them anyway in case a future version links them.
            if "storages" in module or "study" in module:
                continue
            seen[id(value)] = path
            _walk(value, path + ".", depth + 1, seen, found)


def _find(sampler: Any) -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    _walk(sampler, "", 0, {id(sampler): ""}, found)
    return found


def state_paths(sampler: Any) -> dict[str, str]:
    """{path: "rng" | "alias of <path>" | "extra"} for everything capture() saves from this sampler."""
    paths = {p: ("rng" if kind == "rng" else f"alias of {target}") for p, (kind, target) in _find(sampler).items()}
    for path in _extra_paths(sampler):
        paths[path] = "extra"
    return dict(sorted(paths.items()))


def _generator(holder: Any) -> np.random.RandomState:
    return holder.rng if _is_lazy_random_state(holder) else holder


def _encode_mt(rs: np.random.RandomState) -> dict:
    name, key, pos, has_gauss, gauss = rs.get_state(legacy=True)
    assert name == "MT19937"
    return {
        "key": base64.b64encode(np.asarray(key, dtype="<u4").tobytes()).decode("ascii"),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }


def _decode_mt(data: dict) -> tuple:
    key = np.frombuffer(base64.b64decode(data["key"]), dtype="<u4").astype(np.uint32)
    if key.shape != (624,):
        raise SamplerStateError("saved MT19937 key does not have 624 words")
    return ("MT19937", key, int(data["pos"]), int(data["has_gauss"]), float(data["gauss"]))


# --- extras ---------------------------------------------------------------------------------------------------
def _walk_samplers(sampler: Any, prefix: str = ""):
    """The sampler and every nested sampler, with its attribute path prefix."""
    yield prefix, sampler
    attrs = oi.object_attributes(sampler) or {}
    for key in sorted(attrs):
        value = attrs[key]
        if type(value).__module__.startswith("optuna.samplers") and hasattr(value, "sample_relative"):
            yield from _walk_samplers(value, f"{prefix}{key}.")


def _extra_paths(sampler: Any) -> list[str]:
    paths: list[str] = []
    for prefix, s in _walk_samplers(sampler):
        if type(s).__name__ == "GPSampler":
            paths.extend(prefix + a for a in _GP_CACHE_ATTRS)
        if type(s).__name__ == "QMCSampler":
            paths.append(prefix + oi.QMC_SEED_ATTR)
    return paths


def _encode_gp_cache(cache) -> list | None:
    if cache is None:
        return None
    out = []
    for gpr in cache:
        out.append(
            {
                "inverse_squared_lengthscales": [
                    float(x) for x in gpr.inverse_squared_lengthscales.detach().cpu().numpy().ravel()
                ],
                "kernel_scale": float(gpr.kernel_scale.detach().cpu().numpy()),
                "noise_var": float(gpr.noise_var.detach().cpu().numpy()),
            }
        )
    return out


def _decode_gp_cache(data) -> list | None:
    if data is None:
        return None
    import torch

    GPRegressor = oi.gp_regressor_class()

    cache = []
    for entry in data:
        lengths = torch.tensor(entry["inverse_squared_lengthscales"], dtype=torch.float64)
        dim = lengths.shape[0]
        # Only the kernel parameters of a cached regressor are read (as the warm start of the next fit);
        # the training data is a placeholder.
        cache.append(
            GPRegressor(
                is_categorical=torch.zeros(dim, dtype=torch.bool),
                X_train=torch.zeros((1, dim), dtype=torch.float64),
                y_train=torch.zeros(1, dtype=torch.float64),
                inverse_squared_lengthscales=lengths,
                kernel_scale=torch.tensor(entry["kernel_scale"], dtype=torch.float64),
                noise_var=torch.tensor(entry["noise_var"], dtype=torch.float64),
            )
        )
    return cache


def _resolve(sampler: Any, path: str) -> tuple[Any, str]:
    parts = path.split(".")
    obj = sampler
    for part in parts[:-1]:
        obj = getattr(obj, part)
    return obj, parts[-1]


# --- public API -------------------------------------------------------------------------------------------------
def capture(sampler: Any) -> dict:
    """A JSON-serialisable snapshot of the sampler's in-memory state."""
    rngs, aliases = {}, {}
    for path, (kind, target) in _find(sampler).items():
        if kind == "rng":
            rngs[path] = _encode_mt(_generator(target))
        else:
            aliases[path] = target
    extras = {}
    for path in _extra_paths(sampler):
        holder, attr = _resolve(sampler, path)
        value = getattr(holder, attr)
        extras[path] = _encode_gp_cache(value) if attr in _GP_CACHE_ATTRS else int(value)
    return {
        "format": STATE_FORMAT,
        "sampler": type(sampler).__name__,
        "rngs": rngs,
        "aliases": aliases,
        "extras": extras,
    }


def restore(sampler: Any, state: dict) -> None:
    """Put a captured state into a freshly built sampler of the same spec. Raises SamplerStateError on any
    mismatch of layout, so a resume never continues from a half-restored sampler."""
    if state.get("format") != STATE_FORMAT:
        raise SamplerStateError(f"unknown sampler state format {state.get('format')!r}")
    if state.get("sampler") != type(sampler).__name__:
        raise SamplerStateError(f"saved state is for {state.get('sampler')}, not {type(sampler).__name__}")
    found = _find(sampler)
    want_rngs = {p for p, (k, _) in found.items() if k == "rng"}
    want_aliases = {p: t for p, (k, t) in found.items() if k == "alias"}
    if want_rngs != set(state["rngs"]) or want_aliases != state.get("aliases", {}):
        raise SamplerStateError(
            f"sampler layout changed: saved generators {sorted(state['rngs'])}, this Optuna has {sorted(want_rngs)}"
        )
    if set(_extra_paths(sampler)) != set(state.get("extras", {})):
        raise SamplerStateError("sampler layout changed: saved extras differ from this sampler's")
    for path, data in state["rngs"].items():
        _generator(found[path][1]).set_state(_decode_mt(data))
    for path, data in state.get("extras", {}).items():
        holder, attr = _resolve(sampler, path)
        setattr(holder, attr, _decode_gp_cache(data) if attr in _GP_CACHE_ATTRS else int(data))


def states_equal(a: dict, b: dict) -> bool:
    return a == b
