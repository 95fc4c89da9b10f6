"""A seeded generator of realistic matplotlib chart programs (for tests and benchmarks).

Every program is deterministic (data comes from a seeded ``numpy`` generator inside the program),
about 15-30 lines long, and ends in one of the ways policies write it: ``plt.savefig(...)`` with
or without ``dpi``/``bbox_inches``, ``plt.show()``, or nothing at all.

>>> progs = chart_programs(10, seed=0)           # list[ChartProgram]
>>> progs[0].kind, progs[0].saves_to             # doctest: +SKIP
('bar', 'chart.png')
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["KINDS", "SPEC_MARKS", "ChartProgram", "chart_program", "chart_programs", "chart_specs"]

KINDS = ("bar", "line", "scatter", "pie", "grouped_bar", "subplots", "hist", "area", "barh", "heatmap")

_WORDS = ["Alpha", "Beta", "Gamma", "Delta", "North", "South", "East", "West", "Q1", "Q2", "Q3",
          "Q4", "Apples", "Pears", "Plums", "Solar", "Wind", "Hydro", "Coal", "Gas"]
_COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "tab:blue", "tab:orange",
           "steelblue", "darkorange", "seagreen", "crimson", "slateblue", "goldenrod"]
_STYLES = ["default", "ggplot", "seaborn-v0_8-whitegrid", "bmh", "classic", "fivethirtyeight"]
_TITLES = ["Quarterly revenue", "Energy mix 2023", "Sales by region", "Temperature trend",
           "Survey results", "Model accuracy", "Monthly visitors", "Crop yield"]


@dataclass(frozen=True)
class ChartProgram:
    """One generated program: its source, its kind and the file it saves to (if any)."""

    code: str
    kind: str
    saves_to: str | None


def _ending(r: random.Random) -> tuple[list[str], str | None]:
    choice = r.randrange(6)
    if choice == 0:
        return ["plt.savefig('chart.png')"], "chart.png"
    if choice == 1:
        return [f"plt.savefig('chart.png', dpi={r.choice([72, 80, 100, 120])})"], "chart.png"
    if choice == 2:
        return ["plt.savefig('out.png', bbox_inches='tight')", "plt.close()"], "out.png"
    if choice == 3:
        return ["plt.show()"], None
    if choice == 4:
        return ["plt.tight_layout()", "plt.savefig('figure.png')", "plt.show()"], "figure.png"
    return [], None


def chart_program(seed: int, kind: str | None = None) -> ChartProgram:
    """Generate one program; ``kind`` picks the chart type (random when None)."""
    r = random.Random(seed)
    kind = kind or r.choice(KINDS)
    n = r.randint(4, 8)
    cats = r.sample(_WORDS, n)
    title = r.choice(_TITLES)
    color = r.choice(_COLORS)
    fw, fh = r.choice([(6.4, 4.8), (8, 5), (6, 4), (7, 4.5), (5, 5)])
    head = [
        "import matplotlib.pyplot as plt",
        "import numpy as np",
        f"rng = np.random.default_rng({seed})",
    ]
    if r.random() < 0.3:
        head.append(f"plt.style.use({r.choice(_STYLES)!r})")
    body: list[str] = []
    if kind == "bar":
        body += [
            f"labels = {cats!r}",
            "values = rng.integers(5, 100, len(labels))",
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            f"bars = ax.bar(labels, values, color={color!r}, edgecolor='black')",
            "for b, v in zip(bars, values):",
            "    ax.text(b.get_x() + b.get_width() / 2, v + 1, str(v), ha='center', fontsize=9)",
            f"ax.set_title({title!r})",
            "ax.set_ylabel('Value')",
            "ax.set_ylim(0, values.max() * 1.15)",
        ]
    elif kind == "line":
        k = r.randint(2, 4)
        body += [
            "x = np.arange(2010, 2024)",
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            f"for i, name in enumerate({cats[:k]!r}):",
            "    y = np.cumsum(rng.normal(1, 2, len(x))) + 10 * i",
            f"    ax.plot(x, y, marker={r.choice(['o', 's', '^', 'None'])!r}, linewidth=2, label=name)",
            f"ax.set_title({title!r})",
            "ax.set_xlabel('Year')",
            "ax.set_ylabel('Index')",
            f"ax.legend(loc={r.choice(['best', 'upper left', 'lower right'])!r})",
            f"ax.grid(True, alpha={r.choice([0.3, 0.5])})",
        ]
    elif kind == "scatter":
        body += [
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            f"for name, c in zip({cats[:3]!r}, ['tab:blue', 'tab:orange', 'tab:green']):",
            "    x = rng.normal(0, 1, 40)",
            "    y = 2 * x + rng.normal(0, 1, 40)",
            "    ax.scatter(x, y, c=c, s=rng.uniform(10, 80, 40), alpha=0.7, label=name, edgecolors='k')",
            f"ax.set_title({title!r})",
            "ax.set_xlabel('Feature A')",
            "ax.set_ylabel('Feature B')",
            "ax.legend(title='Group')",
            "ax.axhline(0, color='gray', linestyle='--', linewidth=1)",
        ]
    elif kind == "pie":
        body += [
            f"labels = {cats[:5]!r}",
            "sizes = rng.integers(5, 40, len(labels))",
            "explode = [0.08] + [0] * (len(labels) - 1)",
            f"fig, ax = plt.subplots(figsize=({fh}, {fh}))",
            "ax.pie(sizes, labels=labels, autopct='%1.1f%%', startangle=90, explode=explode,",
            "       wedgeprops={'edgecolor': 'white'})",
            "ax.axis('equal')",
            f"ax.set_title({title!r})",
        ]
    elif kind == "grouped_bar":
        body += [
            f"groups = {cats[:4]!r}",
            "a = rng.integers(10, 60, len(groups))",
            "b = rng.integers(10, 60, len(groups))",
            "x = np.arange(len(groups))",
            "w = 0.38",
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            "r1 = ax.bar(x - w / 2, a, w, label='2022', color='#4C72B0')",
            "r2 = ax.bar(x + w / 2, b, w, label='2023', color='#DD8452')",
            "ax.bar_label(r1, padding=2, fontsize=8)",
            "ax.bar_label(r2, padding=2, fontsize=8)",
            "ax.set_xticks(x, groups)",
            f"ax.set_title({title!r})",
            "ax.set_ylabel('Units')",
            "ax.legend()",
        ]
    elif kind == "subplots":
        body += [
            f"fig, axes = plt.subplots(2, 2, figsize=({fw + 1}, {fh + 1}))",
            "x = np.linspace(0, 10, 100)",
            "axes[0, 0].plot(x, np.sin(x), color='tab:red')",
            "axes[0, 0].set_title('sin')",
            "axes[0, 1].bar(['a', 'b', 'c'], rng.integers(1, 9, 3))",
            "axes[0, 1].set_title('counts')",
            "axes[1, 0].scatter(rng.normal(size=30), rng.normal(size=30), s=12)",
            "axes[1, 0].set_title('scatter')",
            "axes[1, 1].hist(rng.normal(size=200), bins=15, color='gray')",
            "axes[1, 1].set_title('hist')",
            f"fig.suptitle({title!r})",
            "fig.tight_layout()",
        ]
    elif kind == "hist":
        body += [
            "data = rng.normal(50, 12, 500)",
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            f"ax.hist(data, bins={r.randint(10, 30)}, color={color!r}, edgecolor='white', alpha=0.85)",
            "ax.axvline(data.mean(), color='k', linestyle='--', label=f'mean {data.mean():.1f}')",
            f"ax.set_title({title!r})",
            "ax.set_xlabel('Score')",
            "ax.set_ylabel('Count')",
            "ax.legend()",
        ]
    elif kind == "area":
        body += [
            "x = np.arange(12)",
            "ys = rng.uniform(1, 5, (3, 12))",
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            f"ax.stackplot(x, ys, labels={cats[:3]!r}, alpha=0.8)",
            "ax.set_xticks(x, ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'], rotation=45)",
            f"ax.set_title({title!r})",
            "ax.legend(loc='upper left')",
            "ax.margins(x=0)",
        ]
    elif kind == "barh":
        body += [
            f"names = {cats!r}",
            "vals = np.sort(rng.uniform(0, 1, len(names)))",
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            f"ax.barh(names, vals, color={color!r})",
            "for i, v in enumerate(vals):",
            "    ax.text(v + 0.01, i, f'{v:.0%}', va='center')",
            "ax.set_xlim(0, 1.15)",
            f"ax.set_title({title!r})",
            "ax.invert_yaxis()",
        ]
    elif kind == "heatmap":
        body += [
            f"rows = {cats[:5]!r}",
            "cols = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri']",
            "m = rng.uniform(0, 1, (len(rows), len(cols)))",
            f"fig, ax = plt.subplots(figsize=({fw}, {fh}))",
            f"im = ax.imshow(m, cmap={r.choice(['viridis', 'magma', 'coolwarm', 'Blues'])!r})",
            "ax.set_xticks(range(len(cols)), cols)",
            "ax.set_yticks(range(len(rows)), rows)",
            "for i in range(len(rows)):",
            "    for j in range(len(cols)):",
            "        ax.text(j, i, f'{m[i, j]:.2f}', ha='center', va='center', color='w', fontsize=8)",
            "fig.colorbar(im, ax=ax)",
            f"ax.set_title({title!r})",
        ]
    else:
        raise ValueError(f"unknown chart kind {kind!r}")
    tail, saves_to = _ending(r)
    return ChartProgram("\n".join(head + body + tail) + "\n", kind, saves_to)


def chart_programs(n: int, seed: int = 0, kinds: tuple[str, ...] | None = None) -> list[ChartProgram]:
    """``n`` programs cycling through ``kinds`` (all kinds by default), seeded."""
    kinds = kinds or KINDS
    return [chart_program(seed * 100003 + i, kinds[i % len(kinds)]) for i in range(n)]


SPEC_MARKS = ("bar", "line", "point", "area", "arc", "tick", "stacked_bar", "hbar", "temporal_line",
              "bubble")


def chart_specs(n: int, seed: int = 0) -> list[dict]:
    """``n`` seeded Vega-Lite specs in the subset :func:`verm.charts.render_spec` supports."""
    out = []
    for i in range(n):
        r = random.Random(seed * 100003 + i)
        kind = SPEC_MARKS[i % len(SPEC_MARKS)]
        cats = r.sample(_WORDS, r.randint(3, 7))
        title = r.choice(_TITLES)
        spec: dict = {"title": title}
        if kind in ("bar", "hbar", "tick"):
            vals = [{"cat": c, "value": r.randint(1, 120)} for c in cats]
            q = {"field": "value", "type": "quantitative", "title": "Value"}
            nom = {"field": "cat", "type": "nominal", "title": "Category"}
            enc = {"x": nom, "y": q} if kind == "bar" else {"y": nom, "x": q}
            spec.update(data={"values": vals}, mark=kind if kind != "hbar" else "bar", encoding=enc)
        elif kind == "stacked_bar":
            groups = r.sample(["2021", "2022", "2023", "2024"], 3)
            vals = [{"cat": c, "year": g, "value": r.randint(5, 60)} for c in cats for g in groups]
            spec.update(data={"values": vals}, mark="bar", encoding={
                "x": {"field": "cat", "type": "nominal"}, "y": {"field": "value", "type": "quantitative"},
                "color": {"field": "year", "type": "nominal", "title": "Year"}})
        elif kind in ("line", "area"):
            series = cats[:r.randint(1, 3)]
            vals = []
            for s_ in series:
                y = r.uniform(10, 50)
                for x in range(12):
                    y = max(0.0, y + r.uniform(-8, 10))
                    vals.append({"x": x, "y": round(y, 2), "s": s_})
            enc = {"x": {"field": "x", "type": "quantitative", "title": "Step"},
                   "y": {"field": "y", "type": "quantitative", "title": "Level"}}
            if len(series) > 1:
                enc["color"] = {"field": "s", "type": "nominal", "title": "Series"}
            spec.update(data={"values": vals}, mark=kind, encoding=enc)
        elif kind == "temporal_line":
            vals = [{"date": f"20{10 + k:02d}-01-01", "price": round(r.uniform(20, 90), 1)} for k in range(12)]
            spec.update(data={"values": vals}, mark="line", encoding={
                "x": {"field": "date", "type": "temporal", "title": "Date"},
                "y": {"field": "price", "type": "quantitative", "title": "Price"}})
        elif kind in ("point", "bubble"):
            vals = [{"a": round(r.gauss(0, 1) * 10 + 50, 2), "b": round(r.gauss(0, 1) * 8 + 30, 2),
                     "g": r.choice(cats[:3]), "w": r.randint(1, 50)} for _ in range(30)]
            enc = {"x": {"field": "a", "type": "quantitative"}, "y": {"field": "b", "type": "quantitative"},
                   "color": {"field": "g", "type": "nominal"}}
            if kind == "bubble":
                enc["size"] = {"field": "w", "type": "quantitative"}
                enc.pop("color")
            spec.update(data={"values": vals}, mark="point", encoding=enc)
        elif kind == "arc":
            vals = [{"cat": c, "value": r.randint(5, 40)} for c in cats[:5]]
            mark = {"type": "arc", "innerRadius": 50} if r.random() < 0.4 else "arc"
            spec.update(data={"values": vals}, mark=mark, encoding={
                "theta": {"field": "value", "type": "quantitative"},
                "color": {"field": "cat", "type": "nominal", "title": "Category"}})
        out.append(spec)
    return out
