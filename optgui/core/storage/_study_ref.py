"""Study REFs: how `optgui compare` and `optgui run --history` name one study of any storage.

A REF is a storage when it exists as a file or parses as a URL; otherwise `STORAGE#STUDY`, split at the `#`
whose left part exists as a file (so a path may itself contain `#`). A URL's study follows its last `#` (a
storage URL has no fragment of its own). `#STUDY` may be left out when the storage holds one study. For
`--history` a REF may end in a trial selection, `@0-99,120` (trial numbers and inclusive ranges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from optgui.core.errors import OptguiError, StudyStateError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SELECTION = re.compile(r"@(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)$")
MAX_SELECTED = 10_000_000  # a selection naming more trial numbers than any study has is a typo


class StudyRefError(OptguiError):
    """A study REF that names no existing storage, or a malformed trial selection."""


@dataclass(frozen=True)
class StudyRef:
    """One study named by a REF: `storage` (a path or URL, as typed), `study` (None: the storage's only study),
    `trials` (the selected trial numbers, sorted; None: all) and `text` (the REF as typed)."""

    text: str
    storage: str
    study: str | None = None
    trials: tuple[int, ...] | None = None

    def choose(self, names: list[str]) -> str:
        """The study this REF names among the storage's study `names`."""
        if self.study is not None:
            if self.study not in names:
                listed = ", ".join(repr(n) for n in names) or "none"
                raise StudyStateError(f"{self.text}: no study named {self.study!r} (studies: {listed})")
            return self.study
        if len(names) == 1:
            return names[0]
        if not names:
            raise StudyStateError(f"{self.text}: the storage contains no study")
        listed = ", ".join(repr(n) for n in names)
        raise StudyStateError(
            f"{self.text}: the storage has {len(names)} studies; name one as STORAGE#STUDY ({listed})"
        )


def parse_trial_selection(text: str) -> tuple[int, ...]:
    """`0-99,120` as sorted unique trial numbers (ranges inclusive)."""
    numbers: set[int] = set()
    for part in text.split(","):
        first_text, _, last_text = part.partition("-")
        if not first_text.isdigit() or (last_text and not last_text.isdigit()):
            raise StudyRefError(f"bad trial selection {text!r}: use numbers and ranges such as 0-99,120")
        first = int(first_text)
        last = int(last_text) if last_text else first
        if last < first:
            raise StudyRefError(f"bad trial selection {text!r}: range {part} runs backwards")
        if len(numbers) + last - first + 1 > MAX_SELECTED:
            raise StudyRefError(f"bad trial selection {text!r}: more than {MAX_SELECTED} trials")
        numbers.update(range(first, last + 1))
    return tuple(sorted(numbers))


def parse_study_ref(text: str, *, selection: bool = False) -> StudyRef:
    """Split a REF into storage, study and (with `selection`) trial numbers. Touches the filesystem only to ask
    which files exist; StudyRefError when no reading of the REF names an existing file or a URL."""
    typed = text
    text = text.strip()
    if not text:
        raise StudyRefError("empty study REF: name a study file or URL, optionally as STORAGE#STUDY")
    trials = None
    if selection:
        match = _SELECTION.search(text)
        if match is not None and not Path(text).expanduser().is_file():
            trials = parse_trial_selection(match.group(1))
            text = text[: match.start()]
    if _URL.match(text):
        storage, hash_mark, study = text.rpartition("#")
        if not hash_mark:
            return StudyRef(typed, text, None, trials)
        return StudyRef(typed, storage, _study_name(typed, study), trials)
    if Path(text).expanduser().is_file():
        return StudyRef(typed, text, None, trials)
    for at in _hash_positions_right_to_left(text):
        if Path(text[:at]).expanduser().is_file():
            return StudyRef(typed, text[:at], _study_name(typed, text[at + 1 :]), trials)
    missing = text.split("#", 1)[0] if "#" in text else text
    raise StudyRefError(f"{typed}: no such study file {missing!r} (a REF is FILE, URL, FILE#STUDY or URL#STUDY)")


def _study_name(typed: str, name: str) -> str:
    if not name:
        raise StudyRefError(f"{typed}: nothing after '#': name the study, or leave '#' out for the only study")
    return name


def _hash_positions_right_to_left(text: str) -> list[int]:
    return [i for i in range(len(text) - 1, -1, -1) if text[i] == "#"]
