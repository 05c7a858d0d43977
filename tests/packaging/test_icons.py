"""The icon files: an SVG master, PNGs at the hicolor sizes that match a fresh render of it, and ICO/ICNS
containers that Qt's own image readers decode at every size; the window and the About dialog use the icon."""

from __future__ import annotations

import importlib.util
import struct
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QImage, QImageReader

from optgui import APP_ID, resources
from tests.support.packaging import ROOT

RES = ROOT / "resources"


def generator():
    spec = importlib.util.spec_from_file_location("generate_icons", RES / "generate_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_master_svg_is_plain_svg():
    root = ET.parse(RES / f"{APP_ID}.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 512 512"
    # QtSvg renders SVG Tiny: no filters, masks or embedded bitmaps that it would silently drop.
    text = (RES / f"{APP_ID}.svg").read_text()
    for unsupported in ("<filter", "<mask", "<image", "<script"):
        assert unsupported not in text


@pytest.mark.parametrize("size", resources.ICON_SIZES)
def test_pngs_at_every_hicolor_size(qapp, size):
    hicolor = RES / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    packaged = resources.icon_png(size)
    assert hicolor.read_bytes() == packaged.read_bytes()
    image = QImage(str(packaged))
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()
    assert image.pixelColor(0, 0).alpha() == 0  # rounded corners are transparent
    assert image.pixelColor(size // 2, size // 2).alpha() == 255


def test_committed_pngs_match_the_svg(qapp):
    """Editing the SVG without running the generator is caught: a fresh render equals the committed PNG."""
    gen = generator()
    for size in (32, 128):
        fresh = QImage.fromData(gen.render_png(size)).convertToFormat(QImage.Format.Format_ARGB32)
        committed = QImage(str(resources.icon_png(size))).convertToFormat(QImage.Format.Format_ARGB32)
        diff = max(abs(a - b) for a, b in zip(bytes(fresh.constBits()), bytes(committed.constBits()), strict=False))
        assert diff <= 8, f"{size}px differs from the SVG by {diff}: run python resources/generate_icons.py"


def read_ico(data: bytes) -> list[tuple[int, bytes]]:
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind) == (0, 1)
    images = []
    for i in range(count):
        w, h, colors, _, planes, bpp, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert w == h and planes == 1 and bpp == 32
        images.append((w or 256, data[offset : offset + length]))
    return images


def read_icns(data: bytes) -> list[tuple[str, bytes]]:
    assert data[:4] == b"icns"
    assert struct.unpack_from(">I", data, 4)[0] == len(data)
    chunks, pos = [], 8
    while pos < len(data):
        kind, length = data[pos : pos + 4].decode(), struct.unpack_from(">I", data, pos + 4)[0]
        assert length > 8
        chunks.append((kind, data[pos + 8 : pos + length]))
        pos += length
    assert pos == len(data)
    return chunks


def test_ico_holds_png_images_of_each_size(qapp):
    images = read_ico((RES / f"{APP_ID}.ico").read_bytes())
    assert [s for s, _ in images] == [16, 24, 32, 48, 64, 128, 256]
    for size, png in images:
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert QImage.fromData(png).width() == size
    reader = QImageReader(str(RES / f"{APP_ID}.ico"))
    assert reader.imageCount() == 7


def test_icns_holds_retina_png_chunks(qapp):
    chunks = dict(read_icns((RES / f"{APP_ID}.icns").read_bytes()))
    expected = {"ic07": 128, "ic08": 256, "ic09": 512, "ic10": 1024, "ic11": 32, "ic12": 64, "ic13": 256, "ic14": 512}
    assert set(chunks) == set(expected)
    for kind, size in expected.items():
        image = QImage.fromData(chunks[kind])
        assert (image.width(), image.height()) == (size, size), kind
    reader = QImageReader(str(RES / f"{APP_ID}.icns"))  # Qt's independent icns reader agrees
    assert reader.format() == b"icns" and reader.imageCount() == len(expected)


def test_container_writers_round_trip():
    gen = generator()
    pngs = {16: b"\x89PNG-sixteen", 256: b"\x89PNG-big"}
    assert read_ico(gen.ico_bytes(pngs)) == [(16, pngs[16]), (256, pngs[256])]
    assert read_icns(gen.icns_bytes([("ic07", b"abc"), ("ic10", b"defg")])) == [("ic07", b"abc"), ("ic10", b"defg")]


def test_app_icon_has_every_size(qapp):
    from optgui.qt.icons import app_icon

    icon = app_icon()
    assert sorted(s.width() for s in icon.availableSizes()) == sorted(resources.ICON_SIZES)
    assert not icon.pixmap(48, 48).isNull()


def test_window_and_about_dialog_use_the_icon(qapp, qtbot):
    from optgui.qt.icons import app_icon
    from optgui.qt.window.about import AboutDialog
    from optgui.qt.window.desktop_integration import DesktopIntegration

    integration = DesktopIntegration(qapp)
    try:
        assert qapp.windowIcon().cacheKey() == app_icon().cacheKey()
    finally:
        integration.instance.close()
        qapp.removeEventFilter(integration.file_filter)
        integration.deleteLater()
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    pixmap = dialog.icon.pixmap()
    assert not pixmap.isNull() and pixmap.width() >= 64
    expected = app_icon().pixmap(64, 64).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    assert pixmap.toImage().convertToFormat(QImage.Format.Format_ARGB32) == expected
