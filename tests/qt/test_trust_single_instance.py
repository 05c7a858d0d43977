"""Another local user cannot intercept a launch: without $XDG_RUNTIME_DIR the single-instance socket lives in a
private per-user directory (0700, owned by the user), never under a predictable name in the shared temp folder;
a directory that is not private is refused and the launch opens its own window."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from optgui import APP_ID
from optgui.qt.window import single_instance
from optgui.qt.window.single_instance import FORWARDED, PRIMARY, STANDALONE, SingleInstance, make_message

pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="Unix socket files and permissions")

ROOT = Path(__file__).resolve().parents[2]

SEND = """
import sys
from PySide6.QtCore import QCoreApplication
from optgui.qt.window.single_instance import SingleInstance, make_message
app = QCoreApplication([])
print(SingleInstance().claim(make_message(sys.argv[1])))
"""


@pytest.fixture
def shared_tmp(monkeypatch):
    """A fresh stand-in for the shared temp folder (short: Unix socket paths hold ~107 bytes), no runtime dir."""
    path = tempfile.mkdtemp(prefix="og-tmp-")
    os.chmod(path, 0o1777)  # as /tmp: everybody may create names in it
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", path)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def private_dir(shared_tmp: Path) -> Path:
    return shared_tmp / f"optgui-{os.geteuid()}"


def old_shared_name() -> Path:
    """Where the socket used to be when XDG_RUNTIME_DIR was unset: guessable by any local user."""
    from PySide6.QtCore import QDir

    return Path(QDir.tempPath()) / f"{APP_ID}-{single_instance.default_key()}"


class Squatter:
    """Another user's server at a name it expects the victim to use: accepts, records and acknowledges."""

    def __init__(self, path: Path):
        self.path = path
        self.received: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)
        self.sock.listen(5)
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(b"ok\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


def env_for_child(shared_tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env["TMPDIR"] = str(shared_tmp)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_squatter_at_the_old_shared_name_is_never_contacted(qapp, shared_tmp):
    squatter = Squatter(old_shared_name())
    instance = SingleInstance()
    try:
        assert instance.claim(make_message("/home/victim/secret-project.db")) == PRIMARY
        assert Path(instance.name).parent == private_dir(shared_tmp)
    finally:
        instance.close()
        squatter.close()
    assert squatter.received == []


def test_private_directory_is_created_0700_and_the_hand_over_works(qapp, qtbot, shared_tmp):
    primary = SingleInstance()
    assert primary.claim(make_message(None)) == PRIMARY
    try:
        info = os.lstat(private_dir(shared_tmp))
        assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.geteuid()
        assert os.stat(primary.name).st_mode & 0o077 == 0
        received = []
        primary.message_received.connect(received.append)
        proc = subprocess.Popen(
            [sys.executable, "-c", SEND, "/data/study.db"],
            env=env_for_child(shared_tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30000)
        assert proc.stdout.read().strip() == FORWARDED, proc.stderr.read()
        assert received == [{"storage": "/data/study.db", "study": None, "demo": False}]
    finally:
        primary.close()


@pytest.mark.parametrize("mode", [0o777, 0o755, 0o770, 0o701], ids=oct)
def test_directory_open_to_others_is_refused_and_left_alone(qapp, shared_tmp, mode):
    directory = private_dir(shared_tmp)
    directory.mkdir()
    os.chmod(directory, mode)
    squatter = Squatter(directory / f"{APP_ID}-{single_instance.default_key()}")
    instance = SingleInstance()
    try:
        assert single_instance.server_name() is None
        assert instance.claim(make_message("/home/victim/secret-project.db")) == STANDALONE
        assert instance.server is None
    finally:
        squatter.close()
    assert squatter.received == []
    assert stat.S_IMODE(os.lstat(directory).st_mode) == mode  # neither loosened nor taken over
    assert sorted(p.name for p in directory.iterdir()) == [squatter.path.name]  # no lock file, no socket of ours


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
def test_directory_owned_by_another_user_is_refused(qapp, shared_tmp):
    directory = private_dir(shared_tmp)
    directory.mkdir(mode=0o700)
    nobody = pwd.getpwnam("nobody")
    os.chown(directory, nobody.pw_uid, nobody.pw_gid)
    instance = SingleInstance()
    assert instance.claim(make_message("x.db")) == STANDALONE
    assert instance.server is None
    assert list(directory.iterdir()) == []
    assert os.lstat(directory).st_uid == nobody.pw_uid


def test_symlink_in_place_of_the_directory_is_refused(qapp, shared_tmp):
    elsewhere = Path(tempfile.mkdtemp(prefix="og-elsewhere-"))  # 0700 and ours, but reached through a link
    try:
        private_dir(shared_tmp).symlink_to(elsewhere)
        instance = SingleInstance()
        assert instance.claim(make_message("x.db")) == STANDALONE
        assert list(elsewhere.iterdir()) == []
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)


def test_runtime_dir_open_to_others_is_not_used(qapp, shared_tmp, monkeypatch):
    runtime = Path(tempfile.mkdtemp(prefix="og-run-"))
    try:
        os.chmod(runtime, 0o777)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        assert Path(single_instance.server_name()).parent == private_dir(shared_tmp)
        os.chmod(runtime, 0o700)
        assert Path(single_instance.server_name()).parent == runtime
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
