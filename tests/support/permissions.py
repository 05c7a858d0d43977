"""Running a child that file permissions apply to, also when the tests run as root (as CI does)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def without_permission_bypass() -> list[str]:
    """The command prefix that runs a child unable to bypass file permissions. Root keeps its uid (so it still
    reaches the checkout and pytest's folders) but drops every capability, among them the two that read any file
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); another user has none of them to drop. Skips the test where that is
    impossible."""
    if os.geteuid() != 0:
        return []
    runner = shutil.which("setpriv")
    if runner is None:
        pytest.skip("running as root without setpriv (util-linux) to drop the capabilities that bypass permissions")
    prefix = [runner, "--inh-caps=-all", "--bounding-set=-all", "--"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.strip()}")
    return prefix
