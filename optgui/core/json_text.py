"""Decoding JSON that a study file holds: attribute values, distributions, journal lines.

A crafted file can nest JSON deeper than Python's recursion limit (`[[[[…]]]]` 3000 levels deep); `json.loads`
then raises RecursionError, which no `except ValueError` around it expects. `loads` turns that into
JsonTooDeep, a ValueError, so every reader treats it as the undecodable text it is.
"""

from __future__ import annotations

import json
from typing import Any

TOO_DEEP = "JSON nested deeper than can be decoded"


class JsonTooDeep(ValueError):
    """The text nests arrays or objects deeper than the interpreter can decode."""


def loads(text: str | bytes) -> Any:
    """json.loads, raising ValueError (JsonTooDeep) instead of RecursionError on too deeply nested text."""
    try:
        return json.loads(text)
    except RecursionError:
        raise JsonTooDeep(f"{TOO_DEEP} ({len(text)} characters)") from None


def is_too_deep(exc: BaseException) -> bool:
    """True for the errors a too deeply nested value raises in code that decodes it with plain json (Optuna)."""
    return isinstance(exc, RecursionError | JsonTooDeep)
