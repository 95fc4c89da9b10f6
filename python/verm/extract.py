"""Extract the code to render from a policy's free-form response.

``extract(response, kind)`` returns the last fenced block of a language that fits ``kind``;
failing that a raw ``<svg ...>...</svg>`` element (a missing closing tag is repaired), failing
that a bare Markdown or HTML table. ``<think>...</think>`` blocks are ignored, and an unclosed
fence (a truncated response) runs to the end of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Extracted", "LANGUAGES", "extract", "kind_of_language"]

#: Fence language tags accepted for each kind (lower case).
LANGUAGES: dict[str, tuple[str, ...]] = {
    "chart": ("python", "py", "python3", "matplotlib"),
    "svg": ("svg", "xml", "svg+xml", "image/svg+xml"),
    "table": ("html", "markdown", "md", "latex", "tex", "table"),
}

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_SVG_OPEN = re.compile(r"<svg\b", re.I)
_SVG_CLOSE = re.compile(r"</svg\s*>", re.I)
_HTML_TABLE = re.compile(r"<table\b.*?(?:</table\s*>|\Z)", re.S | re.I)
_MD_SEP_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LATEX_TABLE = re.compile(
    r"\\begin\{(tabular\*?|tabularx|longtable|array)\}.*?(?:\\end\{\1\}|\Z)", re.S
)


def _is_md_sep(line: str) -> bool:
    """A Markdown table separator row (``|---|:--:|``); it must contain a pipe."""
    return "|" in line and _MD_SEP_RE.match(line) is not None


@dataclass
class Extracted:
    """Code found in a response.

    ``language`` is the normalised format: ``python``, ``svg``, ``html``, ``markdown`` or
    ``latex``. ``source`` says how it was found (``fence``, ``raw_svg``, ``bare_table``) and
    ``repaired`` whether verm changed it (closed a truncated ``<svg>``).
    """

    code: str
    kind: str
    language: str
    source: str = "fence"
    repaired: bool = False
    truncated: bool = False


def kind_of_language(lang: str) -> str | None:
    """Map a fence language tag to the kind it belongs to, or ``None``."""
    lang = lang.strip().lower()
    for kind, langs in LANGUAGES.items():
        if lang in langs:
            return kind
    return None


def _norm_language(lang: str, code: str) -> str:
    lang = lang.strip().lower()
    if lang in LANGUAGES["chart"]:
        return "python"
    if lang in LANGUAGES["svg"]:
        return "svg"
    if lang in ("markdown", "md"):
        return "markdown"
    if lang in ("latex", "tex"):
        return "latex"
    if lang == "html":
        return "html"
    return _sniff_language(code) or lang


def _sniff_language(code: str) -> str | None:
    """Guess the language of an untagged block from its content."""
    if _SVG_OPEN.search(code) and not re.search(r"<table\b", code, re.I):
        return "svg"
    if re.search(r"<table\b", code, re.I):
        return "html"
    if re.search(r"\\begin\{(tabular|tabularx|longtable|array)", code):
        return "latex"
    if re.search(r"^\s*(import|from)\s+\w+|plt\.|matplotlib", code, re.M):
        return "python"
    if any(_is_md_sep(line) for line in code.splitlines()):
        return "markdown"
    return None


_LANG_KIND = {"python": "chart", "svg": "svg", "html": "table", "markdown": "table", "latex": "table"}


@dataclass
class _Block:
    info: str
    code: str
    closed: bool


def _fenced_blocks(text: str) -> list[_Block]:
    """Top-level fenced code blocks (CommonMark rules: a closing fence uses the same character
    and is at least as long as the opening one, so longer outer fences may nest shorter ones)."""
    blocks: list[_Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group("fence")
        info = m.group("info").strip().split()[0] if m.group("info").strip() else ""
        close = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
        body: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            if close.match(lines[j]):
                closed = True
                break
            body.append(lines[j])
            j += 1
        blocks.append(_Block(info=info, code="\n".join(body), closed=closed))
        i = j + 1
    return blocks


def _repair_svg(code: str) -> tuple[str, bool]:
    """Cut an SVG to its outermost element, adding ``</svg>`` when the text was truncated."""
    m = _SVG_OPEN.search(code)
    if not m:
        return code, False
    start = m.start()
    # Keep an XML declaration / doctype before the element.
    head = code[:start]
    prolog = head if head.strip().startswith("<?xml") or "<!DOCTYPE" in head else ""
    body = code[start:]
    depth = 0
    for t in re.finditer(r"<svg\b|</svg\s*>", body, re.I):
        if t.group(0).lower().startswith("</"):
            depth -= 1
            if depth == 0:
                return (prolog + body[: t.end()]).strip(), False
        else:
            depth += 1
    # Truncated: drop a dangling partial tag, then close every open <svg>.
    lt, gt = body.rfind("<"), body.rfind(">")
    if lt > gt:
        body = body[:lt]
    return (prolog + body.rstrip() + "\n" + "</svg>" * max(depth, 1)).strip(), True


def _bare_table(text: str) -> Extracted | None:
    htmls = list(_HTML_TABLE.finditer(text))
    html = htmls[-1] if htmls else None
    latexes = list(_LATEX_TABLE.finditer(text))
    latex = latexes[-1] if latexes else None
    md = _markdown_table(text)
    cands: list[tuple[int, Extracted]] = []
    if html is not None:
        code = html.group(0)
        truncated = not re.search(r"</table\s*>\s*$", code, re.I)
        cands.append((html.start(), Extracted(code, "table", "html", "bare_table", truncated=truncated)))
    if latex is not None:
        cands.append((latex.start(), Extracted(latex.group(0), "table", "latex", "bare_table")))
    if md is not None:
        cands.append((md[0], Extracted(md[1], "table", "markdown", "bare_table")))
    if not cands:
        return None
    return max(cands, key=lambda c: c[0])[1]


def _markdown_table(text: str) -> tuple[int, str] | None:
    """The last pipe table (header row + separator row + body rows) and its offset."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    found = None
    i = 1
    while i < len(lines):
        if _is_md_sep(lines[i]) and "|" in lines[i - 1]:
            j = i + 1
            while j < len(lines) and "|" in lines[j] and lines[j].strip():
                j += 1
            found = (offsets[i - 1], "\n".join(lines[i - 1 : j]).strip())
            i = j
        else:
            i += 1
    return found


def extract(response: str, kind: str = "auto") -> Extracted | None:
    """Find the code in ``response`` for ``kind`` (``chart``, ``table``, ``svg`` or ``auto``).

    Returns ``None`` when nothing renderable is found. With ``auto`` the kind comes from the
    last block whose language identifies one.
    """
    if kind not in ("auto", "chart", "table", "svg"):
        raise ValueError(f"unknown kind {kind!r}; expected chart, table, svg or auto")
    if not isinstance(response, str) or not response.strip():
        return None
    text = _THINK.sub("", response)

    for block in reversed(_fenced_blocks(text)):
        if not block.code.strip():
            continue
        lang = _norm_language(block.info, block.code)
        # An html/xml block holding an <svg> is SVG code, not a table.
        if lang in ("html", "xml") and _SVG_OPEN.search(block.code) and not re.search(
            r"<table\b", block.code, re.I
        ):
            lang = "svg"
        if lang == "markdown" and kind in ("svg", "chart", "auto"):
            # A markdown block may wrap a nested fenced block of the language we want.
            inner = extract(block.code, kind) if "```" in block.code or "~~~" in block.code else None
            if inner is not None and inner.kind != "table":
                return inner
        block_kind = _LANG_KIND.get(lang)
        if block_kind is None or (kind != "auto" and block_kind != kind):
            continue
        code, repaired = block.code.strip("\n"), False
        if block_kind == "svg":
            code, repaired = _repair_svg(code)
        return Extracted(code, block_kind, lang, "fence", repaired, truncated=not block.closed)

    if kind in ("svg", "auto") and _SVG_OPEN.search(text):
        starts = [m.start() for m in _SVG_OPEN.finditer(text)]
        # The last top-level <svg>: walk back over starts nested in an earlier element.
        start = starts[0]
        depth = 0
        for t in re.finditer(r"<svg\b|</svg\s*>", text, re.I):
            if t.group(0).lower().startswith("</"):
                depth = max(depth - 1, 0)
            else:
                if depth == 0:
                    start = t.start()
                depth += 1
        code, repaired = _repair_svg(text[start:])
        return Extracted(code, "svg", "svg", "raw_svg", repaired, truncated=repaired)

    if kind in ("table", "auto"):
        return _bare_table(text)
    return None
