"""Starting optgui's own helper processes with an isolated import path (docs/security.md: the current folder
and PYTHONPATH never decide what optgui imports).

Every process optgui starts (the verifier, the run engine, the objective's process, the objective check, fleet
workers) must import optgui, optuna and numpy from the installation, never from the folder the user happens to be
in nor from a `PYTHONPATH` that was set for something else: a `numpy.py` beside a study handed to the user would
otherwise run on `optgui verify study.db`. So a child is started as

    python -P -s -m optgui.<module> ...     with every PYTHON* variable removed from its environment

which is `python -I` except for one thing: `-I` also ignores PYTHONHASHSEED, and the verifier deliberately runs
with a hash seed different from its parent's, so the environment is cleaned here instead of by `-E`. `-s` (no
user site-packages) is left out only when optgui itself is installed there. The frozen build has no `-P`: its
launcher (packaging/pyinstaller/launcher.py) builds the path from the bundle alone.

A process that must run the user's objective adds the objective's import root itself, explicitly
(optgui.core.engine._objectives.ObjectiveRef.import_root: the objective file's folder, or the PYTHONPATH entry a module
objective was found on), and the run record keeps that root.

multiprocessing's spawn is not used for children: it starts `python -c ...` with the current folder first on the
path and the parent's environment, and then copies the parent's sys.path into the child. Children that need a
two-way channel get a socket pair wrapped in multiprocessing's Connection (the same send/recv API) instead.
"""

from __future__ import annotations

import os
import site
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path

import optgui

# What the parent passes instead of a file descriptor on Windows, where the socket is handed over through stdin.
_VIA_STDIN = "stdin"


def _optgui_in_user_site() -> bool:

    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if not user_site:
        return False
    return Path(optgui.__file__).resolve().is_relative_to(Path(user_site).resolve())


def python_command(module: str, *args: str) -> list[str]:
    """The command line running `python -m module args` isolated from the current folder and user paths."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "-m", module, *args]
    flags = ["-P"] if _optgui_in_user_site() else ["-P", "-s"]
    return [sys.executable, *flags, "-m", module, *args]


def isolated_environment(extra: dict | None = None) -> dict:
    """Our environment plus `extra`, without any PYTHON* variable (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, ...)
    except a PYTHONHASHSEED that `extra` sets (the verifier chooses its child's hash seed)."""
    env = {**os.environ, **(extra or {})}
    kept = {"PYTHONHASHSEED"} & set(extra or {})
    return {key: value for key, value in env.items() if key in kept or not key.upper().startswith("PYTHON")}


def start_connected(
    module: str, *args: str, env: dict | None = None, new_session: bool = False
) -> tuple[subprocess.Popen, Connection]:
    """Start `python -m module --connection X args` isolated, with a duplex Connection to it.

    The child calls connection_from_argument(X) to get its end.
    """
    parent_sock, child_sock = socket.socketpair()
    env = isolated_environment() if env is None else env
    try:
        if os.name == "nt":
            proc = subprocess.Popen(
                python_command(module, "--connection", _VIA_STDIN, *args), stdin=subprocess.PIPE, env=env
            )
            assert proc.stdin is not None  # stdin=PIPE
            proc.stdin.write(child_sock.share(proc.pid))  # type: ignore[attr-defined]  # Windows only
            proc.stdin.close()
        else:
            fd = child_sock.fileno()
            proc = subprocess.Popen(
                python_command(module, "--connection", str(fd), *args),
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=new_session,
            )
    except BaseException:
        parent_sock.close()
        raise
    finally:
        child_sock.close()
    return proc, Connection(parent_sock.detach())


def connection_from_argument(argument: str) -> Connection:
    """In the child: its end of the channel start_connected() made."""
    if argument == _VIA_STDIN:
        return Connection(socket.fromshare(sys.stdin.buffer.read()).detach())  # type: ignore[attr-defined]  # Windows
    return Connection(int(argument))


def exit_with_parent(poll_seconds: float = 0.5) -> None:
    """End this process when the process that started it ends (what multiprocessing's daemon flag gave).

    For a child whose parent may die while the child computes and never reads its channel (an objective in the
    middle of a long trial)."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="optgui-exit-with-parent", daemon=True).start()
