"""The resvg conformance subset: loading, rendering and scoring (shared by tests and benches).

Data comes from ``$VERM_TESTDATA/resvg-suite`` (default ``../shared/testdata`` beside the
project root). Criterion from the suite's README: composite both images over white, a case
passes when at most 0.5% of pixels differ by more than 24/255 in some channel.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from verm.render.compare import suite_pass

FOLDERS = ("shapes", "painting", "paint-servers", "structure", "masking", "text")
SUITE_FONT_FAMILIES = {"sans-serif": "Noto Sans", "serif": "Noto Serif", "monospace": "Noto Mono"}
#: resvg-py's own per-folder pass rates, as stated in the issue (for the printed table).
RESVG_PY_RATES = {"shapes": 100.0, "painting": 98.6, "paint-servers": 100.0, "structure": 90.2,
                  "masking": 100.0, "text": 81.7}


def testdata_dir() -> Path:
    root = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("VERM_TESTDATA", root.parent / "shared" / "testdata"))


def suite_dir() -> Path:
    return testdata_dir() / "resvg-suite"


@dataclass
class Case:
    folder: str
    name: str
    svg_path: Path
    png_path: Path

    def svg(self) -> bytes:
        return self.svg_path.read_bytes()

    def reference(self) -> np.ndarray:
        with Image.open(self.png_path) as im:
            return np.asarray(im.convert("RGBA"))


def cases(folders=FOLDERS) -> list[Case]:
    out = []
    for folder in folders:
        for svg in sorted((suite_dir() / folder).rglob("*.svg")):
            png = svg.with_suffix(".png")
            if png.exists():
                out.append(Case(folder, str(svg.relative_to(suite_dir())), svg, png))
    return out


def render_cases(cs: list[Case], *, fallback: bool, threads: int | None = None):
    """Render each case as the suite's harness does (width 300, own folder as resources)."""
    from verm.render import render_svgs

    fonts = [str(suite_dir() / "fonts")]
    return render_svgs([c.svg() for c in cs], width=300,
                       resources_dir=[str(c.svg_path.parent) for c in cs], font_dirs=fonts,
                       font_families=SUITE_FONT_FAMILIES, fallback=fallback, threads=threads)


def score(cs: list[Case], results) -> dict:
    """Per-folder pass rates; a native miss (unsupported/error) counts as a failure."""
    per = collections.defaultdict(lambda: [0, 0])
    reasons = collections.Counter()
    failures = []
    for c, r in zip(cs, results):
        per[c.folder][1] += 1
        ok = r.image is not None and suite_pass(r.image, c.reference())
        if ok:
            per[c.folder][0] += 1
        else:
            failures.append((c.name, r.status, r.message))
        if r.status in ("unsupported", "fallback"):
            reasons[r.extra.get("native_reason", r.message)] += 1
    rates = {f: 100.0 * p / n for f, (p, n) in per.items()}
    total_p = sum(p for p, _ in per.values())
    total_n = sum(n for _, n in per.values())
    return {"rates": rates, "counts": dict(per), "overall": 100.0 * total_p / max(total_n, 1),
            "reasons": reasons, "failures": failures}


def resvg_only(cs: list[Case]):
    """resvg-py alone on the same files and fonts (the anchor)."""
    from verm.records import RenderResult
    from verm.render.svg import SvgRenderOptions, _resvg_render

    fonts = (str(suite_dir() / "fonts"),)
    out = []
    for c in cs:
        opts = SvgRenderOptions(width=300, resources_dir=str(c.svg_path.parent), font_dirs=fonts,
                                font_families=tuple(sorted(SUITE_FONT_FAMILIES.items())))
        try:
            out.append(RenderResult(_resvg_render(c.svg(), opts), "ok", "resvg"))
        except Exception as exc:  # noqa: BLE001 - count as a failed case
            out.append(RenderResult(None, "error", "resvg", str(exc)))
    return out
