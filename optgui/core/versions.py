"""Versions of everything that can change what a sampler suggests, recorded with every run segment.

A bump of any of these can change suggestions from the same RNG state (e.g. Optuna 5.0.0 changed int rounding
between rc1 and final; GPSampler's numbers differ in the last digits with and without greenlet).
"""

from __future__ import annotations

import importlib.metadata
import platform

TRACKED_PACKAGES = ("optuna", "numpy", "scipy", "cmaes", "torch")


def _version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def current_versions() -> dict[str, str | bool | None]:
    versions: dict[str, str | bool | None] = {name: _version_of(name) for name in TRACKED_PACKAGES}
    versions["greenlet"] = _version_of("greenlet") is not None
    versions["python"] = platform.python_version()
    return versions


def version_differences(recorded: dict, current: dict) -> dict[str, tuple]:
    """Packages whose recorded and current versions differ: {name: (recorded, current)}.

    The Python version is informative only: the numpy MT19937 stream and Optuna's samplers do not depend on it.
    """
    diffs = {}
    for name in (*TRACKED_PACKAGES, "greenlet"):
        if recorded.get(name) != current.get(name):
            diffs[name] = (recorded.get(name), current.get(name))
    return diffs
