"""Run health and workspaces, computed from the reader's tables and the study's optgui records, so the CLI, the
window and the workspace agree.

Health: running, idle, finished, stalled, failing, orphaned or possibly orphaned (see `_health.py`). A workspace:
every study file under a folder, with its studies' summaries and health. Above the engine (it asks the engine
whether a lease is live); independent of verify and fleet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optgui.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from optgui.core.health._health import HealthState, HealthThresholds, RunHealth, assess, study_health
    from optgui.core.health._workspace import (
        StudyStatus,
        Workspace,
        WorkspaceFile,
        read_study_file,
        read_workspace,
    )

__all__ = [
    "HealthState",
    "HealthThresholds",
    "RunHealth",
    "StudyStatus",
    "Workspace",
    "WorkspaceFile",
    "assess",
    "read_study_file",
    "read_workspace",
    "study_health",
]

_EXPORTS = {
    "HealthState": "optgui.core.health._health",
    "HealthThresholds": "optgui.core.health._health",
    "RunHealth": "optgui.core.health._health",
    "assess": "optgui.core.health._health",
    "study_health": "optgui.core.health._health",
    "StudyStatus": "optgui.core.health._workspace",
    "Workspace": "optgui.core.health._workspace",
    "WorkspaceFile": "optgui.core.health._workspace",
    "read_study_file": "optgui.core.health._workspace",
    "read_workspace": "optgui.core.health._workspace",
}


# Lazy: `import optgui.core.health` loads nothing until a name is used, so the CLI starts fast.
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __all__)
