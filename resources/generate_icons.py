"""Regenerate every icon file from the master SVG, and refresh the package's copies of the Linux desktop files.

    python resources/generate_icons.py

Writes
  resources/hicolor/<N>x<N>/apps/io.github.optgui.optgui.png   the freedesktop hicolor sizes (distro packagers
                                                               can copy resources/hicolor as it is)
  resources/io.github.optgui.optgui.ico                         Windows: PNG-compressed entries, 16-256 px
  resources/io.github.optgui.optgui.icns                        macOS: PNG chunks ic07-ic14, 32-1024 px
  optgui/resources/icons/...                                    what the installed package loads (window icon,
                                                                About dialog, `optgui --install-desktop-entry`)
  optgui/resources/linux/...                                    copies of packaging/linux/* for the same command

Rendering uses Qt's own SVG renderer (PySide6.QtSvg), so no extra tool or dependency is needed; the ICO and ICNS
containers are written directly (both are a small header followed by PNG images).
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optgui import APP_ID  # noqa: E402

MASTER = ROOT / "resources" / f"{APP_ID}.svg"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns chunk type -> pixel size. ic07-ic10 are 128/256/512/1024 (the last is 512@2x); ic11-ic14 are the @2x
# variants of 16/32/128/256. Every one of them may hold a PNG stream (macOS 10.7+).
ICNS_CHUNKS = (
    ("ic07", 128),
    ("ic08", 256),
    ("ic09", 512),
    ("ic10", 1024),
    ("ic11", 32),
    ("ic12", 64),
    ("ic13", 256),
    ("ic14", 512),
)
PACKAGE_ICONS = ROOT / "optgui" / "resources" / "icons"
PACKAGE_LINUX = ROOT / "optgui" / "resources" / "linux"
LINUX_FILES = (f"{APP_ID}.desktop", f"{APP_ID}.metainfo.xml", f"{APP_ID}.xml")


def render_png(size: int, svg: Path = MASTER) -> bytes:
    """The SVG rendered to a size x size PNG with an alpha channel."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        render_png._app = QGuiApplication(sys.argv[:1])  # kept alive for later calls
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file whose images are PNG streams (Windows Vista and later read them at every size)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))  # reserved, type 1 = icon, image count
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the one-byte width/height fields
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def icns_bytes(chunks: list[tuple[str, bytes]]) -> bytes:
    """An ICNS file: 'icns' + total length, then (type, length including the 8-byte header, data) chunks."""
    body = b"".join(kind.encode("ascii") + struct.pack(">I", len(data) + 8) + data for kind, data in chunks)
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def hicolor_path(base: Path, size: int) -> Path:
    return base / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def package_png_path(size: int) -> Path:
    return PACKAGE_ICONS / f"{APP_ID}-{size}.png"


def generate(root: Path = ROOT) -> None:
    cache: dict[int, bytes] = {}

    def png(size: int) -> bytes:
        if size not in cache:
            cache[size] = render_png(size)
        return cache[size]

    resources = root / "resources"
    package_icons = root / "optgui" / "resources" / "icons"
    package_icons.mkdir(parents=True, exist_ok=True)
    for size in HICOLOR_SIZES:
        target = hicolor_path(resources, size)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png(size))
        (package_icons / f"{APP_ID}-{size}.png").write_bytes(png(size))
    shutil.copyfile(MASTER, package_icons / f"{APP_ID}.svg")
    (resources / f"{APP_ID}.ico").write_bytes(ico_bytes({s: png(s) for s in ICO_SIZES}))
    (resources / f"{APP_ID}.icns").write_bytes(icns_bytes([(kind, png(size)) for kind, size in ICNS_CHUNKS]))

    package_linux = root / "optgui" / "resources" / "linux"
    package_linux.mkdir(parents=True, exist_ok=True)
    for name in LINUX_FILES:
        shutil.copyfile(ROOT / "packaging" / "linux" / name, package_linux / name)


if __name__ == "__main__":
    generate()
    print("icons and package data regenerated")
