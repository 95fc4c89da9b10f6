"""Seeded random tables for tests, benchmarks and synthetic data.

Every generated :class:`Table` covers its whole grid, and every row and column boundary is
visible somewhere (no column that spans always hide), so its structure can be recovered from
the drawn borders.
"""

from __future__ import annotations

import random

from verm.tables.model import Cell, Table

WORDS = (
    "total revenue cost year model accuracy score method baseline ours region north south "
    "east west item price qty unit name value mean std min max count rate growth share "
    "alpha beta gamma delta data test train dev sample group class label type size small "
    "large medium other none yes no ok high low net gross"
).split()
TRICKY = ["a&b", "50%", "$5", "#1", "x_y", "a*b", "p|q", "<tag>", "c:\\d", "{x}", "~", "^2"]
BACKGROUNDS = ["#f2f2f2", "#e6f0ff", "#fff3cd", "#e8f5e9", "#fde2e4", "lightyellow"]


def _text(rng: random.Random, tricky: bool, long: bool) -> str:
    kind = rng.random()
    if kind < 0.06:
        return ""
    if kind < 0.35:
        v = rng.choice([
            f"{rng.randint(0, 99999)}", f"{rng.uniform(-100, 1000):.2f}",
            f"{rng.randint(1, 999):,}", f"{rng.uniform(0, 100):.1f}%", f"{rng.randint(1, 9)}.{rng.randint(0, 99):02d}",
        ])
        return v
    n = rng.randint(1, 3) if not long else rng.randint(6, 16)
    words = [rng.choice(WORDS) for _ in range(n)]
    if tricky and rng.random() < 0.5:
        words.insert(rng.randrange(len(words) + 1), rng.choice(TRICKY))
    if rng.random() < 0.5:
        words[0] = words[0].capitalize()
    text = " ".join(words)
    if not long and n >= 2 and rng.random() < 0.1:
        text = text.replace(" ", "\n", 1)
    return text


def random_table(
    rng: random.Random | int,
    *,
    max_rows: int = 8,
    max_cols: int = 6,
    spans: bool = True,
    styles: bool = True,
    tricky: bool = False,
    long_text: float = 0.05,
    column_align: bool = False,
) -> Table:
    """A random table with a header row, optional row/column spans and per-cell styles.

    ``column_align`` gives every cell of a column the same alignment (what Markdown can
    express); ``tricky`` mixes in characters that need escaping in each format.
    """
    if not isinstance(rng, random.Random):
        rng = random.Random(rng)
    for _ in range(100):
        t = _attempt(rng, max_rows, max_cols, spans, styles, tricky, long_text, column_align)
        if t is not None:
            return t
    raise RuntimeError("could not generate a table")  # pragma: no cover - practically never


def _attempt(rng, max_rows, max_cols, spans, styles, tricky, long_text, column_align):
    n_r = rng.randint(2, max(2, max_rows))
    n_c = rng.randint(1, max(1, max_cols))
    aligns = [rng.choice([None, None, "left", "center", "right"]) for _ in range(n_c)]
    owner = [[-1] * n_c for _ in range(n_r)]
    cells: list[Cell] = []
    for r in range(n_r):
        for k in range(n_c):
            if owner[r][k] != -1:
                continue
            rs = cs = 1
            if spans and rng.random() < 0.12:
                if rng.random() < 0.5:
                    cs = rng.randint(2, 3)
                else:
                    rs = rng.randint(2, 3)
                # shrink to what is free
                cs = min(cs, n_c - k)
                while cs > 1 and any(owner[r][kk] != -1 for kk in range(k, k + cs)):
                    cs -= 1
                rs = min(rs, n_r - r) if r > 0 else 1
            header = r == 0
            c = Cell(text=_text(rng, tricky, rng.random() < long_text), rowspan=rs, colspan=cs,
                     row=r, col=k, header=header)
            c.align = aligns[k] if column_align else rng.choice([None, None, None, "left",
                                                                 "center", "right"])
            c.bold = header or (styles and rng.random() < 0.1)
            c.italic = styles and rng.random() < 0.08
            if styles and rng.random() < 0.08:
                c.background = rng.choice(BACKGROUNDS)
            for rr in range(r, r + rs):
                for kk in range(k, k + cs):
                    owner[rr][kk] = len(cells)
            cells.append(c)
    # every boundary must be visible somewhere
    for k in range(1, n_c):
        if all(owner[r][k] == owner[r][k - 1] for r in range(n_r)):
            return None
    for r in range(1, n_r):
        if all(owner[r][k] == owner[r - 1][k] for k in range(n_c)):
            return None
    if not any(c.text for c in cells if c.row == 0):
        cells[0].text = "Name"
    # every row needs some text so that its height is not just padding
    for r in range(n_r):
        if not any(c.text for c in cells if c.row <= r < c.row + c.rowspan):
            next(c for c in cells if c.row == r).text = rng.choice(WORDS)
    for c in cells:  # emphasis on an empty cell is invisible; header cells are bold (<th>)
        if not c.text:
            c.bold = c.italic = False
        elif c.header:
            c.bold = True
    return Table(cells=cells, n_rows=n_r, n_cols=n_c, fmt="")


def random_table_code(rng: random.Random | int, fmt: str, **kw) -> tuple[str, Table]:
    """``(code, table)`` for ``fmt`` in markdown/html/latex; Markdown tables have no spans."""
    if not isinstance(rng, random.Random):
        rng = random.Random(rng)
    if fmt == "markdown":
        kw = {**kw, "spans": False, "column_align": True}
    t = random_table(rng, **kw)
    if fmt == "markdown":
        return t.to_markdown(), t
    if fmt == "html":
        return t.to_html(), t
    if fmt == "latex":
        return t.to_latex(), t
    raise ValueError(f"unknown format {fmt!r}")
