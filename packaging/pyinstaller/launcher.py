"""Entry point of the frozen build (the executable is the Python interpreter, optgui and this script at once)."""

import multiprocessing
import os
import runpy
import sys


def bundle_only_path(path: list[str]) -> list[str]:
    """The entries of `path` inside this frozen application's folder: never the current folder, never PYTHONPATH."""
    bundle = os.path.realpath(getattr(sys, "_MEIPASS", os.path.dirname(sys.executable)))
    kept = []
    for entry in path:
        real = os.path.realpath(entry) if entry else ""
        if real and (real == bundle or real.startswith(bundle + os.sep)):
            kept.append(entry)
    return kept


def main() -> int:
    # Objectives run in a spawned child process; in a frozen app that child is this executable again, and
    # freeze_support() turns it into the worker instead of a second GUI.
    multiprocessing.freeze_support()
    # optgui starts its helpers as `sys.executable -m optgui.<module> ...` (the verifier, the engine, the
    # objective's process) and fleet workers as `-m optgui worker ...`. A frozen executable has no `-m`: emulate it
    # for optgui's own modules only, importing from the bundle alone (design: child processes never import from
    # the current folder or PYTHONPATH).
    if len(sys.argv) >= 3 and sys.argv[1] == "-m" and (sys.argv[2] == "optgui" or sys.argv[2].startswith("optgui.")):
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        if getattr(sys, "frozen", False):
            sys.path[:] = bundle_only_path(sys.path)
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from optgui.cli import main_gui

    return main_gui()


if __name__ == "__main__":
    sys.exit(main())
