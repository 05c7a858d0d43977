"""A `pip install` gets everything the desktop integration needs: the icons and Linux files as package data, and
the `optgui-app` gui-script that launchers run."""

from __future__ import annotations

import subprocess
import zipfile

from optgui import APP_ID, resources
from tests.support.packaging import PYTHON, ROOT


def test_wheel_contains_package_data_and_launcher(tmp_path):
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-cache-dir",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("optgui-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    for size in resources.ICON_SIZES:
        assert f"optgui/resources/icons/{APP_ID}-{size}.png" in names
    assert f"optgui/resources/icons/{APP_ID}.svg" in names
    for name in (resources.DESKTOP_FILE, resources.METAINFO_FILE, resources.MIME_FILE):
        assert f"optgui/resources/linux/{name}" in names
    assert "optgui/resources/bridge/optgui_bridge.py" in names  # run by the objective's own Python
    assert "[gui_scripts]\noptgui-app = optgui.cli:main_gui" in entry_points
    assert "[console_scripts]\noptgui = optgui.cli:main" in entry_points
