"""Table rendering: Markdown/HTML/LaTeX code -> laid-out SVG -> native batch renderer.

Tables are laid out here, in Python, the way a browser lays out a default table under a small
stylesheet (``border-collapse: collapse``, 1 px borders, cell padding, bold centred header
cells, vertically centred content, per-column widths from content, word wrap when the table
would exceed ``max_width``, row/column spans). Text widths come from the native text engine
(``FontDB.measure``), so layout and drawing use the same fonts and shaping. The layout is
written as a tiny SVG document (``rect`` + ``text`` with explicit positions) and rasterised by
:func:`verm.render.render_svgs` on its thread pool with the GIL released.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape as _xml_escape

import numpy as np

from verm.records import RenderResult
from verm.tables import Table, TableParseError, parse


@dataclass(frozen=True)
class TableStyle:
    """The stylesheet. Lengths are CSS px; ``scale`` multiplies the output resolution."""

    font_family: str = "DejaVu Sans"
    font_size: float = 14.0
    line_height: float = 1.25
    padding_x: float = 8.0
    padding_y: float = 4.0
    border_width: float = 1.0
    border_color: str = "#000000"
    text_color: str = "#000000"
    background: str = "#ffffff"
    header_background: str | None = None
    header_align: str = "center"
    margin: int = 10
    max_width: float | None = 1600.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("font_size", "line_height", "scale"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TableStyle.{name} must be > 0")
        for name in ("padding_x", "padding_y", "border_width", "margin"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"TableStyle.{name} must be >= 0")
        if self.max_width is not None and not self.max_width > 0:
            raise ValueError("TableStyle.max_width must be > 0 or None")
        if self.header_align not in ("left", "center", "right"):
            raise ValueError("TableStyle.header_align must be left, center or right")


DEFAULT_STYLE = TableStyle()


@dataclass
class CellBox:
    """Where one cell was drawn: its border box in output pixels (x0, y0, x1, y1)."""

    row: int
    col: int
    rowspan: int
    colspan: int
    box: tuple[float, float, float, float]


@dataclass
class TableLayout:
    """A laid-out table: the SVG to render and the geometry (in output pixels)."""

    svg: str
    width: int
    height: int
    col_edges: list[float] = field(default_factory=list)  # left edge of each vertical rule
    row_edges: list[float] = field(default_factory=list)  # top edge of each horizontal rule
    cells: list[CellBox] = field(default_factory=list)
    n_rows: int = 0
    n_cols: int = 0


# --------------------------------------------------------------------------------------------
# text measurement

_BREAKABLE = re.compile(
    r"[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff"
    r"\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+"
)


@lru_cache(maxsize=1)
def _font_metrics() -> tuple[float, float]:
    """(ascent, descent) per unit font size of the default font (DejaVu Sans)."""
    try:
        from PIL import ImageFont

        from verm.fonts import FONT_DIR

        f = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), size=1000)
        a, d = f.getmetrics()
        return a / 1000.0, d / 1000.0
    except Exception:  # noqa: BLE001 - metrics are a refinement; constants are DejaVu's
        return 0.928, 0.236


class _Measurer:
    """Collects strings per (bold, italic) and measures each group with one native
    ``FontDB.measure`` call (HarfBuzz advances, GIL released, same fonts as the renderer)."""

    def __init__(self, fontdb, families: list[str], size: float):
        if fontdb is None:
            from verm.fonts import get_fontdb

            fontdb = get_fontdb()
        self.db = fontdb
        self.families = families
        self.size = size
        self.cache: dict[tuple[bool, bool, str], float] = {}

    def measure(self, items: dict[tuple[bool, bool], set[str]]) -> None:
        for (bold, italic), strings in items.items():
            todo = [s for s in strings if (bold, italic, s) not in self.cache]
            if not todo:
                continue
            widths = self.db.measure(todo, self.families, float(self.size),
                                     700 if bold else 400, bool(italic))
            for s, w in zip(todo, widths):
                self.cache[(bold, italic, s)] = float(w)

    def width(self, bold: bool, italic: bool, s: str) -> float:
        return self.cache[(bold, italic, s)]


# --------------------------------------------------------------------------------------------
# layout

@dataclass
class _Units:
    """A cell's text broken into explicit lines of (unit, preceded_by_space) pairs."""

    lines: list[list[tuple[str, bool]]]


# characters XML 1.0 forbids (they would make the SVG unparseable); tabs become spaces
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _units(text: str) -> _Units:
    lines = []
    text = _XML_BAD.sub("", text.replace("\t", " ").replace("\r", ""))
    for line in text.split("\n"):
        units = []
        pos = 0
        for m in _BREAKABLE.finditer(line):
            units.append((m.group(0), m.start() > pos))
            pos = m.end()
        lines.append(units)
    return _Units(lines)


def _distribute(widths: list[float], need: float, weights: list[float]) -> None:
    """Grow ``widths`` in place so they sum to at least ``need``, in proportion to weights."""
    have = sum(widths)
    if have >= need:
        return
    extra = need - have
    total = sum(weights)
    if total <= 0:
        for i in range(len(widths)):
            widths[i] += extra / len(widths)
    else:
        for i in range(len(widths)):
            widths[i] += extra * weights[i] / total


def _round_edges(start: float, sizes: list[float], bw: float) -> list[float]:
    """Pixel-aligned rule positions: edge i is the left/top of rule i."""
    edges = [float(round(start))]
    acc = start
    for s in sizes:
        acc += bw + s
        edges.append(float(round(acc)))
    return edges


def layout_table(table: Table, style: TableStyle = DEFAULT_STYLE, *,
                 max_width: float | None = None, fontdb=None) -> TableLayout:
    """Lay out ``table`` and return the SVG and geometry (see :class:`TableLayout`)."""
    s = style
    fam = [s.font_family, "sans-serif"]
    meas = _Measurer(fontdb, fam, s.font_size)
    bw = float(s.border_width)
    px, py = float(s.padding_x), float(s.padding_y)
    line_h = s.font_size * s.line_height
    limit = max_width if max_width is not None else s.max_width

    cells = table.cells
    units = [_units(c.text) for c in cells]
    want: dict[tuple[bool, bool], set[str]] = {}
    for c, u in zip(cells, units):
        key = (bool(c.bold), bool(c.italic))
        bucket = want.setdefault(key, set())
        bucket.add(" ")
        for line in u.lines:
            for unit, _ in line:
                bucket.add(unit)
    meas.measure(want)

    # min-content / max-content width of every cell (content box)
    mins, maxs = [], []
    for c, u in zip(cells, units):
        b, it = bool(c.bold), bool(c.italic)
        space = meas.width(b, it, " ")
        lo = hi = 0.0
        for line in u.lines:
            w = 0.0
            for k, (unit, sp) in enumerate(line):
                uw = meas.width(b, it, unit)
                lo = max(lo, uw)
                w += uw + (space if sp and k else 0.0)
            hi = max(hi, w)
        mins.append(lo + 2 * px)
        maxs.append(hi + 2 * px)

    n_c, n_r = table.n_cols, table.n_rows
    col_min = [2 * px] * n_c
    col_max = [2 * px] * n_c
    order = sorted(range(len(cells)), key=lambda i: cells[i].colspan)
    for i in order:
        c = cells[i]
        span = range(c.col, min(c.col + c.colspan, n_c))
        inner = bw * (len(span) - 1)
        if c.colspan == 1:
            col_min[c.col] = max(col_min[c.col], mins[i])
            col_max[c.col] = max(col_max[c.col], maxs[i])
            continue
        sub_min = [col_min[k] for k in span]
        sub_max = [col_max[k] for k in span]
        _distribute(sub_min, mins[i] - inner, sub_max)
        _distribute(sub_max, maxs[i] - inner, sub_max)
        for j, k in enumerate(span):
            col_min[k] = sub_min[j]
            col_max[k] = max(sub_max[j], sub_min[j])

    rules = bw * (n_c + 1)
    sum_min, sum_max = sum(col_min), sum(col_max)
    if limit is None or sum_max + rules <= limit:
        widths = [math.ceil(w) for w in col_max]
    elif sum_min + rules >= limit:
        widths = [math.ceil(w) for w in col_min]
    else:
        f = (limit - rules - sum_min) / max(sum_max - sum_min, 1e-9)
        widths = [lo + (hi - lo) * f for lo, hi in zip(col_min, col_max)]
    margin = float(s.margin)
    col_edges = _round_edges(margin, widths, bw)

    # wrap each cell into its final content width
    wrapped: list[list[tuple[str, float]]] = []
    for c, u in zip(cells, units):
        b, it = bool(c.bold), bool(c.italic)
        space = meas.width(b, it, " ")
        x0 = col_edges[c.col] + bw
        x1 = col_edges[min(c.col + c.colspan, n_c)]
        avail = x1 - x0 - 2 * px + 0.01
        out: list[tuple[str, float]] = []
        for line in u.lines:
            cur, cur_w = "", 0.0
            for unit, sp in line:
                uw = meas.width(b, it, unit)
                add = (space if sp and cur else 0.0)
                if cur and cur_w + add + uw > avail:
                    out.append((cur, cur_w))
                    cur, cur_w = unit, uw
                else:
                    cur += (" " if sp and cur else "") + unit
                    cur_w += add + uw
            out.append((cur, cur_w))
        wrapped.append(out)

    # row heights
    heights = [0.0] * n_r
    for i, c in enumerate(cells):
        if c.rowspan == 1:
            h = len(wrapped[i]) * line_h if c.text.strip() else 0.0
            heights[c.row] = max(heights[c.row], h + 2 * py)
    for i in sorted(range(len(cells)), key=lambda i: cells[i].rowspan):
        c = cells[i]
        if c.rowspan == 1:
            continue
        span = range(c.row, min(c.row + c.rowspan, n_r))
        need = (len(wrapped[i]) * line_h if c.text.strip() else 0.0) + 2 * py
        need -= bw * (len(span) - 1)
        sub = [heights[r] for r in span]
        _distribute(sub, need, [1.0] * len(sub))
        for j, r in enumerate(span):
            heights[r] = sub[j]
    heights = [max(h, 2 * py) for h in heights]
    heights = [math.ceil(h - 1e-6) for h in heights]
    row_edges = _round_edges(margin, heights, bw)

    sc = float(s.scale)
    width = int(round(col_edges[-1] + bw + margin))
    height = int(round(row_edges[-1] + bw + margin))
    out_w, out_h = max(1, int(round(width * sc))), max(1, int(round(height * sc)))
    asc, desc = _font_metrics()
    half_lead = (line_h - (asc + desc) * s.font_size) / 2.0

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{out_w}" height="{out_h}" '
        f'viewBox="0 0 {width} {height}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="{_attr(s.background)}"/>',
    ]
    text_parts: list[str] = []
    edge_rects: set[tuple[float, float, float, float]] = set()
    boxes: list[CellBox] = []
    fam_attr = _attr(", ".join(f"'{f}'" if " " in f else f for f in fam))
    for i, c in enumerate(cells):
        x0, x1 = col_edges[c.col], col_edges[min(c.col + c.colspan, n_c)]
        y0, y1 = row_edges[c.row], row_edges[min(c.row + c.rowspan, n_r)]
        boxes.append(CellBox(c.row, c.col, c.rowspan, c.colspan,
                             (x0 * sc, y0 * sc, (x1 + bw) * sc, (y1 + bw) * sc)))
        fill = c.background or (s.header_background if c.header else None)
        if fill:
            parts.append(f'<rect x="{x0 + bw:g}" y="{y0 + bw:g}" width="{x1 - x0 - bw:g}" '
                         f'height="{y1 - y0 - bw:g}" fill="{_attr(fill)}"/>')
        cbw = bw if c.border is None else float(c.border)
        if cbw > 0:
            for r in ((x0, y0, x1 + bw - x0, cbw), (x0, y1 + bw - cbw, x1 + bw - x0, cbw),
                      (x0, y0, cbw, y1 + bw - y0), (x1 + bw - cbw, y0, cbw, y1 + bw - y0)):
                edge_rects.add(r)
        lines = wrapped[i]
        if not c.text.strip():
            continue
        align = c.align or (s.header_align if c.header else "left")
        inner_top, inner_bot = y0 + bw + py, y1 - py
        block = len(lines) * line_h
        top = inner_top + max(0.0, (inner_bot - inner_top - block) / 2.0)
        if align == "center":
            tx, anchor = (x0 + bw + x1) / 2.0, "middle"
        elif align == "right":
            tx, anchor = x1 - px, "end"
        else:
            tx, anchor = x0 + bw + px, "start"
        attrs = f' font-size="{s.font_size:g}" fill="{_attr(s.text_color)}"'
        if c.bold:
            attrs += ' font-weight="bold"'
        if c.italic:
            attrs += ' font-style="italic"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        for k, (line, _) in enumerate(lines):
            if not line:
                continue
            base = top + k * line_h + half_lead + asc * s.font_size
            text_parts.append(f'<text x="{tx:.2f}" y="{base:.2f}"{attrs}>'
                              f'{_xml_escape(line)}</text>')
    col = _attr(s.border_color)
    for x, y, w, h in sorted(edge_rects):
        parts.append(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{col}"/>')
    if text_parts:
        parts.append(f'<g font-family="{fam_attr}" xml:space="preserve">')
        parts.extend(text_parts)
        parts.append("</g>")
    parts.append("</svg>")
    return TableLayout(
        svg="".join(parts), width=out_w, height=out_h,
        col_edges=[e * sc for e in col_edges], row_edges=[e * sc for e in row_edges],
        cells=boxes, n_rows=n_r, n_cols=n_c,
    )


def _attr(v: str) -> str:
    return _xml_escape(str(v), {'"': "&quot;"})


# --------------------------------------------------------------------------------------------
# public API

def render_tables(
    codes: Sequence[str | Table],
    *,
    fmt: str = "auto",
    style: TableStyle = DEFAULT_STYLE,
    max_width: float | None = None,
    font_dirs: Sequence[str] | None = None,
    threads: int | None = None,
    fallback: bool = True,
) -> list[RenderResult]:
    """Render many tables (code strings or parsed :class:`~verm.tables.Table`) to RGBA arrays.

    Parsing and layout run here; rasterisation runs in one native batch (thread pool, GIL
    released). Each result carries ``extra["cells"]`` (cell border boxes in pixels, as
    ``[row, col, rowspan, colspan, x0, y0, x1, y1]``), ``extra["n_rows"]``/``["n_cols"]`` and
    ``extra["layout_seconds"]``. Code that does not parse gives ``status="error"`` with the
    parser's reason in ``extra["reason"]``; nothing raises for a bad item.
    """
    from verm.fonts import get_fontdb
    from verm.render.svg import render_svgs

    fontdb = get_fontdb(tuple(font_dirs) if font_dirs else None)
    results: list[RenderResult | None] = [None] * len(codes)
    svgs: list[str] = []
    where: list[tuple[int, TableLayout, float]] = []
    for i, code in enumerate(codes):
        t0 = time.perf_counter()
        try:
            table = code if isinstance(code, Table) else parse(code, fmt)
            lay = layout_table(table, style, max_width=max_width, fontdb=fontdb)
        except TableParseError as exc:
            results[i] = RenderResult(None, "error", "tables", str(exc),
                                      time.perf_counter() - t0,
                                      extra={"reason": exc.reason, "fmt": exc.fmt})
            continue
        except (TypeError, ValueError) as exc:
            results[i] = RenderResult(None, "error", "tables", f"{type(exc).__name__}: {exc}",
                                      time.perf_counter() - t0, extra={"reason": "input"})
            continue
        svgs.append(lay.svg)
        where.append((i, lay, time.perf_counter() - t0))
    if svgs:
        rendered = render_svgs(svgs, font_dirs=font_dirs, fallback=fallback, threads=threads)
        for (i, lay, secs), res in zip(where, rendered):
            res.seconds += secs
            res.extra.update({
                "layout_seconds": secs,
                "n_rows": lay.n_rows,
                "n_cols": lay.n_cols,
                "cells": [[b.row, b.col, b.rowspan, b.colspan, *b.box] for b in lay.cells],
            })
            results[i] = res
    return [r for r in results if r is not None]


def render_table(
    code_or_table: str | Table,
    *,
    fmt: str = "auto",
    style: TableStyle = DEFAULT_STYLE,
    max_width: float | None = None,
    font_dirs: Sequence[str] | None = None,
) -> np.ndarray:
    """Render one table to an (H, W, 4) uint8 RGBA array.

    Raises :class:`~verm.tables.TableParseError` for code that is not a valid table and
    :class:`~verm.render.RenderError` if rasterisation fails.
    """
    from verm.render.svg import RenderError

    table = code_or_table if isinstance(code_or_table, Table) else parse(code_or_table, fmt)
    (res,) = render_tables([table], style=style, max_width=max_width, font_dirs=font_dirs,
                           threads=1)
    if res.image is None:
        raise RenderError(res)
    return res.image
