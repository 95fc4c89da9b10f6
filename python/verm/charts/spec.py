"""Native chart specs: a Vega-Lite subset laid out in Python, rasterised by the native core.

``spec -> validate -> resolved scales/axes/legend -> SVG scene with explicit geometry ->
verm.render.render_svgs`` (batched on native threads, GIL released). No JavaScript, no matplotlib.

Supported: ``mark`` bar, line, point, area, arc, tick (string or ``{"type": ...}`` with
``color``, ``opacity``, ``filled``, ``size``, ``strokeWidth``, ``innerRadius``, ``point``);
field types quantitative, nominal, ordinal, temporal; encodings x, y, color, size, theta (each
``{"field", "type", "title", "axis": {"title"}, "legend": {"title"}, "scale": {"zero", "domain",
"range"}, "sort", "stack"}`` or ``{"value": ...}`` for color/size); ``title``, ``width``,
``height``, ``background``, inline ``data.values``. Bars/areas with a nominal color field stack
like Vega-Lite's defaults. Anything else raises :class:`ChartSpecError` naming the feature.
Defaults follow Vega-Lite's (tableau10 colours, 300 px continuous axes, 20 px discrete steps,
10 px labels, 11 px bold axis titles, 13 px bold chart title) so images look alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from html import escape

import numpy as np

from verm.records import RenderResult

__all__ = ["ChartSpecError", "render_spec", "render_specs", "spec_to_svg"]

TABLEAU10 = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2",
             "#ff9da6", "#9d755d", "#bab0ac"]
BLUES = ["#cfe1f2", "#93c3df", "#4b97c9", "#1764ab", "#0a306b"]
MARKS = ("bar", "line", "point", "area", "arc", "tick")
TYPES = ("quantitative", "nominal", "ordinal", "temporal")
CHANNELS = ("x", "y", "color", "size", "theta")
FONT = "DejaVu Sans"
STEP = 20.0
CONT = 300.0


class ChartSpecError(ValueError):
    """The spec uses a feature this renderer does not support (named in the message)."""


# ----------------------------------------------------------------------------- validation
_TOP_KEYS = {"$schema", "description", "title", "width", "height", "data", "mark", "encoding",
             "background", "name", "padding"}
_MARK_KEYS = {"type", "color", "opacity", "filled", "size", "strokeWidth", "innerRadius", "point",
              "tooltip", "fill", "stroke"}
_ENC_KEYS = {"field", "type", "title", "axis", "legend", "scale", "sort", "stack", "value"}
_AXIS_KEYS = {"title", "grid", "labelAngle"}
_LEGEND_KEYS = {"title"}
_SCALE_KEYS = {"zero", "domain", "range", "scheme"}


def _check_keys(obj: dict, allowed: set[str], where: str) -> None:
    for k in obj:
        if k not in allowed:
            raise ChartSpecError(f"unsupported feature: {where}{k!r}")


def _validate(spec: dict) -> tuple[str, dict, dict, list[dict]]:
    if not isinstance(spec, dict):
        raise ChartSpecError("a spec must be a dict")
    _check_keys(spec, _TOP_KEYS, "")
    mark = spec.get("mark")
    if mark is None:
        raise ChartSpecError("missing 'mark' (composition such as layer/concat is unsupported)")
    mark_def = {"type": mark} if isinstance(mark, str) else dict(mark)
    _check_keys(mark_def, _MARK_KEYS, "mark.")
    mtype = mark_def.get("type")
    if mtype not in MARKS:
        raise ChartSpecError(f"unsupported feature: mark {mtype!r} (supported: {', '.join(MARKS)})")
    enc = spec.get("encoding") or {}
    if not isinstance(enc, dict):
        raise ChartSpecError("'encoding' must be a dict")
    for ch, d in enc.items():
        if ch not in CHANNELS:
            raise ChartSpecError(f"unsupported feature: encoding channel {ch!r}")
        if not isinstance(d, dict):
            raise ChartSpecError(f"unsupported feature: encoding.{ch} must be a dict")
        _check_keys(d, _ENC_KEYS, f"encoding.{ch}.")
        for sub, allowed in (("axis", _AXIS_KEYS), ("legend", _LEGEND_KEYS), ("scale", _SCALE_KEYS)):
            if isinstance(d.get(sub), dict):
                _check_keys(d[sub], allowed, f"encoding.{ch}.{sub}.")
        if "value" in d:
            if ch not in ("color", "size"):
                raise ChartSpecError(f"unsupported feature: encoding.{ch}.value")
            continue
        if "field" not in d:
            raise ChartSpecError(f"encoding.{ch} needs a 'field' (aggregate/datum are unsupported)")
        if d.get("type") not in TYPES:
            raise ChartSpecError(f"unsupported feature: encoding.{ch}.type {d.get('type')!r}")
        if isinstance(d.get("scale"), dict) and "scheme" in d["scale"]:
            raise ChartSpecError(f"unsupported feature: encoding.{ch}.scale.scheme")
        if d.get("stack") not in (None, True, "zero", False):
            raise ChartSpecError(f"unsupported feature: encoding.{ch}.stack {d['stack']!r}")
        if d.get("sort") not in (None, "ascending", "descending") and not isinstance(d.get("sort"), list):
            raise ChartSpecError(f"unsupported feature: encoding.{ch}.sort {d['sort']!r}")
    data = spec.get("data")
    if not isinstance(data, dict):
        raise ChartSpecError("unsupported feature: data must be inline {'values': [...]}")
    _check_keys(data, {"values", "name"}, "data.")
    if "values" not in data:
        raise ChartSpecError("unsupported feature: data without inline 'values'")
    rows = data["values"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ChartSpecError("data.values must be a list of objects")
    if mtype == "arc":
        if "theta" not in enc:
            raise ChartSpecError("an arc mark needs a theta encoding")
        if "x" in enc or "y" in enc:
            raise ChartSpecError("unsupported feature: x/y encodings on an arc mark")
    else:
        if "theta" in enc:
            raise ChartSpecError(f"unsupported feature: theta on a {mtype} mark")
        if "x" not in enc and "y" not in enc:
            raise ChartSpecError("the spec needs an x or y encoding")
    return mtype, mark_def, enc, rows


# --------------------------------------------------------------------------------- values
def _to_time(v) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        try:
            if len(s) == 4 and s.isdigit():
                d = datetime(int(s), 1, 1, tzinfo=timezone.utc)
            else:
                d = datetime.fromisoformat(s.replace("Z", "+00:00"))
                if d.tzinfo is None:
                    d = d.replace(tzinfo=timezone.utc)
            return d.timestamp() * 1000.0
        except ValueError:
            pass
    raise ChartSpecError(f"cannot read {v!r} as a date")


def _to_num(v) -> float:
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ChartSpecError(f"cannot read {v!r} as a number") from None


def _column(rows, field, ftype):
    vals = [r.get(field) for r in rows]
    if ftype == "quantitative":
        return [_to_num(v) for v in vals]
    if ftype == "temporal":
        return [math.nan if v is None else _to_time(v) for v in vals]
    return ["" if v is None else str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))
            for v in vals]


def _fmt_num(v: float, step: float) -> str:
    if abs(v) < 1e-12 * max(1.0, abs(step)):
        v = 0.0
    if step >= 1 and float(v).is_integer():
        return f"{int(round(v)):,}"
    dec = max(0, -int(math.floor(math.log10(step))) if step > 0 else 0)
    return f"{v:,.{min(dec, 6)}f}"


def _tick_step(lo: float, hi: float, count: int) -> float:
    """d3's tickIncrement: 1, 2 or 5 times a power of ten."""
    step = (hi - lo) / max(count, 1)
    power = math.floor(math.log10(step))
    error = step / 10 ** power
    factor = 10 if error >= math.sqrt(50) else 5 if error >= math.sqrt(10) else 2 if error >= math.sqrt(2) else 1
    return factor * 10.0 ** power


def _nice_ticks(lo: float, hi: float, count: int) -> tuple[list[float], float, float]:
    """Vega's defaults: the domain niced as d3 ``nice()`` (10 ticks), then ``count`` ticks."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        lo, hi = 0.0, 1.0
    if hi == lo:
        hi = lo + 1 if lo == 0 else lo + abs(lo) * 0.5
    for _ in range(2):  # d3 repeats nice() until stable
        s = _tick_step(lo, hi, 10)
        lo, hi = math.floor(lo / s) * s, math.ceil(hi / s) * s
    step = _tick_step(lo, hi, count)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    return ticks, lo, hi


def _time_ticks(lo: float, hi: float, count: int) -> tuple[list[float], list[str]]:
    day = 86400000.0
    span = max(hi - lo, 1.0)
    d0 = datetime.fromtimestamp(lo / 1000, timezone.utc)
    d1 = datetime.fromtimestamp(hi / 1000, timezone.utc)
    ticks: list[float] = []
    labels: list[str] = []
    if span > 2 * 365 * day:
        step = max(1, int(math.ceil((d1.year - d0.year) / max(count, 1))))
        for y in range(d0.year, d1.year + 1):
            if y % step == 0 or step == 1:
                t = datetime(y, 1, 1, tzinfo=timezone.utc).timestamp() * 1000
                if lo <= t <= hi:
                    ticks.append(t)
                    labels.append(str(y))
    elif span > 60 * day:
        months = (d1.year - d0.year) * 12 + d1.month - d0.month
        step = max(1, int(math.ceil(months / max(count, 1))))
        for m in range(0, months + 1):
            y, mo = d0.year + (d0.month - 1 + m) // 12, (d0.month - 1 + m) % 12 + 1
            if (mo - 1) % step:
                continue
            t = datetime(y, mo, 1, tzinfo=timezone.utc).timestamp() * 1000
            if lo <= t <= hi:
                ticks.append(t)
                labels.append(datetime(y, mo, 1).strftime("%B" if step == 1 and months < 12 else "%b %Y"))
    else:
        step_days = max(1, int(math.ceil(span / day / max(count, 1))))
        t = datetime(d0.year, d0.month, d0.day, tzinfo=timezone.utc).timestamp() * 1000
        while t <= hi:
            if t >= lo:
                ticks.append(t)
                labels.append(datetime.fromtimestamp(t / 1000, timezone.utc).strftime("%b %d"))
            t += step_days * day
    return ticks, labels


# ------------------------------------------------------------------------------------ scales
class _Scale:
    """A positional scale: continuous (linear/time) or discrete (band/point)."""

    def __init__(self, kind: str, domain, rng: tuple[float, float], *, band: bool = False,
                 ticks=None, labels=None):
        self.kind, self.domain, self.range, self.band = kind, domain, rng, band
        self.ticks, self.labels = ticks or [], labels or []
        if kind == "discrete":
            n = max(len(domain), 1)
            r0, r1 = rng
            if band:  # paddingInner 0.1, paddingOuter 0.05 as Vega-Lite's bar default
                self.step = (r1 - r0) / (n - 0.1 + 0.1)
                self.bandwidth = self.step * 0.9
                self.offset = r0 + self.step * 0.05
            else:  # point scale, padding 0.5
                self.step = (r1 - r0) / n
                self.bandwidth = 0.0
                self.offset = r0 + self.step * 0.5
            self.index = {v: i for i, v in enumerate(domain)}

    def __call__(self, v) -> float:
        if self.kind == "discrete":
            return self.offset + self.index[v] * self.step
        d0, d1 = self.domain
        r0, r1 = self.range
        if d1 == d0:
            return (r0 + r1) / 2
        return r0 + (v - d0) / (d1 - d0) * (r1 - r0)


def _discrete_domain(values: list[str], sort) -> list[str]:
    uniq = list(dict.fromkeys(values))
    if isinstance(sort, list):
        return [v for v in map(str, sort) if v in uniq] + [v for v in uniq if v not in set(map(str, sort))]
    if sort is None or sort == "ascending":
        return sorted(uniq, key=_natural)
    return sorted(uniq, key=_natural, reverse=True)


def _natural(v: str):
    try:
        return (0, float(v), "")
    except ValueError:
        return (1, 0.0, v)


def _measure(texts: Sequence[str], size: float, bold: bool = False) -> list[float]:
    out = [0.0] * len(texts)
    try:
        from verm.fonts import get_fontdb

        out = list(get_fontdb().measure(list(texts), [FONT], float(size), 700 if bold else 400))
    except Exception:
        pass
    return [w if w and w > 0 else 0.6 * size * len(t) for w, t in zip(out, texts)]


# ------------------------------------------------------------------------------------- layout
class _Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, s: str) -> None:
        self.parts.append(s)

    def text(self, x, y, s, size=10, anchor="start", bold=False, fill="#000", rotate=None,
             baseline_shift=0.0):
        tr = f' transform="rotate({rotate:.3f} {x:.2f} {y:.2f})"' if rotate else ""
        weight = ' font-weight="bold"' if bold else ""
        self.add(f'<text x="{x:.2f}" y="{y + baseline_shift:.2f}" font-family="{FONT}" '
                 f'font-size="{size}" text-anchor="{anchor}" fill="{fill}"{weight}{tr}>'
                 f"{escape(str(s))}</text>")

    def line(self, x1, y1, x2, y2, stroke="#888", width=1.0, opacity=1.0):
        op = f' stroke-opacity="{opacity}"' if opacity != 1 else ""
        self.add(f'<line x1="{x1:.2f}" y1="{y1:.2f}" x2="{x2:.2f}" y2="{y2:.2f}" '
                 f'stroke="{stroke}" stroke-width="{width}"{op}/>')


def _title_of(d: dict, sub: str) -> str | None:
    if isinstance(d.get(sub), dict) and "title" in d[sub]:
        t = d[sub]["title"]
        return None if t is None else str(t)
    if "title" in d:
        return None if d["title"] is None else str(d["title"])
    return str(d.get("field", ""))


def spec_to_svg(spec: dict, scale: float = 1.0) -> str:
    """Lay a spec out and return the SVG scene (explicit geometry, fonts named, no CSS).

    ``scale`` multiplies the output size (the scene keeps its layout via ``viewBox``).
    """
    mtype, mark, enc, rows = _validate(spec)
    n = len(rows)
    cols = {ch: _column(rows, d["field"], d["type"]) for ch, d in enc.items() if "field" in d}
    types = {ch: d.get("type") for ch, d in enc.items() if "field" in d}
    title = spec.get("title")
    if isinstance(title, dict):
        _check_keys(title, {"text"}, "title.")
        title = title.get("text")
    svg = _Svg()

    # ---- colour scale
    color_enc = enc.get("color", {})
    base_color = mark.get("color") or mark.get("fill") or "#4c78a8"
    if "value" in color_enc:
        base_color = str(color_enc["value"])
    color_of = [base_color] * n
    legend: dict | None = None
    if "color" in cols:
        ctype = types["color"]
        if ctype in ("nominal", "ordinal"):
            cdom = _discrete_domain(cols["color"], color_enc.get("sort"))
            rng = (color_enc.get("scale") or {}).get("range") or (TABLEAU10 if ctype == "nominal" else BLUES)
            cmap = {v: rng[i % len(rng)] for i, v in enumerate(cdom)}
            color_of = [cmap[v] for v in cols["color"]]
            legend = {"title": _title_of(color_enc, "legend"), "items": [(v, cmap[v]) for v in cdom]}
        else:
            vals = np.array(cols["color"], dtype=float)
            lo, hi = float(np.nanmin(vals)), float(np.nanmax(vals))
            ramp = (color_enc.get("scale") or {}).get("range") or BLUES

            def interp(v):
                t = 0.0 if hi == lo else (v - lo) / (hi - lo)
                t = min(max(t, 0.0), 1.0) * (len(ramp) - 1)
                i = min(int(t), len(ramp) - 2)
                a, b = _rgb(ramp[i]), _rgb(ramp[i + 1])
                f = t - i
                return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * f):02x}" for k in range(3))

            color_of = [interp(v) for v in vals]
            ticks, _, _ = _nice_ticks(lo, hi, 4)
            ticks = [t for t in ticks if lo <= t <= hi] or [lo, hi]
            step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
            legend = {"title": _title_of(color_enc, "legend"),
                      "items": [(_fmt_num(t, step), interp(t)) for t in ticks]}

    # ---- size
    size_enc = enc.get("size", {})
    default_size = float(mark.get("size", 30.0))
    if "value" in size_enc:
        default_size = float(size_enc["value"])
    size_of = [default_size] * n
    if "size" in cols:
        if types["size"] != "quantitative":
            raise ChartSpecError("unsupported feature: a non-quantitative size encoding")
        sv = np.array(cols["size"], dtype=float)
        hi = float(np.nanmax(sv)) if n else 1.0
        size_of = [9 + (361 - 9) * (0 if hi <= 0 else max(v, 0) / hi) for v in sv]
        if legend is None:
            ticks, _, _ = _nice_ticks(0, hi, 4)
            legend = {"title": _title_of(size_enc, "legend"), "sizes": [
                (_fmt_num(t, ticks[1] - ticks[0]), 9 + 352 * t / hi) for t in ticks[1:] if t <= hi]}

    legend_w = 0.0
    if legend is not None:
        labels = [str(it[0]) for it in legend.get("items", legend.get("sizes", []))]
        legend_w = 18 + max(_measure(labels, 10) + [0.0]) + 12
        if legend.get("title"):
            legend_w = max(legend_w, _measure([legend["title"]], 11, True)[0] + 12)

    title_h = 22.0 if title else 0.0
    if mtype == "arc":
        return _arc_chart(svg, spec, mark, enc, cols, color_of, legend, legend_w, title, title_h, n,
                          scale)

    # ---- positional scales
    xenc, yenc = enc.get("x"), enc.get("y")
    xt, yt = types.get("x"), types.get("y")
    x_disc = xt in ("nominal", "ordinal")
    y_disc = yt in ("nominal", "ordinal")
    horizontal = mtype in ("bar", "area", "tick") and y_disc and not x_disc or (
        mtype in ("bar", "area") and xt == "quantitative" and yt in ("temporal",))
    xdom = _discrete_domain(cols["x"], xenc.get("sort")) if x_disc else None
    ydom = _discrete_domain(cols["y"], yenc.get("sort")) if y_disc else None
    width = float(spec.get("width") or (STEP * len(xdom) if x_disc else CONT if xenc else STEP))
    height = float(spec.get("height") or (STEP * len(ydom) if y_disc else CONT if yenc else STEP))
    band = mtype in ("bar", "tick")

    # stacking: bars/areas with a colour field stack on the quantitative axis
    q_ch = "x" if horizontal else "y"
    o_ch = "y" if horizontal else "x"
    stacked = (mtype in ("bar", "area") and "color" in cols and types.get("color") in ("nominal", "ordinal")
               and types.get(q_ch) == "quantitative" and (enc.get(q_ch) or {}).get("stack", True) is not False)
    base = [0.0] * n
    top = list(cols.get(q_ch, [0.0] * n)) if types.get(q_ch) == "quantitative" else None
    if stacked and o_ch in cols:
        cdom = legend["items"] if legend else []
        order = {v: i for i, (v, _) in enumerate(cdom)}
        pos: dict = {}
        neg: dict = {}
        # Vega-Lite puts the first colour of the domain on top: stack from the last one
        for i in sorted(range(n), key=lambda i: -order.get(cols["color"][i], 0)):
            key = cols[o_ch][i]
            v = cols[q_ch][i]
            if not math.isfinite(v):
                continue
            acc = pos if v >= 0 else neg
            base[i] = acc.get(key, 0.0)
            top[i] = base[i] + v  # type: ignore[index]
            acc[key] = top[i]  # type: ignore[index]

    def cont_scale(ch, span_px, lo_px, hi_px, values_extra=()):
        d = enc[ch]
        sc = d.get("scale") or {}
        vals = [v for v in cols[ch] if math.isfinite(v)] + list(values_extra)
        if ch == q_ch and top is not None:
            vals += [v for v in top if math.isfinite(v)] + [b for b in base]
        lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
        count = max(2, math.ceil(abs(span_px) / 40))
        if types[ch] == "temporal":
            if "domain" in sc:
                lo, hi = (_to_time(v) for v in sc["domain"])
            t, lab = _time_ticks(lo, hi, count)
            return _Scale("continuous", (lo, hi), (lo_px, hi_px), ticks=t, labels=lab)
        zero = sc.get("zero", True)
        if zero and "domain" not in sc:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        if "domain" in sc:
            lo, hi = (float(v) for v in sc["domain"])
            ticks, _, _ = _nice_ticks(lo, hi, count)
            ticks = [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]
        else:
            ticks, lo, hi = _nice_ticks(lo, hi, count)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        return _Scale("continuous", (lo, hi), (lo_px, hi_px), ticks=ticks,
                      labels=[_fmt_num(t, step) for t in ticks])

    # provisional scales to measure labels
    xs = (_Scale("discrete", xdom, (0, width), band=band) if x_disc else
          cont_scale("x", width, 0, width) if xenc else None)
    ys = (_Scale("discrete", ydom, (0, height), band=band) if y_disc else
          cont_scale("y", height, height, 0) if yenc else None)

    ylabels = (ydom if y_disc else ys.labels) if ys else []
    yl_w = max(_measure([str(v) for v in ylabels], 10) + [0.0])
    ytitle = _title_of(yenc, "axis") if yenc else None
    left = 5 + (yl_w + 7 if ys else 0) + (15 if ytitle else 0)
    xlabels = (xdom if x_disc else xs.labels) if xs else []
    x_rot = x_disc  # Vega-Lite rotates discrete x labels by 270 degrees
    if xenc and isinstance(xenc.get("axis"), dict) and "labelAngle" in xenc["axis"]:
        x_rot = float(xenc["axis"]["labelAngle"]) % 360 != 0
    xl_h = (max(_measure([str(v) for v in xlabels], 10) + [0.0]) if x_rot else 10) if xs else 0
    xtitle = _title_of(xenc, "axis") if xenc else None
    bottom = 5 + (xl_h + 9 if xs else 0) + (16 if xtitle else 0)
    top_pad = 5 + title_h
    right = 5 + (legend_w + 16 if legend else 0)
    W = left + width + right
    H = top_pad + height + bottom
    ox, oy = left, top_pad
    bg = spec.get("background", "white")
    svg.add(f'<rect width="{W:.0f}" height="{H:.0f}" fill="{escape(str(bg))}"/>')
    if title:
        tx = ox + width / 2
        svg.text(tx, 5 + 13, title, size=13, anchor="middle", bold=True)
    svg.add(f'<g transform="translate({ox:.2f},{oy:.2f})">')

    # grid + axes
    def grid_on(d):
        return not isinstance(d.get("axis"), dict) or d["axis"].get("grid", True)

    if ys and ys.kind == "continuous" and grid_on(yenc):
        for t in ys.ticks:
            y = ys(t)
            svg.line(0, y, width, y, stroke="#ddd")
    if xs and xs.kind == "continuous" and grid_on(xenc):
        for t in xs.ticks:
            x = xs(t)
            svg.line(x, 0, x, height, stroke="#ddd")

    _draw_marks(svg, mtype, mark, xs, ys, cols, types, color_of, size_of, base, top, horizontal,
                stacked, width, height, n)

    if xs:
        svg.line(0, height, width, height)
        ticks = xs.ticks if xs.kind == "continuous" else xdom
        labels = xs.labels if xs.kind == "continuous" else xdom
        for t, lab in zip(ticks, labels):
            x = xs(t) + (xs.bandwidth / 2 if xs.kind == "discrete" else 0)
            svg.line(x, height, x, height + 5)
            if x_rot:
                svg.text(x + 3, height + 7, lab, anchor="end", rotate=-90)
            else:
                svg.text(x, height + 17, lab, anchor="middle")
        if xtitle:
            svg.text(width / 2, height + 9 + xl_h + 13, xtitle, size=11, anchor="middle", bold=True)
    if ys:
        svg.line(0, 0, 0, height)
        ticks = ys.ticks if ys.kind == "continuous" else ydom
        labels = ys.labels if ys.kind == "continuous" else ydom
        for t, lab in zip(ticks, labels):
            y = ys(t) + (ys.bandwidth / 2 if ys.kind == "discrete" else 0)
            svg.line(-5, y, 0, y)
            svg.text(-7, y + 3.5, lab, anchor="end")
        if ytitle:
            svg.text(-(yl_w + 7 + 6), height / 2, ytitle, size=11, anchor="middle", bold=True,
                     rotate=-90)
    svg.add("</g>")
    if legend:
        _legend(svg, legend, ox + width + 18, oy, mtype)
    return _document(svg, W, H, scale)


def _document(svg: _Svg, W: float, H: float, scale: float) -> str:
    W, H = round(W), round(H)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{max(1, round(W * scale))}" '
            f'height="{max(1, round(H * scale))}" viewBox="0 0 {W} {H}">{"".join(svg.parts)}</svg>')


def _rgb(c: str) -> tuple[int, int, int]:
    from PIL import ImageColor

    return ImageColor.getrgb(c)[:3]


def _draw_marks(svg, mtype, mark, xs, ys, cols, types, color_of, size_of, base, top, horizontal,
                stacked, width, height, n):
    opacity = mark.get("opacity")
    x_of = cols.get("x")
    y_of = cols.get("y")

    def px(i):
        if xs is None:
            return width / 2
        v = x_of[i]
        return xs(v) + (xs.bandwidth / 2 if xs.kind == "discrete" and mtype not in ("bar",) else 0)

    def py(i):
        if ys is None:
            return height / 2
        v = y_of[i]
        return ys(v) + (ys.bandwidth / 2 if ys.kind == "discrete" and mtype not in ("bar",) else 0)

    def valid(i):
        for c in (x_of, y_of):
            if c is not None and isinstance(c[i], float) and not math.isfinite(c[i]):
                return False
        return True

    op = f' fill-opacity="{opacity}"' if opacity is not None else ""
    if mtype == "bar":
        for i in range(n):
            if not valid(i):
                continue
            if horizontal:
                y0 = ys(y_of[i]) if ys.kind == "discrete" else py(i) - 5
                h = ys.bandwidth if ys.kind == "discrete" else 10
                a, b = xs(base[i]), xs(top[i]) if top is not None else xs(x_of[i])
                x0, w = min(a, b), abs(b - a)
                svg.add(f'<rect x="{x0:.2f}" y="{y0:.2f}" width="{w:.2f}" height="{h:.2f}" fill="{color_of[i]}"{op}/>')
            else:
                if xs is not None and xs.kind == "discrete":
                    x0, w = xs(x_of[i]), xs.bandwidth
                else:
                    w = max(1.0, min(20.0, width / max(n, 1) * 0.8))
                    x0 = (xs(x_of[i]) if xs else width / 2) - w / 2
                a = ys(base[i]) if ys else height
                b = ys(top[i]) if top is not None else (ys(y_of[i]) if ys else 0)
                y0, h = min(a, b), abs(b - a)
                svg.add(f'<rect x="{x0:.2f}" y="{y0:.2f}" width="{w:.2f}" height="{h:.2f}" fill="{color_of[i]}"{op}/>')
        return
    if mtype == "tick":
        for i in range(n):
            if not valid(i):
                continue
            c = color_of[i]
            if horizontal or (xs is not None and xs.kind == "continuous" and (ys is None or ys.kind == "discrete")):
                x, yc = px(i), py(i)
                ln = ys.bandwidth * 0.75 if ys is not None and ys.kind == "discrete" else 14
                svg.line(x, yc - ln / 2, x, yc + ln / 2, stroke=c, width=mark.get("thickness", 1), opacity=opacity or 1)
            else:
                xc, y = px(i), py(i)
                ln = xs.bandwidth * 0.75 if xs is not None and xs.kind == "discrete" else 14
                svg.line(xc - ln / 2, y, xc + ln / 2, y, stroke=c, width=1, opacity=opacity or 1)
        return
    if mtype == "point":
        filled = bool(mark.get("filled", False))
        sw = mark.get("strokeWidth", 2)
        for i in range(n):
            if not valid(i):
                continue
            r = math.sqrt(max(size_of[i], 0) / math.pi)
            c = color_of[i]
            if filled:
                svg.add(f'<circle cx="{px(i):.2f}" cy="{py(i):.2f}" r="{r:.2f}" fill="{c}" fill-opacity="{opacity or 0.7}"/>')
            else:
                svg.add(f'<circle cx="{px(i):.2f}" cy="{py(i):.2f}" r="{r:.2f}" fill="none" stroke="{c}" '
                        f'stroke-width="{sw}" stroke-opacity="{opacity or 0.7}"/>')
        return
    # line / area: one series per colour (sorted along the independent axis)
    groups: dict[str, list[int]] = {}
    for i in range(n):
        if valid(i):
            groups.setdefault(color_of[i], []).append(i)
    order_ch = y_of if horizontal else x_of
    order_scale = ys if horizontal else xs
    for c, idx in groups.items():
        if order_ch is not None:
            if order_scale is not None and order_scale.kind == "discrete":
                idx.sort(key=lambda i: order_scale.index[order_ch[i]])
            else:
                idx.sort(key=lambda i: order_ch[i])
        if mtype == "line":
            pts = " ".join(f"{px(i):.2f},{py(i):.2f}" for i in idx)
            sw = mark.get("strokeWidth", 2)
            so = f' stroke-opacity="{opacity}"' if opacity is not None else ""
            svg.add(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="{sw}"{so}/>')
            if mark.get("point"):
                for i in idx:
                    svg.add(f'<circle cx="{px(i):.2f}" cy="{py(i):.2f}" r="3.09" fill="{c}"/>')
        else:  # area
            if horizontal:
                upper = [(xs(top[i] if top is not None else x_of[i]), py(i)) for i in idx]
                lower = [(xs(base[i]), py(i)) for i in reversed(idx)]
            else:
                upper = [(px(i), ys(top[i] if top is not None else y_of[i])) for i in idx]
                lower = [(px(i), ys(base[i])) for i in reversed(idx)]
            pts = " ".join(f"{x:.2f},{y:.2f}" for x, y in upper + lower)
            fo = opacity if opacity is not None else (0.7 if not stacked and len(groups) > 1 else 1)
            svg.add(f'<polygon points="{pts}" fill="{c}" fill-opacity="{fo}"/>')


def _legend(svg, legend, x, y, mtype):
    yy = y
    if legend.get("title"):
        svg.text(x, yy + 10, legend["title"], size=11, bold=True)
        yy += 18
    if "sizes" in legend:
        for lab, area in legend["sizes"]:
            r = math.sqrt(area / math.pi)
            svg.add(f'<circle cx="{x + 8:.2f}" cy="{yy + 7:.2f}" r="{r:.2f}" fill="none" stroke="#4c78a8" stroke-width="1.5"/>')
            svg.text(x + 22, yy + 10.5, lab)
            yy += max(16, 2 * r + 4)
        return
    for lab, c in legend["items"]:
        if mtype in ("point",):
            svg.add(f'<circle cx="{x + 5:.2f}" cy="{yy + 6:.2f}" r="4.5" fill="none" stroke="{c}" stroke-width="1.5"/>')
        elif mtype == "line":
            svg.line(x, yy + 6, x + 12, yy + 6, stroke=c, width=2)
        elif mtype == "bar":
            svg.add(f'<rect x="{x:.2f}" y="{yy + 1:.2f}" width="10" height="10" fill="{c}"/>')
        else:
            svg.add(f'<circle cx="{x + 5:.2f}" cy="{yy + 6:.2f}" r="5" fill="{c}"/>')
        svg.text(x + 16, yy + 9.5, lab)
        yy += 16


def _arc_chart(svg, spec, mark, enc, cols, color_of, legend, legend_w, title, title_h, n, scale):
    if enc["theta"].get("type") != "quantitative":
        raise ChartSpecError("unsupported feature: a non-quantitative theta encoding")
    width = float(spec.get("width") or CONT)
    height = float(spec.get("height") or CONT)
    right = 5 + (legend_w + 16 if legend else 0)
    W, H = 5 + width + right, 5 + title_h + height + 5
    cx, cy = 5 + width / 2, 5 + title_h + height / 2
    radius = min(width, height) / 2
    inner = float(mark.get("innerRadius", 0) or 0)
    svg.add(f'<rect width="{W:.0f}" height="{H:.0f}" fill="{escape(str(spec.get("background", "white")))}"/>')
    if title:
        svg.text(5 + width / 2, 5 + 13, title, size=13, anchor="middle", bold=True)
    vals = [max(v, 0.0) if math.isfinite(v) else 0.0 for v in cols["theta"]]
    total = sum(vals) or 1.0
    # order slices by colour domain (Vega-Lite stacks theta by the colour field)
    order = list(range(n))
    if legend and "items" in legend and "color" in cols:
        pos = {v: i for i, (v, _) in enumerate(legend["items"])}
        order.sort(key=lambda i: pos.get(cols["color"][i], 0))
    a0 = 0.0
    for i in order:
        a1 = a0 + vals[i] / total * 2 * math.pi
        svg.add(_arc_path(cx, cy, radius, inner, a0, a1, color_of[i], mark.get("opacity")))
        a0 = a1
    if legend:
        _legend(svg, legend, 5 + width + 18, 5 + title_h, "arc")
    return _document(svg, W, H, scale)


def _arc_path(cx, cy, r, r0, a0, a1, color, opacity) -> str:
    """A pie/donut slice; angles in radians clockwise from 12 o'clock."""
    op = f' fill-opacity="{opacity}"' if opacity is not None else ""
    if a1 - a0 <= 1e-9:
        return ""

    def pt(rad, a):
        return cx + rad * math.sin(a), cy - rad * math.cos(a)

    if a1 - a0 >= 2 * math.pi - 1e-9:  # full circle: two half arcs
        mid = a0 + math.pi
        if r0 > 0:
            return (f'<path d="M{pt(r, a0)[0]:.3f},{pt(r, a0)[1]:.3f}A{r},{r} 0 1 1 {pt(r, mid)[0]:.3f},{pt(r, mid)[1]:.3f}'
                    f'A{r},{r} 0 1 1 {pt(r, a0)[0]:.3f},{pt(r, a0)[1]:.3f}Z'
                    f'M{pt(r0, a0)[0]:.3f},{pt(r0, a0)[1]:.3f}A{r0},{r0} 0 1 0 {pt(r0, mid)[0]:.3f},{pt(r0, mid)[1]:.3f}'
                    f'A{r0},{r0} 0 1 0 {pt(r0, a0)[0]:.3f},{pt(r0, a0)[1]:.3f}Z" fill="{color}" fill-rule="evenodd"{op}/>')
        return f'<circle cx="{cx:.3f}" cy="{cy:.3f}" r="{r}" fill="{color}"{op}/>'
    large = 1 if a1 - a0 > math.pi else 0
    x0, y0 = pt(r, a0)
    x1, y1 = pt(r, a1)
    if r0 > 0:
        ix1, iy1 = pt(r0, a1)
        ix0, iy0 = pt(r0, a0)
        d = (f"M{x0:.3f},{y0:.3f}A{r},{r} 0 {large} 1 {x1:.3f},{y1:.3f}L{ix1:.3f},{iy1:.3f}"
             f"A{r0},{r0} 0 {large} 0 {ix0:.3f},{iy0:.3f}Z")
    else:
        d = f"M{cx:.3f},{cy:.3f}L{x0:.3f},{y0:.3f}A{r},{r} 0 {large} 1 {x1:.3f},{y1:.3f}Z"
    return f'<path d="{d}" fill="{color}"{op}/>'


# ------------------------------------------------------------------------------------- public
def render_specs(specs: Sequence[dict], threads: int | None = None, *, scale: float = 1.0,
                 fallback: bool = True) -> list[RenderResult]:
    """Render many specs: layout in Python, one batched native SVG render (threads, no GIL).

    A spec with an unsupported feature gives ``status="unsupported"`` with the feature in
    ``message``; nothing raises for a bad item. ``scale`` multiplies the output size.
    """
    from verm.render.svg import render_svgs

    results: list[RenderResult | None] = [None] * len(specs)
    docs, idx = [], []
    for i, spec in enumerate(specs):
        try:
            docs.append(spec_to_svg(spec, scale))
            idx.append(i)
        except ChartSpecError as exc:
            results[i] = RenderResult(None, "unsupported", "chart-spec", str(exc))
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            results[i] = RenderResult(None, "error", "chart-spec", f"{type(exc).__name__}: {exc}")
    if docs:
        for i, r in zip(idx, render_svgs(docs, fallback=fallback, threads=threads)):
            r.extra = dict(r.extra, scene="svg")
            results[i] = r
    return results  # type: ignore[return-value]


def render_spec(spec: dict, *, scale: float = 1.0) -> np.ndarray:
    """Render one spec to an (H, W, 4) uint8 RGBA array; raises :class:`ChartSpecError` for
    unsupported features and :class:`verm.render.RenderError` if rasterising fails."""
    spec_to_svg(spec)  # raises ChartSpecError with the feature's name
    (res,) = render_specs([spec], threads=1, scale=scale)
    if res.image is None:
        from verm.render.svg import RenderError

        raise RenderError(res)
    return res.image
