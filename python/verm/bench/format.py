"""The benchmark item format (one JSON object per line) and a converter for VC-RewardBench.

verm's format::

    {"id": "chart-0001", "kind": "chart" | "table" | "svg",
     "gt_image": "images/chart-0001_gt.png",        # path relative to the JSONL file
     "pred_image": "images/chart-0001_pred.png",
     "errors": [{"category": "data_error", "severity": 2, "location": "...",
                 "description": "...", "bbox": [x0, y0, x1, y1] | null}, ...]}

An item with ``"errors": []`` is an identical pair (used for the false-alarm rate).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verm.records import CATEGORIES, VisualError


class BenchFormatError(ValueError):
    """A benchmark line is malformed; the message names the line and the field."""


@dataclass
class BenchItem:
    """One benchmark pair with its reference error list."""

    id: str
    kind: str
    gt_image: str
    pred_image: str
    errors: list[VisualError] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "gt_image": self.gt_image,
                "pred_image": self.pred_image, "errors": [e.to_dict() for e in self.errors],
                "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict[str, Any], base: Path | None = None) -> BenchItem:
        kind = d.get("kind")
        if kind not in CATEGORIES:
            raise BenchFormatError(f"item {d.get('id')!r}: kind must be one of {list(CATEGORIES)}")
        errors = [VisualError.from_dict(e) for e in d.get("errors") or []]
        for e in errors:
            if e.category not in CATEGORIES[kind]:
                raise BenchFormatError(
                    f"item {d.get('id')!r}: category {e.category!r} is not a {kind} category")

        def resolve(p: str) -> str:
            q = Path(p)
            return str(q if q.is_absolute() or base is None else base / q)

        return cls(id=str(d["id"]), kind=kind, gt_image=resolve(d["gt_image"]),
                   pred_image=resolve(d["pred_image"]), errors=errors, meta=d.get("meta") or {})


def load_bench(path: str | Path) -> list[BenchItem]:
    """Load a benchmark JSONL; image paths resolve relative to the file."""
    path = Path(path)
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(BenchItem.from_dict(json.loads(line), base=path.parent))
        except (KeyError, ValueError, TypeError) as exc:
            raise BenchFormatError(f"{path}:{n}: {exc}") from exc
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        raise BenchFormatError(f"{path}: duplicate item ids")
    return items


def save_bench(items: Iterable[BenchItem], path: str | Path) -> None:
    """Write items as JSONL (paths are written as given)."""
    with open(path, "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it.to_dict()) + "\n")


# VC-RewardBench stores, per item, the task type, the two images and the annotated error list with
# per-category counts. Field names differ between its releases, so the converter accepts the
# spellings below; anything else is reported, never guessed silently.
_VC_KIND = {"chart": "chart", "chart2code": "chart", "table": "table", "table2code": "table",
            "svg": "svg", "svg2code": "svg", "icon": "svg"}
_VC_FIELDS = {
    "id": ("id", "idx", "uid"),
    "kind": ("task", "type", "kind", "category"),
    "gt_image": ("gt_image", "image_gt", "ground_truth_image", "gt_image_path", "origin_image"),
    "pred_image": ("pred_image", "image_pred", "rendered_image", "pred_image_path", "gen_image"),
    "errors": ("errors", "annotations", "error_list", "human_errors"),
}


def _pick(d: dict[str, Any], key: str) -> Any:
    for name in _VC_FIELDS[key]:
        if name in d:
            return d[name]
    raise BenchFormatError(f"no field for {key!r} (tried {', '.join(_VC_FIELDS[key])})")


def convert_vc_rewardbench(src: str | Path, dst: str | Path) -> int:
    """Convert a VC-RewardBench JSON/JSONL annotation file into verm's JSONL. Returns the count.

    Table errors name their category under ``type``; severities are 1-3 as in verm.
    """
    src = Path(src)
    text = src.read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else [
        json.loads(line) for line in text.splitlines() if line.strip()]
    items = []
    for n, row in enumerate(rows):
        kind = _VC_KIND.get(str(_pick(row, "kind")).lower())
        if kind is None:
            raise BenchFormatError(f"row {n}: unknown task {_pick(row, 'kind')!r}")
        errors = []
        for e in _pick(row, "errors") or []:
            cat = e.get("category") or e.get("type") or e.get("error_type")
            if cat and not str(cat).endswith("_error"):
                cat = f"{cat}_error"
            errors.append(VisualError(str(cat), int(e.get("severity", 1)),
                                      str(e.get("location", "")), str(e.get("description", ""))))
        try:
            item_id = str(_pick(row, "id"))
        except BenchFormatError:
            item_id = f"{kind}-{n:06d}"
        items.append(BenchItem(item_id, kind, str(_pick(row, "gt_image")),
                               str(_pick(row, "pred_image")), errors))
    save_bench(items, dst)
    return len(items)
