"""PixelCritic: verm's embedded, weight-free, deterministic critic.

Pipeline per pair: composite over white -> bring the prediction onto the ground truth's canvas
(uniform rescale when the aspect ratios agree; for tables the scale comes from the row pitch, made
exact by the canvas side that agrees with it, and the canvases are anchored top-left) -> a
tolerance-band difference (each pixel is compared with the
3x3 neighbourhood range of the other image, which absorbs resampling and JPEG noise) -> connected
changed regions -> one :class:`~verm.records.VisualError` per region, categorised by kind-specific
rules (see docs/pixel-critic.md). Tables are compared cell by cell on detected grid lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from verm.critic.base import Pair, to_rgb
from verm.data.common import location_phrase, severity_from_area
from verm.records import CATEGORIES, Critique, VisualError


@dataclass
class _Region:
    y0: int
    y1: int
    x0: int
    x1: int
    mask: np.ndarray  # changed pixels inside the bbox
    kind: str = ""  # colour | missing | extra | changed
    text_like: bool = False
    recoloured_from_scene: bool = False
    thin: bool = False
    ring: bool = False
    grown: bool = False
    edt: float = 0.0
    partial: bool = False  # lost ink whose colour the prediction still has right next to it

    @property
    def area(self) -> int:
        return (self.y1 - self.y0) * (self.x1 - self.x0)


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    from PIL import Image

    if img.shape[1] == w and img.shape[0] == h:
        return img
    return np.asarray(Image.fromarray(img).resize((max(1, w), max(1, h)), Image.BILINEAR))


def _max3(x: np.ndarray) -> np.ndarray:
    """3x3 maximum filter (edges replicate) with numpy views; works on uint8 without copies of scipy."""
    y = x.copy()
    np.maximum(y[1:], x[:-1], out=y[1:])
    np.maximum(y[:-1], x[1:], out=y[:-1])
    z = y.copy()
    np.maximum(z[:, 1:], y[:, :-1], out=z[:, 1:])
    np.maximum(z[:, :-1], y[:, 1:], out=z[:, :-1])
    return z


def _min3(x: np.ndarray) -> np.ndarray:
    """3x3 minimum filter (edges replicate)."""
    y = x.copy()
    np.minimum(y[1:], x[:-1], out=y[1:])
    np.minimum(y[:-1], x[1:], out=y[:-1])
    z = y.copy()
    np.minimum(z[:, 1:], y[:, :-1], out=z[:, 1:])
    np.minimum(z[:, :-1], y[:, 1:], out=z[:, :-1])
    return z


def _blur3(x: np.ndarray) -> np.ndarray:
    """3x3 box blur of a uint8 image (edges replicate), uint8 out."""
    p = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge").astype(np.uint16)
    r = p[:-2] + p[1:-1] + p[2:]
    c = r[:, :-2] + r[:, 1:-1] + r[:, 2:]
    return ((c + 4) // 9).astype(np.uint8)


def _band_diff(a: np.ndarray, b: np.ndarray, radius: int = 1) -> np.ndarray:
    """Per-pixel distance of ``a`` outside b's (2*radius+1)^2 min/max band, and vice versa (max over
    channels).

    All in uint8 with saturating arithmetic: ``max(a, hi) - hi`` is ``max(a - hi, 0)``.
    """
    a = np.ascontiguousarray(a, dtype=np.uint8)
    b = np.ascontiguousarray(b, dtype=np.uint8)
    bmax, bmin = _max3(b), _min3(b)
    amax, amin = _max3(a), _min3(a)
    for _ in range(radius - 1):
        bmax, bmin, amax, amin = _max3(bmax), _min3(bmin), _max3(amax), _min3(amin)
    e = np.maximum(a, bmax) - bmax
    np.maximum(e, bmin - np.minimum(a, bmin), out=e)
    np.maximum(e, np.maximum(b, amax) - amax, out=e)
    np.maximum(e, amin - np.minimum(b, amin), out=e)
    return e.max(axis=-1)


def _shift_energy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """5x5 mean absolute difference of two same-size crops at the best of the 9 one-pixel shifts."""
    h, w = a.shape[:2]
    best = None
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            aa = a[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
            bb = b[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
            d = np.abs(aa.astype(np.int16) - bb.astype(np.int16)).mean(axis=-1)
            m = float(d.mean()) if d.size else 0.0
            if best is None or m < best[0]:
                best = (m, d)
    d = best[1] if best is not None else np.zeros((1, 1))
    if d.size == 0:
        return np.zeros((1, 1), np.float32)
    return ndi.uniform_filter(d.astype(np.float32), size=5)


def _subpixel_energy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """5x5 mean absolute grey difference of two same-size crops after shifting ``b`` by the
    fractional offset (steps of 1/4 px within +-1.5 px, x first, then y) that matches ``a`` best;
    both are 3x3 box-blurred first. The map is one pixel short of the crop on each side."""
    af = ndi.uniform_filter(a.astype(np.float32).mean(axis=-1), 3)
    bf = ndi.uniform_filter(b.astype(np.float32).mean(axis=-1), 3)
    h, w = af.shape
    if h < 5 or w < 5:
        return np.abs(af - bf)

    def shifted(dy: float, dx: float) -> np.ndarray:
        return ndi.shift(bf, (dy, dx), order=1, mode="nearest")

    def cost(bs: np.ndarray) -> float:
        return float(np.abs(af[2:-2, 2:-2] - bs[2:-2, 2:-2]).mean())

    steps = np.arange(-6, 7) / 4.0
    best_dx = min(steps, key=lambda dx: cost(shifted(0.0, float(dx))))
    best_dy = min(steps, key=lambda dy: cost(shifted(float(dy), float(best_dx))))
    d = np.abs(af - shifted(float(best_dy), float(best_dx)))[1:-1, 1:-1]
    return ndi.uniform_filter(d, 5)


def _ink(img: np.ndarray, bg: np.ndarray, thr: int = 40) -> np.ndarray:
    return np.abs(img.astype(np.int16) - bg.astype(np.int16)).max(axis=-1) > thr


def _background(img: np.ndarray) -> np.ndarray:
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    return np.median(border, axis=0).astype(np.uint8)


class PixelCritic:
    """Weight-free CPU critic. ``critique_batch([(gt, pred, kind), ...]) -> [Critique, ...]``.

    ``threshold`` is the tolerance-band distance (0-255) above which a pixel counts as changed;
    ``min_pixels`` drops connected specks smaller than that; ``min_region`` drops grouped regions
    with fewer changed pixels; ``merge_px`` is the grouping distance; ``cell_threshold`` is the
    5x5 mean grey difference, after the best sub-pixel alignment, above which a table cell's text
    differs (also the bar for a chart text being a moved copy); ``max_side`` caps the analysis
    resolution (longer images are shrunk first, which keeps speed bounded); ``sharp_threshold`` is
    the unblurred band distance that also counts as changed (small glyph edits; 255 disables it);
    ``shift_threshold`` is the 5x5 mismatch energy at the locally best one-pixel shift that also
    counts as changed (same-length text edits inside the tolerance band; 255 disables it).
    """

    name = "pixel"

    def __init__(self, threshold: int = 64, min_pixels: int = 3, max_side: int = 512, merge_px: int = 6,
                 cell_threshold: int = 38, min_region: int = 4, sharp_threshold: int = 160,
                 shift_threshold: int = 32):
        self.threshold = int(threshold)
        self.shift_threshold = int(shift_threshold)
        self.sharp_threshold = int(sharp_threshold)
        self.min_region = int(min_region)
        self.cell_threshold = int(cell_threshold)
        self.min_pixels = int(min_pixels)
        self.max_side = int(max_side)
        self.merge_px = int(merge_px)

    # ------------------------------------------------------------------ public API
    def critique_batch(self, pairs: Sequence[Pair]) -> list[Critique]:
        """One :class:`Critique` per ``(gt_image, pred_image, kind)``; never raises for bad images."""
        out = []
        for gt, pred, kind in pairs:
            try:
                errors = self.compare(gt, pred, kind)
                ok = True
                raw = ""
            except (ValueError, TypeError, OSError) as exc:
                errors, ok, raw = [], False, f"pixel critic could not read the images: {exc}"
            cats = CATEGORIES.get(kind, ())
            counts = {c: sum(1 for e in errors if e.category == c) for c in cats}
            out.append(Critique(errors=errors, counts_by_category=counts, raw_text=raw, parse_ok=ok))
        return out

    def critique(self, gt, pred, kind: str) -> Critique:
        """Single-pair convenience wrapper around :meth:`critique_batch`."""
        return self.critique_batch([(gt, pred, kind)])[0]

    # ------------------------------------------------------------------ core
    def compare(self, gt, pred, kind: str) -> list[VisualError]:
        """The list of visual errors between two images of ``kind``."""
        if kind not in CATEGORIES:
            raise ValueError(f"unknown kind {kind!r}")
        g = to_rgb(gt)
        p = to_rgb(pred)
        gh0, gw0 = g.shape[:2]
        f = 1.0
        if max(gh0, gw0) > self.max_side:
            f = self.max_side / max(gh0, gw0)
            g = _resize(g, round(gw0 * f), round(gh0 * f))
            p = _resize(p, round(p.shape[1] * f), round(p.shape[0] * f))
        errors: list[VisualError] = []
        if kind == "table":
            errors = self._table(g, p)
        else:
            g2, p2, canvas_err = self._align(g, p, kind)
            if canvas_err is not None:
                errors.append(canvas_err)
            errors.extend(self._regions_to_errors(g2, p2, kind))
        if f != 1.0:
            for e in errors:
                if e.bbox is not None:
                    e.bbox = tuple(round(v / f, 1) for v in e.bbox)  # type: ignore[assignment]
        return errors

    # ------------------------------------------------------------------ alignment
    def _align(self, g: np.ndarray, p: np.ndarray,
               kind: str) -> tuple[np.ndarray, np.ndarray, VisualError | None]:
        """(gt, prediction, canvas error) on one canvas. A chart canvas that only grew or shrank
        along one side because content there changed size (a longer legend entry, wider tick
        labels) is compared anchored at the opposite side, on the union of both canvases."""
        gh, gw = g.shape[:2]
        ph, pw = p.shape[:2]
        ra, rb = gw / gh, pw / ph
        if abs(ra / rb - 1.0) <= 0.03:
            p_plain = _resize(p, gw, gh)
            if kind == "chart" and abs(ra / rb - 1.0) > 0.004:
                # a few pixels of one-sided growth (wider tick labels) misalign a plain resize
                fit = self._anchor_fit(g, p, p_plain)
                if fit is not None:
                    return fit[0], fit[1], None
            return g, p_plain, None
        err = VisualError("structure_error", 3, "whole image",
                          f"The canvas proportions differ ({pw}x{ph} vs {gw}x{gh}).", (0, 0, gw, gh))
        p_plain = _resize(p, gw, gh)
        if kind == "chart":
            fit = self._anchor_fit(g, p, p_plain)
            if fit is not None:
                return fit[0], fit[1], None
        return g, p_plain, err

    def _anchor_fit(self, g: np.ndarray, p: np.ndarray,
                    p_plain: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Best one-sided anchoring of ``p`` on ``g`` (scale from the unchanged dimension), or None.

        Accepted only when the canvases differ by at most 20% along one side, the content of the
        larger canvas reaches at least half that difference further towards its extra strip while
        it starts at the same place on the anchored side and spans the same extent along the other
        dimension (a padded, cropped or shrunk copy is not a layout change); the comparison
        (anchored or plain resize) that changes the fewest pixels is kept."""
        gh, gw = g.shape[:2]
        ph, pw = p.shape[:2]
        bg = _background(g)
        best = None
        for axis in (0, 1):  # axis whose size is taken as unchanged (0: heights, 1: widths)
            s = gh / ph if axis == 0 else gw / pw
            q = _resize(p, round(pw * s), round(ph * s))
            qh, qw = q.shape[:2]
            if axis == 0:
                qh = gh
                q = q[:gh]
                d, n = qw - gw, gw
            else:
                qw = gw
                q = q[:, :gw]
                d, n = qh - gh, gh
            if d == 0 or abs(d) > 0.2 * n:
                continue
            hu, wu = max(gh, qh), max(gw, qw)
            for anchor_end in (False, True):
                G = np.empty((hu, wu, 3), np.uint8)
                P = np.empty((hu, wu, 3), np.uint8)
                G[:] = bg
                P[:] = bg
                oy_g = hu - gh if anchor_end and axis == 1 else 0
                ox_g = wu - gw if anchor_end and axis == 0 else 0
                oy_p = hu - qh if anchor_end and axis == 1 else 0
                ox_p = wu - qw if anchor_end and axis == 0 else 0
                G[oy_g:oy_g + gh, ox_g:ox_g + gw] = g
                P[oy_p:oy_p + qh, ox_p:ox_p + qw] = q
                # the content of the larger canvas must reach further towards its extra strip than
                # the other's (a longer legend entry does; a blank pad or crop does not)
                big, small = (P, G) if d > 0 else (G, P)
                # per column (the widths differ) or per row (the heights differ): any ink
                ib, is_ = _ink(big, bg), _ink(small, bg)
                nz_b = np.nonzero(ib.any(axis=0 if axis == 0 else 1))[0]
                nz_s = np.nonzero(is_.any(axis=0 if axis == 0 else 1))[0]
                if len(nz_b) == 0 or len(nz_s) == 0:
                    continue
                reach = (nz_b.max() - nz_s.max()) if not anchor_end else (nz_s.min() - nz_b.min())
                # the content starts at the same place on the anchored side
                held = (nz_b.min() - nz_s.min()) if not anchor_end else (nz_b.max() - nz_s.max())
                if reach < max(2, abs(d) // 2) or abs(int(held)) > max(3, int(0.02 * n)):
                    continue
                # and along the unchanged dimension the content must span the same extent (a
                # padded or shrunk copy, scaled by the wrong side, does not)
                ob = np.nonzero(ib.any(axis=1 if axis == 0 else 0))[0]
                os_ = np.nonzero(is_.any(axis=1 if axis == 0 else 0))[0]
                tol = max(3, int(0.02 * n))
                if abs(int(ob.min()) - int(os_.min())) > tol or abs(int(ob.max()) - int(os_.max())) > tol:
                    continue
                frac = float(self._changed(G, P).mean())
                if best is None or frac < best[0]:
                    best = (frac, G, P)
        if best is None:
            return None
        if float(self._changed(g, p_plain).mean()) < best[0]:
            return g, p_plain
        return best[1], best[2]

    def _changed(self, g: np.ndarray, p: np.ndarray, shift: bool = False) -> np.ndarray:
        # a light blur on both sides evens out the contrast loss of thin lines after resampling
        gb, pb = _blur3(g), _blur3(p)
        d = _band_diff(gb, pb)
        m = d > self.threshold
        if self.sharp_threshold < 255:
            # small glyph edits (an added '*', one changed character) lose their contrast in the blur;
            # a strong unblurred difference keeps them
            m |= _band_diff(g, p) > self.sharp_threshold
        m = self._chroma_tolerant(m, gb, pb)
        m = self._drop_specks(m)
        if shift and self.shift_threshold < 255:
            # same-length text edits ("Month" -> "Period") stay inside the 3x3 tolerance band because
            # every window near thin strokes holds ink and background; where the band distance is
            # moderate, the local mismatch energy at the best one-pixel shift still tells them apart
            extra = self._shift_changed(gb, pb, d, m)
            if extra.any():
                m = self._drop_specks(m | extra)
        return m

    def _chroma_tolerant(self, m: np.ndarray, gb: np.ndarray, pb: np.ndarray) -> np.ndarray:
        """``m`` without the changed pixels that differ in colour but hardly in brightness and not
        after one more blur on both sides: JPEG stores colour at half resolution, so after a rescale
        the colour of a thin coloured outline smears over more pixels than its brightness does."""
        if not m.any():
            return m
        # work on the changed pixels' bounding box (plus the filters' reach)
        ys, xs = np.nonzero(m.any(axis=1))[0], np.nonzero(m.any(axis=0))[0]
        y0, y1 = max(0, int(ys[0]) - 4), min(m.shape[0], int(ys[-1]) + 5)
        x0, x1 = max(0, int(xs[0]) - 4), min(m.shape[1], int(xs[-1]) + 5)
        mc, gc, pc = m[y0:y1, x0:x1], gb[y0:y1, x0:x1], pb[y0:y1, x0:x1]
        w = np.array([77, 150, 29], np.uint16)  # BT.601 luma weights / 256
        yg = ((gc.astype(np.uint16) * w).sum(axis=-1) >> 8).astype(np.uint8)[..., None]
        yp = ((pc.astype(np.uint16) * w).sum(axis=-1) >> 8).astype(np.uint8)[..., None]
        weak = mc & (_band_diff(yg, yp) <= self.threshold // 2)
        if not weak.any():
            return m
        drop = weak & (_band_diff(_blur3(gc), _blur3(pc)) <= self.threshold)
        if not drop.any():
            return m
        # only whole changed pieces at most two pixels thick that consist of such pixels: a glyph
        # or a recoloured area of similar brightness keeps every pixel
        lab, n = ndi.label(mc, structure=np.ones((3, 3), bool))
        idx = np.arange(1, n + 1)
        all_drop = ndi.sum_labels(drop, lab, idx) == ndi.sum_labels(mc, lab, idx)
        thick = ndi.sum_labels(ndi.binary_erosion(mc, structure=np.ones((3, 3), bool)), lab, idx) > 0
        gone = np.zeros(n + 1, bool)
        gone[1:] = all_drop & ~thick
        out = m.copy()
        out[y0:y1, x0:x1] &= ~gone[lab]
        return out

    def _drop_specks(self, m: np.ndarray) -> np.ndarray:
        """``m`` without connected pieces smaller than ``min_pixels``."""
        if not m.any():
            return m
        lab, n = ndi.label(m)
        sizes = ndi.sum_labels(m, lab, index=np.arange(1, n + 1))
        keep = np.zeros(n + 1, bool)
        keep[1:] = sizes >= self.min_pixels
        return keep[lab]

    def _shift_changed(self, gb: np.ndarray, pb: np.ndarray, d: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Pixels whose 5x5 mismatch energy at the locally best +-1 px shift exceeds
        ``shift_threshold``, checked only around pixels with band distance over ``threshold // 2``
        and not near (``merge_px``) a region's worth of pixels ``m`` already marks, so that found regions
        keep their extent."""
        out = np.zeros(d.shape, bool)
        cand = ndi.maximum_filter(d > self.threshold // 2, size=5)
        if not cand.any():
            return out
        lab, _ = ndi.label(cand)
        for i, sl in enumerate(ndi.find_objects(lab), start=1):
            if sl is None:
                continue
            y0, y1 = max(0, sl[0].start - 3), min(d.shape[0], sl[0].stop + 3)
            x0, x1 = max(0, sl[1].start - 3), min(d.shape[1], sl[1].stop + 3)
            k = self.merge_px
            if int(m[max(0, y0 - k):y1 + k, max(0, x0 - k):x1 + k].sum()) >= self.min_region:
                continue
            e = _shift_energy(gb[y0:y1, x0:x1], pb[y0:y1, x0:x1])
            h, w = y1 - y0, x1 - x0
            if e.shape[0] > h or e.shape[1] > w:
                continue  # a crop too thin for the shifts
            # the energy map of a shifted comparison is one row/column short: pad it back
            e = np.pad(e, ((0, h - e.shape[0]), (0, w - e.shape[1])))
            out[y0:y1, x0:x1] |= (e > self.shift_threshold) & (lab[y0:y1, x0:x1] == i)
        return out

    def _regions(self, m: np.ndarray, merge_px: int | None = None) -> list[_Region]:
        if not m.any():
            return []
        mp = self.merge_px if merge_px is None else merge_px
        grown = ndi.maximum_filter(m, size=2 * mp + 1) if mp else m
        lab, n = ndi.label(grown)
        regs = []
        for i, sl in enumerate(ndi.find_objects(lab), start=1):
            if sl is None:
                continue
            sub = m[sl] & (lab[sl] == i)
            ys, xs = np.nonzero(sub)
            if len(ys) == 0:
                continue
            y0, y1 = sl[0].start + ys.min(), sl[0].start + ys.max() + 1
            x0, x1 = sl[1].start + xs.min(), sl[1].start + xs.max() + 1
            sub = m[y0:y1, x0:x1] & (lab[y0:y1, x0:x1] == i)
            if sub.sum() < self.min_region:
                continue  # a few stray pixels (resampling / JPEG), not content
            regs.append(_Region(int(y0), int(y1), int(x0), int(x1), sub))
        return regs

    def _describe_region(self, r: _Region, g: np.ndarray, p: np.ndarray, bg: np.ndarray) -> None:
        sg, sp = g[r.y0:r.y1, r.x0:r.x1], p[r.y0:r.y1, r.x0:r.x1]
        ig, ip = _ink(sg, bg), _ink(sp, bg)
        m = r.mask
        fg, fp = ig[m].mean(), ip[m].mean()
        if fg > 0.75 and fp > 0.75:
            # on a coloured plate, judge ink against the plate, not the page
            yy0, yy1 = max(0, r.y0 - 3), min(g.shape[0], r.y1 + 3)
            xx0, xx1 = max(0, r.x0 - 3), min(g.shape[1], r.x1 + 3)
            local = _background(g[yy0:yy1, xx0:xx1])
            if np.abs(local.astype(np.int16) - bg.astype(np.int16)).max() > 40:
                ig, ip = _ink(sg, local), _ink(sp, local)
                fg, fp = ig[m].mean(), ip[m].mean()
        if fg > 0.75 and fp > 0.75:
            r.kind = "colour"
            # a colour that already exists right next to the region in the GT -> z-order/occlusion
            col = np.median(sp[m], axis=0)
            y0, y1 = max(0, r.y0 - 4), min(g.shape[0], r.y1 + 4)
            x0, x1 = max(0, r.x0 - 4), min(g.shape[1], r.x1 + 4)
            around = g[y0:y1, x0:x1].reshape(-1, 3).astype(np.int16)
            close = (np.abs(around - col.astype(np.int16)).max(axis=1) < 24).mean()
            r.recoloured_from_scene = close > 0.08
        elif fg > 0.6 and fp < 0.35:
            r.kind = "missing"
        elif fp > 0.6 and fg < 0.35:
            r.kind = "extra"
        else:
            r.kind = "changed"
        # shape of the changed mask itself: glyph edits leave many thin pieces in a short band;
        # outline and scale changes leave a ring around an unchanged core
        h, w = m.shape
        lab, n = ndi.label(m, structure=np.ones((3, 3), bool))
        edt = float(ndi.distance_transform_edt(np.pad(m, 1)).max())
        r.edt = edt
        filled = ndi.binary_fill_holes(m)
        r.ring = bool(filled.sum() >= 1.3 * m.sum() and min(h, w) >= 16)
        y0, y1 = max(0, r.y0 - 3), min(g.shape[0], r.y1 + 3)
        x0, x1 = max(0, r.x0 - 3), min(g.shape[1], r.x1 + 3)
        big = np.zeros((y1 - y0, x1 - x0), bool)
        big[r.y0 - y0:r.y1 - y0, r.x0 - x0:r.x1 - x0] = m
        outer = ndi.binary_dilation(big, iterations=2) & ~big
        if r.kind in ("extra", "missing") and outer.any():
            # the new (or lost) ink continues ink of the same colour next to it: the element grew
            # or shrank (stroke width, scale) rather than appearing or disappearing
            src, ref = (sp, g) if r.kind == "extra" else (sg, p)
            col = np.median(src[m], axis=0).astype(np.int16)
            near = ref[y0:y1, x0:x1][outer].astype(np.int16)
            r.grown = bool((np.abs(near - col).max(axis=1) < 30).mean() > 0.25)
        # a ring or growth under 6 px thick: an outline
        r.thin = edt <= 6.0 and min(h, w) >= 16 and (r.ring or r.grown)
        if not r.thin and edt <= 4.5 and n <= 6 and max(h, w) >= 24:
            # a thin band hugging an edge of the GT element: its outline changed
            # (an edge in any colour channel: a fill may differ from its surround in hue only)
            sgi = sg.astype(np.int16)
            edge = np.zeros(sg.shape[:2], bool)
            edge[:, 1:] |= np.abs(np.diff(sgi, axis=1)).max(axis=-1) > 30
            edge[1:, :] |= np.abs(np.diff(sgi, axis=0)).max(axis=-1) > 30
            near = ndi.binary_dilation(edge, iterations=3)
            r.thin = bool(near[m].mean() > 0.8)
        if r.kind == "colour":
            # an edge of the GT along the region's border means the element itself was recoloured;
            # no edge in the GT but one in the prediction means something was drawn over it
            inner = m & ~ndi.binary_erosion(m, iterations=2)
            if inner.any() and outer.any():
                gi, pi_ = sg[inner].mean(axis=0), sp[inner].mean(axis=0)
                go, po = g[y0:y1, x0:x1][outer].mean(axis=0), p[y0:y1, x0:x1][outer].mean(axis=0)
                e_g, e_p = np.abs(gi - go).max(), np.abs(pi_ - po).max()
                if e_g < 25 and e_p > 50:
                    r.kind = "extra"
                elif e_p < 25 and e_g > 50:
                    r.kind = "missing"
        r.text_like = bool(edt <= 4.5 and (
            (n >= 4 and h <= 36 and w >= 1.2 * h) or (n >= 3 and h <= 30 and w <= 34)))
        if r.text_like and r.kind == "missing":
            # glyphs of the same colour still stand next to the lost ones: the text was edited,
            # not removed
            col = np.median(sg[m], axis=0).astype(np.int16)
            yy0, yy1 = max(0, r.y0 - 8), min(g.shape[0], r.y1 + 8)
            xx0, xx1 = max(0, r.x0 - 8), min(g.shape[1], r.x1 + 8)
            near = np.abs(p[yy0:yy1, xx0:xx1].astype(np.int16) - col).max(axis=-1) < 40
            near[r.y0 - yy0:r.y1 - yy0, r.x0 - xx0:r.x1 - xx0] &= ~m
            r.partial = bool(near.sum() >= 0.3 * m.sum())

    # ------------------------------------------------------------------ svg / chart
    def _regions_to_errors(self, g: np.ndarray, p: np.ndarray, kind: str) -> list[VisualError]:
        m = self._changed(g, p, shift=kind == "chart")
        regs = self._regions(m)
        if not regs and kind != "chart":
            return []
        bg = _background(g)
        for r in regs:
            self._describe_region(r, g, p, bg)
        if kind == "svg":
            regs = self._pair_moves(regs, g, p)
            return self._merge_outline_errors([self._svg_error(r, g.shape) for r in regs])
        return self._chart_errors(regs, g, p)

    def _pair_moves(self, regs: list[_Region], g: np.ndarray, p: np.ndarray) -> list[_Region]:
        """Merge a 'missing' region with a similar 'extra' region: one moved element."""
        miss = [r for r in regs if r.kind == "missing"]
        extra = [r for r in regs if r.kind == "extra"]
        used: set[int] = set()
        out = [r for r in regs if r.kind not in ("missing", "extra")]
        for a in miss:
            best, bj = None, -1
            ca = np.median(g[a.y0:a.y1, a.x0:a.x1][a.mask], axis=0)
            for j, b in enumerate(extra):
                if j in used:
                    continue
                cb = np.median(p[b.y0:b.y1, b.x0:b.x1][b.mask], axis=0)
                ratio = (b.mask.sum() + 1) / (a.mask.sum() + 1)
                dc = np.abs(ca.astype(int) - cb.astype(int)).max()
                # a close colour match also pairs unequal sizes: the element was partly covered
                # by another one at one of its two places
                if (0.4 < ratio < 2.5 and dc < 40) or (0.15 < ratio < 6.5 and dc < 20):
                    best, bj = b, j
                    break
            if best is not None:
                used.add(bj)
                y0, y1 = min(a.y0, best.y0), max(a.y1, best.y1)
                x0, x1 = min(a.x0, best.x0), max(a.x1, best.x1)
                mm = np.zeros((y1 - y0, x1 - x0), bool)
                mm[a.y0 - y0:a.y1 - y0, a.x0 - x0:a.x1 - x0] |= a.mask
                mm[best.y0 - y0:best.y1 - y0, best.x0 - x0:best.x1 - x0] |= best.mask
                out.append(_Region(y0, y1, x0, x1, mm, kind="changed"))
            else:
                out.append(a)
        out.extend(b for j, b in enumerate(extra) if j not in used)
        return out

    @staticmethod
    def _merge_outline_errors(errors: list[VisualError], gap: float = 16.0) -> list[VisualError]:
        """Outline (stroke) errors whose boxes lie within ``gap`` px of each other are pieces of one
        element's outline: one error over their union box, at the highest severity."""
        out: list[VisualError] = []
        for e in errors:
            if e.category == "style_error" and e.description.startswith("An outline") and e.bbox:
                for o in out:
                    if o.category == e.category and o.description.startswith("An outline") and o.bbox \
                            and e.bbox[0] - gap <= o.bbox[2] and o.bbox[0] - gap <= e.bbox[2] \
                            and e.bbox[1] - gap <= o.bbox[3] and o.bbox[1] - gap <= e.bbox[3]:
                        o.bbox = (min(o.bbox[0], e.bbox[0]), min(o.bbox[1], e.bbox[1]),
                                  max(o.bbox[2], e.bbox[2]), max(o.bbox[3], e.bbox[3]))
                        o.severity = max(o.severity, e.severity)
                        break
                else:
                    out.append(e)
            else:
                out.append(e)
        return out

    def _svg_error(self, r: _Region, shape) -> VisualError:
        H, W = shape[:2]
        frac = r.area / float(H * W)
        sev = severity_from_area(frac)
        loc = location_phrase((r.x0 + r.x1) / 2 / W, (r.y0 + r.y1) / 2 / H)
        bbox = (float(r.x0), float(r.y0), float(r.x1), float(r.y1))
        if r.kind == "colour" and r.ring:
            # a band around an unchanged core that changed between the element's colour and its
            # surroundings' (on a coloured backdrop): the element grew or shrank, or (a thin band)
            # its outline changed
            if r.thin:
                return VisualError("style_error", 1 if frac < 0.06 else 2, loc,
                                   f"An outline/stroke differs at the {loc}.", bbox)
            return VisualError("shape_error", sev, loc, f"An element at the {loc} has a different size.", bbox)
        if r.kind == "colour":
            if r.recoloured_from_scene:
                return VisualError("structure_error", sev, loc, f"Overlapping elements are stacked differently at the {loc}.", bbox)
            return VisualError("style_error", sev, loc, f"An element at the {loc} has a different colour.", bbox)
        if r.text_like and r.kind == "missing" and not r.partial:
            return VisualError("structure_error", sev, loc, f"A text element at the {loc} is missing.", bbox)
        if r.text_like and r.kind == "extra":  # text the GT does not have is a text error, whatever it says
            return VisualError("text_symbol_error", sev, loc, f"Extra text appears at the {loc}.", bbox)
        if r.text_like:
            return VisualError("text_symbol_error", sev, loc, f"Text or symbols differ at the {loc}.", bbox)
        if r.thin:
            return VisualError("style_error", 1 if frac < 0.06 else 2, loc, f"An outline/stroke differs at the {loc}.", bbox)
        if r.ring or r.grown:
            return VisualError("shape_error", sev, loc, f"An element at the {loc} has a different size.", bbox)
        if r.kind == "missing":
            return VisualError("structure_error", sev, loc, f"An element at the {loc} is missing.", bbox)
        if r.kind == "extra":
            return VisualError("structure_error", sev, loc, f"An extra element appears at the {loc}.", bbox)
        return VisualError("shape_error", sev, loc, f"An element at the {loc} has a different position, size or shape.", bbox)

    # ------------------------------------------------------------------ charts
    @staticmethod
    def _axes_box(g: np.ndarray) -> tuple[int, int, int, int] | None:
        dark = g.max(axis=-1) < 100
        H, W = dark.shape
        rows = np.nonzero(dark.mean(axis=1) > 0.45)[0]
        cols = np.nonzero(dark.mean(axis=0) > 0.45)[0]
        if len(rows) < 2 or len(cols) < 2:
            return PixelCritic._axis_lines_box(g)
        y0, y1, x0, x1 = int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())
        if y1 - y0 < 0.3 * H or x1 - x0 < 0.3 * W:
            return PixelCritic._axis_lines_box(g)
        return x0, y0, x1, y1

    @staticmethod
    def _axis_lines_box(g: np.ndarray) -> tuple[int, int, int, int] | None:
        """Plot box of a chart without a full frame: the bottom-most long unbroken grey horizontal
        line is the x axis; a long vertical grey line meeting its left end is the y axis (its top
        is the plot's top), else the topmost grid-like line above it, else 12% of the height."""
        mx, mn = g.max(axis=-1), g.min(axis=-1)
        grey = (mx < 190) & (mx.astype(np.int16) - mn.astype(np.int16) < 30)
        H, W = grey.shape
        if H < 20 or W < 20:
            return None

        def _longest(v: np.ndarray) -> tuple[int, int]:
            """(start, end) of the longest run of True in v (end exclusive)."""
            d = np.diff(np.concatenate(([0], v.view(np.int8), [0])))
            st, en = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
            if len(st) == 0:
                return 0, 0
            k = int(np.argmax(en - st))
            return int(st[k]), int(en[k])

        rows_any = grey[:-1] | grey[1:]  # lines may be 1-2 px thick
        cand = np.nonzero(rows_any.mean(axis=1) >= 0.3)[0]
        for y in cand[::-1]:
            if y < 0.3 * H:
                break
            xa, xb = _longest(rows_any[y])
            if xb - xa < 0.3 * W:
                continue
            y0 = None
            for x in range(max(0, xa - 8), min(W, xa + 9)):
                ya, yb = _longest(grey[:min(H, y + 9), x])
                if yb - ya >= 0.3 * H and abs(yb - 1 - y) <= 8:
                    y0 = ya
                    break
            if y0 is None:
                light = (mx < 245) & (mx.astype(np.int16) - mn.astype(np.int16) < 30)
                span = light[:, xa:xb].mean(axis=1)
                ys = np.nonzero(span[: max(1, int(y - 0.3 * H))] > 0.9)[0]
                ys = ys[ys >= 0.05 * H]
                y0 = int(ys.min()) if len(ys) else int(0.12 * H)
            return int(xa), int(y0), int(xb - 1), int(y)
        # no x axis line (e.g. horizontal bars): a long vertical grey line in the left half is the y
        # axis; the plot ends at the rightmost full-height grid-like line, else at the last ink
        cols_any = grey[:, :-1] | grey[:, 1:]
        for x in np.nonzero(cols_any[:, : W // 2].mean(axis=0) >= 0.3)[0]:
            ya, yb = _longest(cols_any[:, x])
            if yb - ya < 0.3 * H:
                continue
            light = (mx < 245) & (mx.astype(np.int16) - mn.astype(np.int16) < 30)
            span = light[ya:yb].mean(axis=0)
            xs = np.nonzero(span[x + 1:] > 0.9)[0]
            if len(xs):
                x1 = int(x + 1 + xs.max())
            else:
                ink = (mn[ya:yb] < 200).any(axis=0)
                xs = np.nonzero(ink[x + 1:])[0]
                x1 = int(x + 1 + xs.max()) if len(xs) else W - 1
            if x1 - x >= 0.3 * W:
                return int(x), int(ya), x1, int(yb - 1)
        return None

    @staticmethod
    def _colour_bins(img: np.ndarray) -> dict[int, int]:
        sat = img.max(axis=-1).astype(np.int16) - img.min(axis=-1).astype(np.int16) > 60
        q = (img[sat] // 32).astype(np.int32)
        keys = q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]
        vals, counts = np.unique(keys, return_counts=True)
        return dict(zip(vals.tolist(), counts.tolist()))

    def _series_colours(self, g, p, box) -> tuple[int, int]:
        """(lost, gained): saturated colours with >= 1% of the plot in one image, < 10% of that in the other."""
        x0, y0, x1, y1 = box
        cg, cp = self._colour_bins(g[y0:y1, x0:x1]), self._colour_bins(p[y0:y1, x0:x1])
        area = max(1, (x1 - x0) * (y1 - y0))
        lost = sum(1 for k, v in cg.items() if v >= 0.01 * area and cp.get(k, 0) < 0.02 * v)
        gained = sum(1 for k, v in cp.items() if v >= 0.01 * area and cg.get(k, 0) < 0.1 * v)
        return lost, gained

    @staticmethod
    def _legend_like(r: _Region, g: np.ndarray, p: np.ndarray, box) -> bool:
        """A compact region in a corner of the plot holding several small dark glyphs."""
        ax0, ay0, ax1, ay1 = box
        pw, ph = ax1 - ax0, ay1 - ay0
        if r.x1 - r.x0 > 0.5 * pw or r.y1 - r.y0 > 0.55 * ph:
            return False
        cx, cy = (r.x0 + r.x1) / 2 - ax0, (r.y0 + r.y1) / 2 - ay0
        near_x = cx < 0.4 * pw or cx > 0.6 * pw
        near_y = cy < 0.4 * ph or cy > 0.6 * ph
        if not (near_x and near_y):
            return False
        for img in (g, p):
            dark = img[r.y0:r.y1, r.x0:r.x1].max(axis=-1) < 90
            lab, n = ndi.label(dark)
            if n >= 4:
                sizes = ndi.sum_labels(dark, lab, index=np.arange(1, n + 1))
                if ((sizes >= 3) & (sizes <= 80)).sum() >= 4:
                    return True
        return False

    def _faint_lines(self, g, p, box, strict: bool = False) -> bool:
        """Grid-like changes: several thin, grey, plot-wide rows/columns differ faintly (no blur).
        ``strict``: one image has at least two faint grid lines and the other none."""
        x0, y0, x1, y1 = box
        if x1 - x0 < 20 or y1 - y0 < 20:
            return False
        gs, ps = g[y0 + 2:y1 - 1, x0 + 2:x1 - 1], p[y0 + 2:y1 - 1, x0 + 2:x1 - 1]
        d = _band_diff(gs, ps) > 18
        # grid lines may be drawn behind the marks: judge each row/column on its visible background
        light = (gs.min(axis=-1) > 200) & (ps.min(axis=-1) > 200)
        dl = d & light

        def _frac(axis: int) -> np.ndarray:
            n = light.sum(axis=axis)
            return np.where(n >= 8, dl.sum(axis=axis) / np.maximum(n, 1), 0.0)

        lg = gs.mean(axis=-1)
        lp = ps.mean(axis=-1)

        def _contrast(lum: np.ndarray, vis: np.ndarray, i: int) -> float:
            best = 0.0
            for j in (i - 1, i, i + 1):
                if j - 2 < 0 or j + 2 >= lum.shape[0]:
                    continue
                nb = (lum[j - 2] + lum[j + 2]) / 2
                ok = (nb > 225) & vis[j]
                if ok.sum() >= 8:
                    best = max(best, float((nb[ok] - lum[j][ok]).mean()))
            return best

        def _count(frac: np.ndarray, axis: int) -> int:
            n = 0
            a, b = (lg, lp) if axis == 1 else (lg.T, lp.T)
            vis = light if axis == 1 else light.T
            for i in np.nonzero(frac > 0.3)[0]:
                cg, cp = _contrast(a, vis, int(i)), _contrast(b, vis, int(i))
                if max(cg, cp) > 10 and min(cg, cp) < 4:
                    n += 1  # a faint line present in one image only
            return n

        if not strict:
            return _count(_frac(1), 1) + _count(_frac(0), 0) >= 2

        def _lines(lum: np.ndarray, own: np.ndarray) -> int:
            """Faint line rows (adjacent rows count once) of one image, judged on its own light pixels."""
            n, prev = 0, -9
            for i in range(2, lum.shape[0] - 2):
                ok = (lum[i - 2] > 225) & (lum[i + 2] > 225) & own[i]
                if ok.sum() >= 0.3 * lum.shape[1] and \
                        float(((lum[i - 2][ok] + lum[i + 2][ok]) / 2 - lum[i][ok]).mean()) > 10:
                    n += i > prev + 1
                    prev = i
            return n

        # the marks moved (a new axis range moves the grid too): only grid lines that one image has
        # and the other has none of count
        own_g, own_p = gs.min(axis=-1) > 200, ps.min(axis=-1) > 200
        ng = _lines(lg, own_g) + _lines(lg.T, own_g.T)
        np_ = _lines(lp, own_p) + _lines(lp.T, own_p.T)
        return (ng >= 2 and np_ == 0) or (np_ >= 2 and ng == 0)

    def _split_at_rows(self, regs: list[_Region], cuts: tuple[int, ...], g: np.ndarray,
                       p: np.ndarray) -> list[_Region]:
        """Regions that cross one of the rows ``cuts`` (with changed pixels on both sides and an
        unchanged row within 8 px of the cut) cut along that row into separately described regions."""
        out: list[_Region] = []
        bg = _background(g)
        for r in regs:
            pieces = [r]
            for cut in cuts:
                nxt = []
                for q in pieces:
                    # cut along an empty row near ``cut``: the two parts were only grouped
                    # across a gap (a region that runs through it, like a plotted line, stays)
                    h = q.y1 - q.y0
                    empty = [i for i in range(max(3, cut - 8 - q.y0), min(h - 2, cut + 9 - q.y0))
                             if not q.mask[i].any()]
                    k = min(empty, key=lambda i: abs(i + q.y0 - cut)) if empty else -1
                    parts = []
                    if 2 < k < q.y1 - q.y0 - 2 and q.mask[:k].sum() >= self.min_region \
                            and q.mask[k:].sum() >= self.min_region:
                        for sub, oy in ((q.mask[:k], q.y0), (q.mask[k:], q.y0 + k)):
                            ys, xs = np.nonzero(sub)
                            nq = _Region(oy + int(ys.min()), oy + int(ys.max()) + 1, q.x0 + int(xs.min()),
                                         q.x0 + int(xs.max()) + 1,
                                         sub[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
                            self._describe_region(nq, g, p, bg)
                            parts.append(nq)
                    nxt.extend(parts if parts else [q])
                pieces = nxt
            out.extend(pieces)
        return out

    def _shifted_copy(self, r: _Region, g: np.ndarray, p: np.ndarray, reach: tuple[int, int] = (4, 12)) -> bool:
        """Whether the region's content is the same in both images up to a shift of at most
        ``reach`` (dy, dx) pixels: the GT crop (bbox + 3 px) matches the prediction at the best
        integer shift and the prediction's crop matches the GT at the opposite shift, both to
        within ``cell_threshold`` of local mismatch energy after sub-pixel alignment."""
        H, W = g.shape[:2]
        ry, rx = reach
        # the crop covers the whole text around the region (ink of either image within 3 px of
        # each other), so that a changed glyph is compared with its word, not alone
        wy0, wy1 = max(0, r.y0 - ry - 12), min(H, r.y1 + ry + 12)
        wx0, wx1 = max(0, r.x0 - rx - 12), min(W, r.x1 + rx + 12)
        bg = _background(g)
        ink = _ink(g[wy0:wy1, wx0:wx1], bg) | _ink(p[wy0:wy1, wx0:wx1], bg)
        lab, _ = ndi.label(ndi.maximum_filter(ink, size=7))
        ids = np.unique(lab[r.y0 - wy0:r.y1 - wy0, r.x0 - wx0:r.x1 - wx0])
        ids = ids[ids > 0]
        if len(ids) == 0:
            return False
        ys, xs = np.nonzero(np.isin(lab, ids) & ink)
        y0, y1 = max(0, wy0 + int(ys.min()) - 2), min(H, wy0 + int(ys.max()) + 3)
        x0, x1 = max(0, wx0 + int(xs.min()) - 2), min(W, wx0 + int(xs.max()) + 3)
        if (y1 - y0) * (x1 - x0) > 0.05 * H * W or y1 - y0 < 6 or x1 - x0 < 6:
            return False
        gg = _blur3(g).astype(np.int16).mean(axis=-1)
        pp = _blur3(p).astype(np.int16).mean(axis=-1)
        tg = gg[y0:y1, x0:x1]
        if float(np.abs(tg - 255).max()) < 60:
            return False  # no ink of its own: nothing to match
        best = None
        for dy in range(-ry, ry + 1):
            if y0 + dy < 0 or y1 + dy > H:
                continue
            for dx in range(-rx, rx + 1):
                if x0 + dx < 0 or x1 + dx > W:
                    continue
                c = float(np.abs(tg - pp[y0 + dy:y1 + dy, x0 + dx:x1 + dx]).mean())
                if best is None or c < best[0]:
                    best = (c, dy, dx)
        if best is None or (best[1] == 0 and best[2] == 0):
            return False
        _, dy, dx = best
        e1 = _subpixel_energy(g[y0:y1, x0:x1], p[y0 + dy:y1 + dy, x0 + dx:x1 + dx])
        if float(e1.max()) > self.cell_threshold:
            return False
        # and the other way round, so that text the prediction added next to the GT's is not lost
        if y0 - dy < 0 or y1 - dy > H or x0 - dx < 0 or x1 - dx > W:
            return False
        e2 = _subpixel_energy(p[y0:y1, x0:x1], g[y0 - dy:y1 - dy, x0 - dx:x1 - dx])
        return float(e2.max()) <= self.cell_threshold

    @staticmethod
    def _marks_rescaled(g: np.ndarray, p: np.ndarray, box) -> bool | None:
        """Whether the tops of the coloured marks (per plot column: the highest saturated pixel)
        of the prediction follow the GT's through one affine map (a new axis range), within 3 px
        or 8% for at least 88% of the columns; None when too few columns hold marks or the marks
        cover other columns (another chart type)."""
        x0, y0, x1, y1 = box

        def tops(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            c = img[y0:y1, x0:x1].astype(np.int16)
            sat = (c.max(axis=-1) - c.min(axis=-1)) > 60
            return sat.any(axis=0), (y1 - y0) - sat.argmax(axis=0)

        okg, hg = tops(g)
        okp, hp = tops(p)
        ok = okg & okp
        if ok.sum() < 10 or abs(float(okg.mean()) - float(okp.mean())) > 0.1:
            return None  # (marks over other columns: another chart type)
        a, b = hg[ok].astype(float), hp[ok].astype(float)
        keep = np.ones(len(a), bool)
        r = np.zeros(len(a))
        for _ in range(2):  # fit, then refit on the 70% best-fitting columns
            if keep.sum() < 5 or np.ptp(a[keep]) < 3:
                return None
            k, c = np.polyfit(a[keep], b[keep], 1)
            r = np.abs(b - (k * a + c))
            keep = r <= np.quantile(r, 0.7)
        bad = r > np.maximum(3.0, 0.08 * np.maximum(a, 1.0))
        return bool(bad.mean() < 0.12)

    @staticmethod
    def _palette(img: np.ndarray) -> np.ndarray:
        """The colours (8-level bins, as RGB centres) that cover at least 12 px of ``img``."""
        q = (img.reshape(-1, 3) // 8).astype(np.int32)
        keys, counts = np.unique(q[:, 0] * 1024 + q[:, 1] * 32 + q[:, 2], return_counts=True)
        keys = keys[counts >= max(12, int(0.0005 * len(q)))]
        return (np.stack([keys // 1024, (keys // 32) % 32, keys % 32], axis=1) * 8 + 4).astype(np.int16)

    @staticmethod
    def _colour_split(r: _Region, g: np.ndarray, p: np.ndarray, bg: np.ndarray,
                      pal: np.ndarray) -> tuple[int, int, bool]:
        """(pixels recoloured to a colour the GT does not plot, pixels recoloured to one it plots,
        whether a sizable part of the region has ink in one image only)."""
        sg, sp = g[r.y0:r.y1, r.x0:r.x1], p[r.y0:r.y1, r.x0:r.x1]
        ig, ip = _ink(sg, bg), _ink(sp, bg)
        both = r.mask & ig & ip
        one = int((r.mask & (ig ^ ip)).sum())
        n = int(r.mask.sum())
        cols = sp[both].astype(np.int16)
        if len(cols) == 0 or len(pal) == 0:
            return len(cols), 0, False
        if len(cols) > 4000:
            cols = cols[:: len(cols) // 4000 + 1]
            scale = int(both.sum()) / len(cols)
        else:
            scale = 1.0
        known = np.zeros(len(cols), bool)
        for i in range(0, len(pal), 64):
            d = np.abs(cols[:, None, :] - pal[None, i:i + 64, :]).max(axis=-1)
            known |= (d < 16).any(axis=1)
        existing = int(known.sum() * scale)
        novel = int((~known).sum() * scale)
        return novel, existing, one >= 150 and one >= 0.12 * n

    def _chart_errors(self, regs: list[_Region], g: np.ndarray, p: np.ndarray) -> list[VisualError]:
        H, W = g.shape[:2]
        box = self._axes_box(g)
        if box is None:  # pies and axis-less charts: the middle 80% is the plot
            box = (int(0.1 * W), int(0.12 * H), int(0.9 * W), int(0.95 * H))
        else:  # a change above (title) or below (tick labels) the plot is its own region
            regs = self._split_at_rows(regs, (box[1] - 1, box[3] + 2), g, p)
        ax0, ay0, ax1, ay1 = box
        plot_area = max(1, (ax1 - ax0) * (ay1 - ay0))
        inside, outside = [], []
        for r in regs:
            cx, cy = (r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2
            (inside if ax0 <= cx <= ax1 and ay0 <= cy <= ay1 else outside).append(r)
        errors: list[VisualError] = []
        # a legend whose only change is a swatch's colour follows a series recolour (kept with the
        # plot's colour changes), not a legend change
        legend = [r for r in inside if self._legend_like(r, g, p, box)
                  and not (r.kind == "colour" and not r.text_like)]
        inside = [r for r in inside if r not in legend]
        lost, gained = self._series_colours(g, p, box) if inside else (0, 0)
        series_dropped = lost > 0 and gained == 0
        ticks_changed = [r for r in outside if r.x1 <= ax0 + 3 and r.y0 >= ay0 - 8]  # y tick labels
        in_area = sum(r.area for r in inside) / plot_area
        big_plot = [r for r in inside if r.area > 0.3 * plot_area and r.kind != "colour"]
        cover = np.zeros(max(1, ax1 - ax0), bool)
        for r in inside:
            cover[max(0, r.x0 - ax0):max(0, r.x1 - ax0)] = True
        structural = (bool(big_plot) and (len(ticks_changed) > 0 or in_area > 0.6)) or (
            len(ticks_changed) > 0 and cover.mean() > 0.6 and in_area > 0.15)
        zones: dict[str, list[_Region]] = {}
        data_inside = any(r.kind != "colour" for r in inside)
        for r in outside:
            if (structural or data_inside) and r in ticks_changed:
                continue  # y tick labels follow the data (autoscale)
            if self._shifted_copy(r, g, p):
                continue  # the same text a few pixels away: the layout around it moved
            cx, cy = (r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2
            if r.y1 <= ay0 + 2:
                z = "title"
            elif cy > ay1:
                z = "xticks" if r.y0 < ay1 + 0.08 * H else "xlabel"
            elif cx < ax0:
                z = "yticks" if r.x1 > ax0 - 0.1 * W else "ylabel"
            else:
                z = "right"
            zones.setdefault(z, []).append(r)
        names = {"title": ("chart title", "The title text differs.", 2),
                 "xticks": ("x-axis tick labels", "x-axis tick labels differ.", 1),
                 "xlabel": ("x-axis label", "The x-axis label differs.", 1),
                 "yticks": ("y-axis tick labels", "y-axis tick labels differ.", 1),
                 "ylabel": ("y-axis label", "The y-axis label differs.", 1),
                 "right": ("right margin", "Something differs right of the plot.", 1)}
        for z, rs in zones.items():
            x0, y0 = min(r.x0 for r in rs), min(r.y0 for r in rs)
            x1, y1 = max(r.x1 for r in rs), max(r.y1 for r in rs)
            loc, desc, sev = names[z]
            if all(r.kind == "colour" and not r.text_like for r in rs) and z == "right":
                errors.append(VisualError("style_error", 1, loc, "A colour differs outside the plot.", (x0, y0, x1, y1)))
            else:
                errors.append(VisualError("text_error", sev, loc, desc, (float(x0), float(y0), float(x1), float(y1))))
        if legend:
            x0, y0 = min(r.x0 for r in legend), min(r.y0 for r in legend)
            x1, y1 = max(r.x1 for r in legend), max(r.y1 for r in legend)
            bb = (float(x0), float(y0), float(x1), float(y1))
            if all(r.text_like or r.kind == "changed" and r.edt <= 4.5 for r in legend) and len(legend) == 1 \
                    and (x1 - x0) * (y1 - y0) < 0.05 * plot_area:
                errors.append(VisualError("text_error", 1, "legend", "Legend text differs.", bb))
            else:
                errors.append(VisualError("structure_error", 1 if len(legend) > 1 else 2, "legend",
                                          "The legend is missing or placed differently.", bb))
        if structural:
            ys0 = min(r.y0 for r in inside)
            if series_dropped:
                errors.append(VisualError("data_error", 3, "plot area", "A data series is missing.",
                                          (float(ax0), float(ys0), float(ax1), float(ay1))))
            elif self._marks_rescaled(g, p, box) is False:
                # the marks' heights do not follow one common rescaling: values changed (and the
                # axis autoscaled with them)
                errors.append(VisualError("data_error", 3 if in_area > 0.25 else 2, "plot area",
                                          "Plotted data differ (values, series or marks).",
                                          (float(ax0), float(ys0), float(ax1), float(ay1))))
            else:
                errors.append(VisualError("structure_error", 3 if in_area > 0.5 else 2, "plot area",
                                          "The chart type or axis range differs.", (float(ax0), float(ys0), float(ax1), float(ay1))))
            inside = [r for r in inside if r.kind == "colour" and r.area < 0.3 * plot_area]
        # plot-area regions: colour-only changes are style, the rest data; a colour change to a
        # colour the GT already plots is a moved boundary between marks (pie slices, stacked
        # segments: data), and a recoloured mark that also gained or lost ink changed its value too
        colour = [r for r in inside if r.kind == "colour" and not r.text_like]
        data = [r for r in inside if r not in colour]
        if colour and not structural:
            pal = self._palette(g[ay0:ay1, ax0:ax1])
            bg = _background(g)
            keep = []
            for r in colour:
                novel, existing, one_side = self._colour_split(r, g, p, bg, pal)
                if existing >= 80 and existing >= 0.3 * (novel + existing) or one_side:
                    data.append(r)
                if novel >= 80 and novel >= 0.3 * (novel + existing) or existing < 80:
                    keep.append(r)
            colour = keep
        if colour and not (series_dropped and data):
            a = sum(r.area for r in colour) / plot_area
            x0, y0 = min(r.x0 for r in colour), min(r.y0 for r in colour)
            x1, y1 = max(r.x1 for r in colour), max(r.y1 for r in colour)
            errors.append(VisualError("style_error", 2 if a > 0.15 else 1, "plot area",
                                      "Series colours or styles differ in the plot.", (x0, y0, x1, y1)))
        if data:
            a = sum(r.area for r in data) / plot_area
            x0, y0 = min(r.x0 for r in data), min(r.y0 for r in data)
            x1, y1 = max(r.x1 for r in data), max(r.y1 for r in data)
            errors.append(VisualError("data_error", 3 if a > 0.25 or series_dropped else 2, "plot area",
                                      "Plotted data differ (values, series or marks).", (x0, y0, x1, y1)))
        if self._faint_lines(g, p, box, strict=structural):
            errors.append(VisualError("style_error", 1, "plot area", "Grid lines differ.",
                                      (float(ax0), float(ay0), float(ax1), float(ay1))))
        return errors

    # ------------------------------------------------------------------ tables
    @staticmethod
    def _grid(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dark = img.max(axis=-1) < 170
        H, W = dark.shape
        # rules span the table: rows dark over 85% of its width, columns over 60% of its height
        # (a merged cell interrupts a column rule in one row band)
        ys = np.nonzero(dark.sum(axis=1) > 0.85 * max(1, dark.any(axis=0).sum()))[0]
        xs = np.nonzero(dark.sum(axis=0) > 0.6 * max(1, dark.any(axis=1).sum()))[0]

        def _collapse(v: np.ndarray) -> np.ndarray:
            if len(v) == 0:
                return v
            groups = np.split(v, np.nonzero(np.diff(v) > 2)[0] + 1)
            return np.array([int(round(gr.mean())) for gr in groups])

        return _collapse(ys), _collapse(xs)

    def _table(self, g: np.ndarray, p: np.ndarray) -> list[VisualError]:
        gy, gx = self._grid(g)
        py, px = self._grid(p)
        H, W = g.shape[:2]
        if abs((W / H) / (p.shape[1] / p.shape[0]) - 1.0) < 0.01:  # a uniform rescale of the canvas
            p = _resize(p, W, H)
            py, px = self._grid(p)
        s_est = self._table_scale(gy, py, W / p.shape[1])
        errors: list[VisualError] = []
        # a uniform rescale changes the canvas by the same factor along one axis at least (a dropped
        # row/column changes only the other); otherwise the table was shrunk, padded or tiled
        cands = [W / p.shape[1], H / p.shape[0]]
        dev = [abs(s_est / c - 1.0) for c in cands]
        if min(dev) > 0.05:
            errors.append(VisualError("layout_error", 3, "whole table",
                                      "The table's size or placement on the canvas differs.",
                                      (0.0, 0.0, float(W), float(H))))
            s = s_est
        elif min(dev) <= 0.02:
            # the grid's estimate is good to a pixel or two of its span (about 1%); the canvas side
            # that agrees with it carries the rescale to a fraction of a pixel
            s = cands[int(np.argmin(dev))]
        else:
            s = s_est
        if abs(s - 1.0) > 0.005:
            p = _resize(p, round(p.shape[1] * s), round(p.shape[0] * s))
            py, px = self._grid(p)
        if len(gy) < 2 or len(gx) < 2:  # no grid: fall back to region comparison
            p2 = np.full_like(g, 255)
            hh, ww = min(H, p.shape[0]), min(W, p.shape[1])
            p2[:hh, :ww] = p[:hh, :ww]
            m = self._changed(g, p2)
            for r in self._regions(m):
                frac = r.area / float(H * W)
                errors.append(VisualError("text_error", severity_from_area(frac), "table",
                                          "Table content differs.", (r.x0, r.y0, r.x1, r.y1)))
            return errors
        nr_g, nc_g = len(gy) - 1, len(gx) - 1
        nr_p, nc_p = len(py) - 1, len(px) - 1
        if nr_g != nr_p:
            errors.append(VisualError("layout_error", 2, "rows", f"The table has {nr_p} rows instead of {nr_g}.",
                                      (float(gx[0]), float(gy[0]), float(gx[-1]), float(gy[-1]))))
        if nc_g != nc_p:
            errors.append(VisualError("layout_error", 3, "columns", f"The table has {nc_p} columns instead of {nc_g}.",
                                      (float(gx[0]), float(gy[0]), float(gx[-1]), float(gy[-1]))))
        rmap = list(zip(range(nr_g), range(nr_p))) if nr_g == nr_p else None
        cmap = list(zip(range(nc_g), range(nc_p))) if nc_g == nc_p else None
        # one row (or column) more or fewer: find which one by band similarity, compare the rest
        if rmap is None and cmap is not None and abs(nr_g - nr_p) == 1:
            rmap = self._align_bands(g, gy, gx, p, py, px, axis=0)
        elif cmap is None and rmap is not None and abs(nc_g - nc_p) == 1:
            cmap = self._align_bands(g, gy, gx, p, py, px, axis=1)
        if rmap is None or cmap is None:
            return errors
        bg = np.array([255, 255, 255], np.uint8)
        changed_cells: dict[tuple[int, int], str] = {}
        colpos_changed: dict[int, int] = {}
        for r, rp in rmap:
            for c, cp in cmap:
                gc = g[gy[r] + 2:gy[r + 1] - 1, gx[c] + 2:gx[c + 1] - 1]
                pc = p[py[rp] + 2:py[rp + 1] - 1, px[cp] + 2:px[cp + 1] - 1]
                res = self._cell_diff(gc, pc, bg)
                if res:
                    changed_cells[(r, c)] = res
                    if res == "moved":
                        colpos_changed[c] = colpos_changed.get(c, 0) + 1
        # merged / split cells: a vertical rule present in one image's row band and not the other's
        if nc_g == nc_p:
            for r, rp in rmap:
                for c in range(1, nc_g):
                    vg = (g[gy[r] + 2:gy[r + 1] - 1, max(0, gx[c] - 1):gx[c] + 2].max(axis=-1) < 170).any(axis=1).mean()
                    vp = (p[py[rp] + 2:py[rp + 1] - 1, max(0, px[c] - 1):px[c] + 2].max(axis=-1) < 170).any(axis=1).mean()
                    if (vg > 0.8) != (vp > 0.8):
                        errors.append(VisualError("layout_error", 2, f"row {r}, columns {c}-{c + 1}",
                                                  "Cells are merged or split differently.",
                                                  (float(gx[c - 1]), float(gy[r]), float(gx[c + 1]), float(gy[r + 1]))))
                        for k in (c - 1, c):
                            changed_cells.pop((r, k), None)
        nr_g = len(rmap)
        # a whole column of changed cells is a column-level change (alignment or swapped columns)
        col_changed = {c: sum(1 for (r, cc) in changed_cells if cc == c) for c in range(nc_g)}
        full = [c for c in range(nc_g) if col_changed[c] >= max(2, nr_g - 1)]
        handled: set[int] = set()
        for c in full:
            if c in handled:
                continue
            moved = colpos_changed.get(c, 0)
            bbox = (float(gx[c]), float(gy[0]), float(gx[c + 1]), float(gy[-1]))
            if moved >= 0.6 * col_changed[c]:
                errors.append(VisualError("layout_error", 1, f"column {c + 1}", "The column's alignment differs.", bbox))
                handled.add(c)
            elif c + 1 in full and c + 1 not in handled:
                errors.append(VisualError("layout_error", 2, f"columns {c + 1}-{c + 2}", "Columns are swapped or reordered.",
                                          (float(gx[c]), float(gy[0]), float(gx[c + 2]), float(gy[-1]))))
                handled.update((c, c + 1))
        moved_cols = {c for c, k in colpos_changed.items() if k >= 2 and c not in handled}
        for c in sorted(moved_cols):
            errors.append(VisualError("layout_error", 1, f"column {c + 1}", "The column's alignment differs.",
                                      (float(gx[c]), float(gy[0]), float(gx[c + 1]), float(gy[-1]))))
            handled.add(c)
        for (r, c), what in sorted(changed_cells.items()):
            if c in handled and (what == "moved" or c not in moved_cols):
                continue
            bbox = (float(gx[c]), float(gy[r]), float(gx[c + 1]), float(gy[r + 1]))
            loc = f"header row, column {c + 1}" if r == 0 else f"row {r}, column {c + 1}"
            if what == "moved":
                errors.append(VisualError("layout_error", 1, loc, "The cell's alignment differs.", bbox))
            elif r == 0:
                errors.append(VisualError("text_error", 2, loc, "The header text differs.", bbox))
            elif self._numeric_column(g, gy, gx, c):
                errors.append(VisualError("numeric_error", 2, loc, "The number in this cell differs.", bbox))
            else:
                sev = 1 if what == "small" else 2
                errors.append(VisualError("text_error", sev, loc, "The text in this cell differs.", bbox))
        return errors

    @staticmethod
    def _table_scale(gy: np.ndarray, py: np.ndarray, fallback: float) -> float:
        """GT/prediction scale from the row rules: the ratio of the mean row pitches (rows are one
        text line high; a dropped or duplicated row keeps the pitch, the span keeps it to a pixel)."""
        if len(gy) >= 3 and len(py) >= 3 and py[-1] > py[0]:
            return (float(gy[-1] - gy[0]) / (len(gy) - 1)) / (float(py[-1] - py[0]) / (len(py) - 1))
        return fallback

    @staticmethod
    def _align_bands(g, gy, gx, p, py, px, axis: int) -> list[tuple[int, int]]:
        """(GT index, pred index) pairs of rows (axis 0) or columns (axis 1) when one side has one
        band more: the extra band is the one whose removal makes the rest match best."""
        from PIL import Image

        def bands(img, ys, xs):
            out = []
            n = len(ys) - 1 if axis == 0 else len(xs) - 1
            for i in range(n):
                crop = img[ys[i]:ys[i + 1], xs[0]:xs[-1]] if axis == 0 else img[ys[0]:ys[-1], xs[i]:xs[i + 1]]
                size = (96, 12) if axis == 0 else (12, 96)
                gray = Image.fromarray(np.ascontiguousarray(crop)).convert("L").resize(size, Image.BILINEAR)
                out.append(np.asarray(gray, np.float32))
            return out

        bg_, bp_ = bands(g, gy, gx), bands(p, py, px)
        ng, np_ = len(bg_), len(bp_)
        first = 1 if axis == 0 else 0  # the header row is never the extra one
        best = None
        for k in range(first, max(ng, np_)):
            gi = [i for i in range(ng) if not (ng > np_ and i == k)]
            pi = [j for j in range(np_) if not (np_ > ng and j == k)]
            if len(gi) != len(pi):
                continue
            cost = sum(float(np.abs(bg_[i] - bp_[j]).mean()) for i, j in zip(gi, pi))
            if best is None or cost < best[0]:
                best = (cost, list(zip(gi, pi)))
        return best[1] if best is not None else []

    @staticmethod
    def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
        ys, xs = np.nonzero(ink)
        if len(ys) == 0:
            return None
        return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1

    def _cell_diff(self, gc: np.ndarray, pc: np.ndarray, bg: np.ndarray) -> str:
        """'' (same), 'moved' (same ink, other place), 'small' (a few glyphs), 'content'."""
        if gc.size == 0 or pc.size == 0:
            return "content" if gc.size != pc.size else ""
        ig, ip = _ink(gc, bg, 90), _ink(pc, bg, 90)
        bgx, bpx = self._ink_box(ig), self._ink_box(ip)
        if bgx is None and bpx is None:
            return ""
        if bgx is None or bpx is None:
            return "content"
        tg = gc[bgx[0]:bgx[1], bgx[2]:bgx[3]]
        tp = pc[bpx[0]:bpx[1], bpx[2]:bpx[3]]
        # the text keeps its place when it keeps its offset from the cell's left edge, right edge or
        # centre: a column that got wider (a longer header) moves centred/right-aligned text
        wg, wp = gc.shape[1], pc.shape[1]
        same_pos = (abs(bgx[2] - bpx[2]) <= 3 and abs(bgx[3] - bpx[3]) <= 3) or (
            abs((wg - bgx[3]) - (wp - bpx[3])) <= 3 and abs((wg - bgx[2]) - (wp - bpx[2])) <= 3) or (
            abs((bgx[2] + bgx[3] - wg) - (bpx[2] + bpx[3] - wp)) <= 4)
        if abs(tg.shape[1] - tp.shape[1]) <= 3 and abs(tg.shape[0] - tp.shape[0]) <= 3:
            h, w = min(tg.shape[0], tp.shape[0]), min(tg.shape[1], tp.shape[1])
            # local mismatch energy after the best sub-pixel shift: a different glyph concentrates
            # difference in a small window; resampling/JPEG noise and the sub-pixel placement of
            # re-laid-out text spread thin differences that the fractional alignment removes
            d = _subpixel_energy(tg[:h, :w], tp[:h, :w]) > self.cell_threshold
            n = int(d.sum())
            if n < 1:
                return "" if same_pos else "moved"
            cols = np.nonzero(d.any(axis=0))[0]
            return "small" if (cols.max() - cols.min() + 1) < 0.45 * w else "content"
        return "content"

    @staticmethod
    def _numeric_column(g: np.ndarray, gy: np.ndarray, gx: np.ndarray, c: int) -> bool:
        """Numeric columns are the ones not left-aligned in the GT. The alignment is read from the
        text boxes of all cells of the column, header included: the edge (left, right, centre)
        they share while their widths differ. When every text has the same width, digit-like
        glyphs decide (all tall glyphs with one top line), except in the first column (row labels)."""
        lefts, rights, widths = [], [], []
        tops_same = []
        for r in range(0, len(gy) - 1):
            cell = g[gy[r] + 2:gy[r + 1] - 1, gx[c] + 2:gx[c + 1] - 1]
            ink = cell.max(axis=-1) < 140
            xs = np.nonzero(ink.any(axis=0))[0]
            if len(xs) == 0:
                continue
            lefts.append(int(xs.min()))
            rights.append(cell.shape[1] - int(xs.max()))
            widths.append(int(xs.max() - xs.min()))
            if r > 0:
                lab, n = ndi.label(ink)
                objs = [o for o in ndi.find_objects(lab) if o is not None]
                hs = [o[0].stop - o[0].start for o in objs]
                if hs:
                    tall = [o for o, h in zip(objs, hs) if h >= 0.6 * max(hs)]
                    top = min(o[0].start for o in tall)
                    tops_same.append(np.mean([o[0].start - top <= 1 for o in tall]))
        if len(lefts) < 3:
            return False
        sl, sr = max(lefts) - min(lefts), max(rights) - min(rights)
        cen = [a - b for a, b in zip(lefts, rights)]
        sc = max(cen) - min(cen)
        if max(widths) - min(widths) > 4:
            return not (sl <= 2 and sl <= min(sr, sc))
        return c > 0 and bool(tops_same) and float(np.mean(tops_same)) > 0.9
