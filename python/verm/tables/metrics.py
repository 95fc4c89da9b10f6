"""Table similarity: PubTabNet TEDS on the canonical grid, and cell-level precision/recall."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from verm.tables.model import Table, TableParseError


class _Node:
    """A node of the table's HTML tree, as PubTabNet's TEDS builds it."""

    __slots__ = ("tag", "colspan", "rowspan", "content", "children")

    def __init__(self, tag: str, colspan: int = 1, rowspan: int = 1,
                 content: tuple[str, ...] | None = None, children: list[_Node] | None = None):
        self.tag = tag
        self.colspan = colspan
        self.rowspan = rowspan
        self.content = content
        self.children = children or []


def _cell_tokens(cell) -> tuple[str, ...]:
    """Cell content as PubTabNet tokenises it: characters, with formatting tags as tokens."""
    toks: list[str] = []
    for n, line in enumerate(cell.text.split("\n")):
        if n:
            toks.append("<br>")
        toks.extend(line)
    if cell.bold and not cell.header:
        toks = ["<b>", *toks, "</b>"]
    if cell.italic:
        toks = ["<i>", *toks, "</i>"]
    return tuple(toks)


def html_tree(table: Table, structure_only: bool = False) -> tuple[_Node, int]:
    """The ``table > thead/tbody > tr > td`` tree and its PubTabNet node count.

    Header cells are ``td`` inside ``thead`` as in PubTabNet's annotations. The count is the
    number of elements below ``<table>`` including inline ``<b>``/``<i>`` tags, as PubTabNet's
    ``len(table.xpath('.//*'))`` counts them.
    """
    nh = table.header_rows()
    rows = table.rows()
    root = _Node("table")
    count = 0
    for tag, rng in (("thead", range(0, nh)), ("tbody", range(nh, table.n_rows))):
        if not len(rng):
            continue
        sec = _Node(tag)
        count += 1
        for r in rng:
            tr = _Node("tr")
            count += 1
            for c in rows[r]:
                toks = _cell_tokens(c)
                count += 1 + sum(1 for t in toks if t in ("<b>", "<i>", "<br>"))
                tr.children.append(_Node("td", c.colspan, c.rowspan,
                                         None if structure_only else toks))
            sec.children.append(tr)
        root.children.append(sec)
    return root, count


def _python_levenshtein(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@lru_cache(maxsize=1)
def _levenshtein_impl():
    """rapidfuzz's C implementation when installed (the ``data`` extra), else pure Python."""
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        return _python_levenshtein
    return Levenshtein.distance


def _config():
    from apted import Config

    lev = _levenshtein_impl()

    class TedsConfig(Config):
        valuecls = float

        def __init__(self) -> None:
            self._cache: dict[tuple[tuple[str, ...], tuple[str, ...]], float] = {}

        def rename(self, n1: _Node, n2: _Node) -> float:
            if n1.tag != n2.tag or n1.colspan != n2.colspan or n1.rowspan != n2.rowspan:
                return 1.0
            if n1.tag == "td" and (n1.content or n2.content):
                a, b = n1.content or (), n2.content or ()
                if a == b:
                    return 0.0
                key = (a, b)
                cost = self._cache.get(key)
                if cost is None:  # APTED asks for the same pair many times
                    cost = self._cache[key] = lev(a, b) / max(len(a), len(b))
                return cost
            return 0.0

        def children(self, node: _Node) -> list[_Node]:
            return node.children

    return TedsConfig()


def _signature(node: _Node) -> tuple:
    return (node.tag, node.colspan, node.rowspan, node.content,
            tuple(_signature(c) for c in node.children))


def _as_table(x: Table | str, fmt: str) -> Table:
    if isinstance(x, Table):
        return x
    from verm.tables import parse

    return parse(x, fmt)


def teds(pred: Table | str, gt: Table | str, structure_only: bool = False, *,
         fmt: str = "auto") -> float:
    """Tree-edit-distance similarity (PubTabNet's TEDS) between two tables, in [0, 1].

    ``1 - APTED(pred, gt) / max(nodes(pred), nodes(gt))`` on the ``table/thead/tbody/tr/td``
    tree. Renaming a ``td`` costs 1 if its tag or spans differ, else the normalised Levenshtein
    distance of the cell contents (0 with ``structure_only``, i.e. TEDS-Struct). Strings are
    parsed with :func:`verm.tables.parse`; a prediction that does not parse scores 0, a ground
    truth that does not parse raises :class:`TableParseError`.
    """
    try:
        from apted import APTED
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("teds needs the apted package: pip install 'verm[tables]'") from exc
    gt_t = _as_table(gt, fmt)
    try:
        pred_t = _as_table(pred, fmt)
    except TableParseError:
        return 0.0
    t_pred, n_pred = html_tree(pred_t, structure_only)
    t_gt, n_gt = html_tree(gt_t, structure_only)
    n = max(n_pred, n_gt)
    if n == 0 or _signature(t_pred) == _signature(t_gt):
        return 1.0
    dist = APTED(t_pred, t_gt, _config()).compute_edit_distance()
    return max(0.0, 1.0 - float(dist) / n)


_NUM = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_MINUS = dict.fromkeys(map(ord, "\u2212\u2012\u2013\u2014\ufe63\uff0d"), "-")


def normalize_cell_text(text: str) -> str:
    """Canonical cell text for matching: NFKC, one space between words, unified minus signs,
    and numbers written canonically (``"1,234.50"`` -> ``"1234.5"``, ``"+007"`` -> ``"7"``,
    ``"12.0%"`` -> ``"12%"``). Case is kept (a case change is a real text error)."""
    t = unicodedata.normalize("NFKC", text).translate(_MINUS)
    t = " ".join(t.split())
    body, suffix = (t[:-1].rstrip(), "%") if t.endswith("%") else (t, "")
    if body and _NUM.match(body) and any(ch.isdigit() for ch in body):
        try:
            d = Decimal(body.replace(",", ""))
        except InvalidOperation:
            return t
        if d == 0:
            return "0" + suffix
        s = format(d.normalize(), "f")
        return s + suffix
    return t


@dataclass(frozen=True)
class CellScores:
    """Cell-level agreement: matches are equal ``(row, col, normalised text)`` triples."""

    precision: float
    recall: float
    f1: float
    n_pred: int
    n_gt: int
    n_matched: int


def cell_scores(pred: Table | str, gt: Table | str, *, fmt: str = "auto",
                normalize: bool = True) -> CellScores:
    """Precision/recall/F1 of non-empty cells as ``(row, col, text)`` with numeric normalisation.

    A prediction that does not parse has precision 0 and recall 0.
    """
    gt_t = _as_table(gt, fmt)
    try:
        pred_t = _as_table(pred, fmt)
    except TableParseError:
        pred_t = Table()
    norm = normalize_cell_text if normalize else (lambda s: s)

    def key_set(t: Table) -> Counter:
        return Counter((c.row, c.col, norm(c.text)) for c in t.cells if c.text.strip())

    p, g = key_set(pred_t), key_set(gt_t)
    matched = sum((p & g).values())
    n_p, n_g = sum(p.values()), sum(g.values())
    prec = matched / n_p if n_p else (1.0 if not n_g else 0.0)
    rec = matched / n_g if n_g else (1.0 if not n_p else 0.0)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return CellScores(prec, rec, f1, n_p, n_g, matched)
