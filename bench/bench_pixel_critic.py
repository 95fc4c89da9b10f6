"""PixelCritic quality and speed on seeded perturbation pairs from verm.data.

Script mode prints quality (per kind, per category, overall):

    python bench/bench_pixel_critic.py --n 300 --seed 0

pytest-benchmark mode measures pairs/s at 336x336 against a plain diff-and-label anchor:

    pytest bench/bench_pixel_critic.py --benchmark-only

Charts are rendered by ``verm.render.render_chart_codes`` when this build has it; otherwise (bench
only) by matplotlib Agg in this process.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from collections import defaultdict

import numpy as np

from verm.records import CATEGORIES


def _agg_chart_renderer(codes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    out = []
    for code in codes:
        plt.close("all")
        try:
            exec(compile(code, "<chart>", "exec"), {"__name__": "__chart__"})
            buf = io.BytesIO()
            plt.gcf().savefig(buf, format="png")
            out.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGBA")).copy())
        except Exception:  # noqa: BLE001 - bench fallback renderer
            out.append(None)
    plt.close("all")
    return out


def bench_renderer():
    """verm's renderers (call ``.close()`` when done); charts fall back to in-process Agg only when
    this build has no ``verm.render.render_chart_codes``."""
    import verm.render as R
    from verm.data.synth import default_renderer

    base = default_renderer()
    if hasattr(R, "render_chart_codes"):
        return base

    class _WithAggCharts:
        def __call__(self, kind, codes, fmts):
            if kind == "chart":
                return _agg_chart_renderer(codes)
            return base(kind, codes, fmts)

        def close(self):
            base.close()

        @property
        def last_extras(self):
            return base.last_extras

    return _WithAggCharts()


def make_pairs(n: int, seed: int = 0, kinds=("chart", "table", "svg")):
    """``n`` labelled pairs split over kinds: list of dicts with gt, pred, kind, errors."""
    from verm.data.synth import SynthConfig, split_counts, synth_pairs

    cfg = SynthConfig(seed=seed)
    render = bench_renderer()
    out = []
    try:
        for kind, k in split_counts(list(kinds), n).items():
            for item in synth_pairs(kind, range(k), cfg, render):
                out.append({"kind": kind, "gt": item["gt"], "pred": item["pred"], "errors": item["errors"],
                            "families": item["sample"].families, "nuisance": item["nuisance"]})
    finally:
        render.close()
    return out


def _auroc(scores, labels) -> float:
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return float("nan")
    tot = 0.0
    for p in pos:
        for q in neg:
            tot += 1.0 if p > q else (0.5 if p == q else 0.0)
    return tot / (len(pos) * len(neg))


def _pearson(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def score(pairs, critiques) -> dict:
    """Counts-matched per-category micro-F1, AUROC, Pearson and false alarms."""
    res: dict = {}
    groups = defaultdict(list)
    for pr, cr in zip(pairs, critiques):
        groups[pr["kind"]].append((pr, cr))
        groups["all"].append((pr, cr))
    for name, items in groups.items():
        tp = fp = fn = 0
        per_cat: dict = defaultdict(lambda: [0, 0, 0])
        sev_true, sev_pred, det, lab = [], [], [], []
        fa = nneg = 0
        for pr, cr in items:
            cats = CATEGORIES[pr["kind"]]
            for c in cats:
                t = sum(1 for e in pr["errors"] if e.category == c)
                p = sum(1 for e in cr.errors if e.category == c)
                tp += min(t, p)
                fp += max(p - t, 0)
                fn += max(t - p, 0)
                pc = per_cat[f"{pr['kind']}/{c}"]
                pc[0] += min(t, p)
                pc[1] += max(p - t, 0)
                pc[2] += max(t - p, 0)
            st = sum(e.severity for e in pr["errors"])
            sp = cr.severity_sum
            sev_true.append(st)
            sev_pred.append(sp)
            det.append(sp + 0.01 * len(cr.errors))
            lab.append(bool(pr["errors"]))
            if not pr["errors"]:
                nneg += 1
                fa += bool(cr.errors)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        res[name] = {
            "n": len(items), "auroc": round(_auroc(det, lab), 4), "micro_f1": round(f1, 4),
            "precision": round(prec, 4), "recall": round(rec, 4),
            "pearson": round(_pearson(sev_true, sev_pred), 4),
            "false_alarm": round(fa / nneg, 4) if nneg else float("nan"), "negatives": nneg,
            "per_category": {k: {"tp": v[0], "fp": v[1], "fn": v[2],
                                 "f1": round(2 * v[0] / (2 * v[0] + v[1] + v[2]), 3) if v[0] + v[1] + v[2] else None}
                             for k, v in sorted(per_cat.items())} if name != "all" else {},
        }
    return res


def family_report(pairs, critiques) -> dict:
    """Per perturbation family (single-error pairs only): how often the label's category is found."""
    out: dict = defaultdict(lambda: [0, 0])
    for pr, cr in zip(pairs, critiques):
        if len(pr["errors"]) != 1:
            continue
        fam = f"{pr['kind']}/{pr['families'][0]}"
        cat = pr["errors"][0].category
        out[fam][1] += 1
        out[fam][0] += any(e.category == cat for e in cr.errors)
    return {k: f"{v[0]}/{v[1]}" for k, v in sorted(out.items())}


def pair_miss(pr, cr) -> tuple[int, int]:
    """(category count mismatches, |severity-sum difference|) of one pair: how badly it was judged."""
    cats = CATEGORIES[pr["kind"]]
    miss = sum(abs(sum(1 for e in pr["errors"] if e.category == c) - sum(1 for e in cr.errors if e.category == c))
               for c in cats)
    return miss, abs(sum(e.severity for e in pr["errors"]) - cr.severity_sum)


def dump_worst(pairs, critiques, out_dir, k: int = 20) -> list[dict]:
    """Write the ``k`` worst-judged pairs (most category mismatches, then severity gap) as
    side-by-side PNGs (GT left, prediction right) plus ``worst.json`` with expected vs found errors."""
    from pathlib import Path

    from PIL import Image

    from verm.critic.base import to_rgb

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    order = sorted(range(len(pairs)), key=lambda i: pair_miss(pairs[i], critiques[i]), reverse=True)[:k]
    rows = []
    for rank, i in enumerate(order):
        pr, cr = pairs[i], critiques[i]
        g, p = to_rgb(pr["gt"]), to_rgb(pr["pred"])
        h = max(g.shape[0], p.shape[0])
        canvas = np.full((h, g.shape[1] + p.shape[1] + 8, 3), 128, np.uint8)
        canvas[:g.shape[0], :g.shape[1]] = g
        canvas[:p.shape[0], g.shape[1] + 8:] = p
        name = f"{rank:02d}_{pr['kind']}_{i}.png"
        Image.fromarray(canvas).save(out / name)
        miss, sev_gap = pair_miss(pr, cr)
        rows.append({"image": name, "index": i, "kind": pr["kind"], "families": pr["families"],
                     "nuisance": pr["nuisance"], "category_mismatches": miss, "severity_gap": sev_gap,
                     "expected": [e.to_dict() for e in pr["errors"]],
                     "found": [e.to_dict() for e in cr.errors]})
    (out / "worst.json").write_text(json.dumps(rows, indent=1))
    return rows


def _square(img, side=336):
    from PIL import Image

    return np.asarray(Image.fromarray(img).convert("RGB").resize((side, side)))


def speed_pairs(n=60, seed=1):
    pairs = make_pairs(n, seed, kinds=("svg",))
    return [(_square(p["gt"]), _square(p["pred"]), "svg") for p in pairs]


def anchor_critique(pairs):
    """The anchor: plain absolute difference, threshold, connected components."""
    from scipy import ndimage as ndi

    out = []
    for g, p, _ in pairs:
        d = np.abs(g.astype(np.int16) - p.astype(np.int16)).max(axis=-1) > 48
        _, n = ndi.label(d)
        out.append(n)
    return out


def test_pixel_critic_speed(benchmark):
    from verm.critic.pixel import PixelCritic

    pairs = speed_pairs()
    critic = PixelCritic()
    t0 = time.perf_counter()
    anchor_critique(pairs)
    t_anchor = time.perf_counter() - t0
    benchmark(critic.critique_batch, pairs)
    t_verm = benchmark.stats.stats.mean
    print(f"\npixel critic: {len(pairs) / t_verm:.1f} pairs/s at 336x336 (1 core); "
          f"anchor (plain diff+label): {len(pairs) / t_anchor:.1f} pairs/s; ratio verm/anchor time "
          f"{t_verm / t_anchor:.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default="chart,table,svg")
    ap.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    ap.add_argument("--dump-worst", metavar="DIR", default=None,
                    help="write the worst-judged pairs as side-by-side PNGs plus worst.json "
                         "(expected vs found errors) into DIR")
    ap.add_argument("--worst", type=int, default=20, help="how many pairs --dump-worst writes (default 20)")
    args = ap.parse_args(argv)
    from verm.critic.pixel import PixelCritic

    t0 = time.perf_counter()
    pairs = make_pairs(args.n, args.seed, tuple(args.kinds.split(",")))
    t_gen = time.perf_counter() - t0
    critic = PixelCritic()
    t0 = time.perf_counter()
    crits = critic.critique_batch([(p["gt"], p["pred"], p["kind"]) for p in pairs])
    t_crit = time.perf_counter() - t0
    res = score(pairs, crits)
    if args.dump_worst:
        rows = dump_worst(pairs, crits, args.dump_worst, args.worst)
        print(f"wrote {len(rows)} worst pairs to {args.dump_worst}")
    sp = speed_pairs(60)
    t0, c0 = time.perf_counter(), time.process_time()
    critic.critique_batch(sp)
    pps = len(sp) / (time.perf_counter() - t0)
    cpps = len(sp) / (time.process_time() - c0)
    t0 = time.perf_counter()
    anchor_critique(sp)
    apps = len(sp) / (time.perf_counter() - t0)
    if args.json:
        print(json.dumps({"metrics": res, "families": family_report(pairs, crits)}, indent=1))
    print(f"pairs: {len(pairs)} (generated+rendered in {t_gen:.1f}s; critiqued in {t_crit:.2f}s)")
    print(f"{'set':6s} {'n':>4s} {'AUROC':>7s} {'microF1':>8s} {'P':>6s} {'R':>6s} {'Pearson':>8s} {'FA':>6s}")
    for k in ("chart", "table", "svg", "all"):
        if k in res:
            r = res[k]
            print(f"{k:6s} {r['n']:4d} {r['auroc']:7.4f} {r['micro_f1']:8.4f} {r['precision']:6.3f} "
                  f"{r['recall']:6.3f} {r['pearson']:8.4f} {r['false_alarm']:6.3f}")
    for k in ("chart", "table", "svg"):
        if k in res:
            print(k, json.dumps({c.split('/')[1]: v["f1"] for c, v in res[k]["per_category"].items()}))
    print("single-error recall by family:", json.dumps(family_report(pairs, crits)))
    print(f"speed: {pps:.1f} pairs/s wall, {cpps:.1f} pairs/s per CPU-second, at 336x336 in one thread "
          f"(anchor plain diff: {apps:.1f} pairs/s wall; verm is {apps / pps:.2f}x slower)")
    ok = (res["all"]["auroc"] >= 0.99 and res["all"]["micro_f1"] >= 0.75 and res["all"]["pearson"] >= 0.85
          and (math.isnan(res["all"]["false_alarm"]) or res["all"]["false_alarm"] <= 0.03))
    print("targets (AUROC>=0.99, F1>=0.75, Pearson>=0.85, FA<=3%):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
