"""Seeded chart generator (matplotlib code) and the chart perturbation families.

A chart is a spec (type, categories, series, title, labels, legend, axis settings); the code it
becomes uses a fixed axes rectangle so a change to one element does not move the others, which
keeps every label's bbox (title band, plot area, axis label strips) exact.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from verm.data.common import (
    LabeledError,
    Sample,
    apply_families,
    color_distance,
    resize_slice_pair,
    shift_values,
)

TYPES = ("bar", "grouped_bar", "stacked_bar", "line", "scatter", "pie", "area", "hist")
#: The fixed axes rectangle [left, bottom, width, height] in figure fractions.
AXES = (0.15, 0.15, 0.78, 0.72)
FIGSIZE = (4.2, 3.2)
DPI = 80
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
          "#4c72b0", "#dd8452", "#55a868", "#c44e52", "#264653", "#e9c46a", "#2a9d8f"]
MARKERS = ["o", "s", "^", "D", "v", "x"]
LINESTYLES = ["-", "--", "-.", ":"]

TOPICS = [
    {"title": "Monthly Revenue", "x": "Month", "y": "Revenue ($k)",
     "cats": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug"], "series": ["2023", "2024", "2025"],
     "base": (40, 120)},
    {"title": "Average Temperature", "x": "Month", "y": "Temperature (°C)",
     "cats": ["Jan", "Feb", "Mar", "Apr", "May", "Jun"], "series": ["Oslo", "Madrid", "Cairo"], "base": (2, 30)},
    {"title": "Population Growth", "x": "Year", "y": "Population (M)",
     "cats": ["2000", "2005", "2010", "2015", "2020"], "series": ["Urban", "Rural", "Suburban"], "base": (10, 60)},
    {"title": "Sales by Region", "x": "Region", "y": "Units sold",
     "cats": ["North", "South", "East", "West", "Central"], "series": ["Online", "Retail", "Partner"],
     "base": (200, 900)},
    {"title": "Model Accuracy", "x": "Epoch", "y": "Accuracy (%)",
     "cats": ["1", "2", "3", "4", "5", "6", "7"], "series": ["Train", "Validation", "Test"], "base": (55, 95)},
    {"title": "Energy Mix", "x": "Source", "y": "Share (%)",
     "cats": ["Solar", "Wind", "Hydro", "Gas", "Coal"], "series": ["2015", "2025", "2035"], "base": (5, 40)},
    {"title": "Website Traffic", "x": "Weekday", "y": "Visits (k)",
     "cats": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "series": ["Desktop", "Mobile", "Tablet"],
     "base": (5, 50)},
]
LEGEND_LOCS = ["upper left", "upper right", "lower right", "lower left"]


def _series_values(rng: random.Random, n: int, lo: float, hi: float) -> list[float]:
    start = rng.uniform(lo, hi)
    trend = rng.uniform(-0.08, 0.12) * (hi - lo)
    vals = []
    for i in range(n):
        v = start + trend * i + rng.gauss(0, 0.08 * (hi - lo))
        vals.append(round(max(lo * 0.3 + 0.5, v), 1))
    return vals


def generate_chart(rng: random.Random, ctype: str | None = None) -> dict[str, Any]:
    """A random chart spec."""
    topic = rng.choice(TOPICS)
    ctype = ctype or rng.choice(TYPES)
    cats = list(topic["cats"])
    n_series = 1 if ctype in ("bar", "pie", "hist") else rng.randint(2, 3)
    if ctype == "scatter":
        n_series = rng.randint(1, 2)
    lo, hi = topic["base"]
    colors = rng.sample(COLORS[:8] if rng.random() < 0.6 else COLORS[8:], k=max(n_series, 5 if ctype == "pie" else n_series))
    series = []
    for k in range(n_series):
        s: dict[str, Any] = {"name": topic["series"][k], "color": colors[k],
                             "marker": rng.choice(MARKERS[:4]) if ctype in ("line", "scatter") else None,
                             "ls": "-"}
        if ctype == "scatter":
            m = rng.randint(15, 30)
            s["x"] = [round(rng.uniform(lo, hi), 1) for _ in range(m)]
            s["values"] = [round(x * rng.uniform(0.6, 1.2) + rng.gauss(0, 3), 1) for x in s["x"]]
        elif ctype == "hist":
            mu, sd = rng.uniform(lo, hi), (hi - lo) * rng.uniform(0.1, 0.2)
            s["values"] = [round(rng.gauss(mu, sd), 1) for _ in range(rng.randint(120, 200))]
            s["bins"] = rng.choice([8, 10, 12])
        elif ctype == "pie":
            raw = [rng.uniform(8, 40) for _ in cats[:5]]
            tot = sum(raw)
            s["values"] = [round(100 * v / tot, 1) for v in raw]
        else:
            s["values"] = _series_values(rng, len(cats), lo, hi)
        series.append(s)
    spec = {
        "type": ctype, "title": topic["title"], "xlabel": topic["x"], "ylabel": topic["y"],
        "cats": cats[:5] if ctype == "pie" else cats, "series": series,
        "pie_colors": colors[:5] if ctype == "pie" else None,
        "legend": (n_series > 1 or ctype == "pie") and rng.random() < 0.9,
        "legend_loc": rng.choice(LEGEND_LOCS), "grid": rng.random() < 0.5, "ylim": None, "yscale": "linear",
        "title_size": rng.choice([12, 13, 14]),
    }
    if ctype in ("line", "scatter", "area") and rng.random() < 0.3:
        ymax = max(max(s["values"]) for s in series)
        spec["ylim"] = (0, round(ymax * 1.25, 0))
    return spec


def _list(v) -> str:
    return "[" + ", ".join(repr(x) for x in v) + "]"


def chart_code(spec: dict[str, Any]) -> str:
    """The matplotlib code for a spec (Agg-safe; no savefig/show: the renderer captures the figure)."""
    t = spec["type"]
    L = ["import matplotlib.pyplot as plt", "import numpy as np", "",
         f"fig = plt.figure(figsize={FIGSIZE}, dpi={DPI})", f"ax = fig.add_axes({list(AXES)})"]
    cats = spec["cats"]
    ss = spec["series"]
    if t in ("bar", "grouped_bar", "stacked_bar", "line", "area"):
        L.append(f"categories = {_list(cats)}")
        L.append("x = np.arange(len(categories))")
    if t == "bar":
        s = ss[0]
        L.append(f"values = {_list(s['values'])}")
        L.append(f"ax.bar(x, values, color={s['color']!r}, label={s['name']!r}, width=0.6)")
    elif t == "grouped_bar":
        w = round(0.8 / len(ss), 3)
        for i, s in enumerate(ss):
            off = round((i - (len(ss) - 1) / 2) * w, 3)
            L.append(f"ax.bar(x + {off}, {_list(s['values'])}, width={w}, color={s['color']!r}, label={s['name']!r})")
    elif t == "stacked_bar":
        L.append("bottom = np.zeros(len(categories))")
        for s in ss:
            L.append(f"vals = np.array({_list(s['values'])})")
            L.append(f"ax.bar(x, vals, bottom=bottom, width=0.6, color={s['color']!r}, label={s['name']!r})")
            L.append("bottom += vals")
    elif t == "line":
        for s in ss:
            L.append(f"ax.plot(x, {_list(s['values'])}, color={s['color']!r}, marker={s['marker']!r}, "
                     f"linestyle={s['ls']!r}, linewidth=2, label={s['name']!r})")
    elif t == "area":
        L.append(f"ys = [{', '.join(_list(s['values']) for s in ss)}]")
        L.append(f"ax.stackplot(x, ys, labels={_list([s['name'] for s in ss])}, "
                 f"colors={_list([s['color'] for s in ss])}, alpha=0.85)")
    elif t == "scatter":
        for s in ss:
            L.append(f"ax.scatter({_list(s['x'])}, {_list(s['values'])}, color={s['color']!r}, "
                     f"marker={s['marker']!r}, s=28, label={s['name']!r})")
    elif t == "hist":
        s = ss[0]
        L.append(f"data = {_list(s['values'])}")
        L.append(f"ax.hist(data, bins={s['bins']}, color={s['color']!r}, edgecolor='white', label={s['name']!r})")
    elif t == "pie":
        s = ss[0]
        L.append(f"ax.pie({_list(s['values'])}, labels={_list(cats)}, colors={_list(spec['pie_colors'])}, "
                 "startangle=90, textprops={'fontsize': 8})")
        L.append("ax.set_aspect('equal')")
    if t in ("bar", "grouped_bar", "stacked_bar", "line", "area"):
        L.append("ax.set_xticks(x)")
        L.append("ax.set_xticklabels(categories)")
    L.append(f"ax.set_title({spec['title']!r}, fontsize={spec['title_size']})")
    if t != "pie":
        xl = spec["ylabel"] if t == "hist" else spec["xlabel"]
        yl = "Count" if t == "hist" else spec["ylabel"]
        if t == "scatter":
            xl = spec["xlabel"] + " index"
        L.append(f"ax.set_xlabel({xl!r})")
        L.append(f"ax.set_ylabel({yl!r})")
        if spec["ylim"]:
            L.append(f"ax.set_ylim({spec['ylim'][0]}, {spec['ylim'][1]})")
        if spec["yscale"] != "linear":
            L.append(f"ax.set_yscale({spec['yscale']!r})")
        if spec["grid"]:
            L.append("ax.grid(True, linestyle='--', alpha=0.5)")
    if spec["legend"]:
        if t == "pie":
            L.append(f"ax.legend(loc={spec['legend_loc']!r}, fontsize=7)")
        else:
            L.append(f"ax.legend(loc={spec['legend_loc']!r}, fontsize=8)")
    return "\n".join(L) + "\n"


# ------------------------------------------------------------------ regions (figure fractions, y down)
_L, _B, _W, _H = AXES
PLOT = (_L, 1 - _B - _H, _L + _W, 1 - _B)
TITLE = (_L, 0.0, _L + _W, 1 - _B - _H)
XLABEL = (_L, 1 - _B + 0.06, _L + _W, 1.0)
XTICKS = (_L - 0.03, 1 - _B, _L + _W + 0.03, 1 - _B + 0.07)
YLABEL = (0.0, PLOT[1], 0.06, PLOT[3])
YTICKS = (0.04, PLOT[1] - 0.03, _L, PLOT[3] + 0.03)


def _legend_box(spec) -> tuple[float, float, float, float]:
    loc = spec["legend_loc"]
    x0, y0, x1, y1 = PLOT
    w, h = 0.3 * (x1 - x0), 0.12 + 0.07 * len(spec["series"])
    left = "left" in loc
    top = "upper" in loc
    bx0 = x0 if left else x1 - w
    by0 = y0 if top else y1 - h
    return (bx0, by0, bx0 + w, by0 + h)


def _union(*bs):
    return (min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))


# ------------------------------------------------------------------ perturbations
def _err(cat, sev, loc, desc, bb, fam) -> LabeledError:
    return LabeledError(cat, sev, loc, desc, bb, fam)


def p_color(spec, rng, used):
    if "color" in used or "type" in used:
        return None
    k = rng.randrange(len(spec["series"]))
    s = spec["series"][k]
    if spec["type"] == "pie":
        i = rng.randrange(len(spec["pie_colors"]))
        old = spec["pie_colors"][i]
        spec["pie_colors"][i] = rng.choice([c for c in COLORS if c not in spec["pie_colors"]
                                            and color_distance(c, old) > 130])
        return ["color"], _err("style_error", 1, "pie slice", f'The "{spec["cats"][i]}" slice has a different colour.',
                               PLOT, "color")
    old = s["color"]
    s["color"] = rng.choice([c for c in COLORS if c not in [x["color"] for x in spec["series"]]
                             and color_distance(c, old) > 130])
    sev = 2 if len(spec["series"]) == 1 else 1
    return ["color"], _err("style_error", sev, "plot area",
                           f'The series "{s["name"]}" is drawn in a different colour.', PLOT, "color")


_TYPO = {"Revenue": "Revenues", "Temperature": "Temperatures", "Growth": "Change", "Sales": "Sale",
         "Accuracy": "Precision", "Energy": "Power", "Traffic": "Visitors", "Monthly": "Weekly",
         "Average": "Mean", "Population": "Populace", "Model": "Network", "Website": "Web"}


def _alter_text(rng, text: str) -> str:
    words = text.split()
    for i, w in enumerate(words):
        if w in _TYPO and rng.random() < 0.7:
            words[i] = _TYPO[w]
            return " ".join(words)
    if rng.random() < 0.5:
        return text + " " + rng.choice(["(2024)", "Overview", "Summary", "Trend"])
    return rng.choice(["Quarterly Results", "Annual Summary", "Key Metrics", "Performance Overview"])


def p_title(spec, rng, used):
    if "title" in used:
        return None
    old = spec["title"]
    spec["title"] = _alter_text(rng, old)
    return ["title"], _err("text_error", 2, "chart title", f'The title reads "{spec["title"]}" instead of "{old}".',
                           TITLE, "title_text")


def p_axis_label(spec, rng, used):
    if spec["type"] == "pie" or "axlabel" in used or "type" in used:
        return None
    which = rng.choice(["xlabel", "ylabel"])
    if spec["type"] == "hist":
        which = "ylabel"  # drawn as the x label
    old = spec[which]
    new = {"Month": "Period", "Year": "Decade", "Region": "Area", "Epoch": "Step", "Source": "Type",
           "Weekday": "Day"}.get(old, old.split(" (")[0] + " (units)")
    spec[which] = new
    on_x = (which == "xlabel") != (spec["type"] == "hist")
    return ["axlabel"], _err("text_error", 1, "x-axis label" if on_x else "y-axis label",
                             f'The axis label reads "{new}" instead of "{old}".', XLABEL if on_x else YLABEL,
                             "axis_label")


def p_tick_text(spec, rng, used):
    if spec["type"] not in ("bar", "grouped_bar", "stacked_bar", "line", "area") or "ticks" in used \
            or "type" in used:
        return None
    i = rng.randrange(len(spec["cats"]))
    old = spec["cats"][i]
    new = {"Jan": "Jun", "Feb": "Feb.", "Mar": "May", "Apr": "Aug", "North": "Nord", "South": "Sud",
           "East": "Est", "West": "Ouest", "Central": "Centre", "Solar": "Sun", "Wind": "Air",
           "Hydro": "Water", "Mon": "Mo", "Tue": "Tu", "Wed": "We"}.get(old, old + "*")
    spec["cats"] = spec["cats"][:i] + [new] + spec["cats"][i + 1:]
    return ["ticks"], _err("text_error", 1, "x-axis tick labels", f'A tick label reads "{new}" instead of "{old}".',
                           XTICKS, "tick_text")


def p_data_value(spec, rng, used):
    if "type" in used or "series" in used or "data" in used:
        return None
    k = rng.randrange(len(spec["series"]))
    s = spec["series"][k]
    vals = list(s["values"])
    if spec["type"] == "hist":
        mu = sum(vals) / len(vals)
        shift = (max(vals) - min(vals)) * rng.choice([-0.35, 0.35])
        s["values"] = [round(v + shift, 1) if v > mu else v for v in vals]
        return ["data"], _err("data_error", 3, "plot area", "The distribution's upper half is shifted.", PLOT,
                              "data_value")
    if spec["type"] == "pie":
        i, j = rng.sample(range(len(vals)), 2)
        resize_slice_pair(vals, i, j)
        s["values"] = vals
        return ["data"], _err("data_error", 2, "pie slices", f'The "{spec["cats"][i]}" and "{spec["cats"][j]}" '
                              "slices have the wrong sizes.", PLOT, "data_value")
    n = rng.choice([1, 1, 2])
    idx = rng.sample(range(len(vals)), n)
    shift_values(vals, idx, rng)
    s["values"] = vals
    if spec["ylim"] and max(vals) > spec["ylim"][1]:
        spec["ylim"] = (spec["ylim"][0], round(max(vals) * 1.2, 0))
    sev = 2 if n == 1 else 3
    where = "category " + ", ".join(str(spec["cats"][i]) for i in idx) if spec["type"] != "scatter" else "points"
    return ["data"], _err("data_error", sev, "plot area", f'Series "{s["name"]}" has wrong values at {where}.',
                          PLOT, "data_value")


def p_series_drop(spec, rng, used):
    if len(spec["series"]) < 2 or "type" in used or "series" in used or "data" in used or "legend" in used:
        return None
    k = rng.randrange(len(spec["series"]))
    s = spec["series"].pop(k)
    return ["series", "color"], _err("data_error", 3, "plot area", f'The series "{s["name"]}" is missing.',
                                     _union(PLOT), "series_dropped")


def p_legend(spec, rng, used):
    if not spec["legend"] or "legend" in used or "type" in used:
        return None
    r = rng.random()
    box = _legend_box(spec)
    if r < 0.35:
        spec["legend"] = False
        return ["legend"], _err("structure_error", 2, "legend", "The legend is missing.", box, "legend_removed")
    if r < 0.7:
        old = spec["legend_loc"]
        spec["legend_loc"] = rng.choice([x for x in LEGEND_LOCS if x != old])
        return ["legend"], _err("structure_error", 1, "legend", f"The legend sits at the {spec['legend_loc']} "
                                f"instead of the {old}.", _union(box, _legend_box(spec)), "legend_moved")
    if spec["type"] == "pie":
        return None
    k = rng.randrange(len(spec["series"]))
    s = spec["series"][k]
    old = s["name"]
    s["name"] = old + rng.choice([" (est.)", " total", "*"])
    return ["legend", "series_name"], _err("text_error", 1, "legend", f'The legend entry reads "{s["name"]}" '
                                           f'instead of "{old}".', box, "legend_text")


def p_marker_style(spec, rng, used):
    if spec["type"] not in ("line", "scatter") or "style" in used or "type" in used:
        return None
    s = rng.choice(spec["series"])
    if spec["type"] == "line" and rng.random() < 0.5:
        s["ls"] = rng.choice([x for x in LINESTYLES if x != s["ls"]])
        what = "line style"
    else:
        s["marker"] = rng.choice([m for m in MARKERS if m != s["marker"]])
        what = "markers"
    return ["style"], _err("style_error", 1, "plot area", f'The series "{s["name"]}" uses different {what}.',
                           PLOT, "marker_line_style")


_SWAP = {"bar": "line", "line": "bar", "grouped_bar": "stacked_bar", "stacked_bar": "grouped_bar",
         "area": "line", "scatter": "line"}


def p_chart_type(spec, rng, used):
    if spec["type"] not in _SWAP or used:
        return None
    old = spec["type"]
    new = _SWAP[old]
    if old == "scatter":
        for s in spec["series"]:  # a line over sorted points
            pairs = sorted(zip(s["x"], s["values"]))
            s["values"] = [v for _, v in pairs]
        spec["cats"] = [str(i + 1) for i in range(len(spec["series"][0]["values"]))]
    if new == "line":
        for s in spec["series"]:
            s["marker"] = s.get("marker") or "o"
    spec["type"] = new
    return ["type", "color", "style"], _err("structure_error", 3, "whole chart",
                                            f"The chart is a {new.replace('_', ' ')} chart instead of a "
                                            f"{old.replace('_', ' ')} chart.", PLOT, "chart_type")


def p_axis(spec, rng, used):
    if spec["type"] in ("pie",) or "axis" in used or "type" in used:
        return None
    if spec["type"] in ("stacked_bar", "area"):
        ymax = max(sum(v) for v in zip(*[s["values"] for s in spec["series"]]))
    elif spec["type"] != "hist":
        ymax = max(max(s["values"]) for s in spec["series"])
    if spec["type"] in ("line", "scatter") and rng.random() < 0.35 and \
            min(min(s["values"]) for s in spec["series"]) > 0:
        spec["yscale"] = "log"
        return ["axis"], _err("structure_error", 3, "y axis", "The y axis uses a log scale instead of linear.",
                              _union(PLOT, YTICKS), "axis_scale")
    if spec["type"] == "hist":
        spec["ylim"] = (0, 80)
    elif spec["ylim"]:
        spec["ylim"] = None
    else:
        spec["ylim"] = (0, round(ymax * rng.choice([1.8, 2.5]), 0))
    return ["axis"], _err("structure_error", 2, "y axis", "The y-axis range differs from the original.",
                          _union(PLOT, YTICKS), "axis_range")


def p_grid(spec, rng, used):
    if spec["type"] == "pie" or "grid" in used or "type" in used:
        return None
    spec["grid"] = not spec["grid"]
    return ["grid"], _err("style_error", 1, "plot area",
                          "Grid lines are " + ("shown" if spec["grid"] else "missing") + " unlike the original.",
                          PLOT, "grid")


FAMILIES = {
    "color": p_color, "title_text": p_title, "axis_label": p_axis_label, "tick_text": p_tick_text,
    "data_value": p_data_value, "series_dropped": p_series_drop, "legend": p_legend,
    "marker_line_style": p_marker_style, "chart_type": p_chart_type, "axis_range": p_axis, "grid": p_grid,
}


def make_sample(seed: int, n_errors: int, families: list[str] | None = None, ctype: str | None = None) -> Sample:
    """A seeded chart sample with ``n_errors`` labelled perturbations (0 -> identical pair)."""
    rng = random.Random(seed)
    spec = generate_chart(rng, ctype)
    gt = chart_code(spec)
    fams = list(families) if families else list(FAMILIES)
    pred, errors = apply_families(
        copy.deepcopy(spec), rng, FAMILIES, fams, n_errors, 60,
        skip=lambda fam, _done: fam == "chart_type" and n_errors > 1)
    code = chart_code(pred)
    return Sample("chart", "matplotlib", gt, code, errors, seed, {"type": spec["type"]})
