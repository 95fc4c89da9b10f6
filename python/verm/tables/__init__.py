"""Tables: Markdown / HTML / LaTeX code -> canonical grid, and grid similarity metrics.

>>> from verm.tables import parse, teds
>>> t = parse("| a | b |\\n|---|--:|\\n| 1 | 2 |")
>>> (t.n_rows, t.n_cols, t.cells[3].align)
(2, 2, 'right')
"""

from __future__ import annotations

import re

from verm.tables.metrics import CellScores, cell_scores, normalize_cell_text, teds
from verm.tables.model import DEFAULT_LIMITS, Cell, Table, TableLimits, TableParseError

FORMATS = ("auto", "markdown", "html", "latex")

__all__ = [
    "FORMATS", "Cell", "CellScores", "Table", "TableLimits", "TableParseError", "cell_scores",
    "detect_format", "normalize_cell_text", "parse", "teds",
]

_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)\n\s*```\s*$", re.S)
_LATEX_HINT = re.compile(r"\\begin\s*\{(tabular\*?|tabularx|tabulary|longtable|array)\}")
_HTML_HINT = re.compile(r"<\s*(table|tr|td|th)\b", re.I)
_MD_DELIM = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$", re.M)


def detect_format(code: str) -> str:
    """Guess ``"latex"``, ``"html"`` or ``"markdown"`` from the content.

    Raises :class:`TableParseError` (``reason="unknown_format"``) when nothing looks like a
    table. LaTeX wins over HTML over Markdown when several markers are present, since a tabular
    may contain ``<`` and an HTML table may contain pipes.
    """
    if _LATEX_HINT.search(code):
        return "latex"
    if _HTML_HINT.search(code):
        return "html"
    if _MD_DELIM.search(code) and "|" in code:
        return "markdown"
    if "\\begin{" in code or "&" in code and "\\\\" in code:
        return "latex"
    raise TableParseError(
        "could not detect the table format: expected a GFM pipe table, an HTML <table> or a "
        "LaTeX tabular", "unknown_format", None)


def parse(code: str, fmt: str = "auto", *, limits: TableLimits = DEFAULT_LIMITS) -> Table:
    """Parse table code into the canonical :class:`Table` grid.

    ``fmt`` is ``"auto"`` (detect from content), ``"markdown"`` (GFM pipe table), ``"html"``
    or ``"latex"`` (``tabular``). A surrounding code fence is removed. Any input that is not a
    table, is unbalanced, or exceeds ``limits`` raises :class:`TableParseError` quickly;
    nothing else escapes for bad input.
    """
    if not isinstance(code, str):
        if isinstance(code, bytes):
            code = code.decode("utf-8", errors="replace")
        else:
            raise TypeError(f"table code must be str, got {type(code).__name__}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if len(code) > limits.max_chars:
        raise TableParseError(f"input has {len(code)} characters (limit {limits.max_chars})",
                              "too_large", None if fmt == "auto" else fmt)
    if not code.strip():
        raise TableParseError("empty input", "empty", None if fmt == "auto" else fmt)
    m = _FENCE.match(code)
    if m:
        code = m.group(1)
    if fmt == "auto":
        fmt = detect_format(code)
    try:
        if fmt == "markdown":
            from verm.tables.markdown import parse_markdown

            return parse_markdown(code, limits)
        if fmt == "html":
            from verm.tables.html import parse_html

            return parse_html(code, limits)
        from verm.tables.latex import parse_latex

        return parse_latex(code, limits)
    except TableParseError:
        raise
    except RecursionError as exc:
        raise TableParseError("table nests too deeply", "too_large", fmt) from exc
    except (ValueError, IndexError, KeyError) as exc:  # defensive: report, never crash
        raise TableParseError(f"could not parse {fmt} table: {exc}", "syntax", fmt) from exc
