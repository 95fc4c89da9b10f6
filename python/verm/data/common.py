"""Shared pieces of the data engine: the sample record, severity rules and location phrases."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from verm.records import CATEGORIES, VisualError

#: Thresholds on the changed area (fraction of the image) used by the area-based severity rule.
AREA_MINOR = 0.025
AREA_SEVERE = 0.12


def severity_from_area(area_frac: float) -> int:
    """The written area rule: < 2.5% of the image -> 1, < 12% -> 2, else 3."""
    if area_frac < AREA_MINOR:
        return 1
    if area_frac < AREA_SEVERE:
        return 2
    return 3


def location_phrase(cx: float, cy: float) -> str:
    """A short phrase for a point given in fractions of the image (0..1)."""
    v = "top" if cy < 1 / 3 else ("bottom" if cy > 2 / 3 else "middle")
    h = "left" if cx < 1 / 3 else ("right" if cx > 2 / 3 else "center")
    if v == "middle" and h == "center":
        return "center"
    if v == "middle":
        return f"middle-{h}"
    if h == "center":
        return f"{v}-center"
    return f"{v}-{h}"


_NAMED = {
    "black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128), "red": (220, 40, 40),
    "orange": (245, 140, 30), "yellow": (240, 210, 40), "green": (50, 160, 70),
    "teal": (30, 150, 150), "blue": (40, 90, 220), "navy": (20, 30, 110), "purple": (130, 60, 170),
    "pink": (235, 110, 170), "brown": (140, 80, 40), "light blue": (140, 190, 240),
    "light green": (150, 220, 140), "dark gray": (60, 60, 60), "beige": (235, 220, 180),
}


def hex_to_rgb(c: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b)."""
    c = c.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def color_name(c: str | tuple[int, int, int]) -> str:
    """Nearest plain colour name for a hex string or RGB triple."""
    rgb = hex_to_rgb(c) if isinstance(c, str) else c
    return min(_NAMED, key=lambda n: sum((a - b) ** 2 for a, b in zip(_NAMED[n], rgb)))


def color_distance(a: str, b: str) -> float:
    """Euclidean RGB distance between two hex colours (0..441)."""
    return sum((x - y) ** 2 for x, y in zip(hex_to_rgb(a), hex_to_rgb(b))) ** 0.5


@dataclass
class LabeledError:
    """A generator-side label: a VisualError whose bbox is in fractions of the image (0..1)."""

    category: str
    severity: int
    location: str
    description: str
    bbox_frac: tuple[float, float, float, float] | None = None
    family: str = ""
    #: table labels: the grid slots they refer to, as (first_row, first_col, last_row, last_col)
    #: in the GT's grid (header row = 0; -1 = "to the last"); turned into a bbox after rendering
    anchor: tuple[int, int, int, int] | None = None
    #: code of the ground truth with only this one edit applied; when set, synthesis renders it and
    #: takes the bbox from where it differs from the GT render (sources without a fixed layout)
    probe: str | None = field(default=None, repr=False)
    #: how the severity follows from that bbox: "" (fixed), "area" (:func:`severity_from_area`) or
    #: "stroke" (1 below 6% of the image, else 2)
    severity_rule: str = ""

    def to_visual_error(self, width: int, height: int) -> VisualError:
        """The record in GT pixels for an image of ``width`` x ``height``."""
        bbox = None
        if self.bbox_frac is not None:
            x0, y0, x1, y1 = self.bbox_frac
            bbox = (round(max(0.0, x0) * width, 1), round(max(0.0, y0) * height, 1),
                    round(min(1.0, x1) * width, 1), round(min(1.0, y1) * height, 1))
        return VisualError(self.category, self.severity, self.location, self.description, bbox)


@dataclass
class Sample:
    """One ground truth and one (possibly perturbed) prediction, as code, with exact labels."""

    kind: str
    fmt: str  # svg | markdown | html | latex | matplotlib
    gt_code: str
    pred_code: str
    errors: list[LabeledError] = field(default_factory=list)
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cats = CATEGORIES[self.kind]
        for e in self.errors:
            if e.category not in cats:
                raise ValueError(f"category {e.category!r} is not one of {cats} for {self.kind}")

    @property
    def identical(self) -> bool:
        return not self.errors

    @property
    def families(self) -> list[str]:
        return [e.family for e in self.errors]

    def content_hash(self) -> str:
        """Hash of (kind, gt code, pred code): the dedup key."""
        h = hashlib.sha1()
        for part in (self.kind, self.gt_code, "\x00", self.pred_code):
            h.update(part.encode("utf-8"))
        return h.hexdigest()


def resize_slice_pair(vals: list, i: int, j: int) -> None:
    """Move 60% of the smaller of two pie slices from slice ``j`` to slice ``i`` (in place)."""
    d = round(min(vals[i], vals[j]) * 0.6, 1)
    vals[i] = round(vals[i] + d, 1)
    vals[j] = round(vals[j] - d, 1)


def shift_values(vals: list, idx, rng) -> None:
    """Push ``vals[i]`` for ``i`` in ``idx`` up or down by a clearly visible amount (in place),
    keeping them positive."""
    span = max(vals) - min(vals) + 1e-6
    for i in idx:
        vals[i] = round(vals[i] + rng.choice([-1, 1]) * max(0.35 * span, 0.25 * abs(vals[i])), 1)
        if vals[i] <= 0:
            vals[i] = round(abs(vals[i]) + 0.5 * span, 1)


def anchor_bbox(anchor: tuple[int, int, int, int], cells: list, width: int, height: int
                ) -> tuple[float, float, float, float] | None:
    """Fractional bbox of grid slots from a table render's ``extra["cells"]`` boxes."""
    r0, c0, r1, c1 = anchor
    n_rows = max((c[0] + c[2] for c in cells), default=0)
    n_cols = max((c[1] + c[3] for c in cells), default=0)
    r1 = n_rows - 1 if r1 < 0 else r1
    c1 = n_cols - 1 if c1 < 0 else c1
    boxes = [c[4:8] for c in cells
             if c[0] <= r1 and c[0] + c[2] - 1 >= r0 and c[1] <= c1 and c[1] + c[3] - 1 >= c0]
    if not boxes or width <= 0 or height <= 0:
        return None
    return unit_bbox(min(b[0] for b in boxes) / width, min(b[1] for b in boxes) / height,
                     max(b[2] for b in boxes) / width, max(b[3] for b in boxes) / height)


def unit_bbox(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """Clip a fractional bbox to the unit square."""
    return (max(0.0, min(x0, x1)), max(0.0, min(y0, y1)), min(1.0, max(x0, x1)), min(1.0, max(y0, y1)))


def diff_bbox(gt, other, threshold: int = 24, min_pixels: int = 8
              ) -> tuple[float, float, float, float] | None:
    """Fractional bbox (of the GT canvas) of where ``other`` differs from ``gt``, or None.

    Both images are composited over white and padded with white to a common canvas (anchored
    top-left), so a change that resizes the canvas still has a box; it is clipped to the GT.
    """
    import numpy as np

    from verm.data.nuisance import over_white

    a, b = over_white(gt), over_white(other)
    h, w = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])

    def pad(x):
        if x.shape[:2] == (h, w):
            return x
        out = np.full((h, w, 3), 255, np.uint8)
        out[: x.shape[0], : x.shape[1]] = x
        return out

    d = np.abs(pad(a).astype(np.int16) - pad(b).astype(np.int16)).max(axis=-1) > threshold
    if int(d.sum()) < min_pixels:
        return None
    ys, xs = np.nonzero(d)
    gh, gw = a.shape[:2]
    return unit_bbox(xs.min() / gw, ys.min() / gh, (xs.max() + 1) / gw, (ys.max() + 1) / gh)


def resolve_probe(err: LabeledError, gt, probe_img) -> bool:
    """Give ``err`` its bbox (and area-based severity / location) from its rendered probe.

    Returns False when the probe did not render or shows no visible change (the edit is invisible).
    """
    if probe_img is None:
        return False
    bb = diff_bbox(gt, probe_img)
    if bb is None:
        return False
    err.bbox_frac = bb
    area = max(0.0, bb[2] - bb[0]) * max(0.0, bb[3] - bb[1])
    if err.severity_rule == "area":
        err.severity = severity_from_area(area)
    elif err.severity_rule == "stroke":
        err.severity = 1 if area < 0.06 else 2
    if not err.location:
        err.location = location_phrase((bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2)
    return True


def apply_families(pred: Any, rng, families: dict, names: list[str], n_errors: int,
                   max_tries: int, skip=None, errors: list[LabeledError] | None = None,
                   used: set[str] | None = None) -> tuple[Any, list[LabeledError]]:
    """Apply up to ``n_errors`` randomly chosen perturbation families to a copy of ``pred``.

    Each family is ``fn(model, rng, used) -> (touched, LabeledError) | None`` and edits ``model``
    in place; ``used`` collects what earlier edits touched so later ones keep labels exact.
    ``skip(family, n_done)`` may veto a draw (e.g. structural edits only as the last error).
    ``errors``/``used`` continue from edits already made. Returns the edited model and the labels,
    in the order applied.
    """
    import copy

    errors = list(errors or [])
    used = set(used or ())
    tries = 0
    while len(errors) < n_errors and tries < max_tries and names:
        tries += 1
        fam = rng.choice(names)
        if skip is not None and skip(fam, len(errors)):
            continue
        trial = copy.deepcopy(pred)
        out = families[fam](trial, rng, used)
        if out is None:
            continue
        touched, err = out
        pred = trial
        used.update(touched)
        errors.append(err)
    return pred, errors
