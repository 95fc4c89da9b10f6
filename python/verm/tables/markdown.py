"""GitHub-Flavored Markdown pipe tables -> :class:`Table`.

Follows the GFM spec: a header row, a delimiter row (``---``, ``:--``, ``:-:``, ``--:``) with the
same number of cells, then body rows until a blank line or a line without a pipe. Body rows
with too few cells are padded, extra cells are dropped. ``\\|`` is a literal pipe (also inside
code spans). Inline ``**bold**``/``__bold__``, ``*italic*``/``_italic_``, `` `code` `` and
``<br>`` are understood; emphasis covering a whole cell sets the cell's bold/italic flag.
"""

from __future__ import annotations

import re

from verm.tables.model import Cell, Table, TableLimits, TableParseError, finalize

_DELIM_CELL = re.compile(r"^\s*(:?)-+(:?)\s*$")
_BR = re.compile(r"<br\s*/?>", re.I)
_ESCAPABLE = set("\\`*_{}[]()#+-.!|<>~\"'$%&,:;=?@^")


def split_row(line: str) -> list[str]:
    """Split one table line on unescaped pipes, dropping the optional outer pipes."""
    s = line.strip()
    cells: list[str] = []
    buf: list[str] = []
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\\" and i + 1 < n and s[i + 1] == "|":
            buf.append("|")
            i += 2
            continue
        if ch == "\\" and i + 1 < n:
            buf.append(s[i:i + 2])
            i += 2
            continue
        if ch == "|":
            cells.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    cells.append("".join(buf))
    if s.startswith("|"):
        cells = cells[1:]
    if s.endswith("|") and not s.endswith("\\|") and cells:
        cells = cells[:-1]
    return [c.strip() for c in cells]


def _is_delimiter(line: str) -> list[str | None] | None:
    if "-" not in line:
        return None
    if "|" not in line and not re.fullmatch(r"\s*:?-+:?\s*", line):
        return None
    parts = split_row(line)
    if not parts:
        return None
    aligns: list[str | None] = []
    for p in parts:
        m = _DELIM_CELL.match(p)
        if not m:
            return None
        left, right = bool(m.group(1)), bool(m.group(2))
        aligns.append("center" if left and right else "right" if right else
                      "left" if left else None)
    return aligns


def _unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_WHOLE = [
    (re.compile(r"^\*\*\*(.+)\*\*\*$", re.S), True, True),
    (re.compile(r"^___(.+)___$", re.S), True, True),
    (re.compile(r"^\*\*(.+)\*\*$", re.S), True, False),
    (re.compile(r"^__(.+)__$", re.S), True, False),
    (re.compile(r"^\*([^*].*)\*$", re.S), False, True),
    (re.compile(r"^_([^_].*)_$", re.S), False, True),
]
_INLINE = [
    re.compile(r"(?<!\\)\*\*(.+?)(?<!\\)\*\*"),
    re.compile(r"(?<![\\\w])__(.+?)(?<!\\)__(?!\w)"),
    re.compile(r"(?<![\\*])\*(?!\s)([^*]+?)(?<![\s\\])\*"),
    re.compile(r"(?<![\\\w])_(?!\s)([^_]+?)(?<![\s\\])_(?!\w)"),
    re.compile(r"(?<!\\)~~(.+?)(?<!\\)~~"),
]


_HTML_BOLD = re.compile(r"<(b|strong)>(.*?)</\1\s*>", re.I | re.S)
_HTML_ITALIC = re.compile(r"<(i|em)>(.*?)</\1\s*>", re.I | re.S)
_HTML_OTHER = re.compile(r"</?(code|sup|sub|span|u|s|del|ins|mark|small|kbd)\b[^>]*>", re.I)


def parse_inline(raw: str) -> tuple[str, bool, bool]:
    """Markdown cell source -> (plain text, bold, italic).

    Inline HTML that GitHub renders in cells is understood: ``<br>`` breaks the line,
    ``<b>/<strong>`` and ``<i>/<em>`` act like ``**``/``*``, a few other inline tags are dropped.
    """
    text = _BR.sub("\n", raw.strip())
    text = _HTML_BOLD.sub(r"**\2**", text)
    text = _HTML_ITALIC.sub(r"*\2*", text)
    text = _HTML_OTHER.sub("", text)
    bold = italic = False
    changed = True
    while changed:
        changed = False
        for pat, b, it in _WHOLE:
            m = pat.match(text)
            if m and m.group(1).strip():
                text = m.group(1)
                bold |= b
                italic |= it
                changed = True
                break
    # code spans keep their content verbatim
    parts = re.split(r"(`+)(.+?)\1", text)
    out = []
    for i in range(0, len(parts), 3):
        seg = parts[i]
        for pat in _INLINE:
            seg = pat.sub(r"\1", seg)
        out.append(_unescape(seg))
        if i + 2 < len(parts):
            out.append(parts[i + 2])
    plain = "\n".join(line.strip() for line in "".join(out).split("\n"))
    return plain, bold, italic


def parse_markdown(code: str, limits: TableLimits) -> Table:
    """Parse the first GFM pipe table in ``code``."""
    lines = code.splitlines()
    start = None
    aligns: list[str | None] = []
    for i in range(len(lines) - 1):
        if "|" not in lines[i] and "|" not in lines[i + 1]:
            continue
        a = _is_delimiter(lines[i + 1])
        if a is None:
            continue
        head = split_row(lines[i])
        if len(head) == len(a) and lines[i].strip():
            start, aligns = i, a
            break
    if start is None:
        if any("|" in ln for ln in lines):
            raise TableParseError(
                "no GFM table found: a header row must be followed by a delimiter row such as "
                "'| --- | --- |' with the same number of cells", "no_table", "markdown")
        raise TableParseError("no Markdown pipe table found", "no_table", "markdown")
    n_cols = len(aligns)
    if n_cols > limits.max_cols:
        raise TableParseError(f"table has {n_cols} columns (limit {limits.max_cols})",
                              "too_large", "markdown")
    src_rows = [split_row(lines[start])]
    for line in lines[start + 2:]:
        if not line.strip() or "|" not in line:
            break
        if len(src_rows) >= limits.max_rows:
            raise TableParseError(f"table has more than {limits.max_rows} rows", "too_large",
                                  "markdown")
        if (len(src_rows) + 1) * n_cols > limits.max_cells:
            raise TableParseError(f"table has more than {limits.max_cells} cells", "too_large",
                                  "markdown")
        src_rows.append(split_row(line))
    rows: list[list[Cell]] = []
    for r, src in enumerate(src_rows):
        src = (src + [""] * n_cols)[:n_cols]
        row = []
        for k, raw in enumerate(src):
            text, bold, italic = parse_inline(raw)
            # header cells are <th>: bold unless the source says otherwise
            row.append(Cell(text=text, header=(r == 0), align=aligns[k], bold=bold or r == 0,
                            italic=italic))
        rows.append(row)
    return finalize(rows, limits, "markdown")
