"""verm vs headless Chromium on the same tables: cell-box agreement and speed per table.

Usage: python bench/chromium_tables.py [--n 200] [--timed 200] [--out DIR]

Chromium gets each table as the canonical HTML (``Table.to_html``) under the same stylesheet
verm uses (border-collapse, 1px borders, 4/8px padding, DejaVu Sans 14px, line-height 1.25,
bold centred <th>, 10px body margin, tables at most 1600px wide). Agreement: for every table,
each cell's border box is normalised by the table's own box (so scale and offset drop out),
and the IoU of verm's box with Chromium's box for the same cell is averaged; the report gives
the mean over tables (target >= 0.8). Chromium's boxes come from getBoundingClientRect in one
page holding all tables (untimed). Speed: one ``chromium --headless --screenshot`` process per
table (the reference reward's way) against verm's batch ``render_tables``, per table, single
thread and default threads (targets >= 50x).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verm.render import TableStyle, render_tables
from verm.tables import parse
from verm.tables.synth import random_table_code

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--hide-scrollbars", "--force-device-scale-factor=1"]


def stylesheet(s: TableStyle) -> str:
    return f"""
body {{ margin: {s.margin}px; background: {s.background}; }}
.wrap {{ max-width: {s.max_width:g}px; margin-bottom: 40px; }}
table {{ border-collapse: collapse; font-family: '{s.font_family}'; font-size: {s.font_size:g}px;
        line-height: {s.line_height}; color: {s.text_color}; }}
td, th {{ border: {s.border_width:g}px solid {s.border_color}; padding: {s.padding_y:g}px
          {s.padding_x:g}px; vertical-align: middle; }}
th {{ font-weight: bold; text-align: {s.header_align}; }}
"""


def page(tables_html: list[str], style: TableStyle, with_script: bool) -> str:
    body = "".join(f'<div class="wrap">{h}</div>' for h in tables_html)
    script = """
<script>
const out = [];
for (const t of document.querySelectorAll('table')) {
  const tb = t.getBoundingClientRect();
  const cells = [];
  for (const c of t.querySelectorAll('td, th')) {
    const r = c.getBoundingClientRect();
    cells.push([r.left - tb.left, r.top - tb.top, r.right - tb.left, r.bottom - tb.top]);
  }
  out.push({w: tb.width, h: tb.height, cells: cells});
}
const pre = document.createElement('pre');
pre.id = 'boxes';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>""" if with_script else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{stylesheet(style)}</style>"
            f"</head><body>{body}{script}</body></html>")


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium found (Debian: apt-get install -y chromium)")


def run_chromium(binary: str, args: list[str], profile: Path, timeout: float = 120) -> str:
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-500:]}")
    return proc.stdout


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="tables for the agreement measure")
    ap.add_argument("--timed", type=int, default=200, help="tables screenshotted one by one")
    ap.add_argument("--out", default="", help="folder for a JSON summary and sample PNGs")
    args = ap.parse_args()
    style = TableStyle()
    binary = chromium_binary()
    codes = [random_table_code(seed, ("html", "latex", "markdown")[seed % 3],
                               long_text=0.1)[0] for seed in range(args.n)]
    tables = [parse(c) for c in codes]
    htmls = [t.to_html() for t in tables]

    # --- verm: warm, then time the batch (single thread and default threads)
    render_tables(codes[:5])
    t0 = time.perf_counter()
    res1 = render_tables(codes, threads=1)
    verm_1 = (time.perf_counter() - t0) / len(codes)
    t0 = time.perf_counter()
    res = render_tables(codes)
    verm_n = (time.perf_counter() - t0) / len(codes)
    statuses = sorted({r.status for r in res1})

    tmp = Path(tempfile.mkdtemp(prefix="verm-chromium-"))
    try:
        # --- Chromium boxes: all tables in one page, read back with --dump-dom (untimed)
        doc = tmp / "all.html"
        doc.write_text(page(htmls, style, with_script=True), encoding="utf-8")
        dom = run_chromium(binary, ["--dump-dom", "--window-size=1800,1200", doc.as_uri()],
                           tmp / "profile-dom")
        start = dom.index('<pre id="boxes">') + len('<pre id="boxes">')
        import html as _html

        chrome = json.loads(_html.unescape(dom[start:dom.index("</pre>", start)]))

        # --- agreement
        per_table = []
        for t, r, cb in zip(tables, res, chrome):
            cells = r.extra["cells"]
            x0 = min(c[4] for c in cells)
            y0 = min(c[5] for c in cells)
            w = max(c[6] for c in cells) - x0
            h = max(c[7] for c in cells) - y0
            ious = []
            hb = style.border_width / 2  # Chromium reports collapsed cells rule-centre to rule-centre
            for c, b in zip(cells, cb["cells"]):
                ours = ((c[4] + hb - x0) / w, (c[5] + hb - y0) / h, (c[6] - hb - x0) / w,
                        (c[7] - hb - y0) / h)
                theirs = (b[0] / cb["w"], b[1] / cb["h"], b[2] / cb["w"], b[3] / cb["h"])
                ious.append(iou(ours, theirs))
            assert len(cb["cells"]) == len(cells) == len(t.cells)
            per_table.append(statistics.fmean(ious))
        mean_iou = statistics.fmean(per_table)

        # --- Chromium speed: one screenshot process per table (the reference reward's way)
        n_t = min(args.timed, len(htmls))
        times = []
        for i in range(n_t):
            f = tmp / f"t{i}.html"
            f.write_text(page([htmls[i]], style, with_script=False), encoding="utf-8")
            t0 = time.perf_counter()
            run_chromium(binary, [f"--screenshot={tmp / f't{i}.png'}", "--window-size=1700,1000",
                                  f.as_uri()], tmp / f"profile-{i}")
            times.append(time.perf_counter() - t0)
        chrome_per = statistics.fmean(times)
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for i in range(min(3, n_t)):
                shutil.copy(tmp / f"t{i}.png", out / f"chromium_{i}.png")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = {
        "tables": len(codes), "timed_chromium": n_t, "mean_cell_iou": mean_iou,
        "min_table_iou": min(per_table), "tables_iou_ge_0.8": sum(x >= 0.8 for x in per_table),
        "chromium_s_per_table": chrome_per, "verm_s_per_table_1thread": verm_1,
        "verm_s_per_table_threads": verm_n, "threads": os.cpu_count(),
        "speedup_1thread": chrome_per / verm_1, "speedup_threads": chrome_per / verm_n,
        "verm_statuses": statuses,
    }
    print(f"cell-box agreement: mean IoU {mean_iou:.3f} over {len(codes)} tables "
          f"(min {min(per_table):.3f}; {summary['tables_iou_ge_0.8']} tables >= 0.8; target >= 0.8)")
    print(f"speed: chromium screenshot {chrome_per * 1e3:.0f} ms/table ({n_t} runs); verm "
          f"{verm_1 * 1e3:.2f} ms/table 1 thread, {verm_n * 1e3:.2f} ms/table all threads "
          f"-> {summary['speedup_1thread']:.0f}x / {summary['speedup_threads']:.0f}x "
          f"(target >= 50x; verm statuses {statuses})")
    if args.out:
        Path(args.out, "summary.json").write_text(json.dumps(summary, indent=2))
        from PIL import Image

        for i in range(3):
            Image.fromarray(res[i].image).save(Path(args.out) / f"verm_{i}.png")


if __name__ == "__main__":
    main()
