"""Turn a generative critic's text into a validated :class:`~verm.records.Critique`.

Robust to code fences, prose around the object, ``<think>`` blocks, trailing commas, single
quotes and truncated output (via the maintained ``json-repair`` library). Two shapes are accepted:

* verm's: ``{"<category>_count": n, ..., "errors": [{category, severity, location, description}]}``
* the official Visual-ERM model's: per-category ``*_error_count`` fields (e.g. ``text_error_count``
  or ``layout_count``) and error items that name the category under ``type`` (tables) or
  ``category``/``error_type``; errors may also be grouped per category as lists.

Validation: every error must name a category of the kind (after normalising case, spaces and a
missing ``_error`` suffix) and a severity 1-3 (digits or words such as ``minor``/``severe``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from verm.records import CATEGORIES, Critique, VisualError

__all__ = [
    "CritiqueParseError", "critique_to_json", "normalise_category", "parse_critique",
    "try_parse_critique",
]


class CritiqueParseError(ValueError):
    """The text holds no valid critique."""


_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)(?:```|\Z)", re.S)
_SEVERITY_WORDS = {
    "minor": 1, "low": 1, "small": 1, "slight": 1, "trivial": 1,
    "medium": 2, "moderate": 2, "mid": 2, "major": 2, "normal": 2,
    "severe": 3, "high": 3, "critical": 3, "serious": 3, "large": 3,
}
_ERROR_LIST_KEYS = ("errors", "error_list", "issues", "discrepancies", "differences")
_CATEGORY_KEYS = ("category", "type", "error_type", "error_category", "category_name", "kind")


def normalise_category(value: Any, kind: str) -> str | None:
    """Map spellings like ``"Text Error"``, ``"text"``, ``"TEXT_ERROR"`` to a category of ``kind``."""
    if not isinstance(value, str):
        return None
    v = re.sub(r"[\s\-/]+", "_", value.strip().lower())
    v = re.sub(r"_?errors?$", "", v).strip("_")
    for cat in CATEGORIES[kind]:
        base = cat[: -len("_error")]
        if v in (base, cat):
            return cat
    aliases = {
        "chart": {"data": "data_error", "value": "data_error", "values": "data_error",
                  "color": "style_error", "colour": "style_error", "layout": "structure_error"},
        "svg": {"text": "text_symbol_error", "symbol": "text_symbol_error",
                "text_and_symbol": "text_symbol_error", "color": "style_error",
                "colour": "style_error", "geometry": "shape_error", "layout": "structure_error"},
        "table": {"numeric": "numeric_error", "number": "numeric_error", "numerical": "numeric_error",
                  "structure": "layout_error", "content": "text_error"},
    }
    return aliases[kind].get(v)


def _severity(value: Any) -> int:
    if isinstance(value, bool):
        raise CritiqueParseError(f"bad severity {value!r}")
    if isinstance(value, (int, float)):
        sev = round(float(value))
    elif isinstance(value, str):
        s = value.strip().lower()
        m = re.match(r"^\s*(\d+(?:\.\d+)?)", s)
        if m:
            sev = round(float(m.group(1)))
        elif s in _SEVERITY_WORDS:
            sev = _SEVERITY_WORDS[s]
        else:
            raise CritiqueParseError(f"bad severity {value!r}")
    else:
        raise CritiqueParseError(f"bad severity {value!r}")
    if sev not in (1, 2, 3):
        raise CritiqueParseError(f"severity {value!r} outside 1-3")
    return sev


def _candidates(text: str) -> list[str]:
    """Snippets that may hold the JSON answer, most likely first."""
    body = _THINK.sub("", text).strip()
    out = [m.group(1) for m in _FENCE.finditer(body)][::-1]
    starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
    if starts:
        start = min(starts)
        close = "}" if body[start] == "{" else "]"
        end = body.rfind(close)
        if end > start:
            out.append(body[start : end + 1])  # prose after a complete object
        out.append(body[start:])  # truncated answers
    out.append(body)
    seen: set[str] = set()
    return [c for c in out if c.strip() and not (c in seen or seen.add(c))]


def _looks_like_critique(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    for key, val in obj.items():
        k = str(key).lower()
        if k in _ERROR_LIST_KEYS or k.endswith("_count") or (isinstance(val, list) and "error" in k):
            return True
    return False


def _as_object(obj: Any) -> Any:
    if isinstance(obj, list) and obj and all(isinstance(o, dict) for o in obj):
        # a bare list: a list of errors, or a list holding the answer object
        if len(obj) == 1 and _looks_like_critique(obj[0]):
            return obj[0]
        return {"errors": obj}
    if isinstance(obj, list) and not obj:
        return {"errors": []}
    return obj


def _repair_loads(text: str) -> Any:
    """``json_repair.loads``; without the library only trailing commas are fixed (install the
    ``critic`` extra for full repair of quotes and truncation)."""
    try:
        import json_repair
    except ImportError:
        return json.loads(re.sub(r",\s*([}\]])", r"\1", text))
    return json_repair.loads(text)


def _load_object(text: str) -> dict[str, Any]:
    fallback: dict[str, Any] | None = None
    cands = _candidates(text)
    fenced = set(m.group(1) for m in _FENCE.finditer(_THINK.sub("", text)))
    # strict parses first (a complete object followed by prose), then repairs in order (the
    # to-the-end candidates keep what a truncated answer got right)
    repair_order = sorted(cands, key=lambda c: (c not in fenced, -len(c)))
    attempts = [(c, True) for c in cands] + [(c, False) for c in repair_order]
    for cand, strict in attempts:
        try:
            parsed = [json.loads(cand) if strict else _repair_loads(cand)]
        except Exception:  # json_repair may raise on pathological input
            continue
        for obj in map(_as_object, parsed):
            if _looks_like_critique(obj):
                return obj
            if isinstance(obj, dict) and obj and fallback is None:
                fallback = obj
    if fallback is not None:
        return fallback
    raise CritiqueParseError("no JSON object found")


def _count_key(key: str, kind: str) -> str | None:
    k = key.strip().lower()
    for suffix in ("_count", "_num", "_number"):
        if k.endswith(suffix):
            return normalise_category(k[: -len(suffix)], kind)
    m = re.match(r"^(?:num|n|number_of)_(.+)$", k)
    if m:
        return normalise_category(m.group(1), kind)
    return None


def _error_items(obj: dict[str, Any], kind: str) -> list[tuple[dict[str, Any], str | None]] | None:
    """(item, category-from-grouping) pairs, or ``None`` when the object holds no error list."""
    for key in _ERROR_LIST_KEYS:
        if key in obj:
            val = obj[key]
            if val is None:
                return []
            if isinstance(val, dict):  # grouped: {"errors": {"text_error": [...]}}
                return _grouped(val, kind)
            if not isinstance(val, list):
                raise CritiqueParseError(f'"{key}" must be a list')
            return [(item, None) for item in val]
    grouped = _grouped(obj, kind)
    return grouped if grouped else None


def _grouped(obj: dict[str, Any], kind: str) -> list[tuple[dict[str, Any], str | None]]:
    out = []
    for key, val in obj.items():
        cat = normalise_category(key, kind) if isinstance(val, list) else None
        if cat is not None:
            out.extend((item, cat) for item in val)
    return out


def _to_error(item: Any, group_cat: str | None, kind: str) -> VisualError:
    if isinstance(item, str):
        if group_cat is None:
            raise CritiqueParseError(f"error item is not an object: {item!r}")
        item = {"description": item, "severity": 2}
    if not isinstance(item, dict):
        raise CritiqueParseError(f"error item is not an object: {item!r}")
    raw_cat = next((item[k] for k in _CATEGORY_KEYS if k in item), None)
    cat = normalise_category(raw_cat, kind) if raw_cat is not None else group_cat
    if cat is None:
        raise CritiqueParseError(
            f"unknown category {raw_cat!r} for {kind}; expected one of {', '.join(CATEGORIES[kind])}"
        )
    if "severity" not in item and "level" not in item:
        raise CritiqueParseError("error item without severity")
    sev = _severity(item.get("severity", item.get("level")))
    loc = item.get("location", item.get("position", ""))
    desc = item.get("description", item.get("detail", item.get("reason", "")))
    bbox = item.get("bbox")
    if bbox is not None:
        try:
            bbox = tuple(float(v) for v in bbox)
            if len(bbox) != 4:
                bbox = None
        except (TypeError, ValueError):
            bbox = None
    return VisualError(cat, sev, "" if loc is None else str(loc), "" if desc is None else str(desc), bbox)


def parse_critique(text: str, kind: str) -> Critique:
    """Parse and validate a critic's answer for ``kind``; raises :class:`CritiqueParseError`."""
    if kind not in CATEGORIES:
        raise ValueError(f"unknown kind {kind!r}")
    if not isinstance(text, str) or not text.strip():
        raise CritiqueParseError("empty answer")
    obj = _load_object(text)
    stated: dict[str, int] = {}
    for key, val in obj.items():
        cat = _count_key(key, kind)
        if cat is not None:
            try:
                stated[cat] = int(val)
            except (TypeError, ValueError) as exc:
                raise CritiqueParseError(f"count {key!r} is not an integer: {val!r}") from exc
    items = _error_items(obj, kind)
    if items is None:
        if stated and all(v == 0 for v in stated.values()):
            items = []
        elif stated:
            raise CritiqueParseError("counts given but no error list")
        else:
            raise CritiqueParseError("object has neither an error list nor category counts")
    errors = [_to_error(item, cat, kind) for item, cat in items]
    counts = {c: 0 for c in CATEGORIES[kind]}
    for e in errors:
        counts[e.category] += 1
    return Critique(errors=errors, counts_by_category=counts, raw_text=text, parse_ok=True)


def try_parse_critique(text: str, kind: str) -> tuple[Critique | None, str]:
    """Like :func:`parse_critique` but returns ``(None, reason)`` instead of raising."""
    try:
        return parse_critique(text, kind), ""
    except CritiqueParseError as exc:
        return None, str(exc)


def critique_to_json(critique: Critique, kind: str) -> str:
    """Serialise a critique in verm's critic-output shape (what a generative critic writes)."""
    obj: dict[str, Any] = {f"{c}_count": 0 for c in CATEGORIES[kind]}
    for e in critique.errors:
        obj[f"{e.category}_count"] = obj.get(f"{e.category}_count", 0) + 1
    obj["errors"] = [
        {k: v for k, v in e.to_dict().items() if v is not None} for e in critique.errors
    ]
    return json.dumps(obj)
