"""Run health: running, idle, finished, stalled, failing, orphaned (or possibly orphaned) — computed from the
reader's tables and the study's optgui records, so the CLI, the window and the workspace agree.

Above the engine (it asks the engine whether a lease is live); independent of verify and fleet.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optgui.core.health._health import HealthState, HealthThresholds, RunHealth, assess, study_health

__all__ = ["HealthState", "HealthThresholds", "RunHealth", "assess", "study_health"]

_EXPORTS = {name: "optgui.core.health._health" for name in __all__}


def __getattr__(name: str) -> object:
    # Lazy: `import optgui.core.health` loads nothing until a name is used, so the CLI starts fast.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
