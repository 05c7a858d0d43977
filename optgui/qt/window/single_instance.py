"""One optgui per user and settings: a second launch (a double-clicked file, the launcher clicked again) hands its
request to the running window over a local socket and exits, instead of opening a second app that would fight over
settings and recent files.

Protocol: the new process connects to the server named after APP_ID, the user and the settings location, writes
one JSON line ({"storage": ..., "study": ..., "demo": ...}) and waits for the line "ok". Relative paths are made
absolute by the sender, whose working directory the receiver does not know.

Races and crashes:
- two launches at the same moment: the check "is anyone listening?" and the listen() are done while holding a
  QLockFile, so exactly one becomes the server and the other hands over to it;
- a crash leaves the Unix socket file behind: connecting to it fails (nobody accepts), so the new process removes
  it (QLocalServer.removeServer) and listens in its place. The lock file itself records its owner's pid, and Qt
  takes over a lock whose owner is gone;
- a running instance that accepts the connection but does not answer (hung) is not replaced: the new process runs
  on its own without a server, rather than steal the socket of a live process.

Other users (Unix): the socket and its lock file live only in a directory that nobody else can write to: the
per-user runtime directory ($XDG_RUNTIME_DIR) when it is private, otherwise `optgui-<uid>` in the temp folder,
created 0700 when missing. A name in a shared folder could be taken first by another local user, who would then
receive this user's file paths while the window never opens. When no private directory can be had (it exists but
belongs to someone else, is a symlink, or is open to group or others), there is no hand-over at all: every launch
opens its own window (STANDALONE).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import stat
import sys
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from optgui import APP_ID
from optgui.core.paths import data_dir

CONNECT_MS = 1000
REPLY_MS = 5000
LOCK_MS = 5000

PRIMARY = "primary"  # this process listens: it is the one instance
FORWARDED = "forwarded"  # a running instance took the request: exit now
STANDALONE = "standalone"  # nobody could be reached and the server could not be claimed: run without one


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name (some containers): the uid still separates users
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def default_key() -> str:
    """Instances are shared per user and per data directory: a portable install or a test with its own
    OPTGUI_DATA_DIR is a separate app with separate settings, so it must not hand files to another one."""

    digest = hashlib.sha256(str(data_dir().resolve()).encode()).hexdigest()[:10]
    return f"{_user()}-{digest}"


def private_directory(path: Path, *, create: bool) -> Path | None:
    """`path` if it is a real directory (not a symlink) owned by this user with no access for group or others;
    created with mode 0700 when missing and `create`; None otherwise (never loosened or taken over)."""
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    return path


def socket_directory() -> Path | None:
    """Where this user's socket may live (see the module docstring), or None: no private place, no hand-over."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        private = private_directory(Path(runtime), create=False)
        if private is not None:
            return private
    return private_directory(Path(QDir.tempPath()) / f"optgui-{os.geteuid()}", create=True)


def server_name(key: str | None = None) -> str | None:
    """The server's name: a named pipe on Windows, a socket path on Unix; None when no private directory exists
    for the socket (the caller then runs without one)."""
    name = f"{APP_ID}-{key or default_key()}"
    if sys.platform.startswith("win"):
        return name  # a named pipe in the session's namespace
    directory = socket_directory()
    if directory is None:
        return None
    path = directory / name
    if len(str(path).encode()) + len(".lock") > 100:  # a Unix socket path holds at most 107 bytes
        path = directory / f"{APP_ID}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"
        if len(str(path).encode()) > 100:
            return None
    return str(path)


def _lock_path(name: str) -> str:
    if sys.platform.startswith("win"):
        return str(Path(QDir.tempPath()) / f"{name}.lock")
    return f"{name}.lock"


def make_message(storage: str | None, study: str | None = None, demo: bool = False) -> dict:
    if storage and "://" not in storage and not os.path.isabs(storage):
        storage = os.path.abspath(storage)
    return {"storage": storage, "study": study, "demo": bool(demo)}


class SingleInstance(QObject):
    """`claim(message)` returns PRIMARY, FORWARDED or STANDALONE; a PRIMARY instance emits `message_received`
    with each request handed to it."""

    message_received = Signal(object)

    def __init__(self, key: str | None = None, parent=None):
        super().__init__(parent)
        self.name = server_name(key)
        self.server: QLocalServer | None = None
        self._sockets: dict[QLocalSocket, bytes] = {}

    # --- the new process --------------------------------------------------------------------------------
    def claim(self, message: dict) -> str:
        if self.name is None:  # no private place for the socket: never hand over, never listen
            return STANDALONE
        lock = QLockFile(_lock_path(self.name))
        locked = lock.tryLock(LOCK_MS)
        try:
            reply = self.send(message)
            if reply is True:
                return FORWARDED
            if reply is None:  # somebody listens but does not answer: leave their socket alone
                return STANDALONE
            if not locked:
                return STANDALONE
            return PRIMARY if self.listen() else STANDALONE
        finally:
            if locked:
                lock.unlock()

    def send(self, message: dict) -> bool | None:
        """True: delivered and acknowledged. False: nobody listens (no socket, or a stale one). None: connected,
        but no acknowledgement."""
        if self.name is None:
            return False
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_MS):
            return False
        socket.write(json.dumps(message).encode("utf-8") + b"\n")
        socket.flush()
        reply = b""
        while b"\n" not in reply:
            if not socket.waitForReadyRead(REPLY_MS):
                break
            reply += bytes(socket.readAll())
        socket.disconnectFromServer()
        return True if reply.strip() == b"ok" else None

    def listen(self) -> bool:
        if self.name is None:
            return False
        # Reached only when connecting failed: any socket file left is a crashed instance's (the directory is
        # private: nobody else could have put it there).
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)  # nobody else may send us files
        if not server.listen(self.name):
            return False
        server.newConnection.connect(self._accept)
        self.server = server
        return True

    # --- the running instance -----------------------------------------------------------------------------
    def _accept(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._sockets[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._sockets:
            return
        data = self._sockets[socket] + bytes(socket.readAll())
        if b"\n" not in data:
            self._sockets[socket] = data
            return
        line = data.split(b"\n", 1)[0]
        self._sockets[socket] = b""
        try:
            message = json.loads(line)
            ok = isinstance(message, dict)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode
            ok = False
        socket.write(b"ok\n" if ok else b"error\n")
        socket.flush()
        if ok:
            self.message_received.emit(message)

    def _drop(self, socket: QLocalSocket) -> None:
        self._sockets.pop(socket, None)
        socket.deleteLater()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()  # also removes the socket file
            self.server = None
