"""Regenerate the example ground-truth images and examples/batch.jsonl.

    python examples/make_examples.py

The ground truths are rendered from the code below with verm's own renderers; the responses are
realistic policy outputs (exact copies, small mistakes, truncation, no code at all).
Then score them: ``verm reward-batch examples/batch.jsonl -o out.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent

ICON = """<svg xmlns="http://www.w3.org/2000/svg" width="200" height="160" viewBox="0 0 200 160">
  <rect x="10" y="10" width="180" height="140" rx="16" fill="#eef3fb" stroke="#2b5fad" stroke-width="4"/>
  <circle cx="62" cy="70" r="30" fill="#f2a93b"/>
  <path d="M110 110 L140 50 L170 110 Z" fill="#2b5fad"/>
  <text x="100" y="140" font-family="sans-serif" font-size="16" text-anchor="middle" fill="#1b2a41">Sunrise</text>
</svg>"""

BADGE = """<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160">
  <circle cx="80" cy="80" r="70" fill="#3a9d5d"/>
  <circle cx="80" cy="80" r="52" fill="none" stroke="white" stroke-width="6"/>
  <path d="M52 82 L72 102 L110 60" fill="none" stroke="white" stroke-width="10" stroke-linecap="round"/>
</svg>"""

TABLE = """| Region | Q1 | Q2 | Q3 |
|:-------|---:|---:|---:|
| North  | 120 | 135 | 150 |
| South  | 98 | 101 | 87 |
| East   | 143 | 160 | 171 |
| West   | 77 | 82 | 95 |"""

HTML_TABLE = """<table>
  <tr><th>Model</th><th>Params</th><th>Score</th></tr>
  <tr><td>Tiny</td><td>10M</td><td>41.2</td></tr>
  <tr><td>Base</td><td>110M</td><td>57.9</td></tr>
  <tr><td>Large</td><td>340M</td><td>63.4</td></tr>
</table>"""

CHART = """import matplotlib.pyplot as plt

months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]
sales = [12, 15, 14, 19, 23, 21]
fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
ax.bar(months, sales, color="#4c72b0")
ax.set_title("Monthly sales")
ax.set_ylabel("Units (k)")
fig.tight_layout()
"""


def fence(lang: str, code: str, before: str = "Here is the code:", after: str = "") -> str:
    return f"{before}\n\n```{lang}\n{code}\n```\n{after}".strip()


ITEMS = [
    # id, kind, gt name, response
    ("svg-exact", "svg", "icon", fence("svg", ICON)),
    ("svg-recolour", "svg", "icon", fence("svg", ICON.replace("#f2a93b", "#d9534f"))),
    ("svg-missing-shape", "svg", "icon",
     fence("svg", ICON.replace('  <path d="M110 110 L140 50 L170 110 Z" fill="#2b5fad"/>\n', ""))),
    ("svg-wrong-text", "svg", "icon", fence("xml", ICON.replace("Sunrise", "Sunset"))),
    ("svg-raw-truncated", "svg", "badge",
     "<think>A green badge with a check mark.</think>\n" + BADGE[: BADGE.index("<path")] + "<path d=\"M52 82"),
    ("svg-no-code", "svg", "badge", "I'm sorry, I can't draw images."),
    ("table-exact", "table", "sales", fence("markdown", TABLE)),
    ("table-numeric", "table", "sales", fence("markdown", TABLE.replace("160", "106"))),
    ("table-missing-row", "table", "sales", fence("markdown", TABLE.replace("| South  | 98 | 101 | 87 |\n", ""))),
    ("table-html-exact", "table", "models", "The table in HTML:\n" + HTML_TABLE),
    ("table-html-text", "table", "models", fence("html", HTML_TABLE.replace("Large", "Huge"))),
    ("chart-exact", "chart", "sales_chart", fence("python", CHART)),
    ("chart-data", "chart", "sales_chart", fence("python", CHART.replace("19, 23", "29, 13"))),
    ("chart-title", "chart", "sales_chart", fence("python", CHART.replace("Monthly sales", "Sales per month"))),
]


def main() -> None:
    from verm.render import render_chart_codes, render_svgs, render_tables

    gts = {
        "icon": render_svgs([ICON])[0], "badge": render_svgs([BADGE])[0],
        "sales": render_tables([TABLE])[0], "models": render_tables([HTML_TABLE])[0],
        "sales_chart": render_chart_codes([CHART])[0],
    }
    (HERE / "gt").mkdir(exist_ok=True)
    for name, res in gts.items():
        if res.image is None:
            raise SystemExit(f"could not render {name}: {res.status} {res.message}")
        Image.fromarray(res.image).save(HERE / "gt" / f"{name}.png", optimize=True)
    with open(HERE / "batch.jsonl", "w", encoding="utf-8") as f:
        for rid, kind, gt, response in ITEMS:
            f.write(json.dumps({"id": rid, "kind": kind, "gt": f"gt/{gt}.png", "response": response}) + "\n")
    print(f"wrote {len(gts)} images and {len(ITEMS)} items to {HERE}")


if __name__ == "__main__":
    main()
