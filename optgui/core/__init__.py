"""Qt-free core of optgui: open Optuna studies read-only, run them with deterministic pause and resume, verify them.

Nothing below this package imports PySide6 or pyqtgraph (tests/core/test_qt_free.py enforces it), so the headless
commands run on machines without libGL and the library can be driven from a notebook. The subpackages, by role
(each imports only those below it; import-linter contracts in pyproject.toml):

    records   what optgui stores in a study (the ``optgui:`` system attributes)
    storage   naming storages, read-only connections, the reader and its numpy tables
    engine    running a study: request, runner, objectives, samplers, recovery, replay, events
    verify    replaying a study's history and judging it (the verdict)
    fleet     parallel runs: coordinator, workers, the fleet's records
    analysis  plot data for the analysis views (numpy, equal to Optuna's helpers)
    share     a trial as a standalone script, a study as a recipe (TOML) and a new study from one

The names below are the ones a notebook needs. Define and run a study (five trials of a built-in objective):

>>> import tempfile, pathlib
>>> from optgui.core import RunRequest, StudyRunner, TrialFinished
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> storage = str(folder / "study.db")
>>> finished = []
>>> def listener(event):
...     if isinstance(event, TrialFinished):
...         finished.append(event.number)
>>> request = RunRequest(storage, "bowl", objective="builtin:quadratic", sampler="TPESampler", seed=42, n_trials=5)
>>> outcome = StudyRunner(request, listener=listener).run()
>>> outcome.reason, outcome.n_finished, finished
('completed', 5, [0, 1, 2, 3, 4])

Run it again with more trials: it resumes where it stopped, with the sampler's saved state.

>>> StudyRunner(RunRequest(storage, "bowl", n_trials=8)).run().n_finished
8

Read it, read-only (numpy columns, never Optuna's FrozenTrial objects):

>>> from optgui.core import open_reader
>>> with open_reader(storage) as reader:
...     summary = reader.studies()[0]
...     table = reader.trials("bowl")
>>> summary.name, summary.n_trials, table.number.tolist(), sorted(table.params)
('bowl', 8, [0, 1, 2, 3, 4, 5, 6, 7], ['x', 'y'])

Verify it: the recorded history replays bit for bit, and pausing made no difference.

>>> from optgui.core import VERIFIED, verify_study
>>> verdict = verify_study(storage, "bowl", use_cache=False)
>>> verdict.kind == VERIFIED, verdict.equivalent, verdict.n_checked
(True, True, 8)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optgui.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from optgui.core.engine import (
        RecoveryPerformed,
        RunFailed,
        RunInterrupted,
        RunOutcome,
        RunRequest,
        RunStarted,
        RunStateChanged,
        Spec,
        StudyRunner,
        TrialFinished,
        TrialStarted,
        parse_spec,
    )
    from optgui.core.errors import OptguiError
    from optgui.core.records import StudyMetadata, read_metadata
    from optgui.core.storage import (
        StorageRef,
        StudyReader,
        StudySummary,
        TrialDelta,
        TrialTable,
        Watermark,
        open_reader,
        parse_storage,
    )
    from optgui.core.verify import DIVERGED, NOT_REPRODUCIBLE, UNVERIFIABLE, VERIFIED, Progress, Verdict, verify_study

__all__ = [
    # opening a study
    "StorageRef",
    "parse_storage",
    "open_reader",
    # reading it
    "StudyReader",
    "StudySummary",
    "TrialTable",
    "TrialDelta",
    "Watermark",
    "StudyMetadata",
    "read_metadata",
    # defining and running a study
    "RunRequest",
    "StudyRunner",
    "RunOutcome",
    "RunInterrupted",
    "Spec",
    "parse_spec",
    # the events a run emits
    "RunStarted",
    "RunStateChanged",
    "RunFailed",
    "TrialStarted",
    "TrialFinished",
    "RecoveryPerformed",
    # verifying it
    "verify_study",
    "Verdict",
    "Progress",
    "VERIFIED",
    "DIVERGED",
    "UNVERIFIABLE",
    "NOT_REPRODUCIBLE",
    # errors: one line for the user, an exit code
    "OptguiError",
]

_HOMES = {
    "optgui.core.storage": (
        "StorageRef",
        "parse_storage",
        "open_reader",
        "StudyReader",
        "StudySummary",
        "TrialTable",
        "TrialDelta",
        "Watermark",
    ),
    "optgui.core.records": ("StudyMetadata", "read_metadata"),
    "optgui.core.engine": (
        "RunRequest",
        "StudyRunner",
        "RunOutcome",
        "RunInterrupted",
        "Spec",
        "parse_spec",
        "RunStarted",
        "RunStateChanged",
        "RunFailed",
        "TrialStarted",
        "TrialFinished",
        "RecoveryPerformed",
    ),
    "optgui.core.verify": (
        "verify_study",
        "Verdict",
        "Progress",
        "VERIFIED",
        "DIVERGED",
        "UNVERIFIABLE",
        "NOT_REPRODUCIBLE",
    ),
    "optgui.core.errors": ("OptguiError",),
}
_EXPORTS = {name: module for module, names in _HOMES.items() for name in names}


# Lazy: `import optgui.core` (which every optgui module does) loads no subpackage until a name is used.
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __all__)
