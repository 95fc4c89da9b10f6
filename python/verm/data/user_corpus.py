"""User corpora: JSONL of ground-truth code -> labelled perturbation samples.

Each line is ``{"kind": "svg" | "table" | "chart", "code": "...", "fmt": optional, "id": optional}``
(``fmt``: ``svg``; ``markdown`` / ``html`` / ``latex`` (detected when absent); ``matplotlib``).

* SVG: parsed as XML; edits act on elements (recolour, stroke width, remove, add a shifted copy,
  move, scale, rotate, text change, z-order). The GT is the parsed document written back
  unchanged (same drawing, canonical markup), so identical pairs are byte-identical.
* Tables: parsed by :func:`verm.tables.parse`, turned into :mod:`verm.data.table_gen`'s model and
  re-emitted in the same format (the GT is that canonical re-emission); every table family except
  ``split_cells`` (which would alter the GT) applies.
* Matplotlib code: edits of the source at exact AST positions, the rest of the program untouched:
  title / axis-label text, colour literals, legend labels, line style / marker, numeric data
  literals, ``set_ylim``/``set_xlim`` ranges, ``grid(True)``.

Code the engine cannot use raises :class:`CorpusSkip` with a short reason (counted and reported by
``verm synth --from-jsonl``). Every label carries a ``probe`` (the GT with only that edit): synthesis
renders it and takes the label's bbox (and, for SVG, the area-rule severity and location phrase)
from where it differs from the GT render.
"""

from __future__ import annotations

import ast
import copy
import json
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verm.data.common import LabeledError, Sample, color_distance, color_name
from verm.records import KINDS

__all__ = ["CorpusSkip", "UserRecord", "load_corpus", "make_user_sample"]

MAX_CODE_CHARS = 500_000


class CorpusSkip(ValueError):
    """A corpus record the engine cannot perturb; ``reason`` is a short counted key."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass
class UserRecord:
    """One usable corpus line."""

    line: int
    kind: str
    code: str
    fmt: str | None = None
    id: str = ""


def load_corpus(path: str | Path) -> tuple[list[UserRecord], dict[str, int]]:
    """Read a corpus JSONL. Returns the usable records and counts of lines skipped by reason."""
    records: list[UserRecord] = []
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                skip("bad_json")
                continue
            if not isinstance(d, dict) or not isinstance(d.get("code"), str) or not d["code"].strip():
                skip("missing_code")
                continue
            if d.get("kind") not in KINDS:
                skip("unknown_kind")
                continue
            fmt = d.get("fmt")
            records.append(UserRecord(n, d["kind"], d["code"], str(fmt).lower() if fmt else None,
                                      str(d.get("id", n))))
    return records, skipped


def make_user_sample(rec: UserRecord, seed: int, n_errors: int) -> Sample:
    """A labelled sample from one corpus record (raises :class:`CorpusSkip`, never anything else for
    bad input: an unexpected failure while editing is reported as ``<kind>:edit_failed``)."""
    try:
        return _make_user_sample(rec, seed, n_errors)
    except CorpusSkip:
        raise
    except (ValueError, IndexError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise CorpusSkip(f"{rec.kind}:edit_failed", f"{type(exc).__name__}: {exc}") from exc


def _make_user_sample(rec: UserRecord, seed: int, n_errors: int) -> Sample:
    if len(rec.code) > MAX_CODE_CHARS:
        raise CorpusSkip(f"{rec.kind}:too_large")
    rng = random.Random(seed)
    meta = {"source": "user", "user_id": rec.id}
    if rec.kind == "svg":
        gt, pred, errors = svg_edits(rec.code, rng, n_errors)
        return Sample("svg", "svg", gt, pred, errors, seed, meta)
    if rec.kind == "table":
        return table_sample(rec.code, rec.fmt, rng, n_errors, seed, meta)
    fmt = rec.fmt or ("vegalite" if rec.code.lstrip().startswith("{") else "matplotlib")
    if fmt in ("vegalite", "vega-lite", "json"):
        gt, pred, errors = spec_edits(rec.code, rng, n_errors)
        return Sample("chart", "vegalite", gt, pred, errors, seed, meta)
    if fmt not in ("matplotlib", "python"):
        raise CorpusSkip(f"chart:unsupported_fmt_{fmt}")
    gt, pred, errors = mpl_edits(rec.code, rng, n_errors)
    return Sample("chart", "matplotlib", gt, pred, errors, seed, meta)


# ======================================================================================= tables
_NUM_TYPES = [("pct", re.compile(r"[+-]\d+\.\d")), ("int", re.compile(r"-?\d{1,3}(,\d{3})+|-?\d+")),
              ("float1", re.compile(r"-?\d+\.\d")), ("float3", re.compile(r"-?\d+\.\d{3}")),
              ("money", re.compile(r"-?\d{1,3}(,\d{3})*\.\d{2}|-?\d+\.\d{2}"))]


def _column_type(values: list[str]) -> tuple[str, Any]:
    vals = [v.strip() for v in values if v.strip()]
    if vals:
        for name, pat in _NUM_TYPES:
            if all(pat.fullmatch(v) for v in vals):
                nums = [float(v.replace(",", "")) for v in vals]
                lo, hi = min(nums), max(nums)
                if hi == lo:
                    hi = lo + max(1.0, abs(lo) * 0.5)
                return name, (lo, hi)
    return "text", sorted(set(vals)) or ["-"]


def table_model(code: str, fmt: str | None) -> dict[str, Any]:
    """Parse table code into :mod:`verm.data.table_gen`'s model (raises :class:`CorpusSkip`)."""
    from verm.tables import TableParseError, detect_format, parse

    try:
        fmt = fmt if fmt in ("markdown", "html", "latex") else detect_format(code)
        t = parse(code, fmt)
    except TableParseError as exc:
        raise CorpusSkip(f"table:unparseable_{exc.reason}", str(exc)) from exc
    if t.n_rows < 2 or t.n_cols < 1:
        raise CorpusSkip("table:too_small")
    texts = [[(x or "").replace("\n", " ") for x in row] for row in t.texts()]
    spans = []
    for c in t.cells:
        if c.rowspan == 1 and c.colspan == 1:
            continue
        if c.row == 0:
            raise CorpusSkip("table:header_span")
        if fmt == "latex" and c.rowspan > 1:
            raise CorpusSkip("table:latex_rowspan")
        if fmt == "markdown":
            continue
        spans.append((c.row - 1, c.col, c.rowspan, c.colspan))
    covered = {(r - 1, k) for (r0, c0, rs, cs) in spans for r in range(r0 + 1, r0 + 1 + rs)
               for k in range(c0, c0 + cs)} - {(r0, c0) for (r0, c0, _, _) in spans}
    header = texts[0]
    rows = [list(r) for r in texts[1:]]
    types, args, align = [], [], []
    for k in range(t.n_cols):
        col = [rows[r][k] for r in range(len(rows)) if (r, k) not in covered]
        ty, arg = _column_type(col)
        types.append(ty)
        args.append(arg)
        votes: dict[str, int] = {}
        for c in t.cells:
            if c.col == k and c.row > 0 and c.colspan == 1:
                a = c.effective_align()
                votes[a] = votes.get(a, 0) + 1
        align.append(max(votes, key=lambda a: votes[a]) if votes else "left")
    return {"fmt": fmt, "header": header, "types": types, "args": args, "rows": rows, "align": align,
            "spans": spans, "caption": None}


def table_sample(code: str, fmt: str | None, rng: random.Random, n_errors: int, seed: int,
                 meta: dict[str, Any]) -> Sample:
    """Perturb a user table through :func:`verm.data.table_gen.perturb_table`."""
    from verm.data.table_gen import FAMILIES, perturb_table

    t = table_model(code, fmt)
    s = perturb_table(t, rng, n_errors, list(FAMILIES), seed, meta)
    if n_errors and not s.errors:
        raise CorpusSkip("table:no_applicable_edit")
    return s


# ========================================================================================== SVG
SVG_NS = "http://www.w3.org/2000/svg"
_SHAPES = {"rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text", "use", "image", "g"}
_NON_RENDERED = {"defs", "clipPath", "mask", "symbol", "pattern", "marker", "linearGradient", "radialGradient",
                 "filter", "style", "title", "desc", "metadata", "script", "font", "foreignObject", "switch"}
_PALETTE = ["#e63946", "#1d3557", "#2a9d8f", "#f4a261", "#8338ec", "#ffbe0b", "#3a86ff", "#386641",
            "#111111", "#ff006e", "#00b4d8", "#9a031e"]
_NAMES = {"rect": "rectangle", "circle": "circle", "ellipse": "ellipse", "line": "line", "polyline": "polyline",
          "polygon": "polygon", "path": "path", "text": "text", "use": "reused symbol", "image": "image",
          "g": "group"}
_WORDS = ["OK", "GO", "Home", "Save", "Play", "Mail", "Cloud", "Shop", "Star", "Map", "Info", "Help"]


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse_svg(code: str) -> ET.Element:
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    try:
        root = ET.fromstring(code)
    except ET.ParseError as exc:
        raise CorpusSkip("svg:xml_error", str(exc)) from exc
    if _local(root.tag) != "svg":
        raise CorpusSkip("svg:not_svg_root")
    return root


def _index(root: ET.Element) -> dict[tuple[int, ...], tuple[ET.Element, ET.Element]]:
    """Drawable elements by child-index path, with their parents (non-rendered subtrees skipped)."""
    out: dict[tuple[int, ...], tuple[ET.Element, ET.Element]] = {}

    def walk(el: ET.Element, path: tuple[int, ...]) -> None:
        for i, ch in enumerate(list(el)):
            name = _local(ch.tag)
            if name in _NON_RENDERED or name not in _SHAPES:
                continue
            p = path + (i,)
            out[p] = (ch, el)
            if name == "g":
                walk(ch, p)

    walk(root, ())
    return out


def _style_get(el: ET.Element, prop: str) -> str | None:
    for part in (el.get("style") or "").split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            if k.strip() == prop:
                return v.strip()
    return el.get(prop)


def _style_set(el: ET.Element, prop: str, value: str) -> None:
    style = el.get("style") or ""
    parts = [p for p in style.split(";") if p.strip()]
    hit = False
    for i, p in enumerate(parts):
        if ":" in p and p.split(":", 1)[0].strip() == prop:
            parts[i] = f"{prop}:{value}"
            hit = True
    if hit:
        el.set("style", ";".join(parts))
    el.set(prop, value)


def _hex(color: str | None) -> str | None:
    if not color:
        return None
    c = color.strip()
    if c in ("none", "transparent", "currentColor", "inherit") or c.startswith("url("):
        return None
    try:
        from PIL import ImageColor

        rgb = [max(0, min(255, int(v))) for v in ImageColor.getrgb(c)[:3]]
    except (ValueError, AttributeError, TypeError):
        return None
    return "#" + "".join(f"{v:02x}" for v in rgb)


def _num(v: str | None, default: float | None = None) -> float | None:
    if v is None:
        return default
    m = re.match(r"\s*(-?[\d.]+(?:e-?\d+)?)", v)
    if not m:
        return default
    try:
        return float(m.group(1))
    except ValueError:
        return default


def _viewbox(root: ET.Element) -> tuple[float, float]:
    vb = (root.get("viewBox") or "").replace(",", " ").split()
    if len(vb) == 4:
        try:
            return max(float(vb[2]), 1.0), max(float(vb[3]), 1.0)
        except ValueError:
            pass
    return _num(root.get("width"), 100.0) or 100.0, _num(root.get("height"), 100.0) or 100.0


def _centre(el: ET.Element) -> tuple[float, float] | None:
    name = _local(el.tag)
    try:
        if name == "rect":
            x, y = _num(el.get("x"), 0.0), _num(el.get("y"), 0.0)
            w, h = _num(el.get("width")), _num(el.get("height"))
            if w is None or h is None or "%" in (el.get("width", "") + el.get("height", "")):
                return None
            return x + w / 2, y + h / 2  # type: ignore[operator]
        if name in ("circle", "ellipse"):
            return _num(el.get("cx"), 0.0), _num(el.get("cy"), 0.0)  # type: ignore[return-value]
        if name == "line":
            return ((_num(el.get("x1"), 0.0) + _num(el.get("x2"), 0.0)) / 2,  # type: ignore[operator]
                    (_num(el.get("y1"), 0.0) + _num(el.get("y2"), 0.0)) / 2)  # type: ignore[operator]
        if name in ("polygon", "polyline"):
            nums = [float(v) for v in re.findall(r"-?[\d.]+(?:e-?\d+)?", el.get("points", ""))]
            if len(nums) < 4:
                return None
            xs, ys = nums[0::2], nums[1::2]
            return sum(xs) / len(xs), sum(ys) / len(ys)
    except (TypeError, ValueError):
        return None
    return None


def _describe(el: ET.Element) -> str:
    name = _local(el.tag)
    if name == "text":
        txt = "".join(el.itertext()).strip()
        return f'text "{txt[:30]}"' if txt else "text"
    col = _hex(_style_get(el, "fill")) or _hex(_style_get(el, "stroke"))
    return f"{color_name(col)} {_NAMES[name]}" if col else _NAMES[name]


def _add_transform(el: ET.Element, tr: str, outer: bool) -> None:
    old = (el.get("transform") or "").strip()
    el.set("transform", (f"{tr} {old}" if outer else f"{old} {tr}").strip())


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


Edit = Callable[[list[tuple[ET.Element, ET.Element]]], None]


def _svg_candidates(fam: str, idx, rng: random.Random, vb: tuple[float, float]):
    """Return (paths, error, fn) for one edit of family ``fam`` on a random fitting element, or None."""
    items = list(idx.items())
    rng.shuffle(items)
    w, h = vb
    for path, (el, _parent) in items:
        name = _local(el.tag)
        if fam == "recolour" and name != "g":
            key = "fill"
            old = _hex(_style_get(el, "fill"))
            if old is None and name in ("line", "polyline"):
                key, old = "stroke", _hex(_style_get(el, "stroke"))
            if old is None:
                continue
            new = rng.choice([c for c in _PALETTE if color_distance(c, old) > 120])
            desc = f"The {_describe(el)} is {color_name(new)} instead of {color_name(old)}."

            def fn(t, key=key, new=new):
                _style_set(t[0][0], key, new)

            return [path], LabeledError("style_error", 1, "", desc, None, "recolour", severity_rule="area"), fn
        if fam == "stroke_width" and name in ("rect", "circle", "ellipse", "line", "polyline", "polygon", "path"):
            stroke = _hex(_style_get(el, "stroke"))
            sw = _num(_style_get(el, "stroke-width"), 1.0) or 1.0
            unit = max(w, h) / 80
            if stroke is None:
                if name in ("line", "polyline"):
                    continue
                vals = {"stroke": "#222222", "stroke-width": _fmt(3 * unit)}
                desc = f"The {_describe(el)} has a dark outline that the original does not have."
            else:
                vals = {"stroke-width": _fmt(max(sw * 3, sw + 2 * unit))}
                desc = f"The outline of the {_describe(el)} is thicker than in the original."

            def fn(t, vals=vals):
                for k, v in vals.items():
                    _style_set(t[0][0], k, v)

            return [path], LabeledError("style_error", 1, "", desc, None, "stroke_width", severity_rule="stroke"), fn
        if fam == "remove":
            desc = f"The {_describe(el)} is missing."

            def fn(t):
                t[0][1].remove(t[0][0])

            return [path], LabeledError("structure_error", 1, "", desc, None, "remove", severity_rule="area"), fn
        if fam == "add" and name != "g":
            dx = rng.choice([-1, 1]) * rng.uniform(0.1, 0.2) * w
            dy = rng.choice([-1, 1]) * rng.uniform(0.08, 0.18) * h
            desc = f"An extra copy of the {_describe(el)} appears that is not in the original."

            def fn(t, dx=dx, dy=dy):
                el0, parent = t[0]
                dup = copy.deepcopy(el0)
                dup.attrib.pop("id", None)
                _add_transform(dup, f"translate({_fmt(dx)} {_fmt(dy)})", outer=True)
                parent.insert(list(parent).index(el0) + 1, dup)

            return [path], LabeledError("structure_error", 1, "", desc, None, "add", severity_rule="area"), fn
        if fam == "move":
            dx = rng.choice([-1, 1]) * rng.uniform(0.08, 0.18) * w
            dy = rng.choice([-1, 0, 1]) * rng.uniform(0.05, 0.15) * h
            horiz = "right" if dx > 0 else "left"
            vert = "" if dy == 0 else (" and down" if dy > 0 else " and up")
            desc = f"The {_describe(el)} is shifted {horiz}{vert} from its original position."

            def fn(t, dx=dx, dy=dy):
                _add_transform(t[0][0], f"translate({_fmt(dx)} {_fmt(dy)})", outer=True)

            return [path], LabeledError("shape_error", 1, "", desc, None, "move", severity_rule="area"), fn
        if fam in ("scale", "rotate"):
            c = _centre(el)
            if c is None or (fam == "rotate" and name == "circle"):
                continue
            cx, cy = c
            if fam == "scale":
                k = rng.choice([0.55, 0.65, 1.4, 1.6])
                tr = f"translate({_fmt(cx)} {_fmt(cy)}) scale({k}) translate({_fmt(-cx)} {_fmt(-cy)})"
                desc = f"The {_describe(el)} is {'larger' if k > 1 else 'smaller'} than in the original."
            else:
                a = rng.choice([-1, 1]) * rng.choice([25, 35, 50])
                tr = f"rotate({a} {_fmt(cx)} {_fmt(cy)})"
                desc = f"The {_describe(el)} is rotated relative to the original."

            def fn(t, tr=tr):
                _add_transform(t[0][0], tr, outer=False)

            return [path], LabeledError("shape_error", 1, "", desc, None, fam, severity_rule="area"), fn
        if fam == "text_change" and name == "text":
            holder = el if (el.text or "").strip() else next(
                (ch for ch in el.iter() if (ch.text or "").strip()), None)
            if holder is None:
                continue
            old = holder.text.strip()  # type: ignore[union-attr]
            if rng.random() < 0.5 or len(old) < 2:
                new = rng.choice([x for x in _WORDS if x != old])
            else:
                j = rng.randrange(len(old))
                ch = rng.choice([x for x in "ABEKMRSWXZ" if x.lower() != old[j].lower()])
                new = old[:j] + (ch if old[j].isupper() else ch.lower()) + old[j + 1:]
            sub = [i for i, x in enumerate(el.iter()) if x is holder][0]
            desc = f'The text reads "{new}" instead of "{old}".'

            def fn(t, sub=sub, old=old, new=new):
                node = list(t[0][0].iter())[sub]
                node.text = (node.text or "").replace(old, new, 1)

            return [path], LabeledError("text_symbol_error", 1, "", desc, None, "text_change",
                                        severity_rule="area"), fn
        if fam == "z_order":
            sibs = [p for p in idx if p[:-1] == path[:-1] and p != path and p[-1] > path[-1]]
            if not sibs:
                continue
            other = rng.choice(sibs)
            desc = (f"The {_describe(el)} is drawn above the {_describe(idx[other][0])}; the original stacks "
                    "them the other way.")

            def fn(t):
                (a, parent), (b, _) = t
                ia, ib = list(parent).index(a), list(parent).index(b)
                parent.remove(a)
                parent.remove(b)
                for pos, node in sorted([(ia, b), (ib, a)], key=lambda pair: pair[0]):
                    parent.insert(pos, node)

            return [path, other], LabeledError("structure_error", 1, "", desc, None, "z_order",
                                               severity_rule="area"), fn
    return None


SVG_FAMILIES = ("recolour", "stroke_width", "remove", "add", "move", "scale", "rotate", "text_change", "z_order")


def _related(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _apply_svg(code: str, edits: list[tuple[list[tuple[int, ...]], Edit]]) -> str:
    root = _parse_svg(code)
    idx = _index(root)
    resolved = [[idx[p] for p in paths] for paths, _ in edits]  # resolve before any edit moves things
    for (_, fn), targets in zip(edits, resolved):
        fn(targets)
    return ET.tostring(root, encoding="unicode")


def svg_edits(code: str, rng: random.Random, n_errors: int) -> tuple[str, str, list[LabeledError]]:
    """(canonical GT, edited prediction, labels with probes) for user SVG code."""
    root = _parse_svg(code)
    gt = ET.tostring(root, encoding="unicode")
    idx = _index(root)
    if not idx:
        raise CorpusSkip("svg:no_drawable_element")
    vb = _viewbox(root)
    edits: list[tuple[list[tuple[int, ...]], Edit]] = []
    errors: list[LabeledError] = []
    used: list[tuple[int, ...]] = []
    tries = 0
    while len(errors) < n_errors and tries < 40:
        tries += 1
        free = {p: v for p, v in idx.items() if not any(_related(p, u) for u in used)}
        if not free:
            break
        out = _svg_candidates(rng.choice(SVG_FAMILIES), free, rng, vb)
        if out is None:
            continue
        paths, err, fn = out
        err.probe = _apply_svg(gt, [(paths, fn)])
        edits.append((paths, fn))
        errors.append(err)
        used.extend(paths)
    if n_errors and not errors:
        raise CorpusSkip("svg:no_applicable_edit")
    return gt, _apply_svg(gt, edits) if edits else gt, errors


# =================================================================================== matplotlib
_TITLE = {"set_title", "title", "suptitle"}
_XLABEL = {"set_xlabel", "xlabel"}
_YLABEL = {"set_ylabel", "ylabel"}
_PLOT = {"plot", "bar", "barh", "scatter", "hist", "pie", "stackplot", "fill_between", "fill_betweenx", "step",
         "errorbar", "stem", "hlines", "vlines", "axhline", "axvline", "fill", "loglog", "semilogy", "semilogx"}
_COLOR_KW = {"color", "c", "facecolor", "fc", "colors"}
_LS = ["-", "--", "-.", ":"]
_MARKERS = ["o", "s", "^", "D", "v", "x", "*"]
_TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf"]
_SHORT = {"b": "#0000ff", "g": "#008000", "r": "#ff0000", "c": "#00bfbf", "m": "#bf00bf", "y": "#bfbf00",
          "k": "#000000", "w": "#ffffff"}
_TAB_NAMES = ["blue", "orange", "green", "red", "purple", "brown", "pink", "gray", "olive", "cyan"]


def _mpl_hex(c: str) -> str | None:
    c = c.strip()
    if c in _SHORT:
        return _SHORT[c]
    if re.fullmatch(r"C\d", c):
        return _TAB10[int(c[1])]
    if c.startswith("tab:") and c[4:] in _TAB_NAMES:
        return _TAB10[_TAB_NAMES.index(c[4:])]
    return _hex(c)


def _func_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _is_num(n: ast.AST) -> bool:
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
        n = n.operand
    return isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)


def _raw(n: ast.AST) -> Any:
    return n.operand.value if isinstance(n, ast.UnaryOp) else n.value  # type: ignore[attr-defined]


def _num_value(n: ast.AST) -> float:
    if isinstance(n, ast.UnaryOp):
        return -float(n.operand.value)  # type: ignore[attr-defined]
    return float(n.value)  # type: ignore[attr-defined]


def _num_list(n: ast.AST) -> list[ast.AST] | None:
    if isinstance(n, ast.Call) and _func_name(n) in ("array", "asarray") and n.args:
        n = n.args[0]
    if isinstance(n, (ast.List, ast.Tuple)) and len(n.elts) >= 3 and all(_is_num(e) for e in n.elts):
        return list(n.elts)
    return None


@dataclass
class _Site:
    family: str
    node: ast.AST
    info: dict[str, Any]


def _mpl_sites(tree: ast.Module, src: str) -> list[_Site]:
    assigns: dict[str, ast.AST] = {}
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            assigns[st.targets[0].id] = st.value
    has_legend = "legend(" in src
    sites: list[_Site] = []
    n_colors = 0
    seen_data: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _func_name(node)
        first = node.args[0] if node.args else None
        is_str = isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.strip()
        if name in _TITLE and is_str:
            sites.append(_Site("title_text", first, {}))  # type: ignore[arg-type]
        elif name in _XLABEL | _YLABEL and is_str:
            sites.append(_Site("axis_label", first, {"axis": "x" if name in _XLABEL else "y"}))  # type: ignore[arg-type]
        elif name in ("set_ylim", "ylim", "set_xlim", "xlim") and len(node.args) == 2 and all(
                _is_num(a) for a in node.args):
            sites.append(_Site("axis_range", node.args[1], {"axis": "y" if "y" in name else "x",
                                                            "lo": _num_value(node.args[0])}))
        elif name == "grid" and isinstance(first, ast.Constant) and first.value is True:
            sites.append(_Site("grid", first, {}))
        if name not in _PLOT:
            continue
        for kw in node.keywords:
            v = kw.value
            if kw.arg in _COLOR_KW:
                if isinstance(v, ast.Constant) and isinstance(v.value, str) and _mpl_hex(v.value):
                    sites.append(_Site("color", v, {"old": _mpl_hex(v.value)}))
                    n_colors += 1
                elif isinstance(v, (ast.List, ast.Tuple)):
                    for e in v.elts:
                        if isinstance(e, ast.Constant) and isinstance(e.value, str) and _mpl_hex(e.value):
                            sites.append(_Site("color", e, {"old": _mpl_hex(e.value)}))
                            n_colors += 2
            elif kw.arg == "label" and has_legend and isinstance(v, ast.Constant) and isinstance(v.value, str) \
                    and v.value.strip():
                sites.append(_Site("legend_text", v, {}))
            elif kw.arg in ("linestyle", "ls") and isinstance(v, ast.Constant) and v.value in _LS:
                sites.append(_Site("marker_line_style", v, {"what": "line style", "pool": _LS}))
            elif kw.arg == "marker" and isinstance(v, ast.Constant) and v.value in _MARKERS:
                sites.append(_Site("marker_line_style", v, {"what": "markers", "pool": _MARKERS}))
        for a in node.args[:3]:
            target = assigns.get(a.id) if isinstance(a, ast.Name) else a
            elts = _num_list(target) if target is not None else None
            if elts and id(target) not in seen_data:
                seen_data.add(id(target))
                sites.append(_Site("data_value", target, {"elts": elts}))  # type: ignore[arg-type]
    for s in sites:
        if s.family == "color":
            s.info["single"] = n_colors == 1
    return sites


class _Source:
    """Byte-offset edits on Python source (ast columns are UTF-8 byte offsets)."""

    def __init__(self, src: str) -> None:
        self.data = src.encode("utf-8")
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.starts[node.lineno - 1] + node.col_offset,  # type: ignore[attr-defined]
                self.starts[node.end_lineno - 1] + node.end_col_offset)  # type: ignore[attr-defined]

    def apply(self, ops: list[tuple[int, int, str]]) -> str:
        data = self.data
        for a, b, text in sorted(ops, reverse=True):
            data = data[:a] + text.encode("utf-8") + data[b:]
        return data.decode("utf-8")


def _mpl_edit(site: _Site, rng: random.Random, src: _Source) -> tuple[list[tuple[int, int, str]], LabeledError] | None:
    fam, node, info = site.family, site.node, site.info
    if fam in ("title_text", "axis_label", "legend_text"):
        from verm.data.chart_gen import _alter_text

        old = node.value  # type: ignore[attr-defined]
        if fam == "title_text":
            new = _alter_text(rng, old)
            err = LabeledError("text_error", 2, "chart title", f'The title reads "{new}" instead of "{old}".',
                               None, fam)
        elif fam == "axis_label":
            new = old.split(" (")[0] + " (units)" if " (" in old or rng.random() < 0.5 else old + " index"
            err = LabeledError("text_error", 1, f"{info['axis']}-axis label",
                               f'The axis label reads "{new}" instead of "{old}".', None, fam)
        else:
            new = old + rng.choice([" (est.)", " total", "*"])
            err = LabeledError("text_error", 1, "legend", f'The legend entry reads "{new}" instead of "{old}".',
                               None, fam)
        return [(*src.span(node), repr(new))], err
    if fam == "color":
        old = info["old"]
        new = rng.choice([c for c in _TAB10 + _PALETTE if color_distance(c, old) > 130])
        err = LabeledError("style_error", 2 if info["single"] else 1, "plot area",
                           f"An element drawn in {color_name(old)} is {color_name(new)} instead.", None, fam)
        return [(*src.span(node), repr(new))], err
    if fam == "marker_line_style":
        old = node.value  # type: ignore[attr-defined]
        new = rng.choice([x for x in info["pool"] if x != old])
        return [(*src.span(node), repr(new))], LabeledError(
            "style_error", 1, "plot area", f"A series uses different {info['what']} ({new!r} instead of {old!r}).",
            None, fam)
    if fam == "grid":
        return [(*src.span(node), "False")], LabeledError("style_error", 1, "plot area",
                                                          "Grid lines are missing unlike the original.", None, fam)
    if fam == "axis_range":
        hi = _num_value(node)
        lo = info["lo"]
        new = round(lo + (hi - lo) * rng.choice([1.6, 2.2]), 3)
        return [(*src.span(node), repr(new))], LabeledError(
            "structure_error", 2, f"{info['axis']} axis", f"The {info['axis']}-axis range ends at {new:g} instead "
            f"of {hi:g}.", None, fam)
    if fam == "data_value":
        elts = info["elts"]
        vals = [_num_value(e) for e in elts]
        span = max(vals) - min(vals) or abs(vals[0]) or 1.0
        n = rng.choice([1, 1, 2])
        idx = rng.sample(range(len(elts)), n)
        ops = []
        for i in idx:
            v = vals[i] + rng.choice([-1, 1]) * max(0.35 * span, 0.25 * abs(vals[i]))
            if vals[i] >= 0 > v:
                v = vals[i] + 0.5 * span
            is_int = all(isinstance(_raw(e), int) for e in elts)
            ops.append((*src.span(elts[i]), repr(int(round(v))) if is_int else repr(round(v, 2))))
        pos = ", ".join(str(i + 1) for i in sorted(idx))
        return ops, LabeledError("data_error", 2 if n == 1 else 3, "plot area",
                                 f"Data values at position{'s' if n > 1 else ''} {pos} of a series are wrong.",
                                 None, fam)
    return None


def mpl_edits(code: str, rng: random.Random, n_errors: int) -> tuple[str, str, list[LabeledError]]:
    """(GT code unchanged, edited code, labels with probes) for user matplotlib code."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError) as exc:
        raise CorpusSkip("chart:syntax_error", str(exc)) from exc
    sites = _mpl_sites(tree, code)
    if not sites:
        raise CorpusSkip("chart:no_editable_site")
    src = _Source(code)
    rng.shuffle(sites)
    ops: list[tuple[int, int, str]] = []
    errors: list[LabeledError] = []
    fams: set[str] = set()
    for site in sites:
        if len(errors) >= n_errors:
            break
        if site.family in fams and site.family in ("title_text", "axis_range", "grid", "data_value"):
            continue
        out = _mpl_edit(site, rng, src)
        if out is None:
            continue
        site_ops, err = out
        if any(a < d and c < b for a, b, _ in site_ops for c, d, _ in ops):
            continue
        err.probe = src.apply(site_ops)
        ops.extend(site_ops)
        errors.append(err)
        fams.add(site.family)
    if n_errors and not errors:
        raise CorpusSkip("chart:no_applicable_edit")
    return code, src.apply(ops) if ops else code, errors


# =============================================================================== chart specs
def _spec_sites(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    enc = spec.get("encoding") or {}
    rows = (spec.get("data") or {}).get("values") or []
    mark = spec["mark"] if isinstance(spec["mark"], str) else spec["mark"].get("type")
    sites: list[tuple[str, Any]] = []
    title = spec.get("title")
    if isinstance(title, str) and title.strip() or isinstance(title, dict) and str(title.get("text", "")).strip():
        sites.append(("title_text", None))
    for ch in ("x", "y"):
        d = enc.get(ch)
        if isinstance(d, dict) and "field" in d:
            sites.append(("axis_label", ch))
    color = enc.get("color") or {}
    if "field" not in color:
        sites.append(("color", "mark"))
    elif isinstance((color.get("scale") or {}).get("range"), list) and color["scale"]["range"]:
        sites.append(("color", "range"))
    for ch in ("y", "x", "theta"):
        d = enc.get(ch)
        if isinstance(d, dict) and d.get("type") == "quantitative" and "field" in d and rows:
            sites.append(("data_value", ch))
            if ch != "theta" and mark in ("bar", "line", "area", "point"):
                sites.append(("axis_range", ch))
            break
    if color.get("type") == "nominal" and "field" in color and len({str(r.get(color["field"])) for r in rows}) > 1:
        sites.append(("series_dropped", color["field"]))
    if mark in ("bar", "line"):
        sites.append(("chart_type", mark))
    return sites


def _spec_edit(site: tuple[str, Any], spec: dict[str, Any], rng: random.Random):
    """(op, label) for one site; op edits a spec dict in place."""
    from verm.data.chart_gen import _alter_text

    fam, arg = site
    enc = spec.get("encoding") or {}
    if fam == "title_text":
        old = spec["title"] if isinstance(spec["title"], str) else str(spec["title"]["text"])
        new = _alter_text(rng, old)

        def op(x):
            x["title"] = new

        return op, LabeledError("text_error", 2, "chart title", f'The title reads "{new}" instead of "{old}".',
                                None, fam)
    if fam == "axis_label":
        d = enc[arg]
        axis = d.get("axis") if isinstance(d.get("axis"), dict) else {}
        old = axis.get("title", d.get("title", d["field"]))
        if old is None:
            return None
        old = str(old)
        new = old.split(" (")[0] + " (units)" if " (" in old or rng.random() < 0.5 else old + " index"

        def op(x):
            dd = x["encoding"][arg]
            if not isinstance(dd.get("axis"), dict):
                dd["axis"] = {}
            dd["axis"]["title"] = new

        return op, LabeledError("text_error", 1, f"{arg}-axis title", f'The axis title reads "{new}" instead of '
                                f'"{old}".', None, fam)
    if fam == "color":
        if arg == "mark":
            m = spec["mark"] if isinstance(spec["mark"], dict) else {"type": spec["mark"]}
            old = _hex(str(((enc.get("color") or {}).get("value")) or m.get("color") or "#4c78a8")) or "#4c78a8"
            new = rng.choice([c for c in _TAB10 + _PALETTE if color_distance(c, old) > 130])

            def op(x):
                mk = x["mark"] if isinstance(x["mark"], dict) else {"type": x["mark"]}
                mk["color"] = new
                x["mark"] = mk
                c = (x.get("encoding") or {}).get("color")
                if isinstance(c, dict) and "value" in c:  # a colour value would override the mark's
                    del x["encoding"]["color"]

            return op, LabeledError("style_error", 2, "plot area", f"The marks are {color_name(new)} instead of "
                                    f"{color_name(old)}.", None, fam)
        rng_list = enc["color"]["scale"]["range"]
        i = rng.randrange(len(rng_list))
        old = _hex(str(rng_list[i]))
        if old is None:
            return None
        new = rng.choice([c for c in _TAB10 + _PALETTE if color_distance(c, old) > 130])

        def op(x):
            x["encoding"]["color"]["scale"]["range"][i] = new

        return op, LabeledError("style_error", 1, "plot area", f"A series drawn in {color_name(old)} is "
                                f"{color_name(new)} instead.", None, fam)
    if fam == "data_value":
        field = enc[arg]["field"]
        rows = spec["data"]["values"]
        vals = [(i, r.get(field)) for i, r in enumerate(rows)]
        vals = [(i, float(v)) for i, v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(vals) < 2:
            return None
        nums = [v for _, v in vals]
        span = max(nums) - min(nums) or abs(nums[0]) or 1.0
        i, v = rng.choice(vals)
        new = v + rng.choice([-1, 1]) * max(0.35 * span, 0.25 * abs(v))
        if v >= 0 > new:
            new = v + 0.5 * span
        new_v: float | int = int(round(new)) if isinstance(rows[i][field], int) else round(new, 2)

        def op(x):
            x["data"]["values"][i][field] = new_v

        return op, LabeledError("data_error", 2, "plot area", f'The value of "{field}" in data row {i + 1} is '
                                f"{new_v} instead of {rows[i][field]}.", None, fam)
    if fam == "axis_range":
        field = enc[arg]["field"]
        nums = [float(r[field]) for r in spec["data"]["values"] if isinstance(r.get(field), (int, float))]
        if not nums:
            return None
        dom = [min(0.0, min(nums)), round(max(nums) * rng.choice([1.8, 2.5]) or 1.0, 2)]

        def op(x):
            d = x["encoding"][arg]
            d["scale"] = dict(d.get("scale") or {}, domain=dom)

        return op, LabeledError("structure_error", 2, f"{arg} axis", f"The {arg}-axis range differs from the "
                                "original.", None, fam)
    if fam == "series_dropped":
        values = sorted({str(r.get(arg)) for r in spec["data"]["values"]})
        drop = rng.choice(values)

        def op(x):
            x["data"]["values"] = [r for r in x["data"]["values"] if str(r.get(arg)) != drop]

        return op, LabeledError("data_error", 3, "plot area", f'The series "{drop}" is missing.', None, fam)
    if fam == "chart_type":
        new = "line" if arg == "bar" else "bar"

        def op(x):
            if isinstance(x["mark"], dict):
                x["mark"] = {k: v for k, v in x["mark"].items() if k in ("color", "opacity")} | {"type": new}
            else:
                x["mark"] = new

        return op, LabeledError("structure_error", 3, "whole chart", f"The chart is a {new} chart instead of a "
                                f"{arg} chart.", None, fam)
    return None


def spec_edits(code: str, rng: random.Random, n_errors: int) -> tuple[str, str, list[LabeledError]]:
    """(GT code unchanged, edited spec JSON, labels with probes) for a user chart spec."""
    from verm.charts.spec import ChartSpecError, spec_to_svg

    try:
        spec = json.loads(code)
    except ValueError as exc:
        raise CorpusSkip("chart:spec_not_json", str(exc)) from exc
    try:
        spec_to_svg(spec)
    except ChartSpecError as exc:
        raise CorpusSkip("chart:spec_unsupported", str(exc)) from exc
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise CorpusSkip("chart:spec_invalid", str(exc)) from exc
    sites = _spec_sites(spec)
    rng.shuffle(sites)
    pred = copy.deepcopy(spec)
    errors: list[LabeledError] = []
    fams: set[str] = set()
    for site in sites:
        if len(errors) >= n_errors:
            break
        fam = site[0]
        if fam in fams or (fam == "chart_type" and n_errors > 1) or \
                ({"data_value", "series_dropped", "axis_range"} & fams and fam in ("data_value", "series_dropped",
                                                                                   "axis_range")):
            continue
        out = _spec_edit(site, pred, rng)
        if out is None:
            continue
        op, err = out
        probe = copy.deepcopy(spec)
        op(probe)
        err.probe = json.dumps(probe, ensure_ascii=False)
        op(pred)
        errors.append(err)
        fams.add(fam)
    if n_errors and not errors:
        raise CorpusSkip("chart:no_applicable_edit")
    return code, json.dumps(pred, ensure_ascii=False) if errors else code, errors
