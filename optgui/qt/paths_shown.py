"""How a storage's name is shown in titles: a file under the home folder as ~/..., as file managers and editors
show it (shorter, and it says whose file it is). The full name stays in tooltips, dialogs and settings."""

from __future__ import annotations

import os
from pathlib import Path


def shown_name(display: str) -> str:
    """`display` (a path or a password-free URL) with the home folder written as ~."""
    if "://" in display:
        return display
    try:
        home = str(Path.home())
    except RuntimeError:  # no home folder can be determined
        return display
    if home not in ("", os.sep) and (display == home or display.startswith(home.rstrip(os.sep) + os.sep)):
        return "~" + display[len(home.rstrip(os.sep)) :]
    return display
