"""A small TOML writer for recipes: `tomllib` reads TOML, nothing in the standard library writes it.

Writes what a recipe holds and nothing more: a document of tables (one level, or two with dotted headers) whose
values are strings, booleans, integers, floats and arrays of those. None has no TOML form: a None value is left
out, and the reader treats an absent key as None. Strings are basic strings with every control character escaped,
so any text (quotes, backslashes, newlines, non-BMP characters) reads back unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML string that reads back as `text`: a literal string ('...', nothing escaped: readable JSON) when the
    text allows one, else a basic string with escapes."""
    if "'" not in text and all(0x20 <= ord(char) != 0x7F or char == "\t" for char in text):
        return f"'{text}'"
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    if key and all(char in _BARE_KEY_CHARS for char in key):
        return key
    return toml_string(key)


def toml_value(value: Any) -> str:
    """One value: str, bool, int, float (inf and nan as TOML spells them) or a list of those."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # the shortest text that reads back as the same double
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value if item is not None) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__} {value!r}")


def dump_toml(document: Mapping[str, Any], *, header: str = "") -> str:
    """The TOML text of `document`: top-level scalars first, then one [table] per mapping (a mapping inside a
    table becomes a [table.sub] table). `header` becomes leading comment lines."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    lines.extend(_key_values(document))
    _tables(document, (), lines)
    return "\n".join(lines).strip("\n") + "\n"


def _key_values(table: Mapping[str, Any]) -> list[str]:
    return [
        f"{toml_key(key)} = {toml_value(value)}"
        for key, value in table.items()
        if value is not None and not isinstance(value, Mapping)
    ]


def _tables(table: Mapping[str, Any], prefix: tuple[str, ...], lines: list[str]) -> None:
    for key, value in table.items():
        if isinstance(value, Mapping):
            path = (*prefix, key)
            if lines and lines[-1] != "":
                lines.append("")
            lines.append("[" + ".".join(toml_key(part) for part in path) + "]")
            lines.extend(_key_values(value))
            _tables(value, path, lines)
