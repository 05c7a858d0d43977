"""Verifying determinism: replaying a study's recorded history and judging it (the verdict), the verdict
cache, the verifier as a child process (the GUI's badge, `optgui verify`) and the objective check.

Builds on the engine; independent of the fleet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optgui.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from optgui.core.verify._cache import cached_verdict
    from optgui.core.verify._objective_check import run_objective_check
    from optgui.core.verify._process import VerifyJob, child_environment
    from optgui.core.verify._verdict import (
        DIVERGED,
        NOT_REPRODUCIBLE,
        UNVERIFIABLE,
        VERIFIED,
        Divergence,
        ObjectiveCheck,
        Progress,
        TrialRecheck,
        Verdict,
        VerificationState,
    )
    from optgui.core.verify._verifier import (
        VERSION_CHECK_SECONDS,
        VerificationCancelled,
        Verifier,
        verify_snapshot,
        verify_study,
        verify_with_cache,
    )

__all__ = [
    "DIVERGED",
    "Divergence",
    "NOT_REPRODUCIBLE",
    "ObjectiveCheck",
    "Progress",
    "TrialRecheck",
    "UNVERIFIABLE",
    "VERIFIED",
    "VerificationState",
    "VERSION_CHECK_SECONDS",
    "Verdict",
    "VerificationCancelled",
    "Verifier",
    "VerifyJob",
    "cached_verdict",
    "child_environment",
    "run_objective_check",
    "verify_snapshot",
    "verify_study",
    "verify_with_cache",
]

_EXPORTS = {
    "cached_verdict": "optgui.core.verify._cache",
    "VERSION_CHECK_SECONDS": "optgui.core.verify._verifier",
    "VerificationCancelled": "optgui.core.verify._verifier",
    "Verifier": "optgui.core.verify._verifier",
    "verify_snapshot": "optgui.core.verify._verifier",
    "verify_study": "optgui.core.verify._verifier",
    "verify_with_cache": "optgui.core.verify._verifier",
    "DIVERGED": "optgui.core.verify._verdict",
    "Divergence": "optgui.core.verify._verdict",
    "NOT_REPRODUCIBLE": "optgui.core.verify._verdict",
    "ObjectiveCheck": "optgui.core.verify._verdict",
    "Progress": "optgui.core.verify._verdict",
    "TrialRecheck": "optgui.core.verify._verdict",
    "UNVERIFIABLE": "optgui.core.verify._verdict",
    "VERIFIED": "optgui.core.verify._verdict",
    "VerificationState": "optgui.core.verify._verdict",
    "Verdict": "optgui.core.verify._verdict",
    "VerifyJob": "optgui.core.verify._process",
    "child_environment": "optgui.core.verify._process",
    "run_objective_check": "optgui.core.verify._objective_check",
}


# Lazy: `import optgui.core.verify` loads nothing until a name is used, so the CLI and the GUI start fast.
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __all__)
