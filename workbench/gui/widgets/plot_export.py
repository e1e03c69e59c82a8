"""Plots to files: a pyqtgraph layout (plots and legend) as PNG, SVG or PDF."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QMarginsF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter


def export_layout(layout: pg.GraphicsLayout, path: Path) -> Path:
    """Write ``layout`` to ``path`` by its suffix: .png, .svg or .pdf (ValueError for anything else)."""
    import pyqtgraph.exporters as exporters

    suffix = path.suffix.lower()
    if suffix == ".png":
        exporter = exporters.ImageExporter(layout)
        exporter.parameters()["width"] = max(1200, int(layout.boundingRect().width()))
        exporter.export(str(path))
    elif suffix == ".svg":
        try:
            exporters.SVGExporter(layout).export(str(path))
        except (ValueError, IndexError):
            # pyqtgraph 0.14's SVGExporter cannot parse the path data Qt 6.12 writes; render the
            # scene through QSvgGenerator instead (still vector output)
            _export_svg_qt(layout, path)
    elif suffix == ".pdf":
        _export_pdf(layout, path)
    else:
        raise ValueError(f"Cannot export plots as {suffix or 'a file without extension'}; use .png, .svg or .pdf.")
    return path


def _export_svg_qt(layout: pg.GraphicsLayout, path: Path) -> None:
    from PySide6.QtSvg import QSvgGenerator

    source = layout.sceneBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(int(source.width()), int(source.height())))
    generator.setViewBox(QRect(0, 0, int(source.width()), int(source.height())))
    generator.setTitle("CIFAR Workbench training curves")
    painter = QPainter(generator)
    try:
        layout.scene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()


def _export_pdf(layout: pg.GraphicsLayout, path: Path) -> None:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Landscape)
    writer.setPageMargins(QMarginsF(10, 10, 10, 10))
    writer.setResolution(150)
    painter = QPainter(writer)
    try:
        source = layout.sceneBoundingRect()
        target = QRectF(0, 0, writer.width(), writer.height())
        layout.scene().render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        painter.end()
