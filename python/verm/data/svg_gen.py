"""Seeded SVG icon/illustration generator and the SVG perturbation families.

A scene is a list of element dicts (rect, circle, ellipse, polygon, path, line, text, group) drawn
over a background; perturbations edit the scene, so every label knows the element it touched and its
bounding box before and after.
"""

from __future__ import annotations

import copy
import math
import random
from typing import Any

from verm.data.common import (
    LabeledError,
    Sample,
    color_distance,
    color_name,
    location_phrase,
    severity_from_area,
    unit_bbox,
)

PALETTES = [
    ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"],
    ["#003049", "#d62828", "#f77f00", "#fcbf49", "#eae2b7"],
    ["#1d3557", "#457b9d", "#a8dadc", "#e63946", "#f1faee"],
    ["#5f0f40", "#9a031e", "#fb8b24", "#e36414", "#0f4c5c"],
    ["#22223b", "#4a4e69", "#9a8c98", "#c9ada7", "#f2e9e4"],
    ["#006d77", "#83c5be", "#edf6f9", "#ffddd2", "#e29578"],
    ["#3a86ff", "#8338ec", "#ff006e", "#fb5607", "#ffbe0b"],
    ["#2b2d42", "#8d99ae", "#edf2f4", "#ef233c", "#d90429"],
    ["#386641", "#6a994e", "#a7c957", "#f2e8cf", "#bc4749"],
]
EXTRA_COLORS = ["#111111", "#ffffff", "#7b2cbf", "#00b4d8", "#ff595e", "#8ac926", "#ffca3a", "#6a4c93"]
WORDS = ["OK", "GO", "Home", "Save", "Play", "Mail", "Cloud", "Shop", "Wifi", "Star", "Map", "Info",
         "Help", "Edit", "Chat", "Menu", "Lock", "Sync", "News", "Sale", "Bank", "Cafe", "Park", "Zoom"]
SIZES = [(320, 320), (384, 288), (288, 384), (336, 336)]


def _r(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


# ------------------------------------------------------------------ geometry
def _raw_bbox(el: dict[str, Any]) -> tuple[float, float, float, float]:
    t = el["type"]
    if t == "rect":
        b = (el["x"], el["y"], el["x"] + el["w"], el["y"] + el["h"])
    elif t == "circle":
        b = (el["cx"] - el["r"], el["cy"] - el["r"], el["cx"] + el["r"], el["cy"] + el["r"])
    elif t == "ellipse":
        b = (el["cx"] - el["rx"], el["cy"] - el["ry"], el["cx"] + el["rx"], el["cy"] + el["ry"])
    elif t in ("polygon", "path", "line"):
        xs = [p[0] for p in el["pts"]]
        ys = [p[1] for p in el["pts"]]
        b = (min(xs), min(ys), max(xs), max(ys))
    elif t == "text":
        w = 0.62 * el["size"] * len(el["text"])
        b = (el["x"] - w / 2, el["y"] - 0.78 * el["size"], el["x"] + w / 2, el["y"] + 0.22 * el["size"])
    elif t == "group":
        bs = [bbox(c) for c in el["children"]]
        b = (min(v[0] for v in bs), min(v[1] for v in bs), max(v[2] for v in bs), max(v[3] for v in bs))
        return (b[0] + el["tx"], b[1] + el["ty"], b[2] + el["tx"], b[3] + el["ty"])
    else:  # pragma: no cover
        raise ValueError(t)
    sw = el.get("sw", 0) / 2 if el.get("stroke") else 0
    return (b[0] - sw, b[1] - sw, b[2] + sw, b[3] + sw)


def center(el: dict[str, Any]) -> tuple[float, float]:
    b = _raw_bbox(el)
    return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


def bbox(el: dict[str, Any]) -> tuple[float, float, float, float]:
    """Axis-aligned bbox of an element in user units, rotation and stroke included."""
    b = _raw_bbox(el)
    a = el.get("rot", 0.0)
    if not a or el["type"] == "group":
        return b
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    ca, sa = math.cos(math.radians(a)), math.sin(math.radians(a))
    xs, ys = [], []
    for x, y in ((b[0], b[1]), (b[2], b[1]), (b[0], b[3]), (b[2], b[3])):
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * ca - dy * sa)
        ys.append(cy + dx * sa + dy * ca)
    return (min(xs), min(ys), max(xs), max(ys))


def _union(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _inter_area(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


# ------------------------------------------------------------------ serialisation
def _paint(el: dict[str, Any]) -> str:
    s = f' fill="{el.get("fill", "none")}"'
    if el.get("stroke"):
        s += f' stroke="{el["stroke"]}" stroke-width="{_r(el.get("sw", 2))}"'
        if el["type"] == "line":
            s += ' stroke-linecap="round" stroke-linejoin="round"'
    if el.get("opacity", 1.0) < 1.0:
        s += f' opacity="{el["opacity"]:.2f}"'
    if el.get("rot"):
        cx, cy = center(el)
        s += f' transform="rotate({_r(el["rot"])} {_r(cx)} {_r(cy)})"'
    return s


def _path_d(pts: list[tuple[float, float]]) -> str:
    # smooth closed curve through midpoints (quadratic Beziers)
    n = len(pts)
    mids = [((pts[i][0] + pts[(i + 1) % n][0]) / 2, (pts[i][1] + pts[(i + 1) % n][1]) / 2) for i in range(n)]
    d = f"M{_r(mids[-1][0])},{_r(mids[-1][1])}"
    for i in range(n):
        d += f" Q{_r(pts[i][0])},{_r(pts[i][1])} {_r(mids[i][0])},{_r(mids[i][1])}"
    return d + " Z"


def element_svg(el: dict[str, Any], indent: str = "  ") -> str:
    """One element as SVG markup."""
    t = el["type"]
    p = _paint(el)
    if t == "rect":
        rx = f' rx="{_r(el["rx"])}"' if el.get("rx") else ""
        return f'{indent}<rect x="{_r(el["x"])}" y="{_r(el["y"])}" width="{_r(el["w"])}" height="{_r(el["h"])}"{rx}{p}/>'
    if t == "circle":
        return f'{indent}<circle cx="{_r(el["cx"])}" cy="{_r(el["cy"])}" r="{_r(el["r"])}"{p}/>'
    if t == "ellipse":
        return f'{indent}<ellipse cx="{_r(el["cx"])}" cy="{_r(el["cy"])}" rx="{_r(el["rx"])}" ry="{_r(el["ry"])}"{p}/>'
    if t == "polygon":
        pts = " ".join(f"{_r(x)},{_r(y)}" for x, y in el["pts"])
        return f'{indent}<polygon points="{pts}"{p}/>'
    if t == "path":
        return f'{indent}<path d="{_path_d(el["pts"])}"{p}/>'
    if t == "line":
        pts = " ".join(f"{_r(x)},{_r(y)}" for x, y in el["pts"])
        return f'{indent}<polyline points="{pts}"{p}/>'
    if t == "text":
        w = ' font-weight="bold"' if el.get("bold") else ""
        return (f'{indent}<text x="{_r(el["x"])}" y="{_r(el["y"])}" font-family="sans-serif" '
                f'font-size="{_r(el["size"])}"{w} text-anchor="middle"{p}>{el["text"]}</text>')
    if t == "group":
        inner = "\n".join(element_svg(c, indent + "  ") for c in el["children"])
        return f'{indent}<g transform="translate({_r(el["tx"])} {_r(el["ty"])})">\n{inner}\n{indent}</g>'
    raise ValueError(t)  # pragma: no cover


def scene_svg(scene: dict[str, Any]) -> str:
    """Serialise a scene to an SVG document."""
    w, h = scene["size"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">']
    if scene["gradients"]:
        out.append("  <defs>")
        for gid, (c0, c1, vertical) in scene["gradients"].items():
            xy = 'x1="0" y1="0" x2="0" y2="1"' if vertical else 'x1="0" y1="0" x2="1" y2="1"'
            out.append(f'    <linearGradient id="{gid}" {xy}><stop offset="0" stop-color="{c0}"/>'
                       f'<stop offset="1" stop-color="{c1}"/></linearGradient>')
        out.append("  </defs>")
    out.append(f'  <rect width="{w}" height="{h}" fill="{scene["bg"]}"/>')
    out.extend(element_svg(el) for el in scene["elements"])
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ generation
def _rand_shape(rng: random.Random, w: float, h: float, colors: list[str], small: bool = False) -> dict[str, Any]:
    s = min(w, h)
    size = rng.uniform(0.10, 0.2) * s if small else rng.uniform(0.16, 0.32) * s
    cx, cy = rng.uniform(0.18 * w, 0.82 * w), rng.uniform(0.18 * h, 0.82 * h)
    kind = rng.choice(["rect", "circle", "ellipse", "polygon", "star", "path", "line"])
    fill = rng.choice(colors)
    el: dict[str, Any]
    if kind == "rect":
        rw, rh = size * rng.uniform(0.8, 1.6), size * rng.uniform(0.6, 1.3)
        el = {"type": "rect", "x": cx - rw / 2, "y": cy - rh / 2, "w": rw, "h": rh,
              "rx": rng.choice([0, 0, size * 0.15])}
    elif kind == "circle":
        el = {"type": "circle", "cx": cx, "cy": cy, "r": size / 2}
    elif kind == "ellipse":
        el = {"type": "ellipse", "cx": cx, "cy": cy, "rx": size * 0.65, "ry": size * 0.4}
    elif kind in ("polygon", "star"):
        n = rng.choice([3, 5, 6]) if kind == "polygon" else rng.choice([5, 6])
        pts = []
        k = n * (2 if kind == "star" else 1)
        for i in range(k):
            rad = size / 2 * (0.45 if kind == "star" and i % 2 else 1.0)
            a = -math.pi / 2 + 2 * math.pi * i / k
            pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        el = {"type": "polygon", "pts": pts}
    elif kind == "path":
        n = rng.randint(5, 8)
        pts = []
        for i in range(n):
            a = 2 * math.pi * i / n
            rad = size / 2 * rng.uniform(0.65, 1.15)
            pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        el = {"type": "path", "pts": pts}
    else:
        n = rng.randint(3, 5)
        pts = [(cx - size / 2 + size * i / (n - 1), cy + rng.uniform(-size / 2, size / 2)) for i in range(n)]
        return {"type": "line", "pts": pts, "fill": "none", "stroke": fill, "sw": rng.choice([4, 6, 8])}
    el["fill"] = fill
    if rng.random() < 0.35:
        el["stroke"] = rng.choice(["#222222", "#ffffff", rng.choice(colors)])
        el["sw"] = rng.choice([2, 3, 4])
    if rng.random() < 0.2 and el["type"] in ("rect", "polygon", "ellipse"):
        el["rot"] = rng.choice([15, 30, 45, -20])
    return el


def generate_scene(rng: random.Random) -> dict[str, Any]:
    """A random icon/illustration scene."""
    w, h = rng.choice(SIZES)
    pal = list(rng.choice(PALETTES))
    rng.shuffle(pal)
    scene: dict[str, Any] = {"size": (w, h), "bg": rng.choice(["#ffffff", "#ffffff", "#f7f7f2", "#fdf6e3"]),
                             "gradients": {}, "elements": []}
    els = scene["elements"]
    style = rng.random()
    if style < 0.5:  # a backdrop plate with a gradient
        gid = "grad0"
        scene["gradients"][gid] = (pal[0], pal[1], rng.random() < 0.5)
        if rng.random() < 0.5:
            r = min(w, h) * rng.uniform(0.36, 0.44)
            els.append({"type": "circle", "cx": w / 2, "cy": h / 2, "r": r, "fill": f"url(#{gid})"})
        else:
            m = min(w, h) * 0.08
            els.append({"type": "rect", "x": m, "y": m, "w": w - 2 * m, "h": h - 2 * m,
                        "rx": min(w, h) * 0.12, "fill": f"url(#{gid})"})
        fg = pal[2:] + [rng.choice(EXTRA_COLORS)]
    else:
        fg = pal
    fg = [c for c in fg if color_distance(c, scene["bg"]) > 120]
    while len(fg) < 3:
        fg.append(rng.choice([c for c in EXTRA_COLORS if c != "#ffffff" and c not in fg]))
    for _ in range(rng.randint(2, 5)):
        els.append(_rand_shape(rng, w, h, fg))
    if rng.random() < 0.5:  # a small grouped badge
        bx, by = rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)
        r = min(w, h) * rng.uniform(0.07, 0.1)
        kids = [{"type": "circle", "cx": 0, "cy": 0, "r": r, "fill": rng.choice(fg), "stroke": "#ffffff", "sw": 3},
                {"type": "rect", "x": -r * 0.45, "y": -r * 0.12, "w": r * 0.9, "h": r * 0.24, "fill": "#ffffff"}]
        els.append({"type": "group", "tx": bx, "ty": by, "children": kids})
    if rng.random() < 0.7:
        word = rng.choice(WORDS)
        size = rng.choice([20, 24, 28, 32])
        y = h * rng.choice([0.14, 0.9]) + size * 0.35
        els.append({"type": "text", "x": w / 2, "y": y, "text": word, "size": size,
                    "bold": rng.random() < 0.5, "fill": rng.choice(["#222222", fg[0], fg[-1]])})
    for k, el in enumerate(els):
        el["_id"] = k
    return scene


# ------------------------------------------------------------------ perturbations
def _describe(el: dict[str, Any]) -> str:
    t = el["type"]
    if t == "text":
        return f'text "{el["text"]}"'
    if t == "group":
        return "badge group"
    names = {"rect": "rectangle", "circle": "circle", "ellipse": "ellipse", "polygon": "polygon",
             "path": "blob shape", "line": "polyline"}
    fill = el.get("fill", "none")
    if fill.startswith("#"):
        return f"{color_name(fill)} {names[t]}"
    if t == "line":
        return f"{color_name(el['stroke'])} {names[t]}"
    return f"gradient {names[t]}"


def _frac(b, size) -> tuple[float, float, float, float]:
    w, h = size
    return unit_bbox(b[0] / w, b[1] / h, b[2] / w, b[3] / h)


def _loc(b, size) -> str:
    f = _frac(b, size)
    return location_phrase((f[0] + f[2]) / 2, (f[1] + f[3]) / 2)


def _err(cat, b, size, desc, family, sev=None) -> LabeledError:
    f = _frac(b, size)
    if sev is None:
        sev = severity_from_area(_area(f))
    return LabeledError(cat, sev, _loc(b, size), desc, f, family)


def _shift(el: dict[str, Any], dx: float, dy: float) -> None:
    t = el["type"]
    if t == "rect":
        el["x"] += dx
        el["y"] += dy
    elif t in ("circle", "ellipse"):
        el["cx"] += dx
        el["cy"] += dy
    elif t in ("polygon", "path", "line"):
        el["pts"] = [(x + dx, y + dy) for x, y in el["pts"]]
    elif t == "text":
        el["x"] += dx
        el["y"] += dy
    elif t == "group":
        el["tx"] += dx
        el["ty"] += dy


def _scale(el: dict[str, Any], k: float) -> None:
    cx, cy = center(el)
    t = el["type"]
    if t == "rect":
        el["w"] *= k
        el["h"] *= k
        el["x"], el["y"] = cx - el["w"] / 2, cy - el["h"] / 2
    elif t == "circle":
        el["r"] *= k
    elif t == "ellipse":
        el["rx"] *= k
        el["ry"] *= k
    elif t in ("polygon", "path", "line"):
        el["pts"] = [(cx + (x - cx) * k, cy + (y - cy) * k) for x, y in el["pts"]]
    elif t == "text":
        el["size"] *= k
    elif t == "group":
        for c in el["children"]:
            _scale_abs(c, k)


def _scale_abs(el: dict[str, Any], k: float) -> None:  # scale about the origin (group children)
    t = el["type"]
    if t == "rect":
        el.update(x=el["x"] * k, y=el["y"] * k, w=el["w"] * k, h=el["h"] * k)
    elif t == "circle":
        el.update(cx=el["cx"] * k, cy=el["cy"] * k, r=el["r"] * k)


def _in_canvas(b, size, margin: float = 2.0) -> bool:
    w, h = size
    return b[0] >= margin and b[1] >= margin and b[2] <= w - margin and b[3] <= h - margin


def _fg_indices(scene, types=None, used=()) -> list[int]:
    idx = []
    for i, el in enumerate(scene["elements"]):
        if i == 0 and el.get("fill", "").startswith("url("):
            continue  # the backdrop plate
        if (types is None or el["type"] in types) and el.get("_id") not in used:
            idx.append(i)
    return idx


def p_recolour(scene, rng, used):
    cands = [i for i in _fg_indices(scene, used=used) if scene["elements"][i]["type"] != "group"]
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"][i]
    key = "stroke" if el["type"] == "line" else "fill"
    old = el.get(key, "none")
    if not old.startswith("#"):
        return None
    pool = [c for p in PALETTES for c in p] + EXTRA_COLORS
    cands_c = [c for c in pool if color_distance(c, old) > 120 and color_distance(c, scene["bg"]) > 80]
    new = rng.choice(cands_c)
    desc = f"The {_describe(el)} is {color_name(new)} instead of {color_name(old)}."
    el[key] = new
    return [scene["elements"][i]["_id"]], _err("style_error", bbox(el), scene["size"], desc, "recolour")


def p_stroke_width(scene, rng, used):
    cands = _fg_indices(scene, ("rect", "circle", "ellipse", "polygon", "path", "line"), used=used)
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"][i]
    old = el.get("sw", 0) if el.get("stroke") else 0
    if old == 0:
        el["stroke"] = "#222222"
        el["sw"] = rng.choice([4, 6])
        desc = f"The {_describe(el)} has a dark outline that the original does not have."
    else:
        el["sw"] = old * 3 if old < 5 else max(1.0, old / 4)
        if el["type"] == "line" and el["sw"] < old:
            el["sw"] = old * 2.5
        desc = f"The outline of the {_describe(el)} is {'thicker' if el['sw'] > old else 'thinner'} than in the original."
    b = bbox(el)
    sev = 1 if _area(_frac(b, scene["size"])) < 0.06 else 2
    return [scene["elements"][i]["_id"]], _err("style_error", b, scene["size"], desc, "stroke_width", sev)


def p_remove(scene, rng, used):
    cands = _fg_indices(scene, used=used)
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"].pop(i)
    desc = f"The {_describe(el)} is missing."
    return [], _err("structure_error", bbox(el), scene["size"], desc, "remove")


def p_add(scene, rng, used):
    w, h = scene["size"]
    pal = [c for c in PALETTES[rng.randrange(len(PALETTES))]]
    for _ in range(20):
        el = _rand_shape(rng, w, h, pal, small=True)
        b = bbox(el)
        if _in_canvas(b, scene["size"]):
            break
    else:
        return None
    el["_id"] = 1000 + len(scene["elements"]) + rng.randrange(10**6)
    scene["elements"].append(el)
    desc = f"An extra {_describe(el)} appears that is not in the original."
    return [el["_id"]], _err("structure_error", b, scene["size"], desc, "add")


def p_move(scene, rng, used):
    cands = _fg_indices(scene, used=used)
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"][i]
    w, h = scene["size"]
    b0 = bbox(el)
    for _ in range(20):
        dx = rng.choice([-1, 1]) * rng.uniform(0.08, 0.22) * w
        dy = rng.choice([-1, 1, 0]) * rng.uniform(0.05, 0.18) * h
        e2 = copy.deepcopy(el)
        _shift(e2, dx, dy)
        if _in_canvas(bbox(e2), scene["size"]):
            break
    else:
        return None
    scene["elements"][i] = e2
    horiz = "right" if dx > 0 else "left"
    vert = "" if dy == 0 else (" and down" if dy > 0 else " and up")
    desc = f"The {_describe(el)} is shifted {horiz}{vert} from its original position."
    return [scene["elements"][i]["_id"]], _err("shape_error", _union(b0, bbox(e2)), scene["size"], desc, "move")


def p_scale(scene, rng, used):
    cands = _fg_indices(scene, used=used)
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"][i]
    b0 = bbox(el)
    k = rng.choice([0.55, 0.65, 1.45, 1.6])
    e2 = copy.deepcopy(el)
    _scale(e2, k)
    if not _in_canvas(bbox(e2), scene["size"]):
        k = 0.6
        e2 = copy.deepcopy(el)
        _scale(e2, k)
    scene["elements"][i] = e2
    desc = f"The {_describe(el)} is {'larger' if k > 1 else 'smaller'} than in the original."
    return [scene["elements"][i]["_id"]], _err("shape_error", _union(b0, bbox(e2)), scene["size"], desc, "scale")


def p_rotate(scene, rng, used):
    cands = _fg_indices(scene, ("rect", "polygon", "path", "ellipse", "text", "line"), used=used)
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"][i]
    b0 = bbox(el)
    e2 = copy.deepcopy(el)
    e2["rot"] = e2.get("rot", 0) + rng.choice([-1, 1]) * rng.choice([25, 35, 50])
    scene["elements"][i] = e2
    desc = f"The {_describe(el)} is rotated relative to the original."
    return [scene["elements"][i]["_id"]], _err("shape_error", _union(b0, bbox(e2)), scene["size"], desc, "rotate")


def p_z_order(scene, rng, used):
    els = scene["elements"]
    fg = [i for i in _fg_indices(scene, used=used) if els[i]["type"] != "text"]
    pairs = []
    for a in fg:
        for b in fg:
            if a < b:
                ov = _inter_area(bbox(els[a]), bbox(els[b]))
                if ov > 0.15 * min(_area(bbox(els[a])), _area(bbox(els[b]))) and \
                        els[a].get("fill") != els[b].get("fill"):
                    pairs.append((a, b, ov))
    if not pairs:
        return None
    a, b, _ = rng.choice(pairs)
    ea, eb = els[a], els[b]
    els[a], els[b] = eb, ea
    ba, bb = bbox(ea), bbox(eb)
    inter = (max(ba[0], bb[0]), max(ba[1], bb[1]), min(ba[2], bb[2]), min(ba[3], bb[3]))
    desc = f"The {_describe(ea)} is drawn above the {_describe(eb)}; the original stacks them the other way."
    return [ea["_id"], eb["_id"]], _err("structure_error", inter, scene["size"], desc, "z_order")


def p_text(scene, rng, used):
    cands = _fg_indices(scene, ("text",), used=used)
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"][i]
    old = el["text"]
    b0 = bbox(el)
    if rng.random() < 0.5:
        new = rng.choice([w for w in WORDS if w != old])
    else:  # a one-letter typo
        j = rng.randrange(len(old))
        ch = rng.choice([c for c in "ABEKMRSWXZ" if c.lower() != old[j].lower()])
        new = old[:j] + (ch if old[j].isupper() else ch.lower()) + old[j + 1:]
    el["text"] = new
    desc = f'The text reads "{new}" instead of "{old}".'
    return [scene["elements"][i]["_id"]], _err("text_symbol_error", _union(b0, bbox(el)), scene["size"], desc, "text_change")


def p_path_distort(scene, rng, used):
    cands = _fg_indices(scene, ("path", "polygon", "line"), used=used)
    if not cands:
        return None
    i = rng.choice(cands)
    el = scene["elements"][i]
    b0 = bbox(el)
    xs = [p[0] for p in el["pts"]]
    span = max(max(xs) - min(xs), 20.0)
    pts = list(el["pts"])
    for j in rng.sample(range(len(pts)), k=max(1, len(pts) // 3)):
        a = rng.uniform(0, 2 * math.pi)
        m = span * rng.uniform(0.25, 0.4)
        pts[j] = (pts[j][0] + m * math.cos(a), pts[j][1] + m * math.sin(a))
    e2 = dict(el, pts=pts)
    if not _in_canvas(bbox(e2), scene["size"]):
        return None
    scene["elements"][i] = e2
    desc = f"The outline of the {_describe(el)} is distorted."
    return [scene["elements"][i]["_id"]], _err("shape_error", _union(b0, bbox(e2)), scene["size"], desc, "path_distort")


FAMILIES = {
    "recolour": p_recolour, "stroke_width": p_stroke_width, "remove": p_remove, "add": p_add,
    "move": p_move, "scale": p_scale, "rotate": p_rotate, "z_order": p_z_order,
    "text_change": p_text, "path_distort": p_path_distort,
}


def _overlaps(a: LabeledError, b: LabeledError) -> bool:
    if a.bbox_frac is None or b.bbox_frac is None:
        return False
    return _inter_area(a.bbox_frac, b.bbox_frac) > 0


def make_sample(seed: int, n_errors: int, families: list[str] | None = None) -> Sample:
    """A seeded SVG sample with ``n_errors`` labelled perturbations (0 -> identical pair)."""
    rng = random.Random(seed)
    scene = generate_scene(rng)
    gt = scene_svg(scene)
    pred_scene = copy.deepcopy(scene)
    errors: list[LabeledError] = []
    used: set[int] = set()
    fams = list(families) if families else list(FAMILIES)
    tries = 0
    while len(errors) < n_errors and tries < 40:
        tries += 1
        fam = rng.choice(fams)
        trial = copy.deepcopy(pred_scene)
        out = FAMILIES[fam](trial, rng, used)
        if out is None:
            continue
        touched, err = out
        # errors of one sample must not overlap, so each stays separately visible and countable
        if any(_overlaps(err, e) for e in errors):
            continue
        if err.bbox_frac and _area(err.bbox_frac) < 0.002:
            continue
        pred_scene = trial
        used.update(touched)
        errors.append(err)
    return Sample("svg", "svg", gt, scene_svg(pred_scene), errors, seed,
                  {"size": list(scene["size"])})
