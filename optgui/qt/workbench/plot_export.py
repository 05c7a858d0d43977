"""Saving a plot to PNG or SVG.

PNG goes through pyqtgraph's ImageExporter. SVG uses pyqtgraph's SVGExporter, which breaks with some Qt releases
(pyqtgraph 0.14.0 with Qt >= 6.11); when it fails, or writes nothing, the plot is painted into a QSvgGenerator
instead (vector output too, without pyqtgraph's per-item SVG clean-ups).
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QRect, QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator


def export_plot(view: pg.GraphicsLayoutWidget, path: str | Path, *, use_fallback: bool = False) -> str:
    """Write the plot shown in `view` to `path` (.png or .svg). Returns how: "png", "svg" or "svg-fallback"."""
    path = Path(path)
    suffix = path.suffix.lower()
    item = view.ci  # the whole layout: main plot and the failed-trials strip
    if suffix == ".png":
        exporter = pg_exporters.ImageExporter(item)
        exporter.parameters()["width"] = max(1200, int(item.boundingRect().width()) * 2)
        exporter.export(str(path))
        return "png"
    if suffix != ".svg":
        raise ValueError(f"unsupported image type {path.suffix or '(none)'}: use .png or .svg")
    if not use_fallback:
        try:
            pg_exporters.SVGExporter(item).export(str(path))
            if path.exists() and path.stat().st_size > 0 and b"<svg" in path.read_bytes()[:4096]:
                return "svg"
        except Exception:  # noqa: BLE001 - any failure of the exporter means: use the fallback
            pass
    _svg_by_painting(view, path)
    return "svg-fallback"


def _svg_by_painting(view: pg.GraphicsLayoutWidget, path: Path) -> None:
    source = view.ci.sceneBoundingRect()
    if source.isEmpty():
        source = QRectF(0, 0, 900, 500)
    size = QSize(int(source.width()), int(source.height()))
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle("optgui plot")
    painter = QPainter(generator)
    try:
        view.scene().render(painter, QRectF(0, 0, size.width(), size.height()), source)
    finally:
        painter.end()
