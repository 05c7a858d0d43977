"""Writing operations on whole studies: copy (Save as / Run on a copy), rename, delete, enqueue params, upgrade.

Each function changes exactly what its name says. The GUI asks the user before calling any of them; none writes
to a source study: a copy reads its source from a private snapshot when the source is a file.

Copies keep optgui's metadata so that the copy resumes exactly like the original:
- `optuna.copy_study` copies study system attributes verbatim, but a copy gets new trial ids. Values that hold
  trial ids are translated (old trial_id -> new trial_id, matched by trial number): the GA samplers' parent caches
  (`NSGAIISampler:parent:<generation>` lists of trial ids) at the top level and inside every saved sampler state
  and checkpoint (their `study_attrs`).
- A run lease is not copied: the copy is not being run by anybody.

Copies of large studies take a while, so they report progress and can be cancelled (between trials). A copy to
a new file is written under a hidden temporary name next to it and renamed when complete; a cancelled or failed
copy removes it (or, in an existing storage, deletes the half-copied study), so nothing partial is left.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optgui.core import _optuna_internals as oi
from optgui.core import records
from optgui.core.engine._lease import lease_is_live
from optgui.core.errors import OptguiError, StorageError, StudyStateError
from optgui.core.storage import (
    StorageRef,
    open_for_run,
    parse_storage,
    resolve_for_reading,
    snapshot_copy,
    upgrade_with_backup,
)

# Study system attribute keys whose value is a list of trial ids (Optuna's GA samplers' parent populations).
TRIAL_ID_LIST_KEY = re.compile(r"^[A-Za-z0-9_]+:parent:\d+$")
PROGRESS_EVERY = 25  # trials between progress reports and cancellation checks

Progress = Callable[[int, int], None]  # (trials copied so far, trials to copy)


class CopyCancelled(OptguiError):
    """The user cancelled a copy; nothing partial was left behind."""


def _quiet():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def _open(storage: str | StorageRef, *, create: bool = False):
    ref = storage if isinstance(storage, StorageRef) else parse_storage(storage)
    backend, _ = open_for_run(ref, create=create)
    return backend


def translate_trial_ids(attrs: dict[str, Any], id_map: dict[int, int]) -> dict[str, Any]:
    """Study system attributes with every stored trial id mapped through `id_map` (also inside saved states)."""
    out = {}
    for key, value in attrs.items():
        if TRIAL_ID_LIST_KEY.match(key) and isinstance(value, list):
            value = [id_map.get(v, v) for v in value]
        elif (
            (key.startswith(records.KEY_STATE) or key == records.KEY_CHECKPOINT)
            and isinstance(value, dict)
            and isinstance(value.get("study_attrs"), dict)
        ):
            value = {**value, "study_attrs": translate_trial_ids(value["study_attrs"], id_map)}
        out[key] = value
    return out


def _readable_source(src: str, scratch: Path) -> str:
    """A storage to read the source study from without touching the original: a snapshot for files."""
    ref = resolve_for_reading(src)
    if ref.kind == "sqlite" and ref.path is not None:
        return str(snapshot_copy(ref, scratch / "source.db"))
    if ref.kind == "journal" and ref.path is not None:
        copy = scratch / ("source" + (ref.path.suffix or ".log"))
        shutil.copyfile(ref.path, copy)
        return str(copy)
    return src  # a server database: Optuna's read of an up-to-date schema writes nothing


def copy_study_with_metadata(
    src: str,
    dst: str,
    name: str,
    new_name: str | None = None,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> str:
    """Copy study `name` from storage `src` into storage `dst` (created if it is a new file) as `new_name`.

    Trials (params, values, intermediate values, attributes, datetimes), user attributes and optgui's metadata
    are copied; trial ids inside the metadata and sampler caches are translated. Returns the new study's name.
    Raises StudyStateError when the destination already has a study of that name, or when the source is being run
    (copying a moving study would give a copy that resumes from the wrong place); CopyCancelled when `cancelled()`
    turned true. `progress(done, total)` is called every few trials.
    """
    new_name = new_name or name
    ref = parse_storage(dst)
    fresh = ref.path if ref.kind in ("sqlite", "journal") and ref.path is not None and not ref.path.exists() else None
    partial = fresh.with_name(f".{fresh.stem}.optgui-partial{fresh.suffix}") if fresh is not None else None
    created: list[bool] = []  # set once the new study exists in an existing storage (to undo on failure)
    try:
        _copy(src, str(partial) if partial is not None else dst, name, new_name, progress, cancelled, created)
    except BaseException:
        if partial is not None:
            _remove_file_and_sidecars(partial)
        elif created:
            _delete_quietly(dst, new_name)
        raise
    if partial is not None and fresh is not None:  # partial is set exactly when fresh is
        os.replace(partial, fresh)
    return new_name


def _copy(
    src: str,
    dst: str,
    name: str,
    new_name: str,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
    created: list[bool],
) -> None:
    """optuna.copy_study's steps (same study, attributes and trials), one trial at a time so that a long copy can
    report progress and stop; then optgui's metadata with translated trial ids."""
    import optuna

    def check() -> None:
        if cancelled is not None and cancelled():
            raise CopyCancelled("the copy was cancelled; nothing was written")

    ctx = _quiet()
    try:
        with tempfile.TemporaryDirectory(prefix="optgui-copy-") as scratch:
            source_text = _readable_source(src, Path(scratch))
            check()
            source = _open(source_text)
            try:
                src_id = source.get_study_id_from_name(name)
            except KeyError:
                raise StudyStateError(f"no study named {name!r} in {parse_storage(src).display}") from None
            lease = source.get_study_system_attrs(src_id).get(records.KEY_LEASE)
            if isinstance(lease, dict) and _lease_alive(lease):
                raise StudyStateError(
                    f"study {name!r} is being run by {lease.get('host')} (pid {lease.get('pid')}); "
                    "pause or stop the run, then copy it"
                )
            target = _open(dst, create=True)
            try:
                target.get_study_id_from_name(new_name)
                raise StudyStateError(f"{parse_storage(dst).display} already has a study named {new_name!r}")
            except KeyError:
                pass
            try:
                from_study = optuna.load_study(study_name=name, storage=source)
                to_study = optuna.create_study(
                    study_name=new_name, storage=target, directions=from_study.directions, load_if_exists=False
                )
                created.append(True)
                dst_id = oi.study_id_of(to_study)
                for key, value in source.get_study_system_attrs(src_id).items():
                    target.set_study_system_attr(dst_id, key, value)
                for key, value in from_study.user_attrs.items():
                    to_study.set_user_attr(key, value)
                trials = source.get_all_trials(src_id, deepcopy=False)
                for done, trial in enumerate(trials):
                    if done % PROGRESS_EVERY == 0:
                        check()
                        if progress is not None:
                            progress(done, len(trials))
                    target.create_new_trial(dst_id, template_trial=trial)
                check()
                old = {t.number: oi.trial_id(t) for t in trials}
                new = {t.number: oi.trial_id(t) for t in target.get_all_trials(dst_id, deepcopy=False)}
                id_map = {old[k]: new[k] for k in old if k in new}
                attrs = source.get_study_system_attrs(src_id)
                translated = translate_trial_ids(attrs, id_map)
                for key, value in translated.items():
                    if key != records.KEY_LEASE and value != attrs[key]:
                        target.set_study_system_attr(dst_id, key, value)
                if records.KEY_LEASE in attrs:
                    target.set_study_system_attr(dst_id, records.KEY_LEASE, records.COPIED_LEASE.to_json())
                if progress is not None:
                    progress(len(trials), len(trials))
            finally:
                _dispose(source)
                _dispose(target)
    finally:
        ctx.__exit__(None, None, None)


def _remove_file_and_sidecars(path: Path) -> None:
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        candidate.unlink(missing_ok=True)


def _delete_quietly(storage: str, name: str) -> None:
    """Undo a half-done copy into an existing storage (the error that stopped it is what the user sees)."""
    import optuna

    ctx = _quiet()
    try:
        backend = _open(storage)
        optuna.delete_study(study_name=name, storage=backend)
        _dispose(backend)
    except Exception:  # noqa: BLE001 - best effort: the original error is reported, not this one
        pass
    finally:
        ctx.__exit__(None, None, None)


def _lease_alive(lease: dict) -> bool:

    return lease_is_live(lease)


def _dispose(storage) -> None:
    engine = oi.sql_engine(storage)
    if engine is not None:
        engine.dispose()


def rename_study(
    storage: str,
    name: str,
    new_name: str,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> str:
    """Rename by copying within the same storage (keeping metadata), then deleting the original name.

    The copy is complete and checked (same trial count) before the original is deleted; cancelling during the copy
    leaves only the original.
    """
    if new_name == name:
        raise StudyStateError("the new name is the same as the old one")
    copy_study_with_metadata(storage, storage, name, new_name, progress=progress, cancelled=cancelled)
    ctx = _quiet()
    try:
        backend = _open(storage)
        n_old = len(backend.get_all_trials(backend.get_study_id_from_name(name), deepcopy=False))
        n_new = len(backend.get_all_trials(backend.get_study_id_from_name(new_name), deepcopy=False))
        _dispose(backend)
    finally:
        ctx.__exit__(None, None, None)
    if n_old != n_new:
        raise StudyStateError(f"the copy named {new_name!r} has {n_new} trials instead of {n_old}; {name!r} was kept")
    delete_study(storage, name)
    return new_name


def delete_study(storage: str, name: str) -> None:
    """Delete one study (its trials and attributes) from a storage; other studies are untouched."""
    import optuna

    ctx = _quiet()
    try:
        backend = _open(storage)
        try:
            study_id = backend.get_study_id_from_name(name)
        except KeyError:
            raise StudyStateError(f"no study named {name!r} in {parse_storage(storage).display}") from None
        lease = backend.get_study_system_attrs(study_id).get(records.KEY_LEASE)
        if isinstance(lease, dict) and _lease_alive(lease):
            raise StudyStateError(
                f"study {name!r} is being run by {lease.get('host')} (pid {lease.get('pid')}); it cannot be deleted now"
            )
        optuna.delete_study(study_name=name, storage=backend)
        _dispose(backend)
    finally:
        ctx.__exit__(None, None, None)


def enqueue_params(storage: str, name: str, params: dict[str, Any]) -> int:
    """Record a WAITING trial with these fixed params through Optuna's `enqueue_trial` (the next ask takes it; the
    verifier replays it from its `fixed_params`). Returns the new trial's number."""
    import optuna

    ctx = _quiet()
    try:
        backend = _open(storage)
        study = optuna.load_study(study_name=name, storage=backend)
        before = {t.number for t in study.get_trials(deepcopy=False)}
        study.enqueue_trial(params, skip_if_exists=False)
        numbers = [t.number for t in study.get_trials(deepcopy=False) if t.number not in before]
        _dispose(backend)
    finally:
        ctx.__exit__(None, None, None)
    return numbers[0]


def upgrade_schema(storage: str) -> Path:
    """Upgrade an old-schema SQLite file after writing a verified backup; returns the backup's path."""

    return upgrade_with_backup(storage)


__all__ = [
    "copy_study_with_metadata",
    "CopyCancelled",
    "rename_study",
    "delete_study",
    "enqueue_params",
    "upgrade_schema",
    "translate_trial_ids",
    "OptguiError",
    "StorageError",
]
