"""Seeded native chart specs (the Vega-Lite subset of :mod:`verm.charts.spec`) and their perturbations.

A chart is a small model (type, categories, series with stable ids, titles, colours, grid, y
domain); it becomes a spec rendered natively by :func:`verm.charts.render_specs`. Every
perturbation is an *edit op* with concrete values (which series, which category, which colour), so
it can be replayed on the ground truth alone: that replay is the label's ``probe``, and synthesis
takes the label's bbox from where the probe's render differs from the GT's (the layout of a spec
chart is not fixed: axis-label widths move the plot). Categories and severities follow the
matplotlib chart families of :mod:`verm.data.chart_gen` (see docs/data.md).

Supported chart types: bar, horizontal bar, stacked bar, line (1-3 series), point (scatter), area
(stacked when several series) and arc (pie / donut). Grouped bars need an offset channel the spec
subset lacks, so they come from the matplotlib source only.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

from verm.data.chart_gen import COLORS, TOPICS, _alter_text
from verm.data.common import LabeledError, Sample, color_distance, resize_slice_pair, shift_values

FMT = "vegalite"
TYPES = ("bar", "hbar", "stacked_bar", "line", "point", "area", "arc")
_CAT_TYPES = ("bar", "hbar", "stacked_bar", "line", "area")
_LEGEND_TITLES = {"Monthly Revenue": "Year", "Average Temperature": "City", "Population Growth": "Area",
                  "Sales by Region": "Channel", "Model Accuracy": "Split", "Energy Mix": "Year",
                  "Website Traffic": "Device"}
_NAMES = {"bar": "bar", "hbar": "horizontal bar", "stacked_bar": "stacked bar", "line": "line",
          "point": "scatter", "area": "area", "arc": "pie"}

Op = Callable[[dict[str, Any]], None]


def _series_values(rng: random.Random, n: int, lo: float, hi: float) -> list[float]:
    start = rng.uniform(lo, hi)
    trend = rng.uniform(-0.08, 0.12) * (hi - lo)
    return [round(max(lo * 0.3 + 0.5, start + trend * i + rng.gauss(0, 0.08 * (hi - lo))), 1) for i in range(n)]


def generate_model(rng: random.Random, ctype: str | None = None) -> dict[str, Any]:
    """A random chart model (see the module docstring)."""
    topic = rng.choice(TOPICS)
    ctype = ctype or rng.choice(TYPES)
    cats = list(topic["cats"])[: 5 if ctype == "arc" else None]
    n_series = {"bar": 1, "hbar": 1, "arc": 1, "stacked_bar": rng.randint(2, 3), "line": rng.randint(1, 3),
                "area": rng.randint(1, 3), "point": rng.randint(1, 2)}[ctype]
    lo, hi = topic["base"]
    pool = COLORS[:8] if rng.random() < 0.6 else COLORS[8:]
    colors = rng.sample(pool, k=max(n_series, len(cats) if ctype == "arc" else n_series))
    series = []
    for k in range(n_series):
        s: dict[str, Any] = {"id": k, "name": topic["series"][k], "color": colors[k]}
        if ctype == "point":
            m = rng.randint(15, 30)
            s["x"] = [round(rng.uniform(lo, hi), 1) for _ in range(m)]
            s["values"] = [round(x * rng.uniform(0.6, 1.2) + rng.gauss(0, 3), 1) for x in s["x"]]
        elif ctype == "arc":
            raw = [rng.uniform(8, 40) for _ in cats]
            tot = sum(raw)
            s["values"] = [round(100 * v / tot, 1) for v in raw]
        else:
            s["values"] = _series_values(rng, len(cats), lo, hi)
        series.append(s)
    return {
        "type": ctype, "title": topic["title"], "xtitle": topic["x"] + (" index" if ctype == "point" else ""),
        "ytitle": topic["y"], "cats": cats,
        "series": series, "multi": n_series > 1, "slice_colors": colors[: len(cats)] if ctype == "arc" else None,
        "legend_title": topic["x"] if ctype == "arc" else _LEGEND_TITLES.get(topic["title"], "Series"),
        "grid": rng.random() < 0.6, "ydomain": None, "point": rng.random() < 0.5, "stroke": 2,
        "filled": rng.random() < 0.5, "inner": rng.choice([0, 0, 45]),
        "width": 200 if ctype == "arc" else rng.choice([260, 300, 340]),
        "height": 200 if ctype == "arc" else rng.choice([180, 200, 240]),
    }


def _has_legend(m: dict[str, Any]) -> bool:
    # a chart drawn with several series keeps its colour legend even when a series is dropped
    return m["type"] == "arc" or m["multi"]


def to_spec(m: dict[str, Any]) -> dict[str, Any]:
    """The Vega-Lite spec (dict) of a model."""
    t = m["type"]
    ss = m["series"]
    spec: dict[str, Any] = {"title": m["title"], "width": m["width"], "height": m["height"]}
    legend = {"title": m["legend_title"]}
    if t == "arc":
        mark: dict[str, Any] = {"type": "arc"}
        if m["inner"]:
            mark["innerRadius"] = m["inner"]
        spec.update(data={"values": [{"cat": c, "value": v} for c, v in zip(m["cats"], ss[0]["values"])]},
                    mark=mark, encoding={
                        "theta": {"field": "value", "type": "quantitative"},
                        "color": {"field": "cat", "type": "nominal", "sort": list(m["cats"]),
                                  "scale": {"range": list(m["slice_colors"])}, "legend": legend}})
        return spec
    color = ({"field": "series", "type": "nominal", "sort": [s["name"] for s in ss],
              "scale": {"range": [s["color"] for s in ss]}, "legend": legend} if m["multi"] else None)
    quant: dict[str, Any] = {"field": "value", "type": "quantitative",
                             "axis": {"title": m["ytitle"], "grid": m["grid"]}}
    if m["ydomain"]:
        quant["scale"] = {"domain": list(m["ydomain"])}
    if t == "point":
        rows = [{"x": x, "value": v, "series": s["name"]} for s in ss for x, v in zip(s["x"], s["values"])]
        enc: dict[str, Any] = {"x": {"field": "x", "type": "quantitative",
                                     "axis": {"title": m["xtitle"], "grid": m["grid"]}}, "y": quant}
        mark = {"type": "point", "filled": m["filled"], "size": 40}
    else:
        rows = [{"cat": c, "series": s["name"], "value": v} for s in ss for c, v in zip(m["cats"], s["values"])]
        nominal = {"field": "cat", "type": "nominal", "sort": list(m["cats"]),
                   "axis": {"title": m["xtitle"], "labelAngle": 0}}
        enc = {"y": nominal, "x": quant} if t == "hbar" else {"x": nominal, "y": quant}
        if t in ("bar", "hbar", "stacked_bar"):
            mark = {"type": "bar"}
        elif t == "line":
            mark = {"type": "line", "point": m["point"], "strokeWidth": m["stroke"]}
        else:
            mark = {"type": "area"}
    if color is not None:
        enc["color"] = color
    else:
        mark["color"] = ss[0]["color"]
    spec.update(data={"values": rows}, mark=mark, encoding=enc)
    return spec


def spec_code(m: dict[str, Any]) -> str:
    """The spec as JSON text (the sample's code)."""
    return json.dumps(to_spec(m), ensure_ascii=False)


# ------------------------------------------------------------------ perturbations (edit ops)
def _ser(m: dict[str, Any], sid: int) -> dict[str, Any] | None:
    return next((s for s in m["series"] if s["id"] == sid), None)


def _err(cat: str, sev: int, loc: str, desc: str, fam: str) -> LabeledError:
    return LabeledError(cat, sev, loc, desc, None, fam)


def _nominal_axis(m) -> str:
    return "y" if m["type"] == "hbar" else "x"


def p_color(m, rng, used):
    if "color" in used or "type" in used:
        return None
    if m["type"] == "arc":
        i = rng.randrange(len(m["slice_colors"]))
        old = m["slice_colors"][i]
        new = rng.choice([c for c in COLORS if c not in m["slice_colors"] and color_distance(c, old) > 130])

        def op(x):
            x["slice_colors"][i] = new

        return ["color"], _err("style_error", 1, "pie slice", f'The "{m["cats"][i]}" slice has a different colour.',
                               "color"), op
    s = rng.choice(m["series"])
    old, sid = s["color"], s["id"]
    new = rng.choice([c for c in COLORS if c not in [x["color"] for x in m["series"]] and color_distance(c, old) > 130])

    def op(x):
        t = _ser(x, sid)
        if t is not None:
            t["color"] = new

    sev = 2 if len(m["series"]) == 1 else 1
    return ["color"], _err("style_error", sev, "plot area", f'The series "{s["name"]}" is drawn in a different colour.',
                           "color"), op


def p_title(m, rng, used):
    if "title" in used:
        return None
    old = m["title"]
    new = _alter_text(rng, old)

    def op(x):
        x["title"] = new

    return ["title"], _err("text_error", 2, "chart title", f'The title reads "{new}" instead of "{old}".',
                           "title_text"), op


_AXIS_ALT = {"Month": "Period", "Year": "Decade", "Region": "Area", "Epoch": "Step", "Source": "Type",
             "Weekday": "Day"}


def p_axis_label(m, rng, used):
    if m["type"] == "arc" or "axlabel" in used or "type" in used:
        return None
    which = rng.choice(["xtitle", "ytitle"])
    old = m[which]
    new = _AXIS_ALT.get(old, old.split(" (")[0] + " (units)")
    on_x = (which == "xtitle") != (m["type"] == "hbar")

    def op(x):
        x[which] = new

    return ["axlabel"], _err("text_error", 1, "x-axis title" if on_x else "y-axis title",
                             f'The axis title reads "{new}" instead of "{old}".', "axis_label"), op


_TICK_ALT = {"Jan": "Jun", "Feb": "Feb.", "Mar": "May", "Apr": "Aug", "North": "Nord", "South": "Sud",
             "East": "Est", "West": "Ouest", "Central": "Centre", "Solar": "Sun", "Wind": "Air",
             "Hydro": "Water", "Mon": "Mo", "Tue": "Tu", "Wed": "We"}


def p_tick_text(m, rng, used):
    if m["type"] not in _CAT_TYPES or "ticks" in used or "type" in used:
        return None
    i = rng.randrange(len(m["cats"]))
    old = m["cats"][i]
    new = _TICK_ALT.get(old, old + "*")
    if new in m["cats"]:
        new = old + "*"

    def op(x):
        x["cats"][i] = new

    return ["ticks"], _err("text_error", 1, f"{_nominal_axis(m)}-axis labels",
                           f'A tick label reads "{new}" instead of "{old}".', "tick_text"), op


def p_data_value(m, rng, used):
    if "type" in used or "series" in used or "data" in used or "axis" in used:
        return None
    s = rng.choice(m["series"])
    sid = s["id"]
    vals = list(s["values"])
    if m["type"] == "arc":
        i, j = rng.sample(range(len(vals)), 2)
        resize_slice_pair(vals, i, j)
        desc = f'The "{m["cats"][i]}" and "{m["cats"][j]}" slices have the wrong sizes.'
        sev, loc, idx = 2, "pie slices", [i, j]
    else:
        n = rng.choice([1, 1, 2]) if m["type"] != "point" else rng.choice([2, 3])
        idx = rng.sample(range(len(vals)), n)
        shift_values(vals, idx, rng)
        where = ("category " + ", ".join(str(m["cats"][i]) for i in idx)) if m["type"] != "point" else "points"
        desc = f'Series "{s["name"]}" has wrong values at {where}.'
        sev, loc = (2 if n == 1 else 3) if m["type"] != "point" else 2, "plot area"
    new = {i: vals[i] for i in idx}

    def op(x):
        t = _ser(x, sid)
        if t is not None:
            for i, v in new.items():
                t["values"][i] = v

    return ["data"], _err("data_error", sev, loc, desc, "data_value"), op


def p_series_drop(m, rng, used):
    if m["type"] == "arc" or len(m["series"]) < 2 or used & {"type", "series", "data", "legend", "color"}:
        return None
    s = rng.choice(m["series"])
    sid = s["id"]

    def op(x):
        x["series"] = [t for t in x["series"] if t["id"] != sid]

    return ["series", "color", "legend"], _err("data_error", 3, "plot area", f'The series "{s["name"]}" is missing.',
                                               "series_dropped"), op


def p_legend(m, rng, used):
    if not _has_legend(m) or "legend" in used or "type" in used:
        return None
    r = rng.random()
    old = m["legend_title"]
    if r < 0.3:
        def op(x):
            x["legend_title"] = None

        return ["legend"], _err("structure_error", 1, "legend", f'The legend title "{old}" is missing.',
                                "legend_title_removed"), op
    if r < 0.6:
        new = {"Year": "Years", "City": "Cities", "Channel": "Channels", "Device": "Platform", "Split": "Subset",
               "Area": "Zone"}.get(old, old + " (est.)")

        def op(x):
            x["legend_title"] = new

        return ["legend"], _err("text_error", 1, "legend", f'The legend title reads "{new}" instead of "{old}".',
                                "legend_title"), op
    if m["type"] == "arc":
        if "ticks" in used:
            return None
        i = rng.randrange(len(m["cats"]))
        old_e = m["cats"][i]
        new_e = old_e + rng.choice([" (est.)", " total", "*"])

        def op(x):
            x["cats"][i] = new_e

        return ["legend", "ticks"], _err("text_error", 1, "legend", f'The legend entry reads "{new_e}" instead of '
                                         f'"{old_e}".', "legend_text"), op
    s = rng.choice(m["series"])
    sid, old_e = s["id"], s["name"]
    new_e = old_e + rng.choice([" (est.)", " total", "*"])

    def op(x):
        t = _ser(x, sid)
        if t is not None:
            t["name"] = new_e

    return ["legend", "series_name"], _err("text_error", 1, "legend", f'The legend entry reads "{new_e}" instead '
                                           f'of "{old_e}".', "legend_text"), op


def p_mark_style(m, rng, used):
    if m["type"] not in ("line", "point") or "style" in used or "type" in used:
        return None
    if m["type"] == "point":
        new = not m["filled"]

        def op(x):
            x["filled"] = new

        what = "filled markers" if new else "hollow markers"
    elif rng.random() < 0.5:
        new_p = not m["point"]

        def op(x):
            x["point"] = new_p

        what = "point markers" if new_p else "no point markers"
    else:
        new_w = rng.choice([1, 4]) if m["stroke"] == 2 else 2

        def op(x):
            x["stroke"] = new_w

        what = "thicker lines" if new_w > m["stroke"] else "thinner lines"
    return ["style"], _err("style_error", 1, "plot area", f"The chart uses {what} unlike the original.",
                           "marker_line_style"), op


_SWAP = {"bar": "line", "line": "bar", "stacked_bar": "area", "area": "line", "point": "line"}


def p_chart_type(m, rng, used):
    if m["type"] not in _SWAP or used:
        return None
    old = m["type"]
    new = _SWAP[old]
    if old == "line" and len(m["series"]) > 1:
        new = "stacked_bar"

    def op(x):
        x["type"] = new
        if old == "point":  # a line through the points in x order
            for s in x["series"]:
                pairs = sorted(zip(s["x"], s["values"]))
                s["x"], s["values"] = [p[0] for p in pairs], [p[1] for p in pairs]
            x["type"] = "line_q"

    return ["type", "color", "style"], _err("structure_error", 3, "whole chart",
                                            f"The chart is a {_NAMES.get(new, new)} chart instead of a "
                                            f"{_NAMES[old]} chart.", "chart_type"), op


def p_axis(m, rng, used):
    if m["type"] == "arc" or "axis" in used or "type" in used or "data" in used:
        return None
    if m["type"] in ("stacked_bar", "area") and len(m["series"]) > 1:
        top = max(sum(v) for v in zip(*[s["values"] for s in m["series"]]))
    else:
        top = max(max(s["values"]) for s in m["series"])
    low = min(0.0, min(min(s["values"]) for s in m["series"]))
    dom = (low, round(top * rng.choice([1.8, 2.5]), 0))

    def op(x):
        x["ydomain"] = dom

    return ["axis"], _err("structure_error", 2, f"{'x' if m['type'] == 'hbar' else 'y'} axis",
                          "The value-axis range differs from the original.", "axis_range"), op


def p_grid(m, rng, used):
    if m["type"] == "arc" or "grid" in used or "type" in used:
        return None
    new = not m["grid"]

    def op(x):
        x["grid"] = new

    return ["grid"], _err("style_error", 1, "plot area",
                          "Grid lines are " + ("shown" if new else "missing") + " unlike the original.", "grid"), op


FAMILIES = {
    "color": p_color, "title_text": p_title, "axis_label": p_axis_label, "tick_text": p_tick_text,
    "data_value": p_data_value, "series_dropped": p_series_drop, "legend": p_legend,
    "marker_line_style": p_mark_style, "chart_type": p_chart_type, "axis_range": p_axis, "grid": p_grid,
}


def model_code(m: dict[str, Any]) -> str:
    """Spec JSON of a model, including the internal 'line_q' type (a line over a quantitative x)."""
    if m["type"] != "line_q":
        return spec_code(m)
    m2 = dict(m, type="point")
    spec = to_spec(m2)
    spec["mark"] = {"type": "line", "strokeWidth": m["stroke"], "point": True}
    if "color" not in spec["encoding"]:
        spec["mark"]["color"] = m["series"][0]["color"]
    return json.dumps(spec, ensure_ascii=False)


def make_sample(seed: int, n_errors: int, families: list[str] | None = None, ctype: str | None = None) -> Sample:
    """A seeded spec-chart sample with ``n_errors`` labelled perturbations (0 -> identical pair).

    Each label carries a ``probe`` (the GT spec with only that edit); synthesis renders it to get
    the bbox.
    """
    rng = random.Random(seed)
    gt = generate_model(rng, ctype)
    fams = list(families) if families else list(FAMILIES)
    pred = copy.deepcopy(gt)
    errors: list[LabeledError] = []
    used: set[str] = set()
    tries = 0
    while len(errors) < n_errors and tries < 60:
        tries += 1
        fam = rng.choice(fams)
        if fam == "chart_type" and n_errors > 1:
            continue
        out = FAMILIES[fam](pred, rng, used)
        if out is None:
            continue
        touched, err, op = out
        trial = copy.deepcopy(pred)
        op(trial)
        probe = copy.deepcopy(gt)
        op(probe)
        err.probe = model_code(probe)
        pred = trial
        used.update(touched)
        errors.append(err)
    return Sample("chart", FMT, spec_code(gt), model_code(pred), errors, seed,
                  {"type": gt["type"], "source": "spec"})
