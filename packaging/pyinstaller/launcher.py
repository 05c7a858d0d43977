"""Entry point of the frozen build (the executable is the Python interpreter, optgui and this script at once)."""

import multiprocessing
import runpy
import sys


def main() -> int:
    # Objectives run in a spawned child process; in a frozen app that child is this executable again, and
    # freeze_support() turns it into the worker instead of a second GUI.
    multiprocessing.freeze_support()
    # The GUI starts helpers as `sys.executable -m optgui.<module> ...` (the determinism badge's verifier). A
    # frozen executable has no `-m`: emulate it for optgui's own modules only.
    if len(sys.argv) >= 3 and sys.argv[1] == "-m" and sys.argv[2].startswith("optgui."):
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from optgui.cli import main_gui

    return main_gui()


if __name__ == "__main__":
    sys.exit(main())
