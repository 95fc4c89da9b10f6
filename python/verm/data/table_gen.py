"""Seeded table generator (Markdown / HTML / LaTeX) and the table perturbation families.

A table is a small model (header, rows, column types, alignments, spans); perturbations edit the
model and every label names the cell ("row 3, column 2") it touched. Table bboxes depend on the
renderer's layout, so table labels carry no bbox.
"""

from __future__ import annotations

import copy
import html
import random
from typing import Any

from verm.data.common import LabeledError, Sample, apply_families

FORMATS = ("markdown", "html", "latex")

_FIRST = ["Aria", "Ben", "Chen", "Dana", "Eli", "Farah", "Gus", "Hana", "Ivan", "Jun", "Kai", "Lena",
          "Mona", "Nils", "Omar", "Pia", "Rui", "Sara", "Tom", "Uma", "Vera", "Wes", "Yara", "Zoe"]
_CITIES = ["Lisbon", "Oslo", "Lima", "Quito", "Kyoto", "Perth", "Dakar", "Cairo", "Tunis", "Hanoi",
           "Porto", "Bern", "Riga", "Sofia", "Delhi", "Dubai", "Seoul", "Accra", "Turin", "Graz"]
_PRODUCTS = ["Laptop", "Monitor", "Keyboard", "Mouse", "Headset", "Webcam", "Router", "Tablet",
             "Printer", "Speaker", "Charger", "Dock", "Stylus", "Scanner"]
_MODELS = ["ResNet-50", "ViT-B/16", "BERT-base", "GPT-2", "T5-small", "CLIP-L", "Llama-7B",
           "Mistral-7B", "Qwen-1.8B", "DeiT-S", "Swin-T", "ConvNeXt"]
_CATS = ["North", "South", "East", "West", "Central"]
_STATUS = ["Active", "Paused", "Closed", "Pending", "Open"]

# domain -> list of (header, type, generator args)
DOMAINS: dict[str, list[tuple[str, str, Any]]] = {
    "cities": [("City", "text", _CITIES), ("Region", "text", _CATS), ("Population (k)", "int", (80, 9000)),
               ("Area (km²)", "float1", (40, 2500)), ("Growth (%)", "pct", (-2, 6))],
    "sales": [("Product", "text", _PRODUCTS), ("Units", "int", (10, 5000)), ("Price ($)", "money", (5, 2500)),
              ("Revenue ($k)", "float1", (1, 900)), ("Status", "text", _STATUS)],
    "models": [("Model", "text", _MODELS), ("Params (M)", "float1", (10, 7000)), ("Top-1 (%)", "float1", (60, 90)),
               ("F1", "float3", (0.5, 0.95)), ("Latency (ms)", "int", (3, 400))],
    "people": [("Name", "text", _FIRST), ("Team", "text", _CATS), ("Age", "int", (21, 64)),
               ("Score", "float1", (40, 100)), ("City", "text", _CITIES)],
    "quarters": [("Quarter", "text", ["Q1 2023", "Q2 2023", "Q3 2023", "Q4 2023", "Q1 2024", "Q2 2024",
                                      "Q3 2024", "Q4 2024"]),
                 ("Revenue", "money", (100, 990)), ("Cost", "money", (50, 700)), ("Margin (%)", "pct", (2, 40))],
}
NUMERIC = {"int", "float1", "float3", "money", "pct"}


def _fmt_value(t: str, v: float) -> str:
    if t == "int":
        return f"{int(round(v)):,}"
    if t == "float1":
        return f"{v:.1f}"
    if t == "float3":
        return f"{v:.3f}"
    if t == "money":
        return f"{v:,.2f}"
    if t == "pct":
        return f"{v:+.1f}"
    raise ValueError(t)


def _value(rng: random.Random, t: str, arg: Any) -> str:
    lo, hi = arg
    return _fmt_value(t, rng.uniform(lo, hi))


def generate_table(rng: random.Random, fmt: str | None = None) -> dict[str, Any]:
    """A random table model."""
    domain = rng.choice(sorted(DOMAINS))
    cols = list(DOMAINS[domain])
    keep = [cols[0]] + rng.sample(cols[1:], k=rng.randint(min(2, len(cols) - 1), len(cols) - 1))
    keep = [c for c in cols if c in keep]
    n_rows = rng.randint(3, 7)
    first_vals = rng.sample(keep[0][2], k=n_rows)
    rows = []
    for r in range(n_rows):
        row = [first_vals[r]]
        for _, t, arg in keep[1:]:
            row.append(rng.choice(arg) if t == "text" else _value(rng, t, arg))
        rows.append(row)
    types = [t for _, t, _ in keep]
    align = ["left" if t == "text" else rng.choice(["right", "right", "center"]) for t in types]
    fmt = fmt or rng.choice(FORMATS)
    return {"fmt": fmt, "header": [h for h, _, _ in keep], "types": types, "args": [a for _, _, a in keep],
            "rows": rows, "align": align, "spans": [], "caption": None}


# ------------------------------------------------------------------ serialisation
def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def to_markdown(t: dict[str, Any]) -> str:
    """Pipe table. Spans are not expressible; a spanned cell is written once and the rest left empty."""
    delim = {"left": ":---", "center": ":---:", "right": "---:"}
    lines = ["| " + " | ".join(_md_escape(h) for h in t["header"]) + " |",
             "| " + " | ".join(delim[a] for a in t["align"]) + " |"]
    for row in t["rows"]:
        lines.append("| " + " | ".join(_md_escape(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def _span_map(t: dict[str, Any]) -> tuple[dict[tuple[int, int], tuple[int, int]], set[tuple[int, int]]]:
    anchors, covered = {}, set()
    for r, c, rs, cs in t["spans"]:
        anchors[(r, c)] = (rs, cs)
        for i in range(r, r + rs):
            for j in range(c, c + cs):
                if (i, j) != (r, c):
                    covered.add((i, j))
    return anchors, covered


def to_html(t: dict[str, Any]) -> str:
    """HTML table with a visible grid; spans as rowspan/colspan."""
    anchors, covered = _span_map(t)
    out = ['<table border="1" style="border-collapse: collapse;">']
    out.append("  <thead>\n    <tr>" + "".join(
        f'<th style="text-align: {a}">{html.escape(h)}</th>' for h, a in zip(t["header"], t["align"])) + "</tr>\n  </thead>")
    out.append("  <tbody>")
    for r, row in enumerate(t["rows"]):
        cells = []
        for c, v in enumerate(row):
            if (r, c) in covered:
                continue
            span = ""
            if (r, c) in anchors:
                rs, cs = anchors[(r, c)]
                span = (f' rowspan="{rs}"' if rs > 1 else "") + (f' colspan="{cs}"' if cs > 1 else "")
            cells.append(f'<td{span} style="text-align: {t["align"][c]}">{html.escape(v)}</td>')
        out.append("    <tr>" + "".join(cells) + "</tr>")
    out.append("  </tbody>\n</table>")
    return "\n".join(out) + "\n"


def _tex(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}")):
        s = s.replace(a, b)
    return s


def to_latex(t: dict[str, Any]) -> str:
    """LaTeX tabular with rules; column spans as \\multicolumn (row spans are not used)."""
    anchors, covered = _span_map(t)
    spec = "|" + "|".join(a[0] for a in t["align"]) + "|"
    out = [f"\\begin{{tabular}}{{{spec}}}", "\\hline",
           " & ".join(f"\\textbf{{{_tex(h)}}}" for h in t["header"]) + " \\\\", "\\hline"]
    for r, row in enumerate(t["rows"]):
        cells = []
        for c, v in enumerate(row):
            if (r, c) in covered:
                continue
            if (r, c) in anchors:
                _, cs = anchors[(r, c)]
                cells.append(f"\\multicolumn{{{cs}}}{{|c|}}{{{_tex(v)}}}")
            else:
                cells.append(_tex(v))
        out.append(" & ".join(cells) + " \\\\")
    out.append("\\hline")
    out.append("\\end{tabular}")
    return "\n".join(out) + "\n"


def table_code(t: dict[str, Any]) -> str:
    """Serialise in the table's own format."""
    return {"markdown": to_markdown, "html": to_html, "latex": to_latex}[t["fmt"]](t)


# ------------------------------------------------------------------ perturbations
def _cell_loc(t, r: int, c: int) -> str:
    return f"row {r + 1}, column {c + 1} ({t['header'][c]})"


def _free_cells(t, used, numeric: bool | None):
    _, covered = _span_map(t)
    anchors, _ = _span_map(t)
    out = []
    for r in range(len(t["rows"])):
        for c in range(len(t["header"])):
            if (r, c) in covered or (r, c) in anchors or ("cell", r, c) in used or ("row", r) in used \
                    or ("col", c) in used:
                continue
            isnum = t["types"][c] in NUMERIC
            if numeric is None or isnum == numeric:
                out.append((r, c))
    return out


def p_cell_numeric(t, rng, used):
    cells = _free_cells(t, used, True)
    if not cells:
        return None
    r, c = rng.choice(cells)
    old = t["rows"][r][c]
    ty, arg = t["types"][c], t["args"][c]
    for _ in range(20):
        new = _value(rng, ty, arg)
        if new != old and len(new) >= 1 and sum(a != b for a, b in zip(new, old)) + abs(len(new) - len(old)) >= 2:
            break
    else:
        return None
    t["rows"][r][c] = new
    return [("cell", r, c)], LabeledError("numeric_error", 2, _cell_loc(t, r, c),
                                          f"The value is {new} instead of {old}.", None, "cell_numeric",
                                          (r + 1, c, r + 1, c))


def p_cell_text(t, rng, used):
    cells = [rc for rc in _free_cells(t, used, False) if rc[1] > 0 or rng.random() < 0.5]
    if not cells:
        return None
    r, c = rng.choice(cells)
    old = t["rows"][r][c]
    if rng.random() < 0.5 and len(old) >= 4:  # a typo: severity 1
        j = rng.randrange(1, len(old))
        ch = rng.choice([x for x in "aeiourstnx" if x != old[j].lower()])
        new = old[:j] + ch + old[j + 1:]
        sev = 1
    else:
        pool = [v for v in (t["args"][c] if t["types"][c] == "text" else []) if v != old]
        col_vals = {row[c] for row in t["rows"]}
        pool = [v for v in pool if v not in col_vals] or pool
        if not pool:
            return None
        new = rng.choice(pool)
        sev = 2
    t["rows"][r][c] = new
    return [("cell", r, c)], LabeledError("text_error", sev, _cell_loc(t, r, c),
                                          f'The cell reads "{new}" instead of "{old}".', None, "cell_text",
                                          (r + 1, c, r + 1, c))


def p_header(t, rng, used):
    cands = [c for c in range(len(t["header"])) if ("col", c) not in used and ("header", c) not in used]
    if not cands:
        return None
    c = rng.choice(cands)
    old = t["header"][c]
    alts = {"City": "Town", "Region": "Zone", "Units": "Qty", "Product": "Item", "Model": "Network",
            "Name": "Person", "Team": "Group", "Age": "Years", "Score": "Points", "Status": "State",
            "Quarter": "Period", "Revenue": "Sales", "Cost": "Spend", "F1": "F1 score"}
    new = alts.get(old) or (old.split(" (")[0] + " " + rng.choice(["total", "avg", "(est.)"]))
    t["header"][c] = new
    return [("header", c)], LabeledError("text_error", 2, f"header row, column {c + 1}",
                                         f'The header reads "{new}" instead of "{old}".', None, "header_change",
                                         (0, c, 0, c))


def _no_spans_touching(t, rows=(), cols=()) -> bool:
    for r, c, rs, cs in t["spans"]:
        if any(r <= x < r + rs for x in rows) or any(c <= x < c + cs for x in cols):
            return False
    return True


def _used_row_or_cell(used, r=None, c=None) -> bool:
    for u in used:
        if r is not None and ((u[0] == "row" and u[1] == r) or (u[0] == "cell" and u[1] == r)):
            return True
        if c is not None and ((u[0] in ("col", "header") and u[1] == c) or (u[0] == "cell" and u[2] == c)):
            return True
    return False


def _structural_ok(used) -> bool:
    # row/column insertions shift indices: allow them only as the last edit in a sample
    return not any(u[0] in ("row", "col", "span", "struct") for u in used)


def p_drop_row(t, rng, used):
    if len(t["rows"]) < 3 or not _structural_ok(used) or t["spans"]:
        return None
    r = rng.randrange(len(t["rows"]))
    if _used_row_or_cell(used, r=r):
        return None
    t["rows"].pop(r)
    return [("struct", "row")], LabeledError("layout_error", 2, f"row {r + 1}",
                                             f"Row {r + 1} ({t['header'][0]} ...) is missing.", None, "drop_row",
                                             (r + 1, 0, r + 1, -1))


def p_dup_row(t, rng, used):
    if not _structural_ok(used) or t["spans"]:
        return None
    r = rng.randrange(len(t["rows"]))
    t["rows"].insert(r + 1, list(t["rows"][r]))
    return [("struct", "row")], LabeledError("layout_error", 2, f"row {r + 2}",
                                             f"Row {r + 1} is duplicated.", None, "duplicate_row",
                                             (r + 1, 0, r + 1, -1))


def p_drop_col(t, rng, used):
    if len(t["header"]) < 3 or not _structural_ok(used) or t["spans"]:
        return None
    c = rng.randrange(1, len(t["header"]))
    if _used_row_or_cell(used, c=c):
        return None
    name = t["header"][c]
    for key in ("header", "types", "args", "align"):
        t[key].pop(c)
    for row in t["rows"]:
        row.pop(c)
    return [("struct", "col")], LabeledError("layout_error", 3, f"column {c + 1}",
                                             f'The column "{name}" is missing.', None, "drop_column",
                                             (0, c, -1, c))


def p_dup_col(t, rng, used):
    if not _structural_ok(used) or t["spans"] or len(t["header"]) > 5 or len(t["header"]) < 2:
        return None
    c = rng.randrange(1, len(t["header"]))
    for key in ("header", "types", "args", "align"):
        t[key].insert(c + 1, t[key][c])
    for row in t["rows"]:
        row.insert(c + 1, row[c])
    return [("struct", "col")], LabeledError("layout_error", 3, f"column {c + 2}",
                                             f'The column "{t["header"][c]}" is duplicated.', None,
                                             "duplicate_column", (0, c, -1, c))


def p_swap_cols(t, rng, used):
    if len(t["header"]) < 3 or not _structural_ok(used) or t["spans"]:
        return None
    c = rng.randrange(1, len(t["header"]) - 1)
    if _used_row_or_cell(used, c=c) or _used_row_or_cell(used, c=c + 1):
        return None
    a, b = t["header"][c], t["header"][c + 1]
    for key in ("header", "types", "args", "align"):
        t[key][c], t[key][c + 1] = t[key][c + 1], t[key][c]
    for row in t["rows"]:
        row[c], row[c + 1] = row[c + 1], row[c]
    return [("struct", "col")], LabeledError("layout_error", 2, f"columns {c + 1}-{c + 2}",
                                             f'The columns "{a}" and "{b}" are swapped.', None, "swap_columns",
                                             (0, c, -1, c + 1))


def p_merge(t, rng, used):
    if t["fmt"] == "markdown" or not _structural_ok(used) or len(t["header"]) < 3:
        return None
    nc = len(t["header"])
    for _ in range(10):
        r, c = rng.randrange(len(t["rows"])), rng.randrange(1, nc - 1)
        if _no_spans_touching(t, rows=[r]) and not _used_row_or_cell(used, r=r):
            break
    else:
        return None
    t["spans"].append((r, c, 1, 2))
    return [("span", r, c)], LabeledError("layout_error", 2, f"row {r + 1}, columns {c + 1}-{c + 2}",
                                          f"Cells in row {r + 1}, columns {c + 1} and {c + 2} are merged into one.",
                                          None, "merge_cells", (r + 1, c, r + 1, c + 1))


def p_align(t, rng, used):
    cands = [c for c in range(len(t["header"])) if not _used_row_or_cell(used, c=c)]
    if not cands:
        return None
    c = rng.choice(cands)
    old = t["align"][c]
    new = rng.choice([a for a in ("left", "center", "right") if a != old])
    t["align"][c] = new
    return [("col", c)], LabeledError("layout_error", 1, f"column {c + 1} ({t['header'][c]})",
                                      f"Column {c + 1} is {new}-aligned instead of {old}-aligned.", None, "alignment",
                                      (0, c, -1, c))


FAMILIES = {
    "cell_numeric": p_cell_numeric, "cell_text": p_cell_text, "header_change": p_header,
    "drop_row": p_drop_row, "duplicate_row": p_dup_row, "drop_column": p_drop_col,
    "duplicate_column": p_dup_col, "swap_columns": p_swap_cols, "merge_cells": p_merge,
    "alignment": p_align,
}


STRUCTURAL = {"drop_row", "duplicate_row", "drop_column", "duplicate_column", "swap_columns", "merge_cells"}


def _split_variant(rng: random.Random, t: dict[str, Any]):
    """A GT with a merged cell whose prediction splits it (the split_cells family)."""
    if t["fmt"] == "markdown" or len(t["header"]) < 3:
        return None
    r, c = rng.randrange(len(t["rows"])), rng.randrange(1, len(t["header"]) - 1)
    t["spans"].append((r, c, 1, 2))
    pred = copy.deepcopy(t)
    pred["spans"] = []
    return pred, [("span", r, c), ("struct", "split")], LabeledError(
        "layout_error", 2, f"row {r + 1}, columns {c + 1}-{c + 2}",
        f"The merged cell in row {r + 1} is split into two cells.", None, "split_cells",
        (r + 1, c, r + 1, c + 1))


def make_sample(seed: int, n_errors: int, families: list[str] | None = None, fmt: str | None = None) -> Sample:
    """A seeded table sample with ``n_errors`` labelled perturbations (0 -> identical pair)."""
    rng = random.Random(seed)
    t = generate_table(rng, fmt)
    return perturb_table(t, rng, n_errors, families, seed)


def perturb_table(t: dict[str, Any], rng: random.Random, n_errors: int, families: list[str] | None = None,
                  seed: int = 0, meta: dict[str, Any] | None = None) -> Sample:
    """Apply ``n_errors`` labelled perturbations to the table model ``t`` (any source of models).

    The ``split_cells`` family merges two GT cells first; leave it out of ``families`` when the GT
    must stay as given (user corpora).
    """
    fams = list(families) if families else list(FAMILIES) + ["split_cells"]
    errors: list[LabeledError] = []
    used: set = set()
    pred = copy.deepcopy(t)
    if n_errors and "split_cells" in fams and rng.random() < 1 / len(fams):
        out = _split_variant(rng, t)
        if out is not None:
            pred, touched, err = out
            used.update(touched)
            errors.append(err)
    gt_code = table_code(t)
    fams = [f for f in fams if f != "split_cells"]
    # Index-shifting edits go last so earlier labels keep GT row/column numbers.
    pred, errors = apply_families(
        pred, rng, FAMILIES, fams, n_errors, 40,
        skip=lambda fam, done: fam in STRUCTURAL and done != n_errors - 1,
        errors=errors, used=used)
    info = {"rows": len(t["rows"]), "cols": len(t["header"])}
    info.update(meta or {})
    return Sample("table", t["fmt"], gt_code, table_code(pred), errors, seed, info)
