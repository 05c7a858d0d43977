"""Which pickles in a study this user's optgui wrote: an HMAC with a key kept in the user's app data.

Resuming a CMA-ES study hands Optuna's CmaEsSampler the optimizer pickles stored on its trials, and it unpickles
them (see pickled_attrs). A pickle optgui wrote is safe to load; anything else may run code. Proof of authorship
cannot live in the study file, which the attacker controls, so optgui signs what it writes with a secret only the
user's account can read: a 32-byte key created once in the app data directory (mode 0600). Every pickle without a
valid signature is foreign, including ones written by plain Optuna or by optgui under another account or machine.

Where signatures live:
  optgui:pickle_sig (trial system attribute)  {"hmac": hex, "key": key id} over the trial's pickled attributes,
                                               written by the run engine before the trial is told.
  optgui:trusted_pickles (study attribute)    {"<trial number>": {"hmac", "key"}} for foreign pickles the user
                                               agreed to load (finished trials can no longer take attributes).
Only COMPLETE and PRUNED trials are checked: CmaEsSampler restores its optimizer from those alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial, TrialState

from optgui.core.engine._pickled_attrs import is_pickled_attr, pickled_attrs
from optgui.core.engine._samplers import Spec
from optgui.core.errors import OptguiError
from optgui.core.paths import data_dir

KEY_FILE_NAME = "pickle-signing.key"
KEY_LENGTH = 32
TRIAL_PICKLE_SIGNATURE = "optgui:pickle_sig"
KEY_TRUSTED_PICKLES = "optgui:trusted_pickles"
TRUST_OPTION = "--trust-pickles"
_READ_BY_SAMPLER = (TrialState.COMPLETE, TrialState.PRUNED)


class ForeignPicklesError(OptguiError):
    """The study holds pickles optgui did not write; loading them needs the user's explicit consent."""

    def __init__(self, trials: list[int], study_name: str):
        self.trials = trials
        super().__init__(
            f"study {study_name!r} holds CMA-ES optimizer pickles that this optgui did not write "
            f"(trial{'s' if len(trials) > 1 else ''} {_numbers(trials)}); resuming would unpickle them, which can "
            f"run any code: rerun with {TRUST_OPTION} only if you trust whoever wrote this file"
        )


class SigningKeyError(OptguiError):
    """The signing key file exists but cannot be trusted (someone else's, or readable by others)."""


def key_path() -> Path:
    return data_dir() / KEY_FILE_NAME


def signing_key() -> bytes:
    """This user's key, created on first use (0600, written in full before it appears under its name)."""
    path = key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError as exc:  # e.g. a symlink in its place (O_NOFOLLOW)
        raise SigningKeyError(f"cannot read the pickle signing key {path}: {exc.strerror or exc}") from None
    try:
        _create_key(path)
        return _read_key(path)
    except OSError as exc:
        raise SigningKeyError(f"cannot create the pickle signing key {path}: {exc.strerror or exc}") from None


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_LENGTH))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process created the key first: then both use that one
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise SigningKeyError(f"the pickle signing key {path} belongs to another user; remove it")
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise SigningKeyError(
                f"the pickle signing key {path} is readable or writable by others; remove it (a new one is made)"
            )
        key = os.read(fd, KEY_LENGTH + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_LENGTH:
        raise SigningKeyError(f"the pickle signing key {path} is damaged; remove it (a new one is made)")
    return key


def key_id(key: bytes) -> str:
    """Names the key in a signature (not secret): tells "signed elsewhere" from "tampered" in messages."""
    return hashlib.sha256(b"optgui pickle key id\0" + key).hexdigest()[:16]


def signature(attrs: dict[str, Any], key: bytes) -> dict[str, str]:
    canonical = json.dumps(sorted(attrs.items()), separators=(",", ":")).encode()
    return {"hmac": hmac.new(key, canonical, hashlib.sha256).hexdigest(), "key": key_id(key)}


def _valid(record: Any, attrs: dict[str, Any], key: bytes) -> bool:
    if not isinstance(record, dict) or not isinstance(record.get("hmac"), str):
        return False
    return hmac.compare_digest(record["hmac"], signature(attrs, key)["hmac"])


def foreign_pickle_trials(trials: Iterable[FrozenTrial], study_system_attrs: dict[str, Any], key: bytes) -> list[int]:
    """Numbers of the trials whose pickles CmaEsSampler may load and that carry no valid signature of this key."""
    trusted = study_system_attrs.get(KEY_TRUSTED_PICKLES)
    trusted = trusted if isinstance(trusted, dict) else {}
    foreign = []
    for trial in trials:
        if trial.state not in _READ_BY_SAMPLER:
            continue
        attrs = pickled_attrs(trial.system_attrs)
        if not attrs:
            continue
        if _valid(trial.system_attrs.get(TRIAL_PICKLE_SIGNATURE), attrs, key):
            continue
        if _valid(trusted.get(str(trial.number)), attrs, key):
            continue
        foreign.append(trial.number)
    return sorted(foreign)


def trust_record(trials: Iterable[FrozenTrial], numbers: Iterable[int], key: bytes, previous: Any) -> dict:
    """The study attribute that remembers the user's consent to load these trials' pickles as they are now."""
    record = dict(previous) if isinstance(previous, dict) else {}
    wanted = set(numbers)
    for trial in trials:
        if trial.number in wanted:
            record[str(trial.number)] = signature(pickled_attrs(trial.system_attrs), key)
    return record


def _numbers(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:8])
    return shown + (f" and {len(numbers) - 8} more" if len(numbers) > 8 else "")


def spec_uses_cmaes(spec) -> bool:
    """True when the sampler SPEC (or a sampler nested in it) is CmaEsSampler: the only one that unpickles."""

    if spec.name == "CmaEsSampler":
        return True
    return any(isinstance(v, Spec) and spec_uses_cmaes(v) for v in spec.kwargs.values())


class PickleRecorder:
    """Notes the optimizer pickles this process's sampler stores, as it stores them: optgui then signs exactly the
    bytes it wrote (never whatever the storage holds by then), and signing needs no storage read per trial.

    Installed on the study's storage object (the one the sampler writes through), for this process only."""

    def __init__(self, storage):
        self._written: dict[int, dict[str, Any]] = {}
        write = storage.set_trial_system_attr

        def set_trial_system_attr(trial_id: int, key: str, value: Any) -> None:
            if is_pickled_attr(key):
                self._written.setdefault(trial_id, {})[key] = value
            write(trial_id, key, value)

        storage.set_trial_system_attr = set_trial_system_attr

    def take(self, trial_id: int) -> dict[str, Any] | None:
        """The pickled attributes stored on this trial since it was asked (forgotten once taken)."""
        return self._written.pop(trial_id, None)
