"""Versions of the packages that can change what a sampler suggests, recorded with every run segment.

A bump of a package the sampler computes with can change suggestions from the same RNG state (e.g. Optuna 5.0.0
changed int rounding between rc1 and final; GPSampler's numbers differ in the last digits with and without
greenlet). A package the sampler never imports cannot: installing scipy next to a TPE study changes nothing.

Which sampler uses what (read from Optuna 5.0's sources, pinned by tests/core/test_version_policy.py):

* every sampler: optuna and numpy;
* CmaEsSampler: cmaes (`optuna/samplers/_cmaes.py`);
* QMCSampler: scipy (`scipy.stats.qmc` in `optuna/samplers/_qmc.py`);
* GPSampler: torch and scipy (`optuna/_gp/`), and greenlet, whose presence switches `optuna/_gp/batched_lbfgsb.py`
  between a batched and a sequential L-BFGS-B;
* WilcoxonPruner: scipy (`scipy.stats`), which decides which trials are pruned and so what the sampler sees;
* TPE (single and multi-objective), random, NSGA-II/III, grid and brute force use only optuna and numpy.

A sampler that nests another (CmaEsSampler's independent_sampler, PartialFixedSampler's base_sampler) uses what
both use.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Iterable, Mapping
from typing import Any

TRACKED_PACKAGES = ("optuna", "numpy", "scipy", "cmaes", "torch")
ALWAYS_USED = ("optuna", "numpy")

#: Packages beyond ALWAYS_USED that each sampler or pruner class computes with.
EXTRA_PACKAGES: dict[str, tuple[str, ...]] = {
    "CmaEsSampler": ("cmaes",),
    "QMCSampler": ("scipy",),
    "GPSampler": ("torch", "scipy", "greenlet"),
    "WilcoxonPruner": ("scipy",),
}

VersionMap = dict[str, str | bool | None]


def _version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def current_versions() -> VersionMap:
    """Every tracked package (for the verdict's "now" column and bug reports), greenlet as installed or not."""
    versions: VersionMap = {name: _version_of(name) for name in TRACKED_PACKAGES}
    versions["greenlet"] = _version_of("greenlet") is not None
    versions["python"] = platform.python_version()
    return versions


def _spec_names(value: Any) -> Iterable[str]:
    name = getattr(value, "name", None)
    kwargs = getattr(value, "kwargs", None)
    if isinstance(name, str) and isinstance(kwargs, Mapping):
        yield name
        for nested in kwargs.values():
            yield from _spec_names(nested)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _spec_names(item)


def used_packages(*specs: Any) -> tuple[str, ...]:
    """The packages the run of these specs (its sampler and pruner, nested ones included) computes with."""
    used = list(ALWAYS_USED)
    for spec in specs:
        for name in _spec_names(spec):
            for package in EXTRA_PACKAGES.get(name, ()):
                if package not in used:
                    used.append(package)
    return tuple(used)


def versions_for(*specs: Any) -> VersionMap:
    """What a run segment records: the versions of the packages its sampler and pruner use (plus Python, which is
    informative only: numpy's MT19937 stream and Optuna's samplers do not depend on it)."""
    now = current_versions()
    recorded: VersionMap = {name: now[name] for name in used_packages(*specs)}
    recorded["python"] = now["python"]
    return recorded


def version_differences(
    recorded: Mapping[str, Any], current: Mapping[str, Any], packages: Iterable[str] | None = None
) -> dict[str, tuple[Any, Any]]:
    """Packages whose recorded and current versions differ: {name: (recorded, current)}.

    `packages` limits the comparison to what the sampler uses (`used_packages`); without it every tracked package
    counts. A package missing from the record was not installed (older records list every tracked package, newer
    ones only those the sampler uses, so a missing key is never compared for a sampler that does not use it)."""
    names = tuple(packages) if packages is not None else (*TRACKED_PACKAGES, "greenlet")
    diffs: dict[str, tuple[Any, Any]] = {}
    for name in names:
        before, now = recorded.get(name), current.get(name)
        if name == "greenlet":  # recorded as installed-or-not (older records: also True/False)
            before, now = bool(before), bool(now)
        if before != now:
            diffs[name] = (recorded.get(name), current.get(name))
    return diffs


def describe_differences(diffs: Mapping[str, tuple[Any, Any]] | Mapping[str, list[Any]]) -> str:
    """ "numpy 2.3.0 -> 2.4.6, cmaes None -> 0.13.1" (None: not installed)."""
    return ", ".join(f"{name} {before} -> {after}" for name, (before, after) in diffs.items())
