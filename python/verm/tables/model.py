"""The canonical table grid shared by the parsers, the renderer and the metrics."""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field

ALIGNMENTS = ("left", "center", "right")


class TableParseError(ValueError):
    """Table code could not be turned into a grid.

    ``reason`` is a short machine-readable key: ``empty``, ``no_table``, ``unknown_format``,
    ``unbalanced``, ``too_large``, ``bad_span``, ``syntax``, ``missing_dependency``.
    """

    def __init__(self, message: str, reason: str = "syntax", fmt: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.fmt = fmt


@dataclass(frozen=True)
class TableLimits:
    """Caps that keep hostile input (huge grids, absurd spans) from hanging or exhausting memory.

    Every parser checks them while it reads, so an oversized input fails fast with
    :class:`TableParseError` (``reason="too_large"`` or ``"bad_span"``).
    """

    max_chars: int = 1_000_000
    max_rows: int = 5_000
    max_cols: int = 500
    max_cells: int = 100_000
    max_span: int = 1_000


DEFAULT_LIMITS = TableLimits()


@dataclass
class Cell:
    """One cell, anchored at its top-left grid slot ``(row, col)``.

    ``text`` is plain text; explicit line breaks (``<br>``, ``\\newline``) are ``"\\n"``.
    ``align`` is ``None`` for the default (left for data cells, centre for header cells).
    ``border`` is an explicit border width in px from inline CSS (``None``: stylesheet default).
    """

    text: str = ""
    row: int = 0
    col: int = 0
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    align: str | None = None
    bold: bool = False
    italic: bool = False
    background: str | None = None
    border: float | None = None

    def effective_align(self) -> str:
        """The alignment a browser applies: explicit, else centre for headers, else left."""
        return self.align or ("center" if self.header else "left")


@dataclass
class Table:
    """A rectangular grid of ``n_rows`` x ``n_cols`` slots covered by ``cells``.

    Cells are sorted row-major by their anchor. Slots covered by no cell (ragged HTML rows) are
    allowed and drawn empty, as a browser does.
    """

    cells: list[Cell] = field(default_factory=list)
    n_rows: int = 0
    n_cols: int = 0
    fmt: str = ""

    # -- queries ---------------------------------------------------------------------------
    def grid(self) -> list[list[int]]:
        """``n_rows`` x ``n_cols`` list of indices into ``cells`` (-1 for an uncovered slot)."""
        g = [[-1] * self.n_cols for _ in range(self.n_rows)]
        for i, c in enumerate(self.cells):
            for r in range(c.row, c.row + c.rowspan):
                for k in range(c.col, c.col + c.colspan):
                    g[r][k] = i
        return g

    def rows(self) -> list[list[Cell]]:
        """Cells grouped by anchor row (``n_rows`` lists, some possibly empty)."""
        out: list[list[Cell]] = [[] for _ in range(self.n_rows)]
        for c in self.cells:
            out[c.row].append(c)
        return out

    def header_rows(self) -> int:
        """Number of leading rows whose cells are all header cells."""
        n = 0
        for row in self.rows():
            if row and all(c.header for c in row):
                n += 1
            else:
                break
        return n

    def texts(self) -> list[list[str]]:
        """Text per grid slot (spanned slots repeat nothing: only the anchor slot holds text)."""
        out = [[""] * self.n_cols for _ in range(self.n_rows)]
        for c in self.cells:
            out[c.row][c.col] = c.text
        return out

    # -- serialisation ---------------------------------------------------------------------
    def to_html(self, *, styles: bool = True) -> str:
        """Canonical HTML (``thead`` for the leading header rows, ``tbody`` for the rest)."""
        nh = self.header_rows()
        parts = ["<table>"]
        rows = self.rows()
        for section, rng in (("thead", range(0, nh)), ("tbody", range(nh, self.n_rows))):
            if not len(rng):
                continue
            parts.append(f"<{section}>")
            for r in rng:
                parts.append("<tr>")
                for c in rows[r]:
                    tag = "th" if c.header else "td"
                    attrs = ""
                    if c.rowspan > 1:
                        attrs += f' rowspan="{c.rowspan}"'
                    if c.colspan > 1:
                        attrs += f' colspan="{c.colspan}"'
                    if styles:
                        css = []
                        if c.align:
                            css.append(f"text-align: {c.align}")
                        if c.background:
                            css.append(f"background-color: {c.background}")
                        if c.border is not None:
                            css.append(f"border: {c.border:g}px solid black")
                        if css:
                            attrs += f' style="{_html.escape("; ".join(css))}"'
                    parts.append(f"<{tag}{attrs}>{_cell_html(c)}</{tag}>")
                parts.append("</tr>")
            parts.append(f"</{section}>")
        parts.append("</table>")
        return "".join(parts)

    def to_markdown(self) -> str:
        """GFM pipe table. Spans cannot be expressed: spanned slots become empty cells."""
        texts = self.texts()
        aligns: list[str | None] = [None] * self.n_cols
        for c in self.cells:
            if c.align and aligns[c.col] is None and not c.header:
                aligns[c.col] = c.align
        cells = {(c.row, c.col): c for c in self.cells}

        def fmt(r: int, k: int) -> str:
            c = cells.get((r, k))
            if c is None:
                return ""
            t = texts[r][k].replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")
            t = t.replace("*", "\\*").replace("_", "\\_")
            if t and c.bold and not c.header:
                t = f"**{t}**"
            if t and c.italic:
                t = f"*{t}*"
            return t

        # GFM has exactly one header row: row 0 (whatever it was); the rest are body rows
        delim = {None: "---", "left": ":---", "center": ":---:", "right": "---:"}
        lines = ["| " + " | ".join(fmt(0, k) for k in range(self.n_cols)) + " |",
                 "| " + " | ".join(delim[a] for a in aligns) + " |"]
        for r in range(1, self.n_rows):
            lines.append("| " + " | ".join(fmt(r, k) for k in range(self.n_cols)) + " |")
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        """A ``tabular`` with ``\\hline`` rules, ``\\multicolumn`` and ``\\multirow``."""
        from collections import Counter

        votes = [Counter() for _ in range(self.n_cols)]
        for c in self.cells:
            if c.colspan == 1:
                votes[c.col][c.effective_align()] += 1
        col_align = [v.most_common(1)[0][0] if v else "left" for v in votes]
        letter = {"left": "l", "center": "c", "right": "r"}
        spec = "|" + "|".join(letter[a] for a in col_align) + "|"
        anchors = {(c.row, c.col): c for c in self.cells}
        covered = set()
        for c in self.cells:
            for r in range(c.row, c.row + c.rowspan):
                for k in range(c.col, c.col + c.colspan):
                    if (r, k) != (c.row, c.col):
                        covered.add((r, k))
        nh = self.header_rows()
        lines = ["\\begin{tabular}{" + spec + "}", "\\hline"]
        for r in range(self.n_rows):
            items = []
            k = 0
            while k < self.n_cols:
                c = anchors.get((r, k))
                if c is None:
                    # a slot covered by a multirow from above keeps its column(s) empty
                    owner = next((o for o in self.cells if o.row < r < o.row + o.rowspan
                                  and o.col == k), None)
                    if owner is not None and owner.colspan > 1:
                        items.append(f"\\multicolumn{{{owner.colspan}}}{{|l|}}{{}}")
                        k += owner.colspan
                    else:
                        items.append("")
                        k += 1
                    continue
                body = _latex_escape(c.text)
                if c.bold:
                    body = f"\\textbf{{{body}}}"
                if c.italic:
                    body = f"\\textit{{{body}}}"
                if c.background:
                    hexcol = _hex_color(c.background)
                    if hexcol:
                        body = f"\\cellcolor[HTML]{{{hexcol}}}{body}"
                if c.rowspan > 1:
                    body = f"\\multirow{{{c.rowspan}}}{{*}}{{{body}}}"
                if c.colspan > 1 or c.effective_align() != col_align[c.col]:
                    a = letter[c.effective_align()]
                    body = f"\\multicolumn{{{c.colspan}}}{{|{a}|}}{{{body}}}"
                items.append(body)
                k += c.colspan
            lines.append(" & ".join(items) + " \\\\")
            # booktabs' \midrule marks the end of the header rows (the LaTeX parser reads it so)
            lines.append("\\midrule" if r == nh - 1 else "\\hline")
        lines.append("\\end{tabular}")
        return "\n".join(lines) + "\n"


def _hex_color(color: str) -> str | None:
    """``RRGGBB`` for a CSS colour (via Pillow), or None if Pillow does not know it."""
    try:
        from PIL import ImageColor

        r, g, b = ImageColor.getrgb(color)[:3]
    except (ValueError, ImportError):
        return None
    return f"{r:02X}{g:02X}{b:02X}"


def _cell_html(c: Cell) -> str:
    body = "<br>".join(_html.escape(line, quote=False) for line in c.text.split("\n"))
    if c.bold and not c.header:
        body = f"<b>{body}</b>"
    if c.italic:
        body = f"<i>{body}</i>"
    return body


_LATEX_SPECIALS = {
    "\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_",
    "{": "\\{", "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}",
}


def _latex_escape(text: str) -> str:
    out = "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)
    return out.replace("\n", " \\newline ")


def finalize(
    rows: list[list[Cell]], limits: TableLimits, fmt: str, *, clamp_rowspan: bool = True
) -> Table:
    """Place cells row by row into a grid the way an HTML table does (skipping slots taken by
    rowspans from above) and return the :class:`Table`.

    ``rows`` holds the cells of each source row in order; their ``row``/``col`` are assigned
    here. Rowspans running past the last row are clamped to it (as browsers do).
    """
    if not rows or not any(rows):
        raise TableParseError("table has no cells", "empty", fmt)
    if len(rows) > limits.max_rows:
        raise TableParseError(f"table has {len(rows)} rows (limit {limits.max_rows})",
                              "too_large", fmt)
    n_rows = len(rows)
    taken: dict[int, set[int]] = {}
    n_cols = 0
    cells: list[Cell] = []
    count = 0
    for r, row in enumerate(rows):
        busy = taken.pop(r, set())
        k = 0
        for c in row:
            count += 1
            if count > limits.max_cells:
                raise TableParseError(f"table has more than {limits.max_cells} cells",
                                      "too_large", fmt)
            for name in ("rowspan", "colspan"):
                v = getattr(c, name)
                if v < 1:
                    setattr(c, name, 1)
                elif v > limits.max_span:
                    raise TableParseError(f"{name}={v} exceeds the limit of {limits.max_span}",
                                          "bad_span", fmt)
            if not c.text.strip():  # emphasis of an empty cell is invisible: canonical False
                c.bold = c.italic = False
            while k in busy:
                k += 1
            # a colspan running into a slot held by a rowspan from above is cut short there
            for kk in range(k + 1, k + c.colspan):
                if kk in busy:
                    c.colspan = kk - k
                    break
            if clamp_rowspan:
                c.rowspan = min(c.rowspan, n_rows - r)
            c.row, c.col = r, k
            if k + c.colspan > limits.max_cols:
                raise TableParseError(f"table has more than {limits.max_cols} columns",
                                      "too_large", fmt)
            for rr in range(r + 1, r + c.rowspan):
                s = taken.setdefault(rr, set())
                s.update(range(k, k + c.colspan))
            for kk in range(k, k + c.colspan):
                busy.add(kk)
            k += c.colspan
            n_cols = max(n_cols, k)
            cells.append(c)
        if busy:
            n_cols = max(n_cols, max(busy) + 1)
    if n_rows * n_cols > limits.max_cells * 4:
        raise TableParseError(f"grid of {n_rows}x{n_cols} slots is too large", "too_large", fmt)
    return Table(cells=cells, n_rows=n_rows, n_cols=n_cols, fmt=fmt)
