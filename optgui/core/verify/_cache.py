"""Verdict cache: verdicts and replay checkpoints in the app cache directory, never in the study's storage.

A study opened for inspection is never written to, so what verification learns is kept under
`cache_dir()/verify/`, keyed by digests of the study's *content*: the study name, every trial's number, state,
params (bit patterns), distributions, values, intermediate values, times and system attributes, the optgui
metadata, the spec and the versions of the packages that can change suggestions. An in-place edit of any trial
changes the key, so it is never served a stale "verified".

Two kinds of entries:
  verdict-<key>.json    the verdict for exactly this content: reopening an unchanged study is instant;
  resume-<id>.json      a replay checkpoint of the verified prefix of a study (id: name, run record, spec,
                        versions), with the digest of the prefix it covers: a study that grew by a few trials
                        replays only those.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optuna.distributions import distribution_to_json
from optuna.trial import FrozenTrial

from optgui import __version__
from optgui.core.engine import Spec, current_versions, parse_spec
from optgui.core.errors import OptguiError
from optgui.core.paths import cache_dir
from optgui.core.records import KEY_CHECKPOINT, KEY_LEASE, KEY_RUN, KEY_SEGMENT, KEY_STATE
from optgui.core.verify._verdict import VERDICT_SCHEMA, Verdict

CACHE_FORMAT = 2  # 2: verdicts also hold the record against segment ends (states, last trial)
# Study attributes that change while nothing about the trials does (heartbeats, periodic crash checkpoints).
_VOLATILE_KEYS = (KEY_LEASE, KEY_CHECKPOINT)


def verify_dir() -> Path:
    return cache_dir() / "verify"


def _hex(value) -> str:
    if value is None:
        return "none"
    value = float(value)
    return "nan" if math.isnan(value) else value.hex()


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def trial_digest_input(trial: FrozenTrial) -> bytes:
    params = [
        (name, distribution_to_json(dist), _hex(dist.to_internal_repr(trial.params[name])))
        for name, dist in trial.distributions.items()
    ]
    values = [_hex(v) for v in trial.values] if trial.values is not None else None
    inter = sorted((int(k), _hex(v)) for k, v in trial.intermediate_values.items())
    body = [
        trial.number,
        trial.state.name,
        params,
        values,
        inter,
        str(trial.datetime_start),
        str(trial.datetime_complete),
        trial.system_attrs,
    ]
    return _canonical(body).encode()


class TrialChain:
    """Rolling digests over trials in number order: prefix(k) covers trials 0..k-1."""

    def __init__(self, trials: Sequence[FrozenTrial]):
        self._prefixes = [hashlib.sha256(b"optgui-trials").hexdigest()]
        for trial in trials:
            h = hashlib.sha256(self._prefixes[-1].encode())
            h.update(trial_digest_input(trial))
            self._prefixes.append(h.hexdigest())

    def prefix(self, k: int) -> str:
        return self._prefixes[k]

    @property
    def full(self) -> str:
        return self._prefixes[-1]


def _spec_text(spec: Spec | str | None) -> str | None:
    if spec is None:
        return None
    if isinstance(spec, Spec):
        return spec.to_json()
    try:
        return parse_spec(spec, "sampler").to_json()
    except OptguiError:
        return spec  # unparseable: the verifier reports it; the key only needs to be stable


def _stable_attrs(system_attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in system_attrs.items() if k not in _VOLATILE_KEYS}


def verdict_key(snapshot, chain: TrialChain, spec) -> str:
    h = hashlib.sha256()
    for part in (
        f"verdict/{CACHE_FORMAT}/{VERDICT_SCHEMA}/{__version__}",
        _canonical(current_versions()),
        snapshot.name,
        _canonical(list(snapshot.directions)),
        str(_spec_text(spec)),
        _canonical(_stable_attrs(snapshot.system_attrs)),
        chain.full,
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def resume_id(snapshot, spec) -> str:
    h = hashlib.sha256()
    for part in (
        f"resume/{CACHE_FORMAT}/{__version__}",
        _canonical(current_versions()),
        snapshot.name,
        _canonical(list(snapshot.directions)),
        str(_spec_text(spec)),
        _canonical(snapshot.system_attrs.get(KEY_RUN)),
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def prefix_meta_digest(system_attrs: dict[str, Any], n: int) -> str:
    """The metadata that decided how trials below n were replayed: segments starting below n (without their
    `end`, which is written later) and the states saved at boundaries below n. Sampler-owned study attributes
    only matter at an adopted study's first boundary, which is part of the segments' starts."""
    segments, states = [], []
    for key, value in system_attrs.items():
        if key.startswith(KEY_SEGMENT) and value.get("start_trial", 0) < n:
            segments.append({k: v for k, v in value.items() if k != "end"})
        elif key.startswith(KEY_STATE) and int(key[len(KEY_STATE) :]) < n:
            states.append(value)
    segments.sort(key=lambda s: s["index"])
    states.sort(key=lambda s: s["boundary"])
    return hashlib.sha256(_canonical([segments, states, system_attrs.get(KEY_RUN)]).encode()).hexdigest()


# --- files ----------------------------------------------------------------------------------------------------
def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _write_json(path: Path, obj: dict) -> None:
    """Atomically (a crash never leaves half a file that a later read would trust); failures are not fatal."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(obj, handle)
        os.replace(tmp, path)
    except OSError:
        pass


def load_verdict(key: str) -> Verdict | None:
    data = _read_json(verify_dir() / f"verdict-{key}.json")
    if not data:
        return None
    try:
        return Verdict.from_json_obj(data)
    except (TypeError, ValueError, KeyError):
        return None


def cached_verdict(snapshot: Any, spec: Spec | str | None = None) -> Verdict | None:
    """The verdict cached for exactly this study content, or None: a lookup that never verifies."""
    verdict = load_verdict(verdict_key(snapshot, TrialChain(snapshot.trials), spec))
    return None if verdict is None else dataclasses.replace(verdict, cached=True)


def store_verdict(key: str, verdict: Verdict) -> None:
    _write_json(verify_dir() / f"verdict-{key}.json", verdict.to_json_obj())


def load_resume(rid: str, snapshot, chain: TrialChain) -> dict | None:
    data = _read_json(verify_dir() / f"resume-{rid}.json")
    if not data or data.get("format") != CACHE_FORMAT:
        return None
    n = data.get("next", -1)
    if not 0 < n <= len(snapshot.trials):
        return None
    if data.get("prefix") != chain.prefix(n) or data.get("meta") != prefix_meta_digest(snapshot.system_attrs, n):
        return None
    return data["checkpoint"]


def store_resume(rid: str, snapshot, chain: TrialChain, checkpoint: dict) -> None:
    n = checkpoint["next"]
    _write_json(
        verify_dir() / f"resume-{rid}.json",
        {
            "format": CACHE_FORMAT,
            "next": n,
            "prefix": chain.prefix(n),
            "meta": prefix_meta_digest(snapshot.system_attrs, n),
            "checkpoint": checkpoint,
        },
    )


# --- the cached verification ------------------------------------------------------------------------------------
