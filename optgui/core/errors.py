"""Errors with a user-facing message and the CLI exit code they map to (docs/cli.md)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_DIVERGED = 1
EXIT_UNVERIFIABLE = 2
EXIT_ERROR = 3
EXIT_ONLY_REPLAYABLE = 4
EXIT_INTERRUPTED = 130


class OptguiError(Exception):
    """An error whose message is meant for the user: one clear line, no traceback."""

    exit_code = EXIT_ERROR


class SpecError(OptguiError):
    """A sampler or pruner SPEC that cannot be parsed or built."""


class ObjectiveError(OptguiError):
    """An objective reference that cannot be resolved, or whose file changed."""


class StorageError(OptguiError):
    """A storage path or URL that cannot be used as asked."""


class StudyStateError(OptguiError):
    """The study's optgui metadata does not allow the requested operation."""


class LeaseHeldError(StudyStateError):
    """Another live process is running this study."""


class LeaseLostError(StudyStateError):
    """This process was stopped so long that another one took its run lease over: it must write nothing more."""
