"""`optgui inspect` (placeholder until its issue lands)."""

from optgui.core.errors import OptguiError


def add_arguments(parser) -> None:
    parser.add_argument("storage", metavar="STORAGE")
    parser.add_argument("--study", metavar="NAME")


def execute(args) -> int:
    raise OptguiError("optgui inspect is not available yet")
