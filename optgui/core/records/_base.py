"""The machinery every stored record shares: typed fields described once (JSON key, what the value must be, what
it means), read with checks that name what is wrong, written back in the order today's writers use.

A record's field is declared with `entry(...)`. Its metadata drives three things: `from_json` (the checks),
`to_json` (which keys are written, in field order; `omit` fields only when set) and the generated
docs/storage-format.md. Keys a record does not know are kept in `extra` and written back after the known ones, so
a record read and written again gives the same JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

from optgui.core.errors import StudyStateError

MAX_TRIAL_NUMBER = 2**31 - 1  # Optuna's trial numbers are SQL INTEGER columns; a larger one is crafted


class MetadataError(StudyStateError):
    """The study's optgui metadata is malformed (crafted or damaged): nothing may act on it."""


class RecordError(MetadataError):
    """One record is malformed. `problem` says what is wrong without naming the record (`where` does)."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where} {problem}")
        self.where = where
        self.problem = problem


def now_iso() -> str:
    """The time stamp every record uses: UTC, ISO 8601, milliseconds."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


# --- value checks: (predicate, what the value must be) -----------------------------------------------------------
Check = tuple[Callable[[Any], bool], str]


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_trial_number(value: Any) -> bool:
    return is_int(value) and 0 <= value <= MAX_TRIAL_NUMBER


def is_aware_time(value: Any) -> bool:
    try:
        return isinstance(value, str) and _dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def optional(check: Check) -> Check:
    predicate, expected = check
    return (lambda v: v is None or predicate(v)), f"{expected} or null"


TEXT: Check = (lambda v: isinstance(v, str), "a string")
OBJECT: Check = (lambda v: isinstance(v, dict), "an object")
BOOL: Check = (lambda v: isinstance(v, bool), "a boolean")
INT: Check = (is_int, "an integer")
COUNT: Check = (lambda v: is_int(v) and v >= 0, "a count")
INDEX: Check = (lambda v: is_int(v) and v >= 0, "a segment index")
TRIAL_NUMBER: Check = (is_trial_number, "a trial number")
PID: Check = (lambda v: is_int(v) and 0 < v < 2**31, "a process id")
TIME: Check = (lambda v: isinstance(v, str), "an ISO time")
AWARE_TIME: Check = (is_aware_time, "an ISO time with a time zone")
NUMBER: Check = (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number")
TRIAL_NUMBERS: Check = (lambda v: isinstance(v, list) and all(map(is_trial_number, v)), "trial numbers")
TEXTS: Check = (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings")


def one_of(vocabulary: type[enum.StrEnum]) -> Check:
    values = [m.value for m in vocabulary]
    return (lambda v: isinstance(v, str) and v in values), "one of " + ", ".join(repr(v) for v in values)


def entry(
    doc: str,
    check: Check,
    *,
    required: bool = False,
    omit: bool = False,
    key: str | None = None,
    default: Any = None,
    nested: type[JsonRecord] | None = None,
    vocabulary: type[enum.StrEnum] | None = None,
) -> Any:
    """A record field. doc: what it means (for the docs); check: what its JSON value must be; required: a record
    without it is malformed; omit: written only when not None (absent otherwise, as today's writers do); key: the
    JSON key when it differs from the field name; nested: a record class the JSON object is read as; vocabulary:
    a StrEnum the string is read as."""
    meta = {"doc": doc, "check": check, "required": required, "omit": omit, "key": key}
    meta |= {"nested": nested, "vocabulary": vocabulary}
    if required:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def short(value: Any) -> str:
    """A value as a message shows it: never the whole of a huge or deeply nested value."""
    if isinstance(value, dict | list):  # no repr: it may be huge or nested too deeply to print
        return f"{_kind(value)} of {len(value)} items"
    text = repr(value[:41] if isinstance(value, str) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _plain(value: Any) -> Any:
    if isinstance(value, JsonRecord):
        return value.to_json()
    if isinstance(value, enum.StrEnum):
        return value.value
    return value


@dataclasses.dataclass(frozen=True)
class JsonRecord:
    """Base of the stored records (frozen dataclasses). KEY names the attribute (or its prefix) for messages and
    docs; `extra` keeps keys this version does not know, written back unchanged."""

    KEY: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    # Keys the stored JSON lacked: written back absent (not null) while the field stays None, so that a partial
    # record (an older version's, a minimal one) is rewritten with the keys it had.
    _absent: frozenset[str] = dataclasses.field(default=frozenset(), compare=False, repr=False, kw_only=True)

    def changed(self, **changes: Any) -> Self:
        """The record with `changes`; a field set here is written even when None (then as null)."""
        keys = {f.metadata.get("key") or f.name for f in record_fields(type(self)) if f.name in changes}
        return dataclasses.replace(self, **changes, _absent=self._absent - keys)

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored: known keys in field order (omitted ones only when set), then unknown ones."""
        out: dict[str, Any] = {}
        for f in record_fields(type(self)):
            value = getattr(self, f.name)
            key = f.metadata.get("key") or f.name
            if value is None and (f.metadata["omit"] or not f.metadata["check"][0](None) or key in self._absent):
                continue  # absent: omitted by the writers, a key whose value may not be null, or absent when read
            out[key] = _plain(value)
        out.update(getattr(self, "extra", None) or {})
        return out

    @classmethod
    def problem(cls, value: Any) -> str | None:
        """None when `value` is a well-formed record; otherwise what is wrong ("has no 'x'", ...)."""
        try:
            cls._parse(value)
        except RecordError as exc:
            return exc.problem
        return None

    @classmethod
    def from_json(cls, value: Any, where: str | None = None) -> Self:
        """The record stored as `value`; RecordError (a MetadataError) naming `where` and what is wrong."""
        try:
            return cls._parse(value)
        except RecordError as exc:
            raise RecordError(where or cls.KEY or cls.__name__, exc.problem) from None

    @classmethod
    def _parse(cls, value: Any) -> Self:
        if not isinstance(value, dict):
            raise RecordError("", f"is {_kind(value)}, not a JSON object")
        kwargs: dict[str, Any] = {}
        known: set[str] = set()
        absent: set[str] = set()
        for f in record_fields(cls):
            key = f.metadata.get("key") or f.name
            known.add(key)
            if key not in value:
                if f.metadata["required"]:
                    raise RecordError("", f"has no {key!r}")
                absent.add(key)
                continue
            kwargs[f.name] = _read_field(f.metadata, key, value[key])
        if any(f.name == "extra" for f in dataclasses.fields(cls)):
            kwargs["extra"] = {k: v for k, v in value.items() if k not in known}
        return cls(**kwargs, _absent=frozenset(absent))


def _read_field(meta: Mapping[str, Any], key: str, raw: Any) -> Any:
    predicate, expected = meta["check"]
    if not predicate(raw):
        raise RecordError("", f"has {key!r} = {short(raw)}, not {expected}")
    nested: type[JsonRecord] | None = meta["nested"]
    if nested is not None and raw is not None:
        try:
            return nested._parse(raw)
        except RecordError as exc:
            raise RecordError("", f"has {key!r} that {exc.problem}") from None
    vocabulary: type[enum.StrEnum] | None = meta["vocabulary"]
    if vocabulary is not None and raw is not None:
        return vocabulary(raw)
    return raw


def record_fields(cls: type[JsonRecord]) -> list[dataclasses.Field[Any]]:
    """The documented fields of a record class, in the order they are stored."""
    return [f for f in dataclasses.fields(cls) if f.name not in ("extra", "_absent")]
