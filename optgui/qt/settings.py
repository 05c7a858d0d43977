"""Persistent preferences in an INI file under the platform's config directory (QSettings, INI format).

INI QSettings hand back strings, so every read passes `type=`. Storage URLs are stored with their password
removed: recent files never hold a secret.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from optgui import APP_NAME
from optgui.core.storage import parse_storage, redact_url

MAX_RECENT = 10


def settings_path() -> Path:
    # Resolved on every call: tests point XDG_CONFIG_HOME at a temporary folder per test.
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base) / APP_NAME / f"{APP_NAME}.ini"


class Settings:
    def __init__(self, path: Path | None = None):
        self.path = path or settings_path()
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    # --- recent storages --------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        """Recent storages, newest first; local files that no longer exist are pruned."""
        items = self._qs.value("recent/storages", [], type=list) or []
        kept = [s for s in items if _still_there(s)]
        if kept != items:
            self._set_recent(kept)
        return kept

    def add_recent(self, storage: str) -> None:
        shown = redact_url(storage)
        items = [s for s in self.recent() if s != shown]
        self._set_recent([shown, *items][:MAX_RECENT])

    def remove_recent(self, storage: str) -> None:
        self._set_recent([s for s in self.recent() if s != storage])

    def clear_recent(self) -> None:
        self._set_recent([])

    def _set_recent(self, items: list[str]) -> None:
        self._qs.setValue("recent/storages", list(items))
        self._qs.sync()

    # --- plain values -------------------------------------------------------------------------------------
    def theme(self) -> str:
        return self._qs.value("view/theme", "system", type=str)

    def set_theme(self, mode: str) -> None:
        self._qs.setValue("view/theme", mode)

    def live_refresh(self) -> tuple[bool, float]:
        return (
            self._qs.value("view/live_refresh", True, type=bool),
            self._qs.value("view/refresh_seconds", 2.0, type=float),
        )

    def set_live_refresh(self, enabled: bool, seconds: float) -> None:
        self._qs.setValue("view/live_refresh", enabled)
        self._qs.setValue("view/refresh_seconds", float(seconds))

    def log_scale(self) -> bool:
        return self._qs.value("view/log_scale", False, type=bool)

    def set_log_scale(self, on: bool) -> None:
        self._qs.setValue("view/log_scale", on)

    def notification_enabled(self, kind: str) -> bool:
        """Whether notifications of this kind are shown (a kind of optgui.qt.workspace.notifier; on by default)."""
        return bool(self._qs.value(f"notify/{kind}", True, type=bool))

    def set_notification_enabled(self, kind: str, on: bool) -> None:
        self._qs.setValue(f"notify/{kind}", bool(on))

    def bytes(self, key: str) -> QByteArray | None:
        value = self._qs.value(f"window/{key}", None, type=QByteArray)
        return value if value is not None and not value.isEmpty() else None

    def set_bytes(self, key: str, value: QByteArray) -> None:
        self._qs.setValue(f"window/{key}", value)

    # --- notes and artifacts: per study file ---------------------------------------------------------------
    def notes_writable(self, storage: str) -> bool:
        """The user agreed once that optgui may write notes into this storage."""
        return self._qs.value(f"notes/writable/{_storage_key(storage)}", False, type=bool)

    def set_notes_writable(self, storage: str) -> None:
        self._qs.setValue(f"notes/writable/{_storage_key(storage)}", True)
        self._qs.sync()

    def artifact_store(self, storage: str, study: str) -> str:
        """The FileSystemArtifactStore folder the user pointed at for this study ("" when none)."""
        return self._qs.value(f"artifacts/store/{_storage_key(storage, study)}", "", type=str)

    def set_artifact_store(self, storage: str, study: str, folder: str) -> None:
        self._qs.setValue(f"artifacts/store/{_storage_key(storage, study)}", folder)
        self._qs.sync()

    # --- the objective's Python: per study ------------------------------------------------------------------
    def python_choice(self, storage: str, study: str) -> str | None:
        """The interpreter last chosen in the run definition for this study: a path, "" for optgui's own, None when
        none was chosen here."""
        key = f"python/choice/{_storage_key(storage, study)}"
        return str(self._qs.value(key, "", type=str)) if self._qs.contains(key) else None

    def set_python_choice(self, storage: str, study: str, python: str | None) -> None:
        self._qs.setValue(f"python/choice/{_storage_key(storage, study)}", python or "")
        self._qs.sync()

    def sync(self) -> None:
        self._qs.sync()


def _storage_key(storage: str, study: str | None = None) -> str:
    # A hash: paths and URLs hold characters INI keys cannot; the password never reaches the settings.
    text = redact_url(storage) + ("\0" + study if study is not None else "")
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _still_there(storage: str) -> bool:
    if "://" in storage:
        if storage.startswith("sqlite:"):
            try:
                return parse_storage(storage).exists
            except Exception:  # noqa: BLE001 - an unparseable entry is pruned like a missing file
                return False
        return True
    return Path(storage).exists()
