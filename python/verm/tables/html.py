"""HTML ``<table>`` -> :class:`Table`, parsed with lxml's HTML parser.

lxml (libxml2) was chosen over html5lib (spec-exact but pure Python, much slower in a reward
loop) and selectolax (fast, but an extra dependency): it is a widely maintained C parser,
recovers from the usual unclosed ``<td>``/``<tr>`` tags, offers the text/tail API that mixed
content needs, and is already in the ``tables`` extra. It does not implement every HTML5
tree-construction quirk (e.g. foster parenting of stray text), which does not matter for
table structure.

Understood: ``table/caption/thead/tbody/tfoot/tr/th/td``, ``colspan``/``rowspan``,
``<b>/<strong>/<i>/<em>/<br>``, ``align`` attributes, and inline ``style`` for ``text-align``,
``font-weight``, ``font-style``, ``background-color``/``background`` and ``border``.
Nested tables are flattened into their cell's text.
"""

from __future__ import annotations

import re

from verm.tables.model import Cell, Table, TableLimits, TableParseError, finalize

_SPACE = re.compile(r"[ \t\r\n\f]+")
_BOLD_TAGS = {"b", "strong", "th"}
_ITALIC_TAGS = {"i", "em"}
_BLOCK_TAGS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
_COLOR_RE = re.compile(r"(#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)|hsla?\([^)]*\)|\b[a-zA-Z]+\b)")


def _style(el) -> dict[str, str]:
    out = {}
    for decl in (el.get("style") or "").split(";"):
        if ":" in decl:
            k, v = decl.split(":", 1)
            out[k.strip().lower()] = v.strip().lower().replace("!important", "").strip()
    return out


def _int_attr(el, name: str) -> int:
    v = (el.get(name) or "1").strip()
    m = re.match(r"[+-]?\d+", v)
    if not m:
        return 1
    s = m.group(0)
    if len(s.lstrip("+-")) > 12:  # absurd value: keep it huge so the limit check reports it
        return 10**13
    return int(s)


def _border_px(value: str) -> float | None:
    if not value:
        return None
    if "none" in value or "hidden" in value:
        return 0.0
    m = re.search(r"(\d+(?:\.\d+)?)\s*px", value)
    if m:
        return float(m.group(1))
    for word, px in (("thin", 1.0), ("medium", 3.0), ("thick", 5.0)):
        if word in value:
            return px
    m = re.match(r"^(\d+(?:\.\d+)?)$", value.strip())
    if m:
        return float(m.group(1))
    return 1.0 if value.strip() else None


def _background(style: dict[str, str]) -> str | None:
    v = style.get("background-color") or style.get("background")
    if not v:
        return None
    if v in ("transparent", "none", "initial", "inherit"):
        return None
    m = _COLOR_RE.search(v)
    return m.group(1) if m else None


class _TextWalker:
    """Collect a cell's text with <br>/block line breaks and bold/italic coverage."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, bool, bool]] = []

    def walk(self, el, bold: bool, italic: bool) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        style = _style(el) if tag else {}
        fw = style.get("font-weight", "")
        if tag in _BOLD_TAGS or fw in ("bold", "bolder") or (fw.isdigit() and int(fw) >= 600):
            bold = True
        elif fw in ("normal", "lighter") or (fw.isdigit() and int(fw) < 600):
            bold = False
        fs = style.get("font-style", "")
        if tag in _ITALIC_TAGS or fs in ("italic", "oblique"):
            italic = True
        elif fs == "normal":
            italic = False
        if tag == "br":
            self.chunks.append(("\n", bold, italic))
        elif tag in ("script", "style"):
            pass
        else:
            if tag in _BLOCK_TAGS:
                self.chunks.append(("\n", bold, italic))
            if el.text and tag:
                self.chunks.append((el.text, bold, italic))
            for child in el:
                if isinstance(child.tag, str):
                    self.walk(child, bold, italic)
                if child.tail:
                    self.chunks.append((child.tail, bold, italic))
            if tag in _BLOCK_TAGS:
                self.chunks.append(("\n", bold, italic))

    def result(self) -> tuple[str, bool, bool]:
        text = "".join(_SPACE.sub(" ", t) if t != "\n" else "\n" for t, _, _ in self.chunks)
        lines = [ln.strip() for ln in text.split("\n")]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        collapsed: list[str] = []
        for ln in lines:  # block elements add breaks on both sides; keep single blank lines out
            if ln or (collapsed and collapsed[-1]):
                collapsed.append(ln)
        visible = [(t, b, i) for t, b, i in self.chunks if t.strip()]
        bold = bool(visible) and all(b for _, b, _ in visible)
        italic = bool(visible) and all(i for _, _, i in visible)
        return "\n".join(collapsed).strip("\n"), bold, italic


def _cell(el, in_thead: bool, row_style: dict[str, str], row_align: str | None) -> Cell:
    tag = el.tag.lower()
    style = _style(el)
    w = _TextWalker()
    base_bold = False
    fw = row_style.get("font-weight", "")
    if fw in ("bold", "bolder") or (fw.isdigit() and int(fw) >= 600):
        base_bold = True
    w.walk(el, base_bold, row_style.get("font-style") == "italic")
    text, bold, italic = w.result()
    header = tag == "th"
    if header:
        # <th> is bold by default; only an explicit font-weight: normal makes it plain
        fw = style.get("font-weight", "")
        bold = not (fw in ("normal", "lighter") or (fw.isdigit() and int(fw) < 600))
    align = style.get("text-align") or (el.get("align") or "").lower() or row_align
    if align in ("start", "justify"):
        align = "left"
    elif align == "end":
        align = "right"
    elif align == "middle":
        align = "center"
    if align not in ("left", "center", "right"):
        align = None
    border = _border_px(style.get("border", "")) if "border" in style else None
    if border is None and "border-width" in style:
        border = _border_px(style["border-width"])
    return Cell(
        text=text, rowspan=_int_attr(el, "rowspan"), colspan=_int_attr(el, "colspan"),
        header=header, align=align, bold=bold, italic=italic,
        background=_background(style) or _background(row_style) or (el.get("bgcolor") or None),
        border=border,
    )


def parse_html(code: str, limits: TableLimits) -> Table:
    """Parse the first ``<table>`` of an HTML fragment or document."""
    try:
        import lxml.html
        from lxml import etree
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise TableParseError("HTML tables need lxml: pip install 'verm[tables]'",
                              "missing_dependency", "html") from exc
    # cheap pre-check so a hostile document fails before the parser builds a huge tree
    n_tags = len(re.findall(r"<\s*t[dh][\s>/]", code, re.I))
    if n_tags > limits.max_cells:
        raise TableParseError(f"table has more than {limits.max_cells} cells (found {n_tags} "
                              "cell tags)", "too_large", "html")
    try:
        root = lxml.html.fromstring(code)
    except (etree.ParserError, ValueError) as exc:
        raise TableParseError(f"HTML could not be parsed: {exc}", "syntax", "html") from exc
    tables = [root] if root.tag == "table" else root.xpath("//table")
    if not tables and re.search(r"<\s*tr\b", code, re.I):
        # bare rows without <table>: the parser drops them, so wrap them as a fragment
        root = lxml.html.fromstring("<table>" + code + "</table>")
        tables = [root] if root.tag == "table" else root.xpath("//table")
    if not tables:
        raise TableParseError("no <table> element found", "no_table", "html")
    table = tables[0]
    rows: list[list[Cell]] = []
    n_cells = 0
    for tr in _rows(table):
        if len(rows) >= limits.max_rows:
            raise TableParseError(f"table has more than {limits.max_rows} rows", "too_large",
                                  "html")
        parent = tr.getparent()
        in_thead = parent is not None and parent.tag == "thead"
        rstyle = _style(tr)
        ralign = (rstyle.get("text-align") or tr.get("align") or "").lower() or None
        if parent is not None and parent.tag in ("thead", "tbody", "tfoot"):
            ps = _style(parent)
            rstyle = {**ps, **rstyle}
        row = []
        for el in tr:
            if not isinstance(el.tag, str) or el.tag not in ("td", "th"):
                continue
            n_cells += 1
            if n_cells > limits.max_cells:
                raise TableParseError(f"table has more than {limits.max_cells} cells",
                                      "too_large", "html")
            c = _cell(el, in_thead, rstyle, ralign)
            if in_thead and el.tag == "td":
                c.header = True  # a <td> in <thead> is still part of the header row
            row.append(c)
        rows.append(row)
    # drop trailing rows without cells (an empty <tr/>) but keep inner ones as browsers do
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        raise TableParseError("<table> has no cells", "empty", "html")
    return finalize(rows, limits, "html")


def _rows(table):
    """``<tr>`` elements of ``table`` (not of nested tables), thead first and tfoot last."""
    head, body, foot = [], [], []
    for child in table:
        if not isinstance(child.tag, str):
            continue
        t = child.tag.lower()
        if t == "tr":
            body.append(child)
        elif t in ("thead", "tbody", "tfoot"):
            trs = [x for x in child if isinstance(x.tag, str) and x.tag.lower() == "tr"]
            (head if t == "thead" else foot if t == "tfoot" else body).extend(trs)
    return head + body + foot
