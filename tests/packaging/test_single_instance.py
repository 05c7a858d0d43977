"""A second launch hands its file to the running optgui over a local socket; a crashed instance's socket is
replaced; a hung one is left alone."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from optgui.qt.window import single_instance
from optgui.qt.window.single_instance import FORWARDED, PRIMARY, STANDALONE, SingleInstance, make_message
from tests.support.packaging import PYTHON, ROOT, subprocess_env


@pytest.fixture(autouse=True)
def runtime_dir(monkeypatch):
    # Short and private: Unix socket paths are limited to ~107 bytes, pytest's tmp_path can be longer.
    path = tempfile.mkdtemp(prefix="og-")
    monkeypatch.setenv("XDG_RUNTIME_DIR", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def primary(qapp):
    instance = SingleInstance()
    assert instance.claim(make_message(None)) == PRIMARY
    yield instance
    instance.close()


def test_name_is_per_user_and_data_dir(runtime_dir, monkeypatch, tmp_path):
    name = single_instance.server_name()
    assert name.startswith(os.path.join(runtime_dir, "io.github.optgui.optgui-"))
    monkeypatch.setenv("OPTGUI_DATA_DIR", str(tmp_path / "other"))
    assert single_instance.server_name() != name


def test_first_instance_listens_and_receives(primary, qtbot):
    assert os.path.exists(primary.name)
    # The request is only answered while the event loop runs: deliver from another thread of control.
    with qtbot.waitSignal(primary.message_received, timeout=10000) as blocker:
        proc = subprocess.Popen(
            [PYTHON, "-c", SEND, "study.db", "--study", "s"],
            env=subprocess_env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=20000)
    assert proc.stdout.read().strip() == FORWARDED
    assert blocker.args[0] == {"storage": str(ROOT / "study.db"), "study": "s", "demo": False}


SEND = """
import sys
from PySide6.QtCore import QCoreApplication
from optgui.qt.window.single_instance import SingleInstance, make_message
app = QCoreApplication([])
storage = sys.argv[1]
study = sys.argv[3] if len(sys.argv) > 3 else None
print(SingleInstance().claim(make_message(storage, study)))
"""


def test_second_launch_of_the_app_hands_over_and_exits(primary, qtbot, tmp_path):
    """The real command line, as a launcher runs it: `optgui FILE` exits 0 at once and the running instance
    receives the file with an absolute path."""
    received = []
    primary.message_received.connect(received.append)
    proc = subprocess.Popen(
        [PYTHON, "-m", "optgui", "relative.db"],
        env=subprocess_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60000)
    assert proc.returncode == 0, proc.stderr.read()
    assert received == [{"storage": str(tmp_path / "relative.db"), "study": None, "demo": False}]


CRASH = """
import os, signal
from PySide6.QtCore import QCoreApplication
from optgui.qt.window.single_instance import SingleInstance, make_message
app = QCoreApplication([])
instance = SingleInstance()
print(instance.claim(make_message(None)), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform.startswith("win"), reason="named pipes vanish with their process")
def test_stale_socket_after_a_crash_is_replaced(qapp, qtbot):
    name = single_instance.server_name()
    # A real instance killed with SIGKILL: its socket file stays behind with nobody listening.
    proc = subprocess.run([PYTHON, "-c", CRASH], env=subprocess_env(), capture_output=True, text=True)
    assert proc.stdout.strip() == PRIMARY and proc.returncode == -9, proc.stderr
    assert os.path.exists(name)
    instance = SingleInstance()
    try:
        assert instance.send(make_message(None)) is False
        assert instance.claim(make_message(None)) == PRIMARY
        assert instance.server.isListening()
        received = []
        instance.message_received.connect(received.append)
        client = subprocess.Popen(
            [PYTHON, "-c", SEND, "again.db"], env=subprocess_env(), cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        qtbot.waitUntil(lambda: client.poll() is not None, timeout=20000)
        assert client.stdout.read().strip() == FORWARDED
        assert received and received[0]["storage"] == str(ROOT / "again.db")
    finally:
        instance.close()
    assert not os.path.exists(name)


def test_stale_lock_file_does_not_block(qapp):
    """A crash while holding the lock leaves it behind with a dead pid: Qt takes it over."""
    name = single_instance.server_name()
    proc = subprocess.run([PYTHON, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = proc.stdout.strip()
    with open(name + ".lock", "w") as fh:
        fh.write(f"{dead_pid}\noptgui\n{socket.gethostname()}\n")
    instance = SingleInstance()
    start = time.monotonic()
    try:
        assert instance.claim(make_message(None)) == PRIMARY
    finally:
        instance.close()
    assert time.monotonic() - start < single_instance.LOCK_MS / 1000


def test_a_hung_instance_is_not_replaced(qapp, monkeypatch):
    monkeypatch.setattr(single_instance, "REPLY_MS", 300)
    name = single_instance.server_name()
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(name)
    hung.listen(5)  # accepts connections (kernel backlog) but never answers
    try:
        instance = SingleInstance()
        assert instance.claim(make_message("x.db")) == STANDALONE
        assert instance.server is None
        assert os.path.exists(name)  # its socket is left alone
    finally:
        hung.close()
        os.unlink(name)


def test_garbage_is_refused_and_not_emitted(primary, qtbot):
    received = []
    primary.message_received.connect(received.append)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(primary.name)
    client.sendall(b"not json\n")
    client.setblocking(False)
    reply = b""

    def replied():
        nonlocal reply
        try:
            reply += client.recv(100)
        except BlockingIOError:
            pass
        return b"\n" in reply

    qtbot.waitUntil(replied, timeout=10000)  # the server answers from this process's event loop
    client.close()
    assert reply == b"error\n"
    assert received == []


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Unix socket permissions")
def test_socket_is_private_to_the_user(primary):
    assert os.stat(primary.name).st_mode & 0o077 == 0
