"""`verm report RESULTS/ -o report.html`: one self-contained HTML file (no external assets).

Contents: the headline metric tables, two inline-SVG plots (predicted vs reference severity sums,
per-category F1 bars) and, per item, the ground truth and the prediction side by side with the
critic's (red) and the reference's (blue, dashed) error boxes drawn on them and listed below.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from verm.bench.format import BenchItem
from verm.records import Critique, VisualError

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,DejaVu Sans,sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table.metrics{border-collapse:collapse;font-size:13px}
table.metrics td,table.metrics th{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.metrics th:first-child,table.metrics td:first-child{text-align:left}
.item{border-top:1px solid #ddd;padding:12px 0}
.pair{display:flex;gap:16px;flex-wrap:wrap}
svg.shot{border:1px solid #ccc}figure{margin:0}figcaption{font-size:12px;color:#555}
.errs{font-size:12px;display:flex;gap:32px}
.errs ul{margin:4px 0;padding-left:18px}
.pred{color:#c0392b}.ref{color:#1f5fa8}
.plots{display:flex;gap:32px;flex-wrap:wrap}
"""


def _img_data_url(path: str, max_side: int) -> tuple[str, float, int, int]:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGBA")
        scale = min(1.0, max_side / max(im.size))
        if scale < 1.0:
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
        buf = io.BytesIO()
        im.save(buf, "PNG", optimize=True)
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return url, scale, im.width, im.height


def _boxes_svg(errors: list[VisualError], scale: float, css: str, dash: str) -> str:
    out = []
    for n, e in enumerate(errors, 1):
        if e.bbox is None:
            continue
        x0, y0, x1, y1 = (v * scale for v in e.bbox)
        out.append(f'<rect class="{css}" x="{x0:.1f}" y="{y0:.1f}" width="{max(x1 - x0, 1):.1f}" '
                   f'height="{max(y1 - y0, 1):.1f}" fill="none" stroke-width="2" '
                   f'stroke="{"#c0392b" if css == "pred" else "#1f5fa8"}" {dash}/>'
                   f'<text x="{x0 + 2:.1f}" y="{y0 + 12:.1f}" font-size="11" '
                   f'fill="{"#c0392b" if css == "pred" else "#1f5fa8"}">{n}</text>')
    return "".join(out)


def _figure(path: str, caption: str, overlays: str, max_side: int) -> str:
    try:
        url, scale, w, h = _img_data_url(path, max_side)
    except OSError as exc:
        return f"<figure><figcaption>{html.escape(caption)}: unreadable ({html.escape(str(exc))})</figcaption></figure>"
    return (f'<figure><svg class="shot" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'xmlns="http://www.w3.org/2000/svg"><image href="{url}" width="{w}" height="{h}"/>'
            f"{overlays}</svg><figcaption>{html.escape(caption)}</figcaption></figure>")


def _err_list(errors: list[VisualError], css: str, title: str) -> str:
    if not errors:
        return f'<div class="{css}"><b>{title}</b>: none</div>'
    lis = "".join(f"<li>[{html.escape(e.category)}, severity {e.severity}] "
                  f"{html.escape(e.location)}: {html.escape(e.description)}</li>" for e in errors)
    return f'<div class="{css}"><b>{title}</b><ol>{lis}</ol></div>'


def _fmt(v) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _metric_table(metrics: dict) -> str:
    cols = ["precision", "recall", "f1", "soft_f1", "pearson_severity", "detection_auroc",
            "false_alarm_rate", "items"]
    head = "".join(f"<th>{c}</th>" for c in ["slice", *cols])
    rows = [("overall", metrics["overall"]), *sorted(metrics["by_kind"].items())]
    body = "".join("<tr><td>" + html.escape(n) + "</td>" +
                   "".join(f"<td>{_fmt(m.get(c))}</td>" for c in cols) + "</tr>" for n, m in rows)
    cat_cols = ["precision", "recall", "f1", "soft_f1", "n_pred", "n_ref"]
    cat_head = "".join(f"<th>{c}</th>" for c in ["category", *cat_cols])
    cat_body = "".join("<tr><td>" + html.escape(n) + "</td>" +
                       "".join(f"<td>{_fmt(m.get(c))}</td>" for c in cat_cols) + "</tr>"
                       for n, m in sorted(metrics["by_category"].items()))
    return (f'<table class="metrics" id="metrics-overall"><tr>{head}</tr>{body}</table>'
            f'<h2>Per category</h2><table class="metrics" id="metrics-category">'
            f"<tr>{cat_head}</tr>{cat_body}</table>")


def _scatter(items: list[BenchItem], crits: list[Critique]) -> str:
    w = h = 260
    pts = [(sum(e.severity for e in it.errors), c.severity_sum) for it, c in zip(items, crits)]
    top = max([1] + [max(p) for p in pts])
    dots = "".join(
        f'<circle cx="{30 + x / top * (w - 40):.1f}" cy="{h - 30 - y / top * (h - 40):.1f}" '
        f'r="3" fill="#1f5fa8" fill-opacity="0.5"/>' for x, y in pts)
    return (f'<svg id="plot-severity" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">'
            f'<line x1="30" y1="{h - 30}" x2="{w - 10}" y2="{h - 30}" stroke="#444"/>'
            f'<line x1="30" y1="10" x2="30" y2="{h - 30}" stroke="#444"/>'
            f'<line x1="30" y1="{h - 30}" x2="{w - 10}" y2="10" stroke="#bbb" stroke-dasharray="4"/>'
            f'{dots}<text x="{w / 2}" y="{h - 8}" font-size="11" text-anchor="middle">'
            f'reference severity sum (max {top})</text><text x="12" y="{h / 2}" font-size="11" '
            f'transform="rotate(-90 12 {h / 2})" text-anchor="middle">critic severity sum</text></svg>')


def _f1_bars(metrics: dict) -> str:
    cats = sorted(metrics["by_category"].items())
    bh, w = 18, 420
    h = max(40, len(cats) * (bh + 4) + 10)
    bars = []
    for i, (name, m) in enumerate(cats):
        y = 5 + i * (bh + 4)
        bar_w = m["f1"] * (w - 220)
        bars.append(f'<text x="170" y="{y + 13}" font-size="11" text-anchor="end">'
                    f'{html.escape(name)}</text><rect x="175" y="{y}" width="{bar_w:.1f}" '
                    f'height="{bh}" fill="#27ae60"/><text x="{180 + bar_w:.1f}" '
                    f'y="{y + 13}" font-size="11">{m["f1"]:.2f}</text>')
    return (f'<svg id="plot-f1" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(bars) + "</svg>")


def write_report(results_dir: str | Path, out: str | Path, *, max_items: int = 200,
                 max_side: int = 384, title: str | None = None) -> Path:
    """Write the HTML report of a `verm bench run` results folder and return its path."""
    from verm.bench.runner import load_results

    items, crits, metrics = load_results(results_dir)
    title = title or f"verm reward-bench report: {Path(results_dir).name}"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p>{metrics['n_items']} items, matcher <code>{html.escape(metrics['matcher'])}</code>. "
             "Red: critic's errors; blue dashed: reference errors.</p>",
             "<h2>Metrics</h2>", _metric_table(metrics),
             '<h2>Plots</h2><div class="plots">', _scatter(items, crits), _f1_bars(metrics), "</div>",
             f"<h2>Items (first {min(max_items, len(items))} of {len(items)})</h2>"]
    for it, crit in list(zip(items, crits))[:max_items]:
        try:
            from PIL import Image

            with Image.open(it.gt_image) as im:
                scale = min(1.0, max_side / max(im.size))
        except OSError:
            scale = 1.0
        boxes = (_boxes_svg(crit.errors, scale, "pred", "") +
                 _boxes_svg(it.errors, scale, "ref", 'stroke-dasharray="5,3"'))
        parts.append(
            f'<div class="item" id="item-{html.escape(it.id)}"><b>{html.escape(it.id)}</b> '
            f"({it.kind}; critic severity {crit.severity_sum}, reference "
            f"{sum(e.severity for e in it.errors)}{'' if crit.parse_ok else '; critique unparseable'})"
            f'<div class="pair">{_figure(it.gt_image, "ground truth", boxes, max_side)}'
            f'{_figure(it.pred_image, "prediction", boxes, max_side)}</div>'
            f'<div class="errs">{_err_list(crit.errors, "pred", "critic")}'
            f'{_err_list(it.errors, "ref", "reference")}</div></div>')
    parts.append("</body></html>")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(parts), encoding="utf-8")
    return out
